"""The knowledge comparison metrics of many bootstrap resamples at once.

Why: a CI needs ``compare`` (``report.py``) on ~1000 resamples of the statement pairs, for the
pool and for every dataset; one Python call per resample was about a quarter of the organism
pair's knowledge task. A resample is a count per pair, so every mean heatmap of all resamples
is one matrix product (counts [B, n] @ maps [n, L*W]), and the metrics are array operations
over the B rows. The result equals ``compare`` per resample (same top-cell masks, peaks and
sums up to float rounding; ``tests/test_knowledge.py`` checks it), with the same rules: cells
fewer than ``min_coverage`` of the resample's pairs reach are NaN, the top cells are at least
one, the last layer's final column is never a peak when suffix columns exist.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

#: The four per-pair maps (``report`` imports it from here).
MAPS = ("base", "post", "base_to_post", "post_to_base")


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """[B, n] how often each pair is drawn in each resample."""
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    out = np.zeros((idx.shape[0], n))
    np.add.at(out, (rows, idx.ravel()), 1.0)
    return out


def _means(stack: torch.Tensor, counts: np.ndarray, min_coverage: float, cells: int) -> np.ndarray:
    """[B, cells] mean maps (``report._mean`` of each resample)."""
    if stack.shape[0] == 0:
        return np.full((counts.shape[0], cells), np.nan)
    x = stack.reshape(stack.shape[0], -1).double().numpy()
    finite = np.isfinite(x)
    total = counts @ np.where(finite, x, 0.0)
    reach = counts @ finite.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / reach
    mean[reach / counts.sum(1, keepdims=True) < min_coverage] = np.nan
    return mean


def _pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise ``report.pearson`` of [B, cells] arrays."""
    ok = np.isfinite(x) & np.isfinite(y)
    n = ok.sum(1)
    x, y = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(ok, x - x.sum(1, keepdims=True) / n[:, None], 0.0)
        y = np.where(ok, y - y.sum(1, keepdims=True) / n[:, None], 0.0)
        den = np.sqrt((x * x).sum(1) * (y * y).sum(1))
        r = np.clip((x * y).sum(1) / den, -1.0, 1.0)
    return np.where((n >= 2) & (den > 0), r, np.nan)


def _top(heat: np.ndarray, fraction: float) -> np.ndarray:
    """Row-wise ``report.top_mask``: the top ceil(fraction * finite) cells (at least one)."""
    finite = np.isfinite(heat)
    n = finite.sum(1)
    k = np.where(n > 0, np.maximum(1, np.ceil(fraction * n)), 0).astype(np.int64)
    order = np.argsort(-np.where(finite, heat, -np.inf), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(heat.shape[1])[None].repeat(len(heat), 0), axis=1)
    return rank < k[:, None]


def _peak_layer(heat: np.ndarray, width: int, exclude: int | None) -> np.ndarray:
    """Row-wise layer of ``report.peak`` (NaN where no cell is finite)."""
    scores = np.where(np.isfinite(heat), heat, -np.inf)
    if exclude is not None:
        scores[:, exclude] = -np.inf
    layer = (scores.argmax(1) // width).astype(np.float64)
    return np.where(np.isfinite(scores).any(1), layer, np.nan)


def _masked_mean(heat: np.ndarray, mask: np.ndarray) -> np.ndarray:
    use = mask & np.isfinite(heat)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(use, heat, 0.0).sum(1) / use.sum(1)


def _pooled_pearson(exact: torch.Tensor, approx: torch.Tensor, counts: np.ndarray) -> np.ndarray:
    """``pearson(exact[idx], approx[idx])`` over every cell of each resample's pairs, from
    per-pair sums (a pair drawn twice counts twice)."""
    x = exact.reshape(exact.shape[0], -1).double().numpy()
    y = approx.reshape(approx.shape[0], -1).double().numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    sums = np.stack([ok.sum(1), x.sum(1), y.sum(1), (x * x).sum(1), (y * y).sum(1), (x * y).sum(1)], 1)
    n, sx, sy, sxx, syy, sxy = (counts @ sums).T
    with np.errstate(invalid="ignore", divide="ignore"):
        cov, vx, vy = sxy - sx * sy / n, sxx - sx * sx / n, syy - sy * sy / n
        den = np.sqrt(np.clip(vx, 0, None) * np.clip(vy, 0, None))
        r = np.clip(cov / den, -1.0, 1.0)
    return np.where((n >= 2) & (den > 0), r, np.nan)


def compare_resamples(
    stacks: dict[str, torch.Tensor], idx: np.ndarray, n_layers: int, config: Any, width: int
) -> dict[str, np.ndarray]:
    """``report.compare(...)["metrics"]`` of the resamples ``idx`` [B, n_pairs] (or one
    [n_pairs]): {metric: [B]} (scalars for one)."""
    one = idx.ndim == 1
    idx = np.atleast_2d(idx)
    n_pairs = int(stacks["base"].shape[0])
    counts = _counts(idx, n_pairs)
    cells = n_layers * width
    heat = {k: _means(stacks[k], counts, config.min_coverage, cells) for k in MAPS if k in stacks}
    mask_b, mask_p = _top(heat["base"], config.top_fraction), _top(heat["post"], config.top_fraction)
    exclude = cells - 1 if width > config.n_positions else None
    lb, lp = _peak_layer(heat["base"], width, exclude), _peak_layer(heat["post"], width, exclude)
    union = (mask_b | mask_p).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, (mask_b & mask_p).sum(1) / union, np.nan)
    nan = np.full(len(idx), math.nan)
    out = {
        "patch_corr": _pearson(heat["base"], heat["post"]),
        "patch_top10_iou": iou,
        "patch_peak_layer_shift": np.abs(lb - lp) / n_layers,
        "cross_recovery_base_to_post": _masked_mean(heat["base_to_post"], mask_p)
        if "base_to_post" in heat
        else nan,
        "cross_recovery_post_to_base": _masked_mean(heat["post_to_base"], mask_b)
        if "post_to_base" in heat
        else nan,
        "attribution_corr": _pooled_pearson(stacks["exact"], stacks["approx"], counts)
        if "exact" in stacks
        else nan,
    }
    return {k: v[0] for k, v in out.items()} if one else out
