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
    ``--log_samples`` shows; ``artifacts`` name the files written beside the results.
    """

    metrics: dict[str, float]
    records: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    artifacts: dict[str, str] = field(default_factory=dict)
