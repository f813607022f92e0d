"""One expected-vs-observed comparison of the selftest, and the rules for metric names.

Why its own module: every derived pair reports the same kind of row (what theory says, what
the engine measured, the tolerance and why), so the table, the JSON for CI and the exit
code all come from one list of :class:`Check`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["exact", "bound", "sign"]


@dataclass(frozen=True, kw_only=True)
class Check:
    """``observed`` against ``expected`` (exact within ``tol``, a bound, or a sign).

    ``passed`` is None when the check does not apply (``why`` says why); a check whose
    expected value is undefined (a NaN ratio on both sides) passes when both are NaN.
    """

    pair: str  # derived pair: identity, permutation, rotation, abliteration, planted_neuron
    task: str  # analysis task, or "weights" for checks on the derived model itself
    metric: str
    expected: float
    observed: float
    kind: Kind = "exact"
    tol: float = 1e-6
    why: str = ""
    applies: bool = True

    @property
    def passed(self) -> bool | None:
        if not self.applies:
            return None
        e, o = float(self.expected), float(self.observed)
        if self.kind == "exact":
            if math.isnan(e) or math.isnan(o):
                return math.isnan(e) and math.isnan(o)
            return abs(o - e) <= self.tol
        if math.isnan(o):
            return False
        if self.kind == "bound":  # observed <= expected (+ tol)
            return o <= e + self.tol
        return (o > 0) == (e > 0) and abs(o) > self.tol  # sign: same sign, clear of zero

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["passed"] = self.passed
        for k in ("expected", "observed"):
            out[k] = None if math.isnan(float(out[k])) else float(out[k])
        return out


def exact(pair: str, task: str, metric: str, expected: float, observed: float, tol: float, why: str) -> Check:
    return Check(pair=pair, task=task, metric=metric, expected=float(expected), observed=float(observed),
                 tol=tol, why=why)  # fmt: skip


# ----------------------------------------------------------------------------- metric names
def _tokens(name: str) -> list[str]:
    return [t for t in name.split("_") if t in ("base", "post")]


def swap(name: str) -> str:
    """The metric with base and post exchanged (``nif_base_post`` -> ``nif_post_base``)."""
    return "_".join({"base": "post", "post": "base"}.get(t, t) for t in name.split("_"))


def to_base(name: str) -> str:
    """The metric with every model named base (``refusal_post_harmful_ablate_base`` -> own B)."""
    return "_".join("base" if t == "post" else t for t in name.split("_"))


def is_own(name: str) -> bool:
    """A within-model metric: names base or post, never both (``probe_acc_post``)."""
    toks = _tokens(name)
    return bool(toks) and len(set(toks)) == 1


def is_cross(name: str) -> bool:
    """A cross-model metric: names both (``probe_acc_base_on_post``, ``cross_recovery_*``)."""
    return len(set(_tokens(name))) == 2
