"""Hub-backed instruction sets for the refusal analysis (task ``postmech_refusal_transfer_hub``).

Why this module: the bundled task fits and tests on instructions written for this project; the
paper's setting uses AdvBench harmful behaviours and Alpaca instructions without input. lm-eval's
``dataset_path`` names one dataset per task, and refusal needs two, so the variant's
``custom_dataset`` loads both here with ``datasets.load_dataset`` (hub id or local folder, so it
is testable offline), writes each as an instruction JSONL under a content-addressed cache, and
hands the files to the unchanged analysis as ``harmful_path`` / ``harmless_path``. The analysis
then splits each file with the run's seed exactly as it splits any user file (``test_fraction``,
default 80/20), in ``default_items`` (the task's docs) and in ``run`` (the training half) alike.

Settings are task metadata keys (YAML defaults, ``--metadata`` overrides), per kind
(``harmful_*`` / ``harmless_*``): ``_dataset`` (hub id or local path), ``_column`` (instruction
text), ``_split`` (dataset split), ``_empty_column`` (keep only rows whose column is empty, e.g.
Alpaca's ``input``; "" = keep all) and ``_max_items`` (seeded sample of at most this many rows;
0 = all), plus ``hub_cache_dir`` (default ``$POSTMECH_HUB_CACHE`` or
``~/.cache/postmech_eval/hub``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from postmech_eval.config import UserError

KINDS: tuple[str, ...] = ("harmful", "harmless")

#: Defaults of the hub variant (also written in its YAML's metadata, where users see them).
HUB_DEFAULTS: dict[str, dict[str, Any]] = {
    "harmful": {"dataset": "walledai/AdvBench", "column": "prompt", "split": "train",
                "empty_column": "", "max_items": 520},
    "harmless": {"dataset": "tatsu-lab/alpaca", "column": "instruction", "split": "train",
                 "empty_column": "input", "max_items": 520},
}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class HubSource:
    """One kind's dataset: where it is and which rows and column hold the instructions."""

    kind: str
    dataset: str
    column: str
    split: str = "train"
    empty_column: str = ""
    max_items: int = 0

    def __post_init__(self) -> None:
        for name in ("dataset", "column", "split"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise UserError(
                    f"The '{self.kind}_{name}' parameter must be a non-empty string. Got {value!r} instead."
                )
        if not isinstance(self.empty_column, str):
            raise TypeError(
                f"The '{self.kind}_empty_column' parameter must be a string. Got {self.empty_column!r} instead."
            )
        if isinstance(self.max_items, bool) or not isinstance(self.max_items, int) or self.max_items < 0:
            raise UserError(
                f"The '{self.kind}_max_items' parameter must be an int >= 0 (0 = all rows). "
                f"Got {self.max_items!r} instead."
            )


def sources_from_metadata(metadata: dict[str, Any]) -> dict[str, HubSource]:
    """Both kinds' sources from lm-eval metadata (keys ``{kind}_{field}``), defaults filled in."""
    out: dict[str, HubSource] = {}
    for kind in KINDS:
        fields = dict(HUB_DEFAULTS[kind])
        for name in fields:
            key = f"{kind}_{name}"
            if key in metadata and metadata[key] is not None:
                fields[name] = metadata[key]
        try:
            fields["max_items"] = int(fields["max_items"])
        except (TypeError, ValueError):
            raise UserError(
                f"The '{kind}_max_items' parameter must be an int >= 0. Got {fields['max_items']!r} instead."
            ) from None
        out[kind] = HubSource(kind=kind, **fields)
    return out


def cache_dir(metadata: dict[str, Any]) -> Path:
    """Where materialised instruction files go (small JSONL, content-addressed)."""
    given = metadata.get("hub_cache_dir") or os.environ.get("POSTMECH_HUB_CACHE")
    return Path(given).expanduser() if given else Path.home() / ".cache" / "postmech_eval" / "hub"


def load_rows(source: HubSource, seed: int) -> list[dict[str, str]]:
    """The source's instructions as ``{"instruction", "category"}`` rows, filtered and sampled.

    Rows keep the dataset's order (a seeded sample of ``max_items`` keeps order too), so the
    later seeded train/test split is the only shuffle. Raises before any model runs when the
    column is missing or no row is left.
    """
    import datasets

    data = datasets.load_dataset(source.dataset, split=source.split)
    columns = list(data.column_names)
    for name in (source.column, source.empty_column):
        if name and name not in columns:
            raise KeyError(
                f"The '{source.kind}_column'/'{source.kind}_empty_column' parameters name column {name!r}, "
                f"which {source.dataset!r} (split {source.split!r}) lacks. Columns: {columns}."
            )
    texts = list(data[source.column])
    keep = range(len(texts))
    if source.empty_column:
        extra = list(data[source.empty_column])
        keep = [i for i in keep if not (extra[i] or "").strip()]
    keep = [i for i in keep if isinstance(texts[i], str) and texts[i].strip()]
    if source.max_items and len(keep) > source.max_items:
        keep = sorted(random.Random(f"{seed}:{source.kind}:hub").sample(keep, source.max_items))
    if not keep:
        raise UserError(
            f"{source.dataset!r} (split {source.split!r}, column {source.column!r}) has no non-empty "
            f"instructions{' with an empty ' + repr(source.empty_column) if source.empty_column else ''}."
        )
    category = source.dataset.rstrip("/").rsplit("/", 1)[-1]
    return [{"instruction": texts[i].strip(), "category": category} for i in keep]


def materialise(source: HubSource, seed: int, root: Path) -> Path:
    """Write the source's rows as an instruction JSONL (``_meta`` header: provenance) and return it."""
    rows = load_rows(source, seed)
    meta = {"_meta": {"source": asdict(source), "seed": seed, "n_items": len(rows),
                      "written_by": "postmech_eval.harness.hub_docs"}}  # fmt: skip
    lines = [json.dumps(meta, sort_keys=True)] + [json.dumps(r, ensure_ascii=False) for r in rows]
    text = "\n".join(lines) + "\n"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    path = root / f"{source.kind}-{digest}.jsonl"
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path


def load_docs(task: str, **metadata: Any):
    """``custom_dataset`` of the hub variant: materialise both kinds, then the usual docs.

    The file paths go into the docs' config payload (``harmful_path``/``harmless_path``), so the
    analysis the model runs fits on the same files' training halves.
    """
    from postmech_eval.harness import task as task_support

    given = [k for k in ("harmful_path", "harmless_path") if metadata.get(k)]
    if given:
        raise UserError(
            f"{task} reads its instructions from datasets ({', '.join(f'{k}_dataset' for k in KINDS)}); "
            f"got {given} as well. Use postmech_refusal_transfer for JSONL files."
        )
    own = {f"{kind}_{name}" for kind in KINDS for name in HUB_DEFAULTS[kind]} | {"hub_cache_dir"}
    rest = {k: v for k, v in metadata.items() if k not in own}  # the analysis' keys are checked there
    config = task_support.build_config(task, task_support.config_kwargs(task, rest))
    root = cache_dir(metadata)
    paths = {f"{kind}_path": str(materialise(src, config.seed, root))
             for kind, src in sources_from_metadata(metadata).items()}  # fmt: skip
    return task_support.load_docs(task, **{**rest, **paths})
