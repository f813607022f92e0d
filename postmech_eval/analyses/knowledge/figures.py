"""Figures of knowledge patching: base / post / difference panels, pooled and per dataset.

Why one colour scale per figure: the question is whether post-training moved the cells
that carry the truth signal, so a difference must read in the same units as the maps it
is the difference of. Every panel of a figure shares one diverging scale centred at 0
(E = 0: the patch recovers nothing; E = 1: it recovers the whole gap; a difference of 0 is
white too), with one labelled colourbar. Columns carry their role: the statement tokens
counted from the statement's end, a dashed line, then the suffix tokens by their text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from postmech_eval.analyses.knowledge.columns import ColumnLayout
from postmech_eval.atomic import atomic_path

DPI = 150
#: (heatmap key, panel title) of the within-model figure and of the cross-model one.
WITHIN = (("base", "base"), ("post", "post"), ("difference", "post − base"))
CROSS = (("base_to_post", "base true → post false"), ("post_to_base", "post true → base false"))
COLOURBAR = "normalised effect E (difference: E_post − E_base)"
CROSS_COLOURBAR = "normalised effect E (receiving model's LD_true / LD_false)"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def build_figure(
    heatmaps: dict[str, torch.Tensor],
    panels: tuple[tuple[str, str], ...],
    layout: ColumnLayout,
    title: str,
    colourbar: str = COLOURBAR,
) -> Any:
    """A matplotlib figure: a panel per (key, title), one shared diverging colour scale
    centred at 0 (limits ± the largest |E| of any panel) and one labelled colourbar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    maps = [heatmaps[k].detach().float().numpy() for k, _ in panels]
    finite = np.concatenate([m[np.isfinite(m)] for m in maps] + [np.zeros(1)])
    vmax = max(1e-6, float(np.abs(finite).max()))
    n_layers, width = maps[0].shape
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.85")  # cells too few pairs reach
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(1.4 + len(panels) * (0.6 + 0.22 * width), 2.4 + 0.22 * n_layers),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    step = 1 if n_layers <= 24 else 2 if n_layers <= 48 else 4
    for ax, m, (_, name) in zip(axes[0], maps, panels, strict=True):
        im = ax.imshow(
            np.ma.masked_invalid(m), aspect="auto", origin="lower", cmap=cmap, vmin=-vmax, vmax=vmax
        )
        ax.set_xticks(range(width), layout.labels, rotation=90, fontsize=7)
        ax.set_yticks(range(0, n_layers, step))
        if layout.n_suffix and layout.n_statement:
            ax.axvline(layout.n_statement - 0.5, color="k", lw=0.8, ls="--")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("patched token: statement (from end) | suffix", fontsize=8)
    axes[0][0].set_ylabel("layer (resid_post)")
    bar = fig.colorbar(im, ax=axes[0].tolist(), shrink=0.9)
    bar.set_label(colourbar, fontsize=7)
    fig.suptitle(f"{title}\nE = (LD_patched − LD_false) / (LD_true − LD_false)", fontsize=9)
    return fig


def panel_figure(
    heatmaps: dict[str, torch.Tensor],
    panels: tuple[tuple[str, str], ...],
    layout: ColumnLayout,
    title: str,
    path: Path,
    colourbar: str = COLOURBAR,
) -> Path:
    """``build_figure`` saved as a PNG at ``DPI``."""
    import matplotlib.pyplot as plt

    fig = build_figure(heatmaps, panels, layout, title, colourbar)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    plt.close(fig)
    return path


def draw(output_dir: Path, result: dict, layout: ColumnLayout) -> dict[str, str]:
    """Pooled within-model and cross-model figures, and one within-model figure per dataset."""
    n = int(result["metrics"]["pairs_used"])
    out = {
        "figure": panel_figure(
            result["heatmaps"], WITHIN, layout, f"knowledge patching, pooled over datasets (n = {n} pairs)",
            output_dir / "knowledge_heatmaps.png",
        ),
        "figure_cross": panel_figure(
            result["heatmaps"], CROSS, layout, f"cross-model patching, pooled (n = {n} pairs)",
            output_dir / "knowledge_heatmaps_cross.png", CROSS_COLOURBAR,
        ),
    }  # fmt: skip
    for ds, one in result["per_dataset"].items():
        k = int(one["metrics"]["pairs_used"])
        out[f"figure_dataset_{ds}"] = panel_figure(
            one["heatmaps"], WITHIN, layout, f"knowledge patching, {ds} (n = {k} pairs)",
            output_dir / f"knowledge_heatmaps_dataset_{_safe(ds)}.png",
        )  # fmt: skip
    return {k: str(v) for k, v in out.items()}
