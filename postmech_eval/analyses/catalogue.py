"""Which task runs which analysis and emits which metrics: the single source every other
list is derived from.

Torch-free, so reading results files (leaderboard, ``check``) never loads a model stack.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from postmech_eval.analyses.confidence.metrics import METRICS as CONFIDENCE
from postmech_eval.analyses.knowledge.metrics import METRICS as KNOWLEDGE
from postmech_eval.analyses.metrics import Metric
from postmech_eval.analyses.refusal.metrics import METRICS as REFUSAL
from postmech_eval.analyses.truth.metrics import PROBE_METRICS, STEERING_METRICS
from postmech_eval.config import UnknownNameError, suggestion

#: task name -> its metrics, in the order lm-eval lists them.
CATALOGUE: dict[str, tuple[Metric, ...]] = {
    "postmech_knowledge_patching": KNOWLEDGE,
    "postmech_truth_probe": PROBE_METRICS,
    "postmech_truth_steering": STEERING_METRICS,
    "postmech_refusal_transfer": REFUSAL,
    "postmech_refusal_transfer_hub": REFUSAL,
    "postmech_truth_probe_hub": PROBE_METRICS,
    "postmech_truth_steering_hub": STEERING_METRICS,
    "postmech_entropy_neurons": CONFIDENCE,
}
#: the tasks of the ``postmech`` group (the hub variant is opt-in).
SUITE_TASKS: tuple[str, ...] = (
    "postmech_knowledge_patching",
    "postmech_truth_probe",
    "postmech_truth_steering",
    "postmech_refusal_transfer",
    "postmech_entropy_neurons",
)


def task_metrics(task: str) -> tuple[Metric, ...]:
    if task not in CATALOGUE:
        raise UnknownNameError(suggestion("task", task, CATALOGUE))
    return CATALOGUE[task]


def metric_names(task: str) -> tuple[str, ...]:
    return tuple(m.name for m in task_metrics(task))


def lookup(task: str, name: str) -> Metric:
    for m in task_metrics(task):
        if m.name == name:
            return m
    raise UnknownNameError(suggestion(f"metric of {task}", name, metric_names(task)))


def check_emitted(task: str, emitted) -> None:
    """Refuse an analysis result whose metric names differ from the catalogue, either way:
    an emitted metric nobody declared, or a declared one the analysis forgot."""
    declared = set(metric_names(task))
    got = set(emitted)
    extra, missing = sorted(got - declared), sorted(declared - got)
    if extra or missing:
        raise RuntimeError(
            f"{task}: the analysis' metrics differ from its catalogue "
            f"(emitted but not declared: {extra or 'none'}; declared but not emitted: {missing or 'none'})"
        )


def check_uncertainty(
    task: str,
    metrics: dict[str, float],
    item_metrics: list[dict[str, float]],
    intervals: dict[str, tuple[float, float]],
) -> None:
    """Refuse a result whose uncertainty does not match its catalogue (METHODS §6).

    Every interval metric has an interval and nothing else does; per-item values exist only
    for item metrics, and their plain mean is the reported value — lm-eval's mean over the
    docs and its ``_stderr`` then describe exactly the number the analysis reports.
    """
    import math

    declared = {m.name: m for m in task_metrics(task)}
    want = {n for n, m in declared.items() if m.has_interval}
    if set(intervals) != want:
        raise RuntimeError(
            f"{task}: intervals for {sorted(set(intervals) - want) or 'none'} are not declared; "
            f"missing for {sorted(want - set(intervals)) or 'none'}"
        )
    values: dict[str, list[float]] = {}
    for row in item_metrics:
        for name, value in row.items():
            if name not in declared or declared[name].kind != "item":
                raise RuntimeError(f"{task}: per-item value for {name!r}, which is not an item metric")
            values.setdefault(name, []).append(float(value))
    for name, vals in values.items():
        mean, reported = sum(vals) / len(vals), float(metrics[name])
        if not (math.isnan(mean) and math.isnan(reported)) and not math.isclose(
            mean, reported, rel_tol=1e-6, abs_tol=1e-9
        ):
            raise RuntimeError(f"{task}: {name} is {reported!r} but its per-item values average {mean!r}")


# ----------------------------------------------------------------------------- analyses
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

    @property
    def from_hub(self) -> bool:
        """Docs built from a dataset at load time (checked then, not before the model loads)."""
        return self.docs != "postmech_eval.harness.task:load_docs"

    def load(self) -> tuple[Callable[..., Any], type, Callable[..., list[dict]]]:
        return _resolve(self.run), self.config_class(), self.items_loader()

    def config_class(self) -> type:
        """The settings dataclass alone (its module imports no torch: checks stay cheap)."""
        return _resolve(self.config)

    def items_loader(self) -> Callable[..., list[dict]]:
        return _resolve(self.items)


#: The hub variant's dataset settings (``{kind}_{field}``, see ``hub_docs``; a test keeps them equal).
HUB_METADATA_KEYS: tuple[str, ...] = tuple(
    f"{kind}_{field}"
    for kind in ("harmful", "harmless")
    for field in ("dataset", "column", "split", "empty_column", "max_items")
) + ("hub_cache_dir",)
#: The truth hub variants' dataset settings (``statement_hub.DEFAULTS``; a test keeps them equal).
STATEMENT_HUB_KEYS: tuple[str, ...] = (
    "statements_dataset",
    "statements_split",
    "statement_column",
    "label_column",
    "dataset_column",
)

_REFUSAL = "postmech_eval.analyses.refusal.run"
_REFUSAL_CONFIG = "postmech_eval.analyses.refusal.config"
_TRUTH = "postmech_eval.analyses.truth.run"
_TRUTH_CONFIG = "postmech_eval.analyses.truth.config"
_STATEMENT_HUB = "postmech_eval.harness.statement_hub:load_docs"
DEFAULT_DOCS = "postmech_eval.harness.task:load_docs"
ANALYSES: dict[str, AnalysisSpec] = {
    "postmech_refusal_transfer": AnalysisSpec(
        run=f"{_REFUSAL}:run",
        config=f"{_REFUSAL_CONFIG}:RefusalConfig",
        items=f"{_REFUSAL_CONFIG}:default_items",
    ),
    # Same analysis; its docs come from hub datasets (hub_docs builds the files).
    "postmech_refusal_transfer_hub": AnalysisSpec(
        run=f"{_REFUSAL}:run",
        config=f"{_REFUSAL_CONFIG}:RefusalConfig",
        items=f"{_REFUSAL_CONFIG}:default_items",
        docs="postmech_eval.harness.hub_docs:load_docs",
    ),
    "postmech_truth_probe": AnalysisSpec(
        run=f"{_TRUTH}:run_probe",
        config=f"{_TRUTH_CONFIG}:TruthProbeConfig",
        items=f"{_TRUTH_CONFIG}:default_probe_items",
    ),
    # Same analyses; their statements come from one hub dataset (statement_hub builds the files).
    "postmech_truth_probe_hub": AnalysisSpec(
        run=f"{_TRUTH}:run_probe",
        config=f"{_TRUTH_CONFIG}:TruthProbeConfig",
        items=f"{_TRUTH_CONFIG}:default_probe_items",
        docs=_STATEMENT_HUB,
    ),
    "postmech_truth_steering_hub": AnalysisSpec(
        run=f"{_TRUTH}:run_steering",
        config=f"{_TRUTH_CONFIG}:TruthSteeringConfig",
        items=f"{_TRUTH_CONFIG}:default_steering_items",
        docs=_STATEMENT_HUB,
    ),
    "postmech_truth_steering": AnalysisSpec(
        run=f"{_TRUTH}:run_steering",
        config=f"{_TRUTH_CONFIG}:TruthSteeringConfig",
        items=f"{_TRUTH_CONFIG}:default_steering_items",
    ),
    "postmech_knowledge_patching": AnalysisSpec(
        run="postmech_eval.analyses.knowledge.run:run",
        config="postmech_eval.analyses.knowledge.config:KnowledgeConfig",
        items="postmech_eval.analyses.knowledge.config:default_items",
    ),
    "postmech_entropy_neurons": AnalysisSpec(
        run="postmech_eval.analyses.confidence.run:run",
        config="postmech_eval.analyses.confidence.config:ConfidenceConfig",
        items="postmech_eval.analyses.confidence.config:default_items",
    ),
}


def spec_for(task: str) -> AnalysisSpec:
    if task not in ANALYSES:
        raise UnknownNameError(suggestion("postmech analysis task", task, ANALYSES))
    return ANALYSES[task]


def config_fields(task: str) -> tuple[str, ...]:
    """The analysis settings of ``task`` (its config dataclass' fields)."""
    config_cls = spec_for(task).config_class()
    return tuple(sorted(f.name for f in dataclasses.fields(config_cls) if f.init))


def build_config(task: str, kwargs: dict[str, Any]):
    """The task's config from (possibly string) values; bad keys and values are refused."""
    return spec_for(task).config_class().from_kwargs(kwargs)
