"""Hub-backed statement datasets for the truth tasks (``postmech_truth_probe_hub``,
``postmech_truth_steering_hub``), like the refusal hub variant (``hub_docs``).

Why: the truth analyses need several labelled datasets at once (training ones and a held-out
one), while lm-eval's ``dataset_path`` names one dataset per task. So the variant's
``custom_dataset`` reads one hub dataset (or a local folder, so it is testable offline) with
``datasets.load_dataset``, splits its rows into one statement JSONL per value of a dataset
column under a content-addressed cache folder, and hands that folder to the unchanged analysis
as ``data_dir`` — the same path a user's own directory of statement files takes.

Settings (task metadata keys, YAML defaults, ``--metadata`` overrides): ``statements_dataset``
(hub id or local path), ``statements_split``, ``statement_column``, ``label_column``,
``dataset_column`` (which column names each row's dataset; "" = all rows are one dataset named
after the source), plus ``hub_cache_dir`` (shared with the refusal variant).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from postmech_eval.config import UserError

DEFAULTS: dict[str, str] = {
    "statements_dataset": "",
    "statements_split": "train",
    "statement_column": "statement",
    "label_column": "label",
    "dataset_column": "dataset",
}


def _label(value: Any, where: str) -> int:
    text = str(value).strip().lower()
    if text in ("1", "true", "1.0"):
        return 1
    if text in ("0", "false", "0.0"):
        return 0
    raise UserError(f"{where}: label must be 1/0 or true/false, got {value!r}")


def materialise(settings: dict[str, str], root: Path) -> Path:
    """One ``<dataset>.jsonl`` per dataset of the source, in a folder named by their content."""
    import datasets

    source = settings["statements_dataset"]
    if not source:
        raise UserError(
            "The 'statements_dataset' parameter (a hub id or a local folder of statement files) is required "
            "for the truth hub tasks; pass it with --metadata."
        )
    data = datasets.load_dataset(source, split=settings["statements_split"])
    columns = list(data.column_names)
    wanted = [settings["statement_column"], settings["label_column"], settings["dataset_column"]]
    for name in filter(None, wanted):
        if name not in columns:
            raise KeyError(
                f"{source!r} (split {settings['statements_split']!r}) has no column {name!r}. Columns: {columns}."
            )
    fallback = source.rstrip("/").rsplit("/", 1)[-1] or "statements"
    by_dataset: dict[str, list[str]] = {}
    for i, row in enumerate(data):
        where = f"{source} row {i}"
        name = str(row[settings["dataset_column"]]) if settings["dataset_column"] else fallback
        record = {"statement": str(row[settings["statement_column"]]), "label": _label(row[settings["label_column"]], where),
                  "dataset": name}  # fmt: skip
        by_dataset.setdefault(name, []).append(json.dumps(record, ensure_ascii=False))
    text = json.dumps({k: sorted(v) for k, v in sorted(by_dataset.items())}, sort_keys=True)
    folder = root / f"statements-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"
    if not folder.is_dir():
        tmp = root / f".statements-{os.getpid()}"
        tmp.mkdir(parents=True, exist_ok=True)
        for name, lines in by_dataset.items():
            (tmp / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(folder)
    return folder


def load_docs(task: str, **metadata: Any):
    """``custom_dataset`` of the truth hub variants: materialise the datasets, then the usual
    docs with ``data_dir`` pointing at them (the analysis reads the same folder)."""
    from postmech_eval.harness import task as task_support
    from postmech_eval.harness.hub_docs import cache_dir

    if metadata.get("data_dir"):
        raise UserError(
            f"{task} reads its statements from 'statements_dataset'; got data_dir={metadata['data_dir']!r} as "
            f"well. Use {task.removesuffix('_hub')} for a directory of statement files."
        )
    settings = {k: str(metadata.get(k) if metadata.get(k) is not None else v) for k, v in DEFAULTS.items()}
    rest = {k: v for k, v in metadata.items() if k not in DEFAULTS and k != "hub_cache_dir"}
    folder = materialise(settings, cache_dir(metadata))
    return task_support.load_docs(task, **rest, data_dir=str(folder))
