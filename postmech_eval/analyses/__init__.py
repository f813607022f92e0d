"""Analyses: one package per perspective (config, run, report, metrics), pure functions over a
ModelPair, plus the metric catalogue every other metric list is derived from.

They know nothing about lm-eval; ``postmech_eval.harness`` adapts them to tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AnalysisResult:
    """What one analysis of one pair produced.

    ``metrics`` become lm-eval metrics; ``records`` (one per evaluated test item) are what
    ``--log_samples`` shows and what ``records.jsonl`` keeps; ``artifacts`` name the files
    written beside the results.

    Uncertainty (METHODS §6): ``item_metrics[i]`` holds item ``i``'s own value of every
    item metric it contributes to (a harmful prompt has no harmless refusal rate), so that
    lm-eval's mean over docs equals ``metrics[name]`` and lm-eval computes its standard
    error; ``intervals[name] = (lo, hi)`` is the bootstrap CI of a pair metric, and
    ``uncertainty`` records how (resamples, seed, unit, what was refitted).
    """

    metrics: dict[str, float]
    records: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    artifacts: dict[str, str] = field(default_factory=dict)
    item_metrics: list[dict[str, float]] = field(default_factory=list)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    uncertainty: dict[str, Any] = field(default_factory=dict)
