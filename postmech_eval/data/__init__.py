"""Bundled, license-clean datasets and their validating loader.

Files are JSONL under this package (statements/, instructions/, corpus.jsonl); the first
line may be a header `{"_meta": {...}}` with provenance, generator and seed. They are built
by `python -m postmech_eval.data.generate` from curated lists in this folder.

Why a validating loader: analyses run minutes of model work after loading data, so a bad
file (malformed line, missing label, a single class) must fail at once and say exactly
which file and line to fix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jsonlines

from postmech_eval.config import MissingFileError, UnknownNameError, UserError, suggestion

DATA_DIR = Path(__file__).resolve().parent

STATEMENT_DATASETS: tuple[str, ...] = (
    "cities",
    "neg_cities",
    "sp_en_trans",
    "neg_sp_en_trans",
    "animal_class",
    "element_symb",
    "inventors",
    "facts",
    "larger_than",
    "smaller_than",
)
# Datasets whose true lines are recallable facts (one correct object per subject and relation).
FACT_DATASETS: tuple[str, ...] = (
    "cities",
    "sp_en_trans",
    "animal_class",
    "element_symb",
    "inventors",
    "facts",
)
#: METHODS §2 default probe training datasets (the held-out one is cities).
TRUTH_TRAIN_DATASETS: tuple[str, ...] = ("sp_en_trans", "animal_class", "inventors", "element_symb", "facts")
INSTRUCTION_KINDS: tuple[str, ...] = ("harmful", "harmless")
SPLITS: tuple[str, ...] = ("train", "test", "all")
_NEGATED = {"neg_cities": "cities", "neg_sp_en_trans": "sp_en_trans"}

Split = Literal["train", "test", "all"]

__all__ = [
    "DATA_DIR",
    "FACT_DATASETS",
    "INSTRUCTION_KINDS",
    "STATEMENT_DATASETS",
    "Fact",
    "Instruction",
    "Statement",
    "load_corpus",
    "load_facts",
    "load_instructions",
    "load_statements",
    "read_jsonl",
    "read_meta",
    "statements_path",
    "validate_statements",
]


@dataclass(frozen=True)
class Statement:
    """One labelled statement; label 1 = true, 0 = false."""

    statement: str
    label: int
    subject: str
    object: str
    dataset: str
    split: str = ""


@dataclass(frozen=True)
class Fact:
    """A true subject -> object fact: `prompt + completion` is the true statement minus its period.

    `completion` starts with a space (" France") so it can be scored as a continuation.
    """

    subject: str
    object: str
    dataset: str
    split: str
    prompt: str
    completion: str
    relation: str = ""


@dataclass(frozen=True)
class Instruction:
    """An instruction; harmless ones carry a short helpful `answer`, harmful ones None."""

    instruction: str
    category: str
    kind: str
    split: str = ""
    answer: str | None = None


# --------------------------------------------------------------------------- reading


def _read_numbered(path: str | Path) -> tuple[dict, list[tuple[int, dict]]]:
    """(meta, [(line number, row), ...]); blank lines are skipped, header only on line 1."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"read_jsonl: path must be an existing JSONL file, got {str(path)!r}")
    meta: dict = {}
    rows: list[tuple[int, dict]] = []
    current = 0  # line number of the object jsonlines is reading (it pulls one line per object)

    def lines(fh):
        nonlocal current
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                current = lineno
                yield line

    try:
        with path.open(encoding="utf-8") as fh, jsonlines.Reader(lines(fh)) as reader:
            for obj in reader.iter(type=dict):
                if "_meta" in obj:
                    if rows or meta:
                        raise UserError(
                            f"{path}:{current}: a '_meta' header is only allowed as the first line"
                        )
                    meta = obj["_meta"] if isinstance(obj["_meta"], dict) else {"value": obj["_meta"]}
                    continue
                rows.append((current, obj))
    except jsonlines.InvalidLineError as err:
        cause = err.__cause__
        what = (
            f"malformed JSON line ({cause.msg} at column {cause.colno})"
            if isinstance(cause, json.JSONDecodeError)
            else "expected a JSON object per line"
        )
        raise UserError(f"{path}:{current}: {what}") from None
    except UnicodeDecodeError as err:
        raise UserError(
            f"{path}: not UTF-8 text (byte {err.start}: {err.reason}); save it as UTF-8"
        ) from None
    if not rows:
        raise UserError(f"{path}: file has no items (expected one JSON object per line after the header)")
    return meta, rows


def read_jsonl(path: str | Path) -> list[dict]:
    """Data rows of a JSONL file (header skipped). Malformed line -> ValueError naming file:line."""
    return [row for _, row in _read_numbered(path)[1]]


def read_meta(path: str | Path) -> dict:
    """The `_meta` header of a JSONL file ({} when it has none)."""
    return _read_numbered(path)[0]


def validate_statements(
    rows: Sequence[dict], path: str | Path, *, line_numbers: Sequence[int] | None = None
) -> None:
    """Check every row has a non-empty 'statement' and a 0/1 'label' and both classes occur.

    `line_numbers` maps rows to file lines for the messages (default: row index + 1).
    """
    if line_numbers is None:
        line_numbers = range(1, len(rows) + 1)
    if len(line_numbers) != len(rows):
        raise UserError(
            f"validate_statements: line_numbers must match rows ({len(rows)}), got {len(line_numbers)}"
        )
    if not rows:
        raise UserError(f"{path}: statement file has no items")
    for lineno, row in zip(line_numbers, rows, strict=True):
        text = row.get("statement")
        if not isinstance(text, str) or not text.strip():
            raise UserError(f"{path}:{lineno}: field 'statement' must be a non-empty string, got {text!r}")
        if "label" not in row:
            raise UserError(f"{path}:{lineno}: field 'label' is missing (expected 1 for true or 0 for false)")
        label = row["label"]
        if isinstance(label, bool) or label not in (0, 1):
            raise UserError(f"{path}:{lineno}: field 'label' must be 1 (true) or 0 (false), got {label!r}")
    labels = {int(r["label"]) for r in rows}
    if len(labels) < 2:
        only = labels.pop()
        raise UserError(
            f"{path}:{line_numbers[0]}-{line_numbers[-1]}: all {len(rows)} statements have label {only}; "
            "expected both true (1) and false (0) statements"
        )


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise UserError(f"split must be one of {SPLITS}, got {split!r}")


def _filter_split(pairs: list[tuple[int, dict]], split: str, path: Path) -> list[tuple[int, dict]]:
    _check_split(split)
    if split == "all":
        return pairs
    missing = [ln for ln, r in pairs if "split" not in r]
    if missing:
        raise UserError(
            f"{path}:{missing[0]}: no 'split' field, so split={split!r} is undefined; use split='all'"
        )
    kept = [(ln, r) for ln, r in pairs if r["split"] == split]
    if not kept:
        raise UserError(f"{path}: no items with split={split!r}")
    return kept


def _unknown(kind: str, name: str, valid: Sequence[str]) -> KeyError:
    return UnknownNameError(suggestion(kind, name, valid))


# --------------------------------------------------------------------------- statements


def statements_path(name: str) -> Path:
    """Path of a bundled statement dataset; KeyError with close matches when unknown."""
    if name not in STATEMENT_DATASETS:
        raise _unknown("statement dataset", name, STATEMENT_DATASETS)
    return DATA_DIR / "statements" / f"{name}.jsonl"


def _resolve_statements(name: str | Path, data_dir: str | Path | None = None) -> tuple[Path, str]:
    from postmech_eval.data.statement_files import SUFFIXES, in_data_dir

    if data_dir is not None and not (isinstance(name, str) and "/" in name):
        path = in_data_dir(str(name), data_dir)
        return path, path.stem
    if isinstance(name, str) and name in STATEMENT_DATASETS:
        return statements_path(name), name
    as_path = Path(name)
    if isinstance(name, Path) or as_path.suffix in SUFFIXES or as_path.exists() or "/" in str(name):
        return as_path, as_path.stem
    raise _unknown("statement dataset", str(name), STATEMENT_DATASETS)


def _statement_rows(path: Path) -> list[tuple[int, dict]]:
    from postmech_eval.data.statement_files import read_csv_rows

    if path.suffix == ".csv":
        if not path.is_file():
            raise MissingFileError(f"statement file must exist, got {str(path)!r}")
        return read_csv_rows(path)
    return _read_numbered(path)[1]


def load_statements(
    name: str | Path, split: Split = "all", *, data_dir: str | Path | None = None
) -> list[Statement]:
    """Labelled statements of a bundled dataset (name), a user file (CSV or JSONL path), a
    directory of such files (one dataset per file), or ``<data_dir>/<name>.csv|.jsonl``.

    User rows need 'statement' and 'label'; 'subject', 'object', 'dataset' and 'split' are
    optional ('dataset' defaults to the file stem). See ``statement_files``.
    """
    from postmech_eval.data.statement_files import statement_files

    _check_split(split)
    path, default_name = _resolve_statements(name, data_dir)
    if path.is_dir():
        return [s for f in statement_files(path) for s in load_statements(f, split)]
    numbered = _statement_rows(path)
    validate_statements([r for _, r in numbered], path, line_numbers=[ln for ln, _ in numbered])
    kept = _filter_split(numbered, split, path)
    return [
        Statement(
            statement=r["statement"],
            label=int(r["label"]),
            subject=str(r.get("subject", "")),
            object=str(r.get("object", "")),
            dataset=str(r.get("dataset", default_name)),
            split=str(r.get("split", "")),
        )
        for _, r in kept
    ]


def load_facts(name: str, split: Split = "all") -> list[Fact]:
    """True subject -> object facts behind a statement dataset (neg_* give their positive twin's).

    For larger_than/smaller_than these are simply the true comparisons (not recallable facts;
    see FACT_DATASETS for the datasets with one correct object per subject).
    """
    _check_split(split)
    base = _NEGATED.get(name, name)
    path = statements_path(base)
    _, numbered = _read_numbered(path)
    facts: list[Fact] = []
    for lineno, r in _filter_split(numbered, split, path):
        if r.get("label") != 1:
            continue
        obj, text = r["object"], r["statement"]
        suffix = f" {obj}."
        if not text.endswith(suffix):
            raise UserError(f"{path}:{lineno}: statement must end with ' {{object}}.', got {text!r}")
        facts.append(
            Fact(
                subject=r["subject"],
                object=obj,
                dataset=base,
                split=r.get("split", ""),
                prompt=text[: -len(suffix)],
                completion=f" {obj}",
                relation=r.get("relation", ""),
            )
        )
    return facts


# --------------------------------------------------------------------------- instructions & corpus


def load_instructions(
    kind: str, split: Split = "all", *, path: str | Path | None = None
) -> list[Instruction]:
    """Harmful or harmless instructions (bundled, or from `path` with the same fields).

    Every line needs a non-empty 'instruction'; 'category' defaults to "uncategorized".
    """
    if kind not in INSTRUCTION_KINDS:
        raise UserError(f"kind must be one of {INSTRUCTION_KINDS}, got {kind!r}")
    _check_split(split)
    path = Path(path) if path is not None else DATA_DIR / "instructions" / f"{kind}.jsonl"
    _, numbered = _read_numbered(path)
    for lineno, r in numbered:
        text = r.get("instruction")
        if not isinstance(text, str) or not text.strip():
            raise UserError(f"{path}:{lineno}: field 'instruction' must be a non-empty string, got {text!r}")
    return [
        Instruction(
            instruction=r["instruction"],
            category=str(r.get("category", "uncategorized")),
            kind=str(r.get("kind", kind)),
            split=str(r.get("split", "")),
            answer=r.get("answer"),
        )
        for _, r in _filter_split(numbered, split, path)
    ]


def load_corpus(split: Split = "test", *, path: str | Path | None = None) -> list[str]:
    """Plain English paragraphs (held-out text for entropy-neuron ablation, METHODS §5)."""
    _check_split(split)
    path = Path(path) if path is not None else DATA_DIR / "corpus.jsonl"
    _, numbered = _read_numbered(path)
    for lineno, r in numbered:
        if not isinstance(r.get("text"), str) or not r["text"].strip():
            raise UserError(
                f"{path}:{lineno}: field 'text' must be a non-empty string, got {r.get('text')!r}"
            )
    return [r["text"] for _, r in _filter_split(numbered, split, path)]
