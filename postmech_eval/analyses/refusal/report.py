"""Records, metrics and artifacts of the refusal analysis (METHODS §4).

Why separate: ``refusal.py`` orchestrates models; everything here is pure bookkeeping over
the generated texts and fitted directions, testable without running a model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from postmech_eval.analyses.refusal.plan import KINDS, WHICH, ModelSite
from postmech_eval.atomic import atomic_path, write_text

#: Conditions per kind: none, then the intervention with each model's direction.
CONDITIONS: dict[str, tuple[str, ...]] = {
    "harmful": ("none", "ablate_base", "ablate_post"),
    "harmless": ("none", "add_base", "add_post"),
}


def records_from_texts(
    items: list[dict[str, Any]],
    texts: dict[str, dict[str, list[str]]],
    by_kind: dict[str, list[int]],
    judges: dict[str, Any],
) -> list[dict[str, Any]]:
    """One record per item (aligned): its fields, completions per model and condition, verdicts.

    ``texts[which]["kind:condition"]`` lists completions in ``by_kind[kind]`` order.
    """
    records: list[dict[str, Any]] = [dict(it) for it in items]
    for kind in KINDS:
        for j, i in enumerate(by_kind[kind]):
            rec = records[i]
            rec["completions"] = {w: {c: texts[w][f"{kind}:{c}"][j] for c in CONDITIONS[kind]} for w in WHICH}
            for suffix, judge in judges.items():
                rec[f"refused{suffix}"] = {
                    w: {c: bool(judge(text)) for c, text in rec["completions"][w].items()} for w in WHICH
                }
    return records


#: (ratio name, target model, other model, action): METHODS §4 transfer ratios.
RATIOS: tuple[tuple[str, str, str, str], ...] = (
    ("transfer_forward", "post", "base", "ablate"),
    ("transfer_backward", "base", "post", "ablate"),
    ("transfer_forward_add", "post", "base", "add"),
    ("transfer_backward_add", "base", "post", "add"),
)


def verdict_arrays(
    records: list[dict[str, Any]], by_kind: dict[str, list[int]], judges: dict[str, Any]
) -> dict[str, np.ndarray]:
    """``{rate metric name (with judge suffix): 0/1 verdicts over that kind's items}``, in
    ``by_kind`` order: what every rate, ratio and interval is computed from."""
    out: dict[str, np.ndarray] = {}
    for suffix in judges:
        for w in WHICH:
            for kind in KINDS:
                for cond in CONDITIONS[kind]:
                    name = f"refusal_{w}_{kind}" + ("" if cond == "none" else f"_{cond}") + suffix
                    out[name] = np.array(
                        [float(records[i][f"refused{suffix}"][w][cond]) for i in by_kind[kind]],
                        dtype=np.float64,
                    )
    return out


def metrics_from_rates(
    rate: dict[str, float], suffixes: Any, min_change: float
) -> tuple[dict[str, float], dict[str, str]]:
    """Rates -> rates, transfer ratios and the finding's gaps; (metrics, NaN reasons)."""
    metrics = dict(rate)
    reasons: dict[str, str] = {}
    for suffix in suffixes:
        for name, target, other, action in RATIOS:
            kind, sign = ("harmful", -1.0) if action == "ablate" else ("harmless", 1.0)
            plain = rate[f"refusal_{target}_{kind}{suffix}"]
            own_change = sign * (rate[f"refusal_{target}_{kind}_{action}_{target}{suffix}"] - plain)
            other_change = sign * (rate[f"refusal_{target}_{kind}_{action}_{other}{suffix}"] - plain)
            value, reason = ratio(other_change, own_change, min_change)
            metrics[name + suffix] = value
            if reason:
                reasons[name + suffix] = f"{target}: {reason}"
    metrics["transfer_gap"] = metrics["transfer_backward"] - metrics["transfer_forward"]
    metrics["transfer_gap_add"] = metrics["transfer_backward_add"] - metrics["transfer_forward_add"]
    return metrics, reasons


def metrics_from_records(
    records: list[dict[str, Any]], by_kind: dict[str, list[int]], judges: dict[str, Any], min_change: float
) -> tuple[dict[str, float], dict[str, str]]:
    """Refusal rates and transfer ratios (see ``refusal`` module doc) per judge suffix.

    Computed from the records' verdicts only, so what ``--log_samples`` shows is exactly
    what the metrics count. Returns (metrics, reasons for every NaN transfer ratio).
    """
    arrays = verdict_arrays(records, by_kind, judges)
    rate = {k: float(v.mean()) if v.size else math.nan for k, v in arrays.items()}
    return metrics_from_rates(rate, judges, min_change)


def item_metrics(
    records: list[dict[str, Any]], by_kind: dict[str, list[int]], arrays: dict[str, np.ndarray]
) -> list[dict[str, float]]:
    """Per prompt: its 0/1 verdict under every condition of its kind (lm-eval's mean of
    these is the refusal rate, and its standard error the rate's)."""
    rows: list[dict[str, float]] = [{} for _ in records]
    for name, values in arrays.items():
        kind = "harmful" if "_harmful" in name else "harmless"
        for j, i in enumerate(by_kind[kind]):
            rows[i][name] = float(values[j])
    return rows


def intervals(
    arrays: dict[str, np.ndarray],
    suffixes: Any,
    min_change: float,
    sites: dict[str, ModelSite],
    n_resamples: int,
    seed: int,
) -> tuple[Any, Any]:
    """Bootstrap CIs: (transfer ratios and gaps over test prompts, harmful and harmless as
    strata, directions fixed; the direction cosine over training prompts, both directions
    refitted on the same resample — the same instructions fit both models)."""
    from postmech_eval.estimators.bootstrap import percentile_intervals

    pair_names = [n + s for n, *_ in RATIOS for s in suffixes] + ["transfer_gap", "transfer_gap_add"]
    kinds = {k: [n for n in arrays if f"_{k}" in n] for k in KINDS}

    def stat(h_idx: np.ndarray, l_idx: np.ndarray) -> dict[str, Any]:
        """Rates, ratios and gaps of one resample ([n] indices) or of all ([B, n]: arrays [B])."""
        idx = {"harmful": h_idx, "harmless": l_idx}
        rate = {n: arrays[n][idx[k]].mean(-1) if idx[k].size else math.nan for k in KINDS for n in kinds[k]}
        m, _ = metrics_from_rates(rate, suffixes, min_change)
        return {n: m[n] for n in pair_names}

    n_h, n_l = (len(arrays[kinds[k][0]]) for k in KINDS)
    transfer = percentile_intervals(
        stat, [n_h, n_l], n_resamples=n_resamples, seed=seed, unit="test prompts (harmful / harmless strata)",
        vectorized=True,
    )  # fmt: skip
    acts = {
        w: (sites[w].direction.harmful_acts_.double(), sites[w].direction.harmless_acts_.double())
        for w in WHICH
    }

    def cos_stat(h_idx: np.ndarray, l_idx: np.ndarray) -> dict[str, Any]:
        """Both directions refitted on each resample, all resamples at once: index arrays
        [B, n] (or [n] for the point estimate) -> the cosine per resample."""
        d = {}
        for w, (h, l_) in acts.items():
            diff = resampled_means(h, h_idx) - resampled_means(l_, l_idx)  # [B, d]
            d[w] = diff / diff.norm(dim=-1, keepdim=True)
        cos = (d["base"] * d["post"]).sum(-1).numpy()
        return {"refusal_dir_cosine": cos if np.ndim(h_idx) > 1 else float(cos[0])}

    sizes = [int(acts["base"][0].shape[0]), int(acts["base"][1].shape[0])]
    same = all(acts[w][0].shape[0] == sizes[0] and acts[w][1].shape[0] == sizes[1] for w in WHICH)
    cosine = percentile_intervals(
        cos_stat if same else (lambda h, l_: {"refusal_dir_cosine": math.nan}),
        sizes,
        n_resamples=n_resamples,
        seed=seed,
        unit="training prompts (harmful / harmless strata)",
        vectorized=same,
    )
    return transfer, cosine


def resampled_means(x: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
    """Row means of ``x`` [n, d] over each resample's indices ``idx`` [B, k] (or [k]): [B, d],
    as resample counts [B, n] times ``x`` (one product instead of B gathers)."""
    rows = torch.as_tensor(np.atleast_2d(idx), dtype=torch.long)
    counts = torch.zeros(rows.shape[0], x.shape[0], dtype=x.dtype)
    counts.scatter_add_(1, rows, torch.ones(rows.shape, dtype=x.dtype))
    return counts @ x / rows.shape[1]


def ratio(other_change: Any, own_change: Any, min_change: float) -> tuple[Any, str | None]:
    """other / own change, NaN (with the reason) when either is NaN or own is below
    ``min_change``; arrays (one value per bootstrap resample) elementwise, without reasons."""
    if np.ndim(own_change) or np.ndim(other_change):
        own, other = np.asarray(own_change, dtype=float), np.asarray(other_change, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(own) < max(min_change, 1e-12), math.nan, other / own), None
    if math.isnan(own_change) or math.isnan(other_change):
        return math.nan, "no items of the needed kind were evaluated"
    if abs(own_change) < max(min_change, 1e-12):
        return math.nan, (
            f"own-direction change {own_change:+.4f} is below transfer_min_change={min_change} in absolute "
            "value: the model's own direction does not move its refusal, so no ratio is defined"
        )
    return other_change / own_change, None


def cosine_per_layer(base: ModelSite, post: ModelSite) -> list[float]:
    """cos(r_B,l, r_P,l) for l = 0..L (each at its model's position); NaN where a layer has no direction."""
    out = []
    for a, b in zip(base.per_layer.double(), post.per_layer.double(), strict=True):
        na, nb = float(a.norm()), float(b.norm())
        out.append(float(a @ b) / (na * nb) if na > 0 and nb > 0 else math.nan)
    return out


def write_artifacts(
    output_dir: Path,
    sites: dict[str, ModelSite],
    cos_layers: list[float],
    records: list[dict[str, Any]],
    config: dict[str, Any],
) -> dict[str, str]:
    from safetensors.torch import save_file

    from postmech_eval.analyses.refusal.steering_export import export_steering

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "method": "METHODS §4 difference-in-means refusal direction",
        "cosine_per_layer": cos_layers,
        "seed": config["seed"],
        "specs": config["specs"],
        **{w: sites[w].summary(config["alpha"]) for w in WHICH},
    }
    tensors: dict[str, torch.Tensor] = {}
    for w in WHICH:
        tensors[f"direction_{w}"] = sites[w].direction.direction_.contiguous()
        tensors[f"mean_diff_{w}"] = sites[w].direction.mean_diff_.contiguous()
        tensors[f"per_layer_{w}"] = sites[w].per_layer.float().contiguous()
    st = out / "refusal_directions.safetensors"
    with atomic_path(st) as tmp:
        save_file(tensors, str(tmp), metadata={"postmech": json.dumps(meta, default=str)})
    js = out / "refusal_directions.json"
    write_text(js, json.dumps(meta, indent=2, default=str))
    rec_path = out / "refusal_records.jsonl"
    write_text(rec_path, "".join(json.dumps(r, default=str) + "\n" for r in records))
    artifacts = {"directions": str(st), "directions_json": str(js), "records": str(rec_path)}
    searches = {w: sites[w].search.to_dict() for w in WHICH if sites[w].search is not None}
    if searches:  # layer=auto: what it picked per model and every candidate's scores
        auto = out / "refusal_auto.json"
        write_text(auto, json.dumps({"method": "METHODS §4 auto site search", **searches}, indent=2))
        artifacts["auto"] = str(auto)
    for w in WHICH:
        s = sites[w]
        coeff = float(config["alpha"]) if config["alpha"] is not None else s.direction.alpha_
        if s.hookpoint is None:
            continue
        files = export_steering(
            out / f"steer_{w}.pt", s.hookpoint, s.direction.direction_, s.layer, coeff,
            metadata={"model": config["specs"][w], "position": s.position, "source": w},
            write_pt=bool(config.get("export_steered")),
        )  # fmt: skip
        artifacts.update({f"{k}_{w}": v for k, v in files.items()})
    return artifacts
