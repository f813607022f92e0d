"""Verdicts: does each of the paper's four findings reproduce on a pair?

A reproducibility suite owes its users verdicts, not only numbers. Each finding is a
conjunction of simple comparisons kept as data, so the rule shown next to a verdict is
generated from the very objects that decide it and can never drift from the code.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from postmech_eval.suite.runs import PairRun

Verdict = Literal["reproduced", "not reproduced", "n/a"]

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Metric:
    """One metric of one task; shown by its metric name (names are unique across tasks)."""

    task: str
    name: str

    def text(self) -> str:
        return self.name

    def evaluate(self, run: PairRun) -> float | None:
        return run.value(self.task, self.name)

    def metrics(self) -> tuple[Metric, ...]:
        return (self,)


@dataclass(frozen=True)
class Ratio:
    """``num / den``; undefined (n/a) when the denominator is not positive."""

    num: Metric
    den: Metric

    def text(self) -> str:
        return f"{self.num.name} / {self.den.name}"

    def evaluate(self, run: PairRun) -> float | None:
        num, den = self.num.evaluate(run), self.den.evaluate(run)
        if num is None or den is None or den <= 0:
            return None
        return num / den

    def metrics(self) -> tuple[Metric, ...]:
        return (self.num, self.den)


@dataclass(frozen=True)
class Abs:
    """``|metric|``: a share that may come out negative is judged by its size."""

    inner: Metric

    def text(self) -> str:
        return f"abs({self.inner.name})"

    def evaluate(self, run: PairRun) -> float | None:
        value = self.inner.evaluate(run)
        return None if value is None else abs(value)

    def metrics(self) -> tuple[Metric, ...]:
        return (self.inner,)


Term = Metric | Ratio | Abs


@dataclass(frozen=True)
class Condition:
    """``left OP right`` where right is a constant or another term."""

    left: Term
    op: str
    right: Term | float

    def text(self) -> str:
        right = self.right if isinstance(self.right, (int, float)) else self.right.text()
        return f"{self.left.text()} {self.op} {right}"


@dataclass(frozen=True)
class Finding:
    key: str
    title: str
    conditions: tuple[Condition, ...]

    @property
    def rule(self) -> str:
        return " and ".join(c.text() for c in self.conditions)


@dataclass(frozen=True)
class FindingResult:
    finding: Finding
    verdict: Verdict
    observed: str
    note: str = ""


KP = "postmech_knowledge_patching"
TP = "postmech_truth_probe"
TS = "postmech_truth_steering"
RT = "postmech_refusal_transfer"
EN = "postmech_entropy_neurons"

FINDINGS: tuple[Finding, ...] = (
    Finding(
        "knowledge",
        "Knowledge locations unchanged",
        (Condition(Metric(KP, "patch_corr"), ">=", 0.8),),
    ),
    Finding(
        "truth",
        "Truth direction shared and transferable",
        (
            Condition(Metric(TP, "truth_dir_cosine"), ">=", 0.5),
            Condition(Ratio(Metric(TS, "nif_base_post"), Metric(TS, "nif_post_post")), ">=", 0.8),
            Condition(Ratio(Metric(TS, "nif_post_base"), Metric(TS, "nif_base_base")), ">=", 0.8),
        ),
    ),
    Finding(
        "refusal",
        "Refusal direction differs; forward transfer limited",
        (Condition(Metric(RT, "transfer_forward"), "<", Metric(RT, "transfer_backward")),),
    ),
    Finding(
        "confidence",
        "Confidence gap not explained by entropy neurons",
        (
            Condition(Metric(EN, "entropy_neuron_iou"), ">=", 0.5),
            Condition(Abs(Metric(EN, "entropy_gap_explained")), "<", 0.25),
        ),
    ),
)


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def evaluate_finding(finding: Finding, run: PairRun) -> FindingResult:
    """Judge one finding on one pair; any missing input makes the verdict n/a."""
    needed: list[Metric] = []
    for cond in finding.conditions:
        needed.extend(cond.left.metrics())
        if not isinstance(cond.right, (int, float)):
            needed.extend(cond.right.metrics())
    needed = list(dict.fromkeys(needed))
    values = {m: m.evaluate(run) for m in needed}
    observed = ", ".join(f"{m.name}={_fmt(v)}" for m, v in values.items() if v is not None)
    missing = [m.name for m, v in values.items() if v is None]
    if missing:
        return FindingResult(finding, "n/a", observed or "—", f"missing: {', '.join(missing)}")
    failed = []
    for cond in finding.conditions:
        left = cond.left.evaluate(run)
        right = cond.right if isinstance(cond.right, (int, float)) else cond.right.evaluate(run)
        if left is None or right is None:
            return FindingResult(
                finding, "n/a", observed, f"undefined: {cond.text()} (non-positive denominator)"
            )
        if not OPS[cond.op](left, right):
            failed.append(f"{cond.left.text()}={_fmt(left)} fails {cond.op} {_fmt(right)}")
    if failed:
        return FindingResult(finding, "not reproduced", observed, "; ".join(failed))
    return FindingResult(finding, "reproduced", observed)


def evaluate_findings(run: PairRun, findings: Sequence[Finding] = FINDINGS) -> list[FindingResult]:
    """All findings for one pair, in the paper's order."""
    return [evaluate_finding(f, run) for f in findings]
