"""The thin layer between lm-eval task YAMLs and the analyses.

A postmech task's docs are the analysis' test items. lm-eval hands all of a task's requests to
``PostMechLM.generate_until`` at once; the model runs the analysis once over exactly those items
(so ``--limit`` works as users expect) and answers each request with a JSON string holding the
item's record and the pair-level metrics. ``process_results`` unpacks that; the metrics are
pair-level, so every doc carries the same value and the aggregation takes the first.

Analysis configuration comes from lm-eval's task metadata, which lm-eval builds from
``--model_args`` merged with ``--metadata``: keys that name a field of the task's config
dataclass are used, everything else (model arguments, other tasks' keys) is left alone.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TASK_KEY = "_postmech_task"
CONFIG_KEY = "_postmech_config"


@dataclass(frozen=True, kw_only=True)
class AnalysisSpec:
    """Where a task's analysis lives; resolved lazily so lm-eval start-up stays cheap."""

    module: str
    run: str
    config: str
    items: str

    def load(self) -> tuple[Callable[..., Any], type, Callable[..., list[dict]]]:
        mod = importlib.import_module(self.module)
        return getattr(mod, self.run), getattr(mod, self.config), getattr(mod, self.items)


ANALYSES: dict[str, AnalysisSpec] = {
    "postmech_refusal_transfer": AnalysisSpec(
        module="postmech_eval.analyses.refusal.run", run="run", config="RefusalConfig", items="default_items"
    ),
    # Same analysis; its docs come from hub datasets (analyses/_refusal_hub.py builds the files).
    "postmech_refusal_transfer_hub": AnalysisSpec(
        module="postmech_eval.analyses.refusal.run", run="run", config="RefusalConfig", items="default_items"
    ),
    "postmech_truth_probe": AnalysisSpec(
        module="postmech_eval.analyses.truth.run",
        run="run_probe",
        config="TruthProbeConfig",
        items="default_probe_items",
    ),
    "postmech_truth_steering": AnalysisSpec(
        module="postmech_eval.analyses.truth.run",
        run="run_steering",
        config="TruthSteeringConfig",
        items="default_steering_items",
    ),
    "postmech_knowledge_patching": AnalysisSpec(
        module="postmech_eval.analyses.knowledge.run",
        run="run",
        config="KnowledgeConfig",
        items="default_items",
    ),
    "postmech_entropy_neurons": AnalysisSpec(
        module="postmech_eval.analyses.confidence.run",
        run="run",
        config="ConfidenceConfig",
        items="default_items",
    ),
}


def spec_for(task: str) -> AnalysisSpec:
    try:
        return ANALYSES[task]
    except KeyError:
        raise KeyError(f"{task!r} is not a postmech analysis task. Available: {sorted(ANALYSES)}") from None


def config_kwargs(task: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The subset of lm-eval metadata that configures this task's analysis."""
    _, config_cls, _ = spec_for(task).load()
    fields = {f.name for f in dataclasses.fields(config_cls) if f.init}
    return {k: v for k, v in metadata.items() if k in fields}


def build_config(task: str, kwargs: dict[str, Any]):
    _, config_cls, _ = spec_for(task).load()
    if hasattr(config_cls, "from_kwargs"):
        return config_cls.from_kwargs(kwargs)
    from postmech_eval.config import from_kwargs

    return from_kwargs(config_cls, kwargs)


def load_docs(task: str, **metadata: Any):
    """``custom_dataset`` for a postmech task: the analysis' default test items as docs."""
    import datasets

    kwargs = config_kwargs(task, metadata)
    config = build_config(task, kwargs)
    _, _, default_items = spec_for(task).load()
    items = default_items(config)
    if not items:
        raise ValueError(f"Task {task!r} has no test items with config {kwargs}.")
    payload = json.dumps(kwargs, sort_keys=True, default=str)
    docs = [{**item, TASK_KEY: task, CONFIG_KEY: payload} for item in items]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def strip_doc(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in (TASK_KEY, CONFIG_KEY)}


def doc_to_text(doc: dict[str, Any]) -> str:
    """A readable context for ``--log_samples``; the model reads the doc itself."""
    for key in ("instruction", "statement", "text"):
        if isinstance(doc.get(key), str):
            return doc[key]
    return json.dumps(strip_doc(doc), sort_keys=True, default=str)


def encode_response(record: dict[str, Any], metrics: dict[str, float], seed: int) -> str:
    return json.dumps({"record": record, "metrics": metrics, "seed": seed}, default=str)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    response = json.loads(results[0])
    return {name: _as_float(value) for name, value in response["metrics"].items()}


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def first(values: list[float]) -> float:
    """Aggregation for pair-level metrics: every doc carries the same value."""
    return values[0] if values else math.nan


def task_functions(task: str) -> dict[str, Callable[..., Any]]:
    """What a task folder's ``utils.py`` re-exports for its YAML's ``!function`` lines."""

    def _load(**metadata: Any):
        return load_docs(task, **metadata)

    return {
        "load_docs": _load,
        "doc_to_text": doc_to_text,
        "process_results": process_results,
        "first": first,
    }
