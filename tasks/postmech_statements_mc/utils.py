"""Docs for postmech_statements_mc: bundled statements, resolved inside the package."""

from __future__ import annotations

import dataclasses
from typing import Any


def load_docs(dataset: str = "cities", split: str = "test", **_metadata: Any):
    """``custom_dataset``: ``dataset``/``split`` come from the task metadata (or ``--metadata``)."""
    import datasets

    from postmech_eval.data import load_statements

    rows = [dataclasses.asdict(s) for s in load_statements(dataset, split=split)]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})
