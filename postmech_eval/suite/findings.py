"""Verdicts: does each of the paper's four findings reproduce on a pair, given the numbers'
uncertainty (METHODS §6)?

A reproducibility suite owes its users verdicts, not only numbers, and a verdict that
ignores sampling error calls a difference inside the noise a result. Each finding is a
conjunction of comparisons kept as data, so the rule shown next to a verdict is generated
from the very objects that decide it. A condition is judged over the metric's whole 95%
interval: *reproduced* when the rule holds at every point of it, *not reproduced* when it
fails at every point, *inconclusive* when the interval straddles the threshold, *undefined*
(with the reason in words) when the statistic has no value, e.g. a ratio whose denominator
is ~0, and *not measured* when the task did not run. Conditions combine with the worst
outcome first: not reproduced, undefined, not measured, inconclusive, reproduced.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from postmech_eval.suite.estimates import Estimate
from postmech_eval.suite.runs import PairRun

Verdict = Literal["reproduced", "not reproduced", "inconclusive", "undefined", "not measured"]
#: how conditions combine: the first outcome in this order that any condition has wins
PRECEDENCE: tuple[Verdict, ...] = (
    "not reproduced",
    "undefined",
    "not measured",
    "inconclusive",
    "reproduced",
)

VERDICTS_LEGEND = (
    "Each condition is judged over the metric's 95% interval: reproduced (holds over the whole "
    "interval), not reproduced (fails over it), inconclusive (the interval straddles the "
    "threshold), undefined (the statistic has no value, reason given), not measured (the task "
    "did not run). A finding takes the worst of its conditions in that order: not reproduced, "
    "undefined, not measured, inconclusive, reproduced."
)

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

    def estimate(self, run: PairRun) -> Estimate | None:
        return run.estimate(self.task, self.name)


@dataclass(frozen=True)
class Abs:
    """``|metric|``: a share that may come out negative is judged by its size; the interval
    is folded at 0 (an interval across 0 becomes [0, max(|lo|, |hi|)])."""

    inner: Metric

    @property
    def task(self) -> str:
        return self.inner.task

    @property
    def name(self) -> str:
        return self.inner.name

    def text(self) -> str:
        return f"abs({self.inner.name})"

    def estimate(self, run: PairRun) -> Estimate | None:
        est = self.inner.estimate(run)
        if est is None or not est.defined:
            return est
        value = abs(est.value)
        if not est.has_interval:
            return Estimate(value, uncertainty=est.uncertainty)
        lo, hi = est.bounds
        if lo >= 0:
            return Estimate(value, lo, hi, uncertainty=est.uncertainty)
        if hi <= 0:
            return Estimate(value, -hi, -lo, uncertainty=est.uncertainty)
        return Estimate(value, 0.0, max(-lo, hi), uncertainty=est.uncertainty)


Term = Metric | Abs


@dataclass(frozen=True)
class Guard:
    """A denominator behind a condition's statistic: ``minuend − subtrahend`` (or the
    minuend alone) must be at least ``min_abs`` in size, else the statistic is undefined.

    ``subject`` names the statistic ("backward transfer"); ``change`` says in words what
    the difference is ("ablating base's own direction changes its harmful refusal");
    ``never`` says what it means when the minuend itself is ~0 ("base never refuses
    harmful prompts"), for the case where the whole quantity is absent, not just small.
    """

    minuend: Metric
    subtrahend: Metric | None
    min_abs: float
    subject: str
    change: str
    never: str | None = None

    def reason(self, run: PairRun) -> str | None:
        """The words of why the guarded statistic is undefined; None when it is defined
        (or the guard's inputs were not measured: the condition then speaks for itself)."""
        top = run.value(self.minuend.task, self.minuend.name)
        low = 0.0 if self.subtrahend is None else run.value(self.subtrahend.task, self.subtrahend.name)
        if top is None or low is None:
            return None
        size = top - low
        if abs(size) >= self.min_abs:
            return None
        if self.never is not None and abs(top) < self.min_abs:
            never = self.never if top == 0 else self.never.replace(" never ", " (almost) never ")
            return f"{never} ({self.minuend.name} = {top:.2f}): {self.subject} undefined"
        what = (
            self.minuend.name if self.subtrahend is None else f"{self.minuend.name} − {self.subtrahend.name}"
        )
        return f"{self.change} only {size:+.3g} ({what}; |·| < {self.min_abs:g}): {self.subject} undefined"


@dataclass(frozen=True)
class Condition:
    """``left OP threshold``, judged over left's interval; ``guards`` name its denominators."""

    left: Term
    op: str
    threshold: float
    guards: tuple[Guard, ...] = ()

    def text(self) -> str:
        return f"{self.left.text()} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    verdict: Verdict
    estimate: Estimate | None
    note: str = ""

    def observed(self) -> str:
        name = self.condition.left.text()
        if self.estimate is None:
            return f"{name} not measured"
        tail = "" if self.estimate.has_interval or not self.estimate.defined else " (no CI)"
        return f"{name} = {self.estimate.text(2)}{tail}"


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
    parts: tuple[ConditionResult, ...] = ()


def judge(cond: Condition, run: PairRun) -> ConditionResult:
    """One condition on one pair: the five outcomes, each with its numbers."""
    est = cond.left.estimate(run)
    if est is None:
        absent = cond.left.task not in run.metrics
        where = f"task {cond.left.task} not in the results" if absent else "absent from the results"
        return ConditionResult(cond, "not measured", None, f"{cond.left.name}: {where}")
    reasons = [r for r in (g.reason(run) for g in cond.guards) if r is not None]
    if reasons:
        return ConditionResult(cond, "undefined", est, "; ".join(reasons))
    if not est.defined:
        return ConditionResult(
            cond, "undefined", est, f"{cond.left.name} has no value in a run of its task (NaN)"
        )
    lo, hi = est.bounds
    holds = OPS[cond.op]
    if holds(lo, cond.threshold) and holds(hi, cond.threshold):
        return ConditionResult(cond, "reproduced", est)
    if not holds(lo, cond.threshold) and not holds(hi, cond.threshold):
        return ConditionResult(cond, "not reproduced", est, f"{cond.text()} fails")
    return ConditionResult(cond, "inconclusive", est, f"CI straddles {cond.threshold:g}")


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """Any not reproduced wins, then undefined, not measured, inconclusive; else reproduced."""
    for verdict in PRECEDENCE:
        if verdict in verdicts:
            return verdict
    return "reproduced"


def evaluate_finding(finding: Finding, run: PairRun) -> FindingResult:
    """Judge one finding on one pair; ``observed`` lists every number the rule used, with
    its interval, and ``note`` says why each condition that is not a pass is not."""
    parts = tuple(judge(c, run) for c in finding.conditions)
    verdict = combine([p.verdict for p in parts])
    observed = "; ".join(p.observed() for p in parts)
    note = "; ".join(f"{p.verdict}: {p.note}" for p in parts if p.verdict != "reproduced" and p.note)
    return FindingResult(finding, verdict, observed, note, parts)


def evaluate_findings(run: PairRun, findings: Sequence[Finding] | None = None) -> list[FindingResult]:
    """All findings for one pair, in the paper's order."""
    return [evaluate_finding(f, run) for f in (FINDINGS if findings is None else findings)]


KP = "postmech_knowledge_patching"
TP = "postmech_truth_probe"
TS = "postmech_truth_steering"
RT = "postmech_refusal_transfer"
EN = "postmech_entropy_neurons"
#: an own-direction change smaller than this makes a transfer ratio undefined (METHODS §4)
MIN_CHANGE = 0.05
#: a confidence gap smaller than this (nats) makes "share of the gap explained" undefined
MIN_GAP = 1e-3


def _m(task: str, name: str) -> Metric:
    return Metric(task, name)


def _refusal_guards(kind: str) -> tuple[Guard, ...]:
    """The two own-direction changes behind ``transfer_gap`` (ablation) or ``transfer_gap_add``."""
    out = []
    for model, subject in (("base", "backward transfer"), ("post", "forward transfer")):
        plain = _m(RT, f"refusal_{model}_{kind}")
        if kind == "harmful":
            own = _m(RT, f"refusal_{model}_harmful_ablate_{model}")
            change = f"ablating {model}'s own direction lowers its harmful refusal by"
            out.append(
                Guard(plain, own, MIN_CHANGE, subject, change, f"{model} never refuses harmful prompts")
            )
        else:
            own = _m(RT, f"refusal_{model}_harmless_add_{model}")
            change = f"adding {model}'s own direction raises its harmless refusal by"
            out.append(Guard(own, plain, MIN_CHANGE, f"{subject} (addition)", change))
    return tuple(out)


def _own_nif(metric: str, subject: str, who: str) -> tuple[Guard, ...]:
    """The denominator of a NIF transfer ratio: the target model's own-direction NIF."""
    return (Guard(_m(TS, metric), None, MIN_CHANGE, subject, f"{who}'s own-direction NIF is"),)


_GAP = (Guard(_m(EN, "entropy_gap"), None, MIN_GAP, "share of the gap explained", "the confidence gap H_base − H_post is"),)  # fmt: skip

FINDINGS: tuple[Finding, ...] = (
    Finding(
        "knowledge",
        "Knowledge locations unchanged",
        (
            Condition(_m(KP, "patch_corr"), ">=", 0.8),
            Condition(_m(KP, "cross_recovery_base_to_post"), ">=", 0.5),
            Condition(_m(KP, "cross_recovery_post_to_base"), ">=", 0.5),
        ),
    ),
    Finding(
        "truth",
        "Truth direction shared and transferable",
        (
            Condition(_m(TP, "truth_dir_cosine"), ">=", 0.5),
            Condition(_m(TS, "nif_base_base"), ">=", 0.5),
            Condition(_m(TS, "nif_post_post"), ">=", 0.5),
            Condition(
                _m(TS, "nif_transfer_forward"),
                ">=",
                0.8,
                _own_nif("nif_post_post", "forward NIF transfer", "P"),
            ),
            Condition(
                _m(TS, "nif_transfer_backward"),
                ">=",
                0.8,
                _own_nif("nif_base_base", "backward NIF transfer", "B"),
            ),
        ),
    ),
    Finding(
        "refusal",
        "Refusal: forward transfer limited, backward works",
        (
            Condition(_m(RT, "transfer_gap"), ">=", 0.2, _refusal_guards("harmful")),
            Condition(_m(RT, "transfer_gap_add"), ">=", 0.2, _refusal_guards("harmless")),
        ),
    ),
    Finding(
        "confidence",
        "Confidence gap not explained by entropy neurons",
        (
            Condition(_m(EN, "entropy_neuron_iou"), ">=", 0.5),
            Condition(_m(EN, "ablate_abs_dentropy_excess_base"), ">", 0.0),
            Condition(_m(EN, "ablate_abs_dentropy_excess_post"), ">", 0.0),
            Condition(Abs(_m(EN, "entropy_gap_explained")), "<", 0.25, _GAP),
        ),
    ),
)
