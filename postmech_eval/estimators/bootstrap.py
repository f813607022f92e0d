"""Percentile bootstrap intervals for the pair-level statistics (METHODS §6).

Why one helper: every analysis states its uncertainty the same way — resample its unit
(statement pairs, test statements, prompts, texts) with replacement, recompute the
statistic, take the 2.5 / 97.5 percentiles — and the rules that make an interval honest
(seeded, independent strata, what to do when a resample leaves a ratio undefined) should
be written once. The resampling itself is ``scipy.stats.bootstrap``; this module only
hands it index arrays (so a statistic can read any per-item record) and applies the
undefined-resample rule.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Share of resamples allowed to leave a statistic undefined (NaN) before its interval is
#: itself undefined: beyond it, the percentiles of the remaining resamples would describe a
#: selected subset, not the statistic's sampling distribution.
MAX_UNDEFINED = 0.05
LEVEL = 0.95
#: Resamples per interval unless a task's ``n_bootstrap`` says otherwise (METHODS §6).
N_BOOTSTRAP = 1000


@dataclass
class Intervals:
    """Bootstrap intervals of several statistics from one set of resamples.

    ``bounds[name] = (lo, hi)``, NaN when the interval is undefined (``notes[name]`` says
    why); ``settings`` is what a results file records so the interval can be recomputed.
    """

    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)


def percentile_intervals(
    statistic: Callable[..., Mapping[str, float]],
    sizes: Sequence[int],
    *,
    n_resamples: int,
    seed: int,
    unit: str,
    level: float = LEVEL,
    vectorized: bool = False,
) -> Intervals:
    """Percentile intervals of every value ``statistic`` returns.

    ``statistic(*indices)`` gets one integer index array per stratum (``sizes[k]`` items
    in stratum ``k``, each resampled independently with replacement, e.g. harmful and
    harmless prompts) and returns ``{name: value}`` — the same names on every call. The
    unresampled call (``np.arange`` of each size) must give the point estimates.
    ``n_resamples == 0`` or a stratum with fewer than 2 items gives NaN intervals.
    ``vectorized``: ``statistic`` also takes index arrays of shape [B, size], one row per
    resample, and returns ``{name: array [B]}`` (the same resamples, drawn once; a statistic
    over a few thousand heatmap cells then costs a few array operations, not B Python calls).
    """
    from scipy.stats import bootstrap

    started = time.perf_counter()
    full = [np.arange(int(n)) for n in sizes]
    names = list(statistic(*full))
    settings = {
        "method": "percentile bootstrap",
        "level": level,
        "n_resamples": int(n_resamples),
        "seed": int(seed),
        "unit": unit,
        "strata_sizes": [int(n) for n in sizes],
    }
    out = Intervals(settings=settings)
    nan = (math.nan, math.nan)
    if n_resamples <= 0 or min((int(n) for n in sizes), default=0) < 2:
        why = "bootstrap off (n_bootstrap=0)" if n_resamples <= 0 else f"fewer than 2 {unit}"
        out.bounds = dict.fromkeys(names, nan)
        out.notes = dict.fromkeys(names, why)
        return out

    def values(*idx: np.ndarray, axis: int = -1) -> np.ndarray:
        got = statistic(*(np.asarray(i, dtype=np.int64) for i in idx))
        if vectorized:
            return np.stack([np.asarray(got[n], dtype=np.float64) for n in names])
        return np.array([float(got[n]) for n in names], dtype=np.float64)

    from scipy.stats import DegenerateDataWarning

    with warnings.catch_warnings():
        # scipy's own interval is not used (NaN resamples are handled below); its warning about
        # a degenerate distribution (an exact statistic, a NaN resample) is not news here.
        warnings.simplefilter("ignore", DegenerateDataWarning)
        res = bootstrap(
            full,
            values,
            n_resamples=int(n_resamples),
            method="percentile",
            vectorized=vectorized,
            paired=False,
            confidence_level=level,
            rng=np.random.default_rng(seed),
        )
    dist = np.atleast_2d(res.bootstrap_distribution)  # [n_stats, n_resamples]
    tail = 100 * (1 - level) / 2
    for name, row in zip(names, dist, strict=True):
        undefined = float(np.mean(~np.isfinite(row)))
        if undefined > MAX_UNDEFINED:
            out.bounds[name] = nan
            out.notes[name] = f"undefined in {undefined:.0%} of resamples"
            continue
        finite = row[np.isfinite(row)]
        out.bounds[name] = (float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail)))
    out.settings["seconds"] = round(time.perf_counter() - started, 4)
    return out


def mean_or_nan(values: np.ndarray) -> float:
    """Mean of a possibly empty array (NaN when empty), for statistics over subsets."""
    return float(values.mean()) if values.size else math.nan


def describe(*parts: Intervals, refitted: str) -> dict[str, object]:
    """The ``uncertainty`` entry of a result: each group's settings, metrics and notes, and
    what was refitted (one shape for every analysis, read back by the benchmark and reports)."""
    return {
        "groups": [{**p.settings, "metrics": sorted(p.bounds), "notes": p.notes} for p in parts],
        "refitted": refitted,
    }
