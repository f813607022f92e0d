"""Records and files of the truth analyses (kept apart so truth.py holds only the science).

Files written under ``output_dir`` (names are the artifact keys):
- ``truth_probe_directions.safetensors``: coef_ of the base/post probes at the probe layer;
- ``truth_probe_sweep.json`` + ``truth_probe_sweep.png``: held-out accuracy at every layer
  (own probes and transfers) and the base/post direction cosine;
- ``truth_steering_vectors.safetensors`` + ``truth_steering.json``: the steering vectors
  d_base / d_post and the two halves of each NIF.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from postmech_eval.atomic import atomic_path, write_text
from postmech_eval.data import Statement


def probe_records(test: Sequence[Statement], scores: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """One record per held-out item: its probe score and correctness under each condition."""
    records = []
    for i, s in enumerate(test):
        rec: dict[str, Any] = {"statement": s.statement, "label": s.label, "dataset": s.dataset}
        for key, values in scores.items():
            rec[f"score_{key}"] = float(values[i])
            rec[f"correct_{key}"] = bool((values[i] > 0) == (s.label == 1))
        records.append(rec)
    return records


def _json(path: Path, obj: Any) -> str:
    def clean(x: Any) -> Any:  # JSON has no NaN: write null
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    write_text(path, json.dumps(clean(obj), indent=2, default=str))
    return str(path)


def _tensors(path: Path, tensors: dict[str, Any], meta: dict[str, Any]) -> str:
    from safetensors.torch import save_file

    flat = {k: torch.as_tensor(np.asarray(v), dtype=torch.float32).contiguous() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(flat, str(tmp), metadata={k: json.dumps(v, default=str) for k, v in meta.items()})
    return str(path)


def write_probe_artifacts(
    out: Path,
    probes: dict[str, Any],
    sweep: dict[str, list[float]],
    layer: int,
    cfg: dict[str, Any],
    metrics: dict[str, float],
    figures: bool = True,
) -> dict[str, str]:
    """Probe directions (safetensors), layer sweep (JSON, and PNG with ``figures``). Returns
    artifact paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "layer": layer,
        "probe": cfg.get("probe"),
        **{f"threshold_{w}": p.threshold_ for w, p in probes.items()},
    }
    arts = {
        "truth_probe_directions": _tensors(
            out / "truth_probe_directions.safetensors",
            {f"coef_{w}": p.coef_ for w, p in probes.items()},
            meta,
        ),
        "truth_probe_sweep": _json(
            out / "truth_probe_sweep.json",
            {
                "note": "held-out TEST accuracy at every layer: a diagnostic. The probe layer is "
                "never chosen from it (layer=auto uses a validation split of the training datasets).",
                "layers": list(range(len(sweep["base"]))),
                "probe_layer": layer,
                "layer_choice": cfg.get("layer_choice"),
                "leave_one_out": cfg.get("leave_one_out"),
                "accuracy": sweep,
                "metrics": metrics,
                "config": cfg,
            },
        ),
    }
    if figures:
        arts["truth_probe_sweep_png"] = _plot_sweep(out / "truth_probe_sweep.png", sweep, layer, cfg)
    return arts


def _plot_sweep(path: Path, sweep: dict[str, list[float]], layer: int, cfg: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = range(len(sweep["base"]))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    styles = {
        "base": ("C0", "-"),
        "post": ("C1", "-"),
        "base_on_post": ("C0", ":"),
        "post_on_base": ("C1", ":"),
    }
    n = int(cfg.get("n_test") or 0)
    for key, (color, ls) in styles.items():
        ax.plot(layers, sweep[key], color=color, linestyle=ls, marker="o", ms=3, label=key.replace("_", " "))
        if n and ls == "-":  # 95% band of an accuracy over n held-out statements (normal approx.)
            p = np.asarray(sweep[key], dtype=float)
            half = 1.959963984540054 * np.sqrt(p * (1 - p) / n)
            ax.fill_between(layers, p - half, p + half, color=color, alpha=0.15, lw=0)
    ax.axvline(layer, color="grey", lw=0.8, label=f"probe layer {layer}")
    ax.axhline(0.5, color="grey", lw=0.5, linestyle="--")
    ax.set_xlabel("layer (residual stream output)")
    ax.set_ylabel(f"held-out accuracy ({cfg.get('heldout')})")
    ax.set_ylim(0.0, 1.02)
    ax.set_title(
        f"{cfg.get('probe', 'mm').upper()} truth probe by layer"
        + (f" (n = {n} held-out statements, 95% bands)" if n else ""),
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return str(path)


def write_steering_artifacts(
    out: Path,
    vectors: dict[str, torch.Tensor],
    parts: dict[str, dict[str, float]],
    cfg: dict[str, Any],
    metrics: dict[str, float],
) -> dict[str, str]:
    """Steering vectors (safetensors) and the NIF halves (JSON). Returns artifact paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"layer": cfg.get("layer_resolved"), "steer_layers": cfg.get("steer_layers_resolved")}
    return {
        "truth_steering_vectors": _tensors(
            out / "truth_steering_vectors.safetensors", {f"d_{w}": v for w, v in vectors.items()}, meta
        ),
        "truth_steering": _json(
            out / "truth_steering.json", {"nif": parts, "metrics": metrics, "config": cfg}
        ),
    }
