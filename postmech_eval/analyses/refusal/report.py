"""Records, metrics and artifacts of the refusal analysis (METHODS §4).

Why separate: ``refusal.py`` orchestrates models; everything here is pure bookkeeping over
the generated texts and fitted directions, testable without running a model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from postmech_eval.analyses.refusal.plan import KINDS, WHICH, ModelSite
from postmech_eval.atomic import atomic_path, write_text
from postmech_eval.estimators.judges import refusal_rate

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


def metrics_from_records(
    records: list[dict[str, Any]], by_kind: dict[str, list[int]], judges: dict[str, Any], min_change: float
) -> tuple[dict[str, float], dict[str, str]]:
    """Refusal rates and transfer ratios (see ``refusal`` module doc) per judge suffix.

    Computed from the records' verdicts only, so what ``--log_samples`` shows is exactly
    what the metrics count. Returns (metrics, reasons for every NaN transfer ratio).
    """
    metrics: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for suffix in judges:
        rate: dict[str, float] = {}
        for w in WHICH:
            for kind in KINDS:
                for cond in CONDITIONS[kind]:
                    name = f"refusal_{w}_{kind}" + ("" if cond == "none" else f"_{cond}")
                    verdicts = [records[i][f"refused{suffix}"][w][cond] for i in by_kind[kind]]
                    rate[name] = refusal_rate(verdicts)
        metrics.update({k + suffix: v for k, v in rate.items()})
        for name, target, other, own, action in (
            ("transfer_forward", "post", "base", "post", "ablate"),
            ("transfer_backward", "base", "post", "base", "ablate"),
            ("transfer_forward_add", "post", "base", "post", "add"),
            ("transfer_backward_add", "base", "post", "base", "add"),
        ):
            kind, sign = ("harmful", -1.0) if action == "ablate" else ("harmless", 1.0)
            plain = rate[f"refusal_{target}_{kind}"]
            own_change = sign * (rate[f"refusal_{target}_{kind}_{action}_{own}"] - plain)
            other_change = sign * (rate[f"refusal_{target}_{kind}_{action}_{other}"] - plain)
            value, reason = ratio(other_change, own_change, min_change)
            metrics[name + suffix] = value
            if reason:
                reasons[name + suffix] = reason
    return metrics, reasons


def ratio(other_change: float, own_change: float, min_change: float) -> tuple[float, str | None]:
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
