"""The lm-eval face of the analyses: one task class for every ``postmech_*`` task.

A postmech task's docs are the analysis' test items. lm-eval hands all of a task's requests to
``PostMechLM.generate_until`` at once; the model runs the analysis once over exactly those items
(so ``--limit`` works as users expect) and answers each request with a JSON string holding the
item's record and the pair-level metrics. ``process_results`` unpacks that; the metrics are
pair-level, so every doc carries the same value and the aggregation takes the first.

:class:`PostMechTask` fills in everything a task YAML would otherwise repeat (docs, prompt,
generation settings, and the metric list with ``higher_is_better`` from the analysis' metric
catalogue), the way lm-eval's own squadv2 task puts its metric metadata in Python. A task
YAML is then its name, this class and its metadata.

Analysis configuration comes from lm-eval's task metadata, which lm-eval builds from
``--model_args`` merged with ``--metadata``: keys that name a field of the task's config
dataclass are used, everything else (model arguments, other tasks' keys) is left alone.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lm_eval.api.task import ConfigurableTask

from postmech_eval.analyses.catalogue import task_metrics

TASK_KEY = "_postmech_task"
CONFIG_KEY = "_postmech_config"


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True, kw_only=True)
class AnalysisSpec:
    """Where a task's analysis lives ("module:name"); resolved lazily so lm-eval start-up stays cheap."""

    run: str
    config: str
    items: str
    docs: str = "postmech_eval.harness.task:load_docs"

    def load(self) -> tuple[Callable[..., Any], type, Callable[..., list[dict]]]:
        return _resolve(self.run), _resolve(self.config), _resolve(self.items)


_REFUSAL = "postmech_eval.analyses.refusal.run"
_TRUTH = "postmech_eval.analyses.truth.run"
ANALYSES: dict[str, AnalysisSpec] = {
    "postmech_refusal_transfer": AnalysisSpec(
        run=f"{_REFUSAL}:run", config=f"{_REFUSAL}:RefusalConfig", items=f"{_REFUSAL}:default_items"
    ),
    # Same analysis; its docs come from hub datasets (hub_docs builds the files).
    "postmech_refusal_transfer_hub": AnalysisSpec(
        run=f"{_REFUSAL}:run",
        config=f"{_REFUSAL}:RefusalConfig",
        items=f"{_REFUSAL}:default_items",
        docs="postmech_eval.harness.hub_docs:load_docs",
    ),
    "postmech_truth_probe": AnalysisSpec(
        run=f"{_TRUTH}:run_probe", config=f"{_TRUTH}:TruthProbeConfig", items=f"{_TRUTH}:default_probe_items"
    ),
    "postmech_truth_steering": AnalysisSpec(
        run=f"{_TRUTH}:run_steering",
        config=f"{_TRUTH}:TruthSteeringConfig",
        items=f"{_TRUTH}:default_steering_items",
    ),
    "postmech_knowledge_patching": AnalysisSpec(
        run="postmech_eval.analyses.knowledge.run:run",
        config="postmech_eval.analyses.knowledge.config:KnowledgeConfig",
        items="postmech_eval.analyses.knowledge.run:default_items",
    ),
    "postmech_entropy_neurons": AnalysisSpec(
        run="postmech_eval.analyses.confidence.run:run",
        config="postmech_eval.analyses.confidence.run:ConfidenceConfig",
        items="postmech_eval.analyses.confidence.run:default_items",
    ),
}


def spec_for(task: str) -> AnalysisSpec:
    if task not in ANALYSES:
        from postmech_eval.config import suggestion

        raise KeyError(suggestion("postmech analysis task", task, ANALYSES))
    return ANALYSES[task]


def config_kwargs(task: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The subset of lm-eval metadata that configures this task's analysis."""
    _, config_cls, _ = spec_for(task).load()
    fields = {f.name for f in dataclasses.fields(config_cls) if f.init}
    return {k: v for k, v in metadata.items() if k in fields}


def build_config(task: str, kwargs: dict[str, Any]):
    _, config_cls, _ = spec_for(task).load()
    return config_cls.from_kwargs(kwargs)


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


class PostMechTask(ConfigurableTask):
    """Every ``postmech_*`` task: the YAML names the task (and its metadata), this class
    supplies the rest, and the metric list comes from the analysis' catalogue."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        cfg = {k: v for k, v in (config or {}).items() if k != "class"}
        task = cfg.get("task")
        spec = spec_for(task)
        cfg.update(
            custom_dataset=functools.partial(_resolve(spec.docs), task),
            test_split="test",
            output_type="generate_until",
            doc_to_text=doc_to_text,
            doc_to_target="",
            generation_kwargs={"until": [], "max_gen_toks": 1},
            process_results=process_results,
            metric_list=[
                {"metric": m.name, "aggregation": first, "higher_is_better": m.higher_is_better}
                for m in task_metrics(task)
            ],
        )
        super().__init__(config=cfg)


def statements_docs(dataset: str = "cities", split: str = "test", **_metadata: Any):
    """``custom_dataset`` of ``postmech_statements_mc``: bundled statements as plain docs."""
    import datasets

    from postmech_eval.data import load_statements

    rows = [dataclasses.asdict(s) for s in load_statements(dataset, split=split)]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})
