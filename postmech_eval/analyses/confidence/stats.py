"""Per-text values, their means and the bootstrap CIs of the entropy-neuron analysis (METHODS §5, §6).

Why per text: the held-out texts are the sampled unit, so every mean here is a mean over
texts of each text's own token mean (lm-eval's standard error over docs is then the
error of exactly that number). Ratios (direct-effect share, share of the confidence gap
explained) are bootstrapped over texts; the neuron sets and logit variances depend on the
weights alone, so their overlap and rank correlation are exact (no sampled unit).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from postmech_eval.estimators.bootstrap import Intervals, percentile_intervals
from postmech_eval.estimators.entropy_ablation import QUANTITIES

MODELS = ("base", "post")


def per_text(
    per: dict[str, tuple[torch.Tensor, torch.Tensor]], n_random: int
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(texts used, {item metric: value per used text}, {model: token sums [n_used, Q]}).

    A text with fewer than 2 tokens under either model has no next-token score and is left out.
    """
    counts = {w: c.numpy() for w, (_, c) in per.items()}
    used = np.flatnonzero(np.all([c > 0 for c in counts.values()], axis=0))
    values: dict[str, np.ndarray] = {}
    sums: dict[str, np.ndarray] = {}
    for w, (s, c) in per.items():
        total = s.double().numpy()[used]
        sums[w] = total
        m = {q: total[:, i] / c.numpy()[used] for i, q in enumerate(QUANTITIES)}
        nan = np.full(len(used), math.nan)
        values.update(
            {
                f"entropy_{w}": m["entropy_clean"],
                f"loss_{w}": m["loss_clean"],
                f"ablate_dentropy_{w}": m["entropy_ablated"] - m["entropy_clean"],
                f"ablate_dloss_{w}": m["loss_ablated"] - m["loss_clean"],
                f"ablate_dentropy_direct_{w}": m["entropy_direct"] - m["entropy_clean"],
                f"ablate_dloss_direct_{w}": m["loss_direct"] - m["loss_clean"],
                f"ablate_abs_dentropy_{w}": m["abs_dentropy_ablated"],
                f"ablate_dentropy_random_{w}": m["entropy_random"] - m["entropy_clean"] if n_random else nan,
                f"ablate_abs_dentropy_random_{w}": m["abs_dentropy_random"] if n_random else nan,
                f"ablate_abs_dentropy_excess_{w}": m["abs_dentropy_ablated"] - m["abs_dentropy_random"]
                if n_random
                else nan,
            }
        )
    values["entropy_gap"] = values["entropy_base"] - values["entropy_post"]
    return used, values, sums


def _mean(v: np.ndarray) -> float:
    return float(v.mean()) if v.size else math.nan


def ratios(values: dict[str, np.ndarray], sums: dict[str, np.ndarray], min_gap: float) -> dict[str, float]:
    """The ratio metrics of these texts: direct-effect share (token sums) per model and
    the share of the confidence gap the post model's neurons explain."""
    out: dict[str, float] = {}
    i_direct, i_total = QUANTITIES.index("abs_dloss_direct"), QUANTITIES.index("abs_dloss_ablated")
    for w, s in sums.items():
        total = float(s[:, i_total].sum())
        out[f"direct_effect_share_{w}"] = (
            float(s[:, i_direct].sum()) / total if abs(total) > 1e-12 else math.nan
        )
    gap = _mean(values["entropy_gap"])
    out["entropy_gap_explained"] = (
        _mean(values["ablate_dentropy_post"]) / gap if abs(gap) > min_gap else math.nan
    )
    return out


def metrics(values: dict[str, np.ndarray], sums: dict[str, np.ndarray], min_gap: float) -> dict[str, float]:
    """Every per-text mean, the ratios and the token counts."""
    out = {k: _mean(v) for k, v in values.items()}
    out.update(ratios(values, sums, min_gap))
    return out


def item_rows(n_items: int, used: np.ndarray, values: dict[str, np.ndarray]) -> list[dict[str, float]]:
    """Per doc: its per-text value of every item metric (nothing for an unused text)."""
    rows: list[dict[str, float]] = [{} for _ in range(n_items)]
    for j, i in enumerate(used):
        rows[int(i)] = {k: float(v[j]) for k, v in values.items()}
    return rows


def intervals(
    values: dict[str, np.ndarray],
    sums: dict[str, np.ndarray],
    exact: dict[str, float],
    config: Any,
) -> Intervals:
    """Bootstrap CIs of the ratios over texts; the weight-only metrics as exact intervals."""

    def stat(idx: np.ndarray) -> dict[str, float]:
        return ratios(
            {k: v[idx] for k, v in values.items()}, {w: s[idx] for w, s in sums.items()}, config.min_gap
        )

    n = len(next(iter(values.values())))
    ci = percentile_intervals(
        stat, [n], n_resamples=config.n_bootstrap, seed=config.seed, unit="held-out texts"
    )
    for name, value in exact.items():
        ci.bounds[name] = (value, value)
        ci.notes[name] = "exact: a function of the weights alone"
    return ci
