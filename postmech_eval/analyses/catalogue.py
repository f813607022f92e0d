"""Which task emits which metrics: the single source every other list is derived from.

Torch-free, so reading results files (leaderboard, ``check``) never loads a model stack.
"""

from __future__ import annotations

from postmech_eval.analyses.confidence.metrics import METRICS as CONFIDENCE
from postmech_eval.analyses.knowledge.metrics import METRICS as KNOWLEDGE
from postmech_eval.analyses.metrics import Metric
from postmech_eval.analyses.refusal.metrics import METRICS as REFUSAL
from postmech_eval.analyses.truth.metrics import PROBE_METRICS, STEERING_METRICS
from postmech_eval.config import suggestion

#: task name -> its metrics, in the order lm-eval lists them.
CATALOGUE: dict[str, tuple[Metric, ...]] = {
    "postmech_knowledge_patching": KNOWLEDGE,
    "postmech_truth_probe": PROBE_METRICS,
    "postmech_truth_steering": STEERING_METRICS,
    "postmech_refusal_transfer": REFUSAL,
    "postmech_refusal_transfer_hub": REFUSAL,
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
        raise KeyError(suggestion("task", task, CATALOGUE))
    return CATALOGUE[task]


def metric_names(task: str) -> tuple[str, ...]:
    return tuple(m.name for m in task_metrics(task))


def lookup(task: str, name: str) -> Metric:
    for m in task_metrics(task):
        if m.name == name:
            return m
    raise KeyError(suggestion(f"metric of {task}", name, metric_names(task)))


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
