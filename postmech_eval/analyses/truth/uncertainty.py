"""Sampling error of the truth analyses (METHODS §6): per-item values and bootstrap CIs.

Why apart from ``run``: ``run`` measures activations and steered readouts; everything here
is arithmetic on those measurements, re-done on resamples, so the rules of what is
resampled and what is refitted are stated in one place:

- probe accuracies are means over held-out statements (per-statement correctness goes
  to lm-eval, which reports the standard error);
- ``sweep_best_*``: held-out statements resampled, the per-layer probes held fixed;
- ``truth_dir_cosine``: TRAINING statements resampled within each dataset, and both
  models' probe directions refitted on the same resample (cheap for the mass-mean probe:
  two class means after per-dataset centring; the logistic probe is refitted by its
  solver, ``n_bootstrap`` x 2 fits);
- NIFs and their transfer ratios: held-out true and false statements resampled
  separately (two strata), the steering vectors held fixed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from postmech_eval.estimators.bootstrap import Intervals, describe, percentile_intervals  # noqa: F401 (describe: used by run)

WHICH = ("base", "post")
#: An own-direction NIF below this makes a transfer ratio undefined (0/0 is not a transfer).
MIN_OWN_NIF = 0.05


def probe_item_metrics(correct: dict[str, np.ndarray]) -> list[dict[str, float]]:
    """Per held-out statement: 1.0 / 0.0 correctness under each probe condition."""
    n = len(next(iter(correct.values())))
    return [{f"probe_acc_{k}": float(v[i]) for k, v in correct.items()} for i in range(n)]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / den if den > 0 else math.nan


def _mm_weights(rows: np.ndarray, groups: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row weights w with X.T @ w = the mass-mean direction refitted on ``rows`` (with
    repeats), per-dataset centring included: mean of the centred true rows minus mean of the
    centred false rows is linear in X, so one product replaces centring a resampled copy."""
    n = len(y)
    c = np.bincount(rows, minlength=n).astype(np.float64)
    n1, n0 = float(c[y == 1].sum()), float(c[y == 0].sum())
    if n1 == 0 or n0 == 0:
        return np.full(n, np.nan)
    w = c * np.where(y == 1, 1.0 / n1, -1.0 / n0)
    for g in np.unique(groups[rows]):
        in_g = groups == g
        size = c[in_g].sum()
        share = (c[in_g & (y == 1)].sum() / n1) - (c[in_g & (y == 0)].sum() / n0)
        w[in_g] -= c[in_g] * share / size
    return w


def _direction(X: np.ndarray, groups: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    """The probe direction refitted on these rows (per-dataset centring first)."""
    Xc = X.copy()
    for g in np.unique(groups):
        rows = groups == g
        Xc[rows] -= X[rows].mean(axis=0)
    if kind == "mm":
        if not (y == 1).any() or not (y == 0).any():
            return np.full(X.shape[1], np.nan)
        return Xc[y == 1].mean(axis=0) - Xc[y == 0].mean(axis=0)
    from postmech_eval.estimators.probes import make_probe

    return make_probe(kind).fit(Xc, y).coef_


def probe_intervals(
    train_layer_acts: dict[str, np.ndarray],
    train_groups: Sequence[str],
    train_labels: Sequence[int],
    own_correct: dict[str, np.ndarray],
    kind: str,
    n_resamples: int,
    seed: int,
) -> tuple[Intervals, Intervals]:
    """(CI of the sweep's best layer and accuracy over held-out statements, CI of the
    direction cosine over training statements with refitted directions)."""
    correct = {w: np.asarray(v, dtype=np.float64) for w, v in own_correct.items()}  # [L, n_test]

    def sweep_stat(idx: np.ndarray) -> dict[str, float]:
        out: dict[str, float] = {}
        for w, c in correct.items():
            acc = c[:, idx].mean(axis=1)
            out[f"sweep_best_layer_{w}"] = float(np.argmax(acc))
            out[f"sweep_best_acc_{w}"] = float(acc.max())
        return out

    n_test = next(iter(correct.values())).shape[1]
    sweep = percentile_intervals(
        sweep_stat, [n_test], n_resamples=n_resamples, seed=seed, unit="held-out statements"
    )
    groups = np.array([str(g) for g in train_groups])
    y = np.asarray(train_labels, dtype=np.int64)
    strata = [np.flatnonzero(groups == g) for g in sorted(set(groups.tolist()))]
    X = {w: np.asarray(a, dtype=np.float64) for w, a in train_layer_acts.items()}

    def cosine_stat(*idx: np.ndarray) -> dict[str, float]:
        rows = np.concatenate([s[i] for s, i in zip(strata, idx, strict=True)])
        if kind == "mm":
            weights = _mm_weights(rows, groups, y)
            d = {w: X[w].T @ weights for w in WHICH}
        else:
            d = {w: _direction(X[w][rows], groups[rows], y[rows], kind) for w in WHICH}
        return {"truth_dir_cosine": _cosine(d["base"], d["post"])}

    cosine = percentile_intervals(
        cosine_stat,
        [len(s) for s in strata],
        n_resamples=n_resamples,
        seed=seed,
        unit="training statements (per dataset)",
    )
    return sweep, cosine


def nif_parts(p: np.ndarray, p_int: np.ndarray, y: np.ndarray) -> float:
    """METHODS §3 NIF of one (direction, target) from per-statement p_diff arrays."""
    from postmech_eval.analyses.truth.steer import nif

    return nif(p[y == 1], p_int[y == 1], p[y == 0], p_int[y == 0])[0]


def transfer(nifs: dict[str, float]) -> dict[str, float]:
    """NIF of the other model's direction as a share of the target's own NIF."""

    def ratio(other: float, own: float) -> float:
        return other / own if math.isfinite(own) and own >= MIN_OWN_NIF else math.nan

    return {
        "nif_transfer_forward": ratio(nifs["nif_base_post"], nifs["nif_post_post"]),
        "nif_transfer_backward": ratio(nifs["nif_post_base"], nifs["nif_base_base"]),
    }


def steering_item_metrics(pdiff: dict[str, np.ndarray], y: np.ndarray) -> list[dict[str, float]]:
    """Per held-out statement: its un-steered p_diff under each model (true statements feed
    ``p_diff_*_true``, false ones ``p_diff_*_false``)."""
    return [
        {f"p_diff_{w}_{'true' if y[i] == 1 else 'false'}": float(pdiff[w][i]) for w in WHICH}
        for i in range(len(y))
    ]


def steering_intervals(pdiff: dict[str, np.ndarray], y: np.ndarray, n_resamples: int, seed: int) -> Intervals:
    """CIs of the four NIFs and both transfer ratios (true / false statements as strata)."""
    strata = [np.flatnonzero(y == 1), np.flatnonzero(y == 0)]

    def stat(t_idx: np.ndarray, f_idx: np.ndarray) -> dict[str, float]:
        rows = np.concatenate([strata[0][t_idx], strata[1][f_idx]])
        yy = y[rows]
        nifs = {
            f"nif_{s}_{t}": nif_parts(pdiff[t][rows], pdiff[f"{s}_{t}"][rows], yy)
            for s in WHICH
            for t in WHICH
        }
        return {**nifs, **transfer(nifs)}

    return percentile_intervals(
        stat,
        [len(s) for s in strata],
        n_resamples=n_resamples,
        seed=seed,
        unit="held-out statements (true / false strata)",
    )
