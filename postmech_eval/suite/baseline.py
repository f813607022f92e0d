"""Regression gates against a previous run of the same base (METHODS §6, CI regression).

Why relative gates: the product's CI use is "is this checkpoint worse than the last one?",
which no fixed threshold answers — a 0.93 patch correlation can be a regression from 0.99.
A relative gate allows a ``max_drop`` / ``max_rise`` (absolute tolerance) of the new value
against the baseline's; with ``significant: true`` it fails only when the change also
exceeds the runs' combined 95% uncertainty, sqrt(hw_new² + hw_old²) (hw = 1.96·stderr for
means over items, half the bootstrap CI for pair statistics, 0 for exact values and
counts), so sampling noise between two checkpoints is not a regression. Without a gates
file, every metric with a direction gets a gate that allows no significant change for the
worse. Two runs can only be compared when they measured the same base with the same suite
version; anything else is bad input (exit 2), never a pass or a fail.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from postmech_eval.analyses.catalogue import CATALOGUE
from postmech_eval.suite.estimates import Estimate, catalogue_metric, combined_uncertainty
from postmech_eval.suite.results import ResultsFileError
from postmech_eval.suite.runs import PairRun

Policy = Literal["fail", "skip"]
Status = Literal["pass", "fail", "skip"]
#: changes smaller than this are float noise between identical computations, not regressions
EPS = 1e-9
#: directions of postmech tasks outside the analyses' catalogue (the stock multiple-choice task)
STOCK_DIRECTIONS: dict[tuple[str, str], str] = {("postmech_statements_mc", "acc"): "higher"}


class BaselineError(ResultsFileError):
    """Two runs that cannot be compared; the message names both and the difference."""


def direction(task: str, metric: str) -> str | None:
    """ "higher" / "lower" when the catalogue gives the metric a good side, else None."""
    known = catalogue_metric(task, metric.partition(",")[0])
    if known is not None:
        return known.direction
    return STOCK_DIRECTIONS.get((task, metric))


@dataclass(frozen=True, kw_only=True)
class RelativeGate:
    """``new − baseline`` within ``[-max_drop, +max_rise]`` (either bound may be absent).

    ``missing`` decides a metric absent or undefined in the new run, ``missing_baseline``
    one the baseline lacks (None: as ``missing``).
    """

    task: str
    metric: str
    max_drop: float | None = None
    max_rise: float | None = None
    significant: bool = False
    missing: Policy = "fail"
    missing_baseline: Policy | None = None
    why: str = ""

    @property
    def rule(self) -> str:
        parts = [f"drop <= {self.max_drop:g}"] if self.max_drop is not None else []
        parts += [f"rise <= {self.max_rise:g}"] if self.max_rise is not None else []
        text = f"{self.metric} vs baseline: {' and '.join(parts)}"
        return text + (", unless within the combined 95% uncertainty" if self.significant else "")


@dataclass(frozen=True)
class Comparison:
    """One relative gate judged: both estimates, the change and the combined uncertainty."""

    gate: RelativeGate
    status: Status
    new: Estimate | None
    old: Estimate | None
    change: float | None = None
    uncertainty: float | None = None
    note: str = ""


def _absent(est: Estimate | None) -> str | None:
    if est is None:
        return "not measured"
    return None if est.defined else "undefined"


def compare(gate: RelativeGate, new: PairRun, old: PairRun) -> Comparison:
    """Judge one relative gate of the new run against the baseline."""
    a, b = new.estimate(gate.task, gate.metric), old.estimate(gate.task, gate.metric)
    why_new, why_old = _absent(a), _absent(b)
    if why_new is not None and why_old is not None:  # nothing to compare, nothing changed for the worse
        policy = gate.missing_baseline or gate.missing
        note = (
            f"{why_new} in both runs" if why_new == why_old else f"{why_old} in the baseline, {why_new} now"
        )
        return Comparison(gate, policy, a, b, note=note)
    if why_new is not None:
        return Comparison(
            gate, "skip" if gate.missing == "skip" else "fail", a, b, note=f"{why_new} in the new run"
        )
    if why_old is not None:
        policy = gate.missing_baseline or gate.missing
        return Comparison(gate, policy, a, b, note=f"{why_old} in the baseline")
    assert a is not None and b is not None
    if not (math.isfinite(a.value) and math.isfinite(b.value)):
        return Comparison(gate, "fail", a, b, note="non-finite value")
    change = a.value - b.value
    broken = []
    if gate.max_drop is not None and -change > gate.max_drop + EPS:
        broken.append(f"drop {-change:.3g} > {gate.max_drop:g}")
    if gate.max_rise is not None and change > gate.max_rise + EPS:
        broken.append(f"rise {change:.3g} > {gate.max_rise:g}")
    unc = combined_uncertainty(a, b) if gate.significant else None
    note = ", ".join(broken)
    if gate.significant and unc is None:
        unc = 0.0
        note = ", ".join([*broken, "an interval is missing in one run: uncertainty taken as 0"])
    if broken and gate.significant and unc is not None and abs(change) <= unc + EPS:
        return Comparison(gate, "pass", a, b, change, unc, f"{', '.join(broken)}, but within the noise")
    return Comparison(gate, "fail" if broken else "pass", a, b, change, unc, note)


def default_gates(new: PairRun, old: PairRun) -> list[RelativeGate]:
    """No significant change for the worse in any metric with a direction, in every task
    both runs measured (a metric the baseline lacks is skipped: nothing to compare)."""
    gates = []
    both = set(new.metrics) & set(old.metrics)
    for task in [t for t in CATALOGUE if t in both] + sorted(both - set(CATALOGUE)):
        names = [m.name for m in CATALOGUE.get(task, ())] or sorted(old.metrics[task])
        for name in names:
            side = direction(task, name)
            if side is None or (name not in old.metrics[task] and name not in new.metrics[task]):
                continue
            gates.append(
                RelativeGate(
                    task=task,
                    metric=name,
                    max_drop=0.0 if side == "higher" else None,
                    max_rise=0.0 if side == "lower" else None,
                    significant=True,
                    missing="fail",
                    missing_baseline="skip",
                )
            )
    return gates


def _norm(spec: str) -> str:
    return spec.strip().rstrip("/").casefold()


def check_comparable(new: PairRun, old: PairRun, new_path: str, old_path: str) -> None:
    """Refuse a baseline of another base model or another postmech suite version."""
    if _norm(new.key.base) != _norm(old.key.base):
        raise BaselineError(
            f"baseline {old_path} measured base model {old.key.base!r}, the new run {new_path} "
            f"measured {new.key.base!r}: a baseline must be a run of the same base"
        )
    differ = [
        f"{t} {old.task_versions[t]} in the baseline, {new.task_versions[t]} in the new run"
        for t in sorted(set(new.task_versions) & set(old.task_versions))
        if new.task_versions[t] != old.task_versions[t]
    ]
    if differ:
        raise BaselineError(
            f"baseline {old_path} comes from another postmech suite version (task versions: "
            f"{'; '.join(differ)}); rerun the baseline with this suite"
        )
    a, b = new.postmech_versions, old.postmech_versions
    if a and b and a != b:
        raise BaselineError(
            f"baseline {old_path} was made by postmech-eval {', '.join(sorted(b))}, the new run "
            f"{new_path} by {', '.join(sorted(a))}; rerun the baseline with this suite"
        )
    if not set(new.metrics) & set(old.metrics):
        raise BaselineError(
            f"baseline {old_path} and the new run {new_path} have no postmech task in common "
            f"(baseline: {', '.join(sorted(old.metrics))}; new: {', '.join(sorted(new.metrics))})"
        )


def compare_all(gates: Sequence[RelativeGate], new: PairRun, old: PairRun) -> list[Comparison]:
    return [compare(g, new, old) for g in gates]
