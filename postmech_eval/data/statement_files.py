"""Users' own statement data: CSV or JSONL files, one file per dataset, or a directory of them.

Why: researchers who reproduce the paper hold its datasets in the geometry-of-truth
format (``statement,label`` columns and often more, one CSV per dataset, e.g. 1,496
cities), not in this package's JSONL. Every statement task reads them through here, with
one error naming the file and line for anything it cannot use.

A file's rows need ``statement`` and ``label`` (1 / 0, or true / false); ``dataset``
(default: the file's stem), ``subject``, ``object`` and ``split`` are optional; other
columns are ignored. A name given to a task resolves to a bundled dataset, a file, or —
with ``data_dir`` — ``<data_dir>/<name>.csv`` / ``.jsonl``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from postmech_eval.config import MissingFileError, UserError

SUFFIXES: tuple[str, ...] = (".csv", ".jsonl", ".json")
_TRUE, _FALSE = {"1", "true", "1.0"}, {"0", "false", "0.0"}


def read_csv_rows(path: Path) -> list[tuple[int, dict]]:
    """[(line number, row)] of a CSV with a header line; labels become ints."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in ("statement", "label") if c not in header]
            if missing:
                raise UserError(
                    f"{path}:1: the header must name the columns 'statement' and 'label' "
                    f"(missing {missing}); got {header}"
                )
            rows: list[tuple[int, dict]] = []
            for row in reader:
                lineno = reader.line_num
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue  # a blank line
                if None in row:
                    raise UserError(f"{path}:{lineno}: more fields than the header has columns")
                raw = (row.get("label") or "").strip().lower()
                if raw not in _TRUE | _FALSE:
                    raise UserError(
                        f"{path}:{lineno}: field 'label' must be 1 (true) or 0 (false), got {row.get('label')!r}"
                    )
                rows.append(
                    (lineno, {**{k: v for k, v in row.items() if v != ""}, "label": int(raw in _TRUE)})
                )
    except UnicodeDecodeError as err:
        raise UserError(
            f"{path}: not UTF-8 text (byte {err.start}: {err.reason}); save it as UTF-8"
        ) from None
    except csv.Error as err:
        raise UserError(f"{path}: not a readable CSV file ({err})") from None
    if not rows:
        raise UserError(f"{path}: file has no statements (expected a header and one row per statement)")
    return rows


def statement_files(folder: Path) -> list[Path]:
    """The dataset files of a directory, sorted; none is an error naming the directory."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES)
    if not files:
        raise MissingFileError(f"{folder}: no statement files (*.csv, *.jsonl) in this directory")
    return files


def in_data_dir(name: str, data_dir: str | Path) -> Path:
    """``<data_dir>/<name>.csv`` or ``.jsonl`` (one must exist), or ``name`` itself if it is a path."""
    folder = Path(data_dir)
    if not folder.is_dir():
        raise MissingFileError(f"data_dir must be an existing directory, got {str(folder)!r}")
    if Path(name).suffix in SUFFIXES:
        candidates = [folder / name]
    else:
        candidates = [folder / f"{name}{s}" for s in SUFFIXES]
    for path in candidates:
        if path.is_file():
            return path
    names = sorted(p.stem for p in folder.iterdir() if p.suffix in SUFFIXES)
    raise MissingFileError(f"{folder}: no statement file for dataset {name!r} (found: {names or 'none'})")
