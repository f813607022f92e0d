"""Figures of knowledge patching: base | post | difference panels, pooled and per dataset.

Why one colour scale per figure: the question is whether post-training moved the cells
that carry the truth signal, so a difference must read in the same units as the maps it
is the difference of. Every panel of a figure shares one diverging scale centred at 0
(E = 0: the patch recovers nothing; E = 1: it recovers the whole gap; a difference of 0 is
white too), with one labelled colourbar. Columns carry their role: the statement tokens
counted from the statement's end, a dashed line, then the suffix tokens by their text.
The last layer's row is ~0 everywhere but the final column by construction (a last-layer
state at an earlier position is read by no later layer), and the figure says so.

Inputs are plain arrays (the JSON artifact or the analysis' tensors), so the suite can
redraw a committed run's figures without a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from postmech_eval.analyses import figstyle
from postmech_eval.analyses.knowledge.columns import ColumnLayout

DPI = figstyle.DPI
#: (heatmap key, panel title) of the within-model figure and of the cross-model one.
WITHIN = (("base", "base (B)"), ("post", "post-trained (P)"), ("difference", "difference P − B"))
CROSS = (
    ("base_to_post", "B's true states → P's false run"),
    ("post_to_base", "P's true states → B's false run"),
)
COLOURBAR = "normalised effect E (difference panel: E_P − E_B)"
CROSS_COLOURBAR = "normalised effect E (receiving model's LD_true / LD_false)"
FORMULA = "E = (LD_patched − LD_false) / (LD_true − LD_false); 1 = the patch restores the true answer"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _array(x: Any) -> np.ndarray:
    """A tensor or nested list (JSON null = NaN) as a float array."""
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    return np.array([[np.nan if v is None else v for v in row] for row in x], dtype=float) if isinstance(x, list) else np.asarray(x, dtype=float)  # fmt: skip


def build_figure(
    heatmaps: dict[str, Any],
    panels: tuple[tuple[str, str], ...],
    layout: ColumnLayout,
    title: str,
    colourbar: str = COLOURBAR,
) -> Any:
    """A figure with a panel per (key, title), one shared diverging colour scale centred at 0
    (limits ± the largest |E| of any panel) and one labelled colourbar."""
    import matplotlib

    maps = [_array(heatmaps[k]) for k, _ in panels]
    finite = np.concatenate([m[np.isfinite(m)] for m in maps] + [np.zeros(1)])
    vmax = max(1e-6, float(np.abs(finite).max()))
    n_layers, width = maps[0].shape
    cmap = matplotlib.colormaps[figstyle.DIVERGING].with_extremes(bad="0.85")  # cells too few pairs reach
    with figstyle.style():
        fig = figstyle.new_figure(1.2 + len(panels) * (0.7 + 0.25 * width), 2.5 + 0.26 * n_layers)
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        step = 1 if n_layers <= 24 else 2 if n_layers <= 48 else 4
        for ax, m, (_, name) in zip(axes, maps, panels, strict=True):
            im = ax.imshow(
                np.ma.masked_invalid(m), aspect="auto", origin="lower", cmap=cmap, vmin=-vmax, vmax=vmax
            )
            ax.set_xticks(range(width), layout.labels, rotation=90)
            ax.set_yticks(range(0, n_layers, step))
            if layout.n_suffix and layout.n_statement:
                ax.axvline(layout.n_statement - 0.5, color="k", lw=0.8, ls="--")
            ax.set_title(name)
            ax.set_xlabel("patched token: statement (from its end) | suffix")
            ax.spines[["top", "right"]].set_visible(True)
        axes[0].set_ylabel("layer (resid_post, 0 = first block)")
        bar = fig.colorbar(im, ax=list(axes), shrink=0.9)
        bar.set_label(colourbar)
        fig.suptitle(
            f"{title}\n{FORMULA}\ntop row (layer {n_layers - 1}): read by no later layer, so only the "
            "last column can move the answer (E = 1 there by construction)"
        )
    return fig


def panel_figure(
    heatmaps: dict[str, Any],
    panels: tuple[tuple[str, str], ...],
    layout: ColumnLayout,
    title: str,
    path: Path,
    colourbar: str = COLOURBAR,
) -> Path:
    """``build_figure`` saved as PNG (``DPI``) and SVG beside it; returns the PNG's path."""
    fig = build_figure(heatmaps, panels, layout, title, colourbar)
    return Path(figstyle.save(fig, Path(path).with_suffix(""))["png"])


def _n(one: dict) -> int:
    return int(one["metrics"]["pairs_used"])


def _interval(one: dict, name: str) -> Any:
    got = one.get("intervals", {})
    return got.bounds.get(name) if hasattr(got, "bounds") else got.get(name)


def captions(one: dict, scope: str) -> tuple[str, str]:
    """Captions (within, cross) saying what to look for, with n and the CIs."""
    m = one["metrics"]
    r = figstyle.ci_text(m.get("patch_corr"), _interval(one, "patch_corr"))
    iou = figstyle.ci_text(m.get("patch_top10_iou"), _interval(one, "patch_top10_iou"))
    bp = figstyle.ci_text(m.get("cross_recovery_base_to_post"), _interval(one, "cross_recovery_base_to_post"))
    pb = figstyle.ci_text(m.get("cross_recovery_post_to_base"), _interval(one, "cross_recovery_post_to_base"))
    within = (
        f"Knowledge patching, {scope} (n = {_n(one)} true/false pairs): if post-training left fact "
        f"storage in place, B and P light up the same cells and the difference panel stays white "
        f"(pearson r = {r}, top-10% IoU = {iou}; 95% bootstrap CIs over pairs)."
    )
    cross = (
        f"Cross-model patching, {scope} (n = {_n(one)} pairs): red cells mean one model's states "
        f"still carry the truth signal for the other (mean recovery over the top-10% cells: "
        f"B→P {bp}, P→B {pb})."
    )
    return within, cross


def figures(
    payload: dict,
    layout: ColumnLayout,
    examples: dict[str, str] | None = None,
    keep: Callable[[str], bool] | None = None,
) -> list[dict]:
    """Every knowledge figure as ``{name, figure, caption, main}`` (pooled ones are main); with
    ``keep``, only the figures whose name it accepts are built (two processes share the work)."""
    within, cross = captions(payload, "pooled over datasets")
    n = _n(payload)
    todo: list[tuple[str, bool, str, Callable[[], Any]]] = [
        ("knowledge_heatmaps", True, within, lambda: build_figure(
            payload["heatmaps"], WITHIN, layout, f"Knowledge patching, pooled over datasets (n = {n} pairs)")),
        ("knowledge_heatmaps_cross", True, cross, lambda: build_figure(
            payload["heatmaps"], CROSS, layout, f"Cross-model patching, pooled (n = {n} pairs)", CROSS_COLOURBAR)),
    ]  # fmt: skip
    for ds, one in payload.get("per_dataset", {}).items():
        title = f"Knowledge patching, {ds} (n = {_n(one)} pairs)"
        if examples and ds in examples:
            title += f"\ne.g. {examples[ds]}"
        todo.append((f"knowledge_heatmaps_dataset_{_safe(ds)}", False, captions(one, f"dataset {ds}")[0],
                     lambda one=one, title=title: build_figure(one["heatmaps"], WITHIN, layout, title)))  # fmt: skip
    return [
        {"name": name, "main": main, "caption": caption, "figure": build()}
        for name, main, caption, build in todo
        if keep is None or keep(name)
    ]


def draw(output_dir: Path, result: dict, layout: ColumnLayout) -> dict[str, str]:
    """Pooled within-model and cross-model figures, and one within-model figure per dataset,
    as PNG + SVG (called by the analysis right after it measured the maps)."""
    payload = {
        "heatmaps": result["heatmaps"],
        "metrics": result["metrics"],
        "intervals": result.get("intervals", {}),
        "per_dataset": result.get("per_dataset", {}),
    }
    out: dict[str, str] = {}
    for entry in figures(payload, layout):
        key = "figure" if entry["name"] == "knowledge_heatmaps" else entry["name"].replace("knowledge_heatmaps", "figure")  # fmt: skip
        out[key] = figstyle.save(entry["figure"], Path(output_dir) / entry["name"])["png"]
    return out


def layout_from_json(payload: dict) -> ColumnLayout:
    """The column layout written in ``knowledge_heatmaps.json`` (``columns``)."""
    cols = payload["columns"]
    n_statement = sum(1 for c in cols if c["role"] == "statement")
    return ColumnLayout(n_statement, tuple(c.get("text", c["label"]) for c in cols if c["role"] == "suffix"))


def example_pairs(records: list[dict]) -> dict[str, str]:
    """dataset -> one used pair as ``'true' / 'false'`` text, from the per-item records."""
    out: dict[str, str] = {}
    for rec in records:
        ds = rec.get("dataset")
        if ds in out or rec.get("excluded") or rec.get("role") != "false" or not rec.get("partner"):
            continue
        out[ds] = f"“{rec['partner']}” (true) / “{rec['statement']}” (false)"
    return out
