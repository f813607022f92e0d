"""Normalised heatmaps, pair metrics (pooled and per dataset), records and JSON for knowledge patching.

Why a separate module: ``run`` runs models; everything here is arithmetic on the patched
logit differences it collected, so it is testable from plain tensors against the METHODS §1
formulas. Figures are drawn by ``figures``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from postmech_eval.analyses.knowledge.resampled import MAPS, compare_resamples
from postmech_eval.atomic import atomic_path, write_text

HEATMAPS = ("base", "post", "base_to_post", "post_to_base", "difference")


def normalised(patched: torch.Tensor, ld_true: float, ld_false: float) -> torch.Tensor:
    """E = (LD_patched - LD_false) / (LD_true - LD_false); callers drop tiny gaps first."""
    return (patched.float() - ld_false) / (ld_true - ld_false)


def exclusion(gaps: Sequence[float], config: Any) -> str | None:
    """Why a pair with these LD_true - LD_false gaps (one per model) is left out, or None.

    |gap| < min_gap would divide by ~0; with ``correct_only`` a model that judges the pair
    the wrong way round (gap <= -min_gap) has no truth signal to recover either.
    """
    if min(abs(g) for g in gaps) < config.min_gap:
        return "ld_gap_below_min_gap"
    if getattr(config, "correct_only", False) and min(gaps) < 0:
        return "judged_wrong"
    return None


def _place(cells: torch.Tensor, columns: Sequence[int], width: int) -> torch.Tensor:
    """[L, n] cells -> [L, width] with NaN where a short statement has no token."""
    out = torch.full((cells.shape[0], width), float("nan"))
    out[:, list(columns)] = cells
    return out


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson r over cells finite in both; NaN when fewer than 2 or zero variance.

    Written out (not ``scipy.stats.pearsonr``) because the bootstrap calls it thousands of
    times on a few thousand cells, where scipy's input checks cost 10x the arithmetic; and
    with elementwise sums, not ``x @ y``: a threaded BLAS dot on a busy machine cost 100x
    (48 ms vs 0.4 ms per call on the organisms' 18k attribution cells)."""
    x = a.detach().flatten().double().numpy()
    y = b.detach().flatten().double().numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    den = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    return float(np.clip(float((x * y).sum()) / den, -1.0, 1.0)) if den > 0 else float("nan")


def top_mask(heatmap: torch.Tensor, fraction: float) -> torch.Tensor:
    """Boolean mask of the top ``fraction`` of finite cells (at least one; ties by index)."""
    flat = heatmap.flatten()
    finite = torch.isfinite(flat)
    k = max(1, math.ceil(fraction * int(finite.sum()))) if finite.any() else 0
    mask = torch.zeros_like(flat, dtype=torch.bool)
    if k:
        scores = torch.where(finite, flat, torch.tensor(float("-inf")))
        mask[torch.topk(scores, k).indices] = True
    return mask.reshape(heatmap.shape)


def iou(a: torch.Tensor, b: torch.Tensor) -> float:
    union = int((a | b).sum())
    return float((a & b).sum()) / union if union else float("nan")


def peak(heatmap: torch.Tensor, exclude: tuple[int, int] | None = None) -> dict[str, Any]:
    """Cell with the largest mean effect: layer, column and position (the column's offset
    from the prompt's end when the last column is the prompt's last token; without suffix
    columns, from the statement's end). ``exclude``: a (layer, column) cell never chosen."""
    scores = torch.where(torch.isfinite(heatmap), heatmap, torch.tensor(float("-inf")))
    if exclude is not None:
        scores[exclude] = float("-inf")
    if not torch.isfinite(scores).any():
        return {"layer": None, "column": None, "position": None, "effect": float("nan")}
    flat = scores.flatten()
    idx = int(flat.argmax())
    layer, col = divmod(idx, heatmap.shape[1])
    return {"layer": layer, "column": col, "position": col - heatmap.shape[1],
            "effect": float(heatmap[layer, col])}  # fmt: skip


def _mean(
    stack: list[torch.Tensor] | torch.Tensor, shape: tuple[int, int], min_coverage: float = 0.0
) -> torch.Tensor:
    """Mean over pairs, skipping empty cells; a cell that fewer than ``min_coverage`` of the
    pairs reach (a column only long statements have) is NaN: it would be a mean of a few
    pairs of one dataset and could dominate peaks and top-cell masks."""
    if len(stack) == 0:
        return torch.full(shape, float("nan"))
    cells = stack if isinstance(stack, torch.Tensor) else torch.stack(stack)
    finite = torch.isfinite(cells)
    count = finite.sum(0)
    mean = torch.where(finite, cells, 0.0).sum(0) / count  # 0 / 0 = NaN: no pair reaches it
    covered = count.float() / cells.shape[0]
    return torch.where(covered >= min_coverage, mean, torch.tensor(float("nan")))


def pair_stacks(use: Sequence[Any], base: Any, post: Any, width: int) -> dict[str, torch.Tensor]:
    """Per-pair normalised maps ``[n_pairs, L, width]`` of the used pairs (METHODS §1: kept
    so every comparison metric can be bootstrapped over pairs; ``width`` = statement +
    suffix columns); with attribution on, also ``exact`` / ``approx``
    ``[n_pairs, 2 (base, post), L, width]``."""
    n = width
    maps: dict[str, list[torch.Tensor]] = {k: [] for k in MAPS}
    exact: list[torch.Tensor] = []
    approx: list[torch.Tensor] = []
    for p in use:
        pe, pa = [], []
        for name, run in (("base", base), ("post", post)):
            e = _place(normalised(run.own[p.pair_id], *run.ld[p.pair_id]), p.columns, n)
            maps[name].append(e)
            if p.pair_id in run.attr:
                pe.append(e)
                pa.append(_place(normalised(run.attr[p.pair_id], *run.ld[p.pair_id]), p.columns, n))
        if len(pe) == 2:
            exact.append(torch.stack(pe))
            approx.append(torch.stack(pa))
        # cross: donor = other model's true run, normalised by the receiving model's LDs
        for name, receiver in (("base_to_post", post), ("post_to_base", base)):
            if p.pair_id in receiver.cross:
                maps[name].append(
                    _place(normalised(receiver.cross[p.pair_id], *receiver.ld[p.pair_id]), p.columns, n)
                )
    shape = (0, *(maps["base"][0].shape if maps["base"] else (0, n)))
    out = {k: torch.stack(v) if v else torch.empty(shape) for k, v in maps.items()}
    for k, v in out.items():
        if v.shape[0] != len(use) and k in ("base_to_post", "post_to_base") and v.shape[0]:
            raise RuntimeError(f"knowledge: {k} has {v.shape[0]} maps for {len(use)} pairs")
    if exact and len(exact) == len(use):
        out["exact"], out["approx"] = torch.stack(exact), torch.stack(approx)
    return out


def compare(stacks: dict[str, torch.Tensor], n_layers: int, config: Any, width: int) -> dict:
    """Mean heatmaps ``[L, width]`` of these per-pair maps and the METHODS §1 comparison metrics."""
    shape = (n_layers, width)

    def mean(k: str) -> torch.Tensor:
        v = stacks.get(k)
        return _mean(v, shape, config.min_coverage) if v is not None and v.shape[0] else _mean([], shape)

    heat = {k: mean(k) for k in MAPS}
    heat["difference"] = heat["post"] - heat["base"]
    mask_b, mask_p = top_mask(heat["base"], config.top_fraction), top_mask(heat["post"], config.top_fraction)
    # with suffix columns the last layer's final column is the prompt's last state: patching
    # it copies the true run's readout, E = 1 by construction in every model, so it would be
    # both peaks and the shift would always be 0
    identity = (n_layers - 1, width - 1) if width > config.n_positions else None
    pk_b, pk_p = peak(heat["base"], identity), peak(heat["post"], identity)

    def masked_mean(h: torch.Tensor, mask: torch.Tensor) -> float:
        vals = h[mask & torch.isfinite(h)]
        return float(vals.mean()) if vals.numel() else float("nan")

    shift = (
        abs(pk_b["layer"] - pk_p["layer"]) / n_layers
        if pk_b["layer"] is not None and pk_p["layer"] is not None
        else float("nan")
    )
    metrics = {
        "patch_corr": pearson(heat["base"], heat["post"]),
        "patch_top10_iou": iou(mask_b, mask_p),
        "patch_peak_layer_shift": float(shift),
        # receiving model's own top-cells mask: does the donor's state recover truth where
        # the receiver itself stores it?
        "cross_recovery_base_to_post": masked_mean(heat["base_to_post"], mask_p),
        "cross_recovery_post_to_base": masked_mean(heat["post_to_base"], mask_b),
        # NaN when attribution is off: every catalogue metric is always emitted
        "attribution_corr": pearson(stacks["exact"], stacks["approx"]) if "exact" in stacks else math.nan,
    }
    return {"metrics": metrics, "heatmaps": heat, "peaks": {"base": pk_b, "post": pk_p},
            "masks": {"base": mask_b, "post": mask_p}}  # fmt: skip


#: The knowledge metrics with a bootstrap CI over statement pairs.
CI_METRICS = (
    "patch_corr",
    "patch_top10_iou",
    "patch_peak_layer_shift",
    "cross_recovery_base_to_post",
    "cross_recovery_post_to_base",
    "attribution_corr",
)


def _intervals(stacks: dict[str, torch.Tensor], n_layers: int, config: Any, width: int) -> Any:
    """Percentile bootstrap CIs of ``CI_METRICS`` over these pairs (the maps of a pair move together)."""
    from postmech_eval.estimators.bootstrap import percentile_intervals

    n_pairs = int(stacks["base"].shape[0])

    def statistic(idx: Any) -> dict[str, Any]:  # every resample at once (resampled.py)
        m = compare_resamples(stacks, idx, n_layers, config, width)
        return {k: m[k] for k in CI_METRICS}

    return percentile_intervals(
        statistic,
        [n_pairs],
        n_resamples=config.n_bootstrap,
        seed=config.seed,
        unit="statement pairs",
        vectorized=True,
    )


def summarise(
    pairs: Sequence[Any], use: Sequence[Any], base: Any, post: Any, n_layers: int, config: Any, width: int
) -> dict:
    """Mean heatmaps over the used pairs, the comparison metrics and their bootstrap CIs
    (statement pairs resampled; the four maps of a pair move together; nothing is refitted:
    the maps are per-pair measurements), pooled and, under ``per_dataset``, for each
    dataset's pairs alone (resampled within the dataset)."""
    stacks = pair_stacks(use, base, post, width)
    out = compare(stacks, n_layers, config, width)
    out["metrics"]["pairs_used"] = float(len(use))
    out["intervals"] = _intervals(stacks, n_layers, config, width)
    datasets = [p.dataset for p in use]
    out["per_dataset"] = {}
    for ds in sorted(set(datasets)):
        idx = torch.tensor([i for i, d in enumerate(datasets) if d == ds])
        sub = {k: v[idx] for k, v in stacks.items()}
        one = compare(sub, n_layers, config, width)
        one["metrics"]["pairs_used"] = float(len(idx))
        one["intervals"] = _intervals(sub, n_layers, config, width)
        out["per_dataset"][ds] = one
    out["stacks"] = stacks
    out["pairs_built"] = len(pairs)
    return out


def dataset_summary(result: dict, layout: Any) -> dict[str, dict[str, Any]]:
    """Per dataset: pairs used, metrics, their CIs and the labelled peak cells (strict JSON:
    NaN as None)."""
    return _clean(
        {
            ds: {
                "pairs_used": int(one["metrics"]["pairs_used"]),
                "metrics": one["metrics"],
                "intervals": {k: list(v) for k, v in one["intervals"].bounds.items()},
                "peaks": labelled_peaks(one["peaks"], layout),
            }
            for ds, one in result["per_dataset"].items()
        }
    )


def labelled_peaks(peaks: dict[str, dict[str, Any]], layout: Any) -> dict[str, dict[str, Any]]:
    """Peak cells with their column's label and role added."""
    return {k: {**v, **layout.cell(v["layer"], v["column"])} for k, v in peaks.items()}


def records(
    items: Sequence[dict], pairs: Sequence[Any], excluded: dict[int, str], base: Any, post: Any, config: Any
) -> list[dict[str, Any]]:
    """One JSON-able record per item: its pair and LDs, or why it was left out."""
    out: list[dict[str, Any]] = [
        {
            "dataset": it.get("dataset"),
            "statement": it.get("statement"),
            "excluded": excluded.get(i, "not_paired"),
        }
        for i, it in enumerate(items)
    ]
    for p in pairs:
        for role, i, j in (("true", p.true_index, p.false_index), ("false", p.false_index, p.true_index)):
            rec: dict[str, Any] = {
                "dataset": p.dataset,
                "statement": items[i]["statement"],
                "pair_id": p.pair_id,
                "role": role,
                "partner": items[j]["statement"],
                "positions": list(p.positions),
            }
            for name, run in (("base", base), ("post", post)):
                if p.pair_id in run.ld:
                    ld_t, ld_f = run.ld[p.pair_id]
                    rec[f"ld_{name}"] = ld_t if role == "true" else ld_f
                    rec[f"gap_{name}"] = ld_t - ld_f
            reason = exclusion([rec.get(f"gap_{m}", 0.0) for m in ("base", "post")], config)
            if reason:
                rec["excluded"] = reason
            else:
                for name, run in (("base", base), ("post", post)):
                    if p.pair_id in run.own:
                        e = normalised(run.own[p.pair_id], *run.ld[p.pair_id])
                        rec[f"max_effect_{name}"] = float(e.max())
            out[i] = rec
    return out


def _jsonable(t: torch.Tensor) -> list:
    return [[None if not math.isfinite(v) else round(v, 6) for v in row] for row in t.tolist()]


def _maps_payload(one: dict) -> dict[str, Any]:
    return {
        "heatmaps": {k: _jsonable(one["heatmaps"][k]) for k in HEATMAPS},
        "top_masks": {k: v.int().tolist() for k, v in one["masks"].items()},
    }


def write(
    output_dir: Path, result: dict, survived: dict[str, int], config: Any, layout: Any
) -> dict[str, str]:
    """knowledge_heatmaps.json (arrays, NaN as null; pooled and per dataset), the per-pair
    maps and the figures; returns name -> path."""
    output_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "description": "Mean normalised patching effect E[layer][column], pooled over datasets and "
        "per dataset. Columns (see 'columns'): the last statement tokens counted from the statement's "
        "end (stmt-1 = its final token), then the suffix tokens of ' This statement is:' by their "
        "text; 'positions' = each column's offset from the prompt's end. base_to_post = base's "
        "true-run states patched into post's false run.",
        "columns": layout.describe(),
        "labels": layout.labels,
        "positions": [layout.prompt_offset(c) for c in range(layout.width)],
        **_maps_payload(result),
        "peaks": labelled_peaks(result["peaks"], layout),
        "metrics": result["metrics"],
        "intervals": {k: list(v) for k, v in result["intervals"].bounds.items()},
        "pairs_built": result["pairs_built"],
        "pairs_per_dataset": survived,
        "per_dataset": {
            ds: {**summary, **_maps_payload(result["per_dataset"][ds])}
            for ds, summary in dataset_summary(result, layout).items()
        },
    }
    path = output_dir / "knowledge_heatmaps.json"
    write_text(path, json.dumps(_clean(payload), indent=1, allow_nan=False))
    artifacts = {"heatmaps": str(path), "pair_maps": str(write_pair_maps(output_dir, result, layout))}
    if config.figures:
        from postmech_eval.analyses.knowledge.figures import draw

        artifacts.update(draw(output_dir, result, layout))
    return artifacts


def write_pair_maps(output_dir: Path, result: dict, layout: Any) -> Path:
    """``knowledge_pair_maps.safetensors``: every used pair's four E maps (NaN where a short
    statement has no token), enough to recompute the heatmaps and every CI offline."""
    from safetensors.torch import save_file

    path = output_dir / "knowledge_pair_maps.safetensors"
    meta = {
        "pair_ids": json.dumps(result.get("pair_ids", [])),
        "datasets": json.dumps(result.get("datasets", [])),
        "columns": json.dumps(layout.describe()),
    }
    tensors = {k: v.float().contiguous() for k, v in result["stacks"].items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return path


def _clean(obj: Any) -> Any:
    """NaN -> null so the file is strict JSON (readers in other languages reject NaN)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj
