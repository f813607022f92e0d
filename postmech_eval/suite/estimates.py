"""A metric's value with its 95% interval, as the suite reads it from a results file.

Why one type: the leaderboard, the end-of-run summary, the findings and ``check`` all show
or judge "a number and how sure we are of it" (METHODS §6). Item metrics carry lm-eval's
standard error of the mean (interval value ± Z95·stderr), pair statistics a percentile
bootstrap CI (``<metric>_ci_lo`` / ``_ci_hi``), weight-only statistics an exact value
(lo = hi) and counts / chosen layers no interval at all; which applies comes from the
metric catalogue, so a results file never has to say it. A NaN value is *undefined* (the
task ran but the statistic has no value, e.g. a ratio over a ~0 denominator), which is
kept apart from *not measured* (no such task or metric in the results: no Estimate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from postmech_eval.analyses.catalogue import CATALOGUE
from postmech_eval.analyses.metrics import Z95, Metric, Uncertainty

UNDEFINED = "undefined"
NOT_MEASURED = "—"


def catalogue_metric(task: str, name: str) -> Metric | None:
    """The catalogue entry of ``task``/``name``, or None for metrics it does not list."""
    for m in CATALOGUE.get(task, ()):
        if m.name == name:
            return m
    return None


@dataclass(frozen=True)
class Estimate:
    """``value`` (NaN: undefined) with an optional 95% interval ``[lo, hi]``.

    ``uncertainty`` is the catalogue's kind (None for a metric it does not list);
    ``stderr`` is kept for item metrics so texts can say "± 1.96·stderr".
    """

    value: float
    lo: float | None = None
    hi: float | None = None
    stderr: float | None = None
    uncertainty: Uncertainty | None = None

    @classmethod
    def build(
        cls,
        value: float,
        stderr: float | None = None,
        ci: tuple[float, float] | None = None,
        uncertainty: Uncertainty | None = None,
    ) -> Estimate:
        """The interval the catalogue says this metric has, from what the file holds."""
        if math.isnan(value):
            return cls(value, uncertainty=uncertainty)
        se = stderr if stderr is not None and math.isfinite(stderr) else None
        if uncertainty == "stderr" or (uncertainty is None and se is not None and ci is None):
            if se is None:
                return cls(value, uncertainty=uncertainty)
            return cls(value, value - Z95 * se, value + Z95 * se, se, uncertainty)
        if uncertainty == "none":
            return cls(value, uncertainty="none")
        if ci is not None and all(math.isfinite(b) for b in ci):
            lo, hi = min(ci), max(ci)
            return cls(value, lo, hi, uncertainty=uncertainty)
        if uncertainty == "exact":  # a function of the weights: no sampling error by definition
            return cls(value, value, value, uncertainty="exact")
        return cls(value, uncertainty=uncertainty)

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)

    @property
    def has_interval(self) -> bool:
        return self.lo is not None and self.hi is not None

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)``; the point value twice when there is no interval."""
        if self.lo is None or self.hi is None:
            return self.value, self.value
        return self.lo, self.hi

    @property
    def half_width(self) -> float | None:
        """Half the 95% interval: Z95·stderr, (hi − lo) / 2, 0 for exact values and counts;
        None when the metric should have an interval but the file carries none."""
        if self.lo is not None and self.hi is not None:
            return (self.hi - self.lo) / 2
        return 0.0 if self.uncertainty in ("exact", "none") else None

    def text(self, digits: int = 3, scale: float = 1.0, compact: bool = False) -> str:
        """``0.825 ± 0.083`` (stderr), ``0.55 [0.41, 0.68]`` (CI), ``0.930`` (exact / none),
        ``undefined`` (NaN); ``scale`` = 100 shows fractions as percentages, ``compact``
        drops the space after the comma; layers and counts (integers) show as integers."""
        if not self.defined:
            return UNDEFINED
        bounds = [b for b in (self.lo, self.hi) if b is not None]
        if self.stderr is None and scale == 1.0 and all(_integral(v) for v in (self.value, *bounds)):
            if not bounds or bounds[0] == bounds[1] == self.value:
                return str(int(self.value))  # layers and counts
            return f"{int(self.value)} [{int(bounds[0])},{'' if compact else ' '}{int(bounds[1])}]"
        value = self.value * scale
        head = _num(value, digits)
        if self.lo is None or self.hi is None:
            return head
        lo, hi = self.lo * scale, self.hi * scale
        if self.stderr is not None:
            return f"{head} ± {_num(Z95 * self.stderr * scale, digits)}"
        if _num(lo, digits) == _num(hi, digits) == head:
            return head  # exact, or a CI narrower than the digits shown
        return f"{head} [{_num(lo, digits)},{'' if compact else ' '}{_num(hi, digits)}]"


def _integral(value: float) -> bool:
    return math.isfinite(value) and float(value).is_integer() and abs(value) < 1e8


def _num(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}f}" if abs(value) < 1000 else f"{value:.{digits}g}"


def combined_uncertainty(new: Estimate, old: Estimate) -> float | None:
    """sqrt(hw_new² + hw_old²): for item metrics 1.96·sqrt(se_new² + se_old²), for
    interval metrics the half-widths combined; None when either run lacks its interval."""
    a, b = new.half_width, old.half_width
    if a is None or b is None:
        return None
    return math.hypot(a, b)
