"""Figure of the refusal analysis: refusal rates per condition and the directions' cosine.

Why this layout: the paper's refusal claim is about transfer — ablating the post model's
direction removes its refusals, while the base model's direction does less (forward transfer
limited), and the post model's direction steers the base (backward transfer works). So both
target models get the same condition order (no intervention, B's direction, P's direction;
ablated on harmful prompts, added on harmless ones) and the same colours (grey, blue,
orange), with each rate printed above its bar and its 95% interval as an error bar; a third
panel shows where along the depth the two directions agree. Inputs are ``result.json`` and
``refusal_directions.json``, so the suite can redraw a committed run without a model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from postmech_eval.analyses import figstyle

Z95 = 1.959963984540054
#: (metric suffix after refusal_<target>_, legend label, colour key); one order for every panel
HARMFUL = (("harmful", "no intervention", None), ("harmful_ablate_base", "B's direction", "base"),
           ("harmful_ablate_post", "P's direction", "post"))  # fmt: skip
HARMLESS = (("harmless", "no intervention", None), ("harmless_add_base", "B's direction", "base"),
            ("harmless_add_post", "P's direction", "post"))  # fmt: skip


def _rate(result: dict, name: str) -> tuple[float | None, float, float]:
    """A refusal rate with its 95% interval (± 1.96·stderr of a mean of 0/1 verdicts over n
    prompts, ddof = 1 as lm-eval's), clipped to [0, 1]; None when it has no value."""
    v = result.get("metrics", {}).get(name)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None, 0.0, 0.0
    se = (result.get("stderr") or {}).get(name)  # lm-eval's, when drawn from a results file
    n = int(result.get("item_counts", {}).get(name) or 0)
    half = Z95 * se if se is not None else Z95 * math.sqrt(v * (1 - v) / (n - 1)) if n > 1 else 0.0
    return v, max(0.0, v - half), min(1.0, v + half)


def refusal_figure(result: dict, directions: dict | None = None) -> dict:
    """Refusal rates of B and of P per condition (harmful: ablation; harmless: addition)."""
    counts = result.get("item_counts", {})
    with figstyle.style():
        fig = figstyle.new_figure(10.0, 3.3)
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.9]})
        for ax, target in zip(axes[:2], ("base", "post"), strict=True):
            for g, group in enumerate((HARMFUL, HARMLESS)):
                for j, (suffix, label, who) in enumerate(group):
                    v, lo, hi = _rate(result, f"refusal_{target}_{suffix}")
                    x = g + (j - 1) * 0.27
                    colour = figstyle.NEUTRAL if who is None else figstyle.COLOURS[who]
                    if v is None:
                        ax.text(x, 0.02, "n/a", ha="center", fontsize=7, rotation=90)
                        continue
                    ax.bar(x, v, 0.25, color=colour, label=label if g == 0 else None,
                           yerr=[[v - lo], [hi - v]], capsize=2, ecolor="0.2")  # fmt: skip
                    ax.text(x, hi + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
            nh, nl = counts.get(f"refusal_{target}_harmful"), counts.get(f"refusal_{target}_harmless")
            ax.set_xticks([0, 1], [f"harmful prompts{f' (n = {nh})' if nh else ''}\ndirection ablated",
                                   f"harmless prompts{f' (n = {nl})' if nl else ''}\ndirection added"])  # fmt: skip
            ax.set_ylim(0, 1.15)
            ax.set_ylabel("refusal rate (fraction of completions)")
            ax.set_title(f"target: {figstyle.NAMES[target]}")
        for ax in axes[:2]:  # the first panel with bars carries the legend (a NaN panel has none)
            handles, labels = ax.get_legend_handles_labels()
            if handles:
                ax.legend(handles, labels, loc="upper right", title="intervention with", fontsize=6.5, title_fontsize=6.5)  # fmt: skip
                break
        _cosine_panel(axes[2], result, directions)
        fig.suptitle("Refusal under directional ablation and activation addition (error bars: 95% intervals)")
    m, ci = result.get("metrics", {}), result.get("intervals", {})
    caption = (
        "Refusal rates per condition, in one order for both models: look for P's own direction "
        "removing P's refusals while B's direction leaves them (forward transfer "
        f"{figstyle.ci_text(m.get('transfer_forward'), ci.get('transfer_forward'))}), and P's direction "
        f"inducing refusal in B (backward {figstyle.ci_text(m.get('transfer_backward'), ci.get('transfer_backward'))})."
    )
    return {"name": "refusal_rates", "main": True, "figure": fig, "caption": caption}


def _cosine_panel(ax: Any, result: dict, directions: dict | None) -> None:
    m, ci = result.get("metrics", {}), result.get("intervals", {})
    per_layer = (directions or {}).get("cosine_per_layer") or []
    if per_layer:
        ys = np.asarray([np.nan if v is None else v for v in per_layer], dtype=float)
        ax.plot(range(len(ys)), ys, color="k", marker="o", ms=3, label="cos(r_B, r_P)")
    layer = result.get("config", {}).get("refusal_layer_post")
    v, lo_hi = m.get("refusal_dir_cosine"), ci.get("refusal_dir_cosine")
    if layer is not None and v is not None and v == v:
        err = None if not lo_hi else [[v - lo_hi[0]], [lo_hi[1] - v]]
        ax.errorbar([layer], [v], yerr=err, color=figstyle.COLOURS["post"], marker="s", capsize=3,
                    label=f"at the direction's layer {layer} (95% CI)")  # fmt: skip
    ax.axhline(0, color=figstyle.NEUTRAL, lw=0.6)
    ax.set_ylim(-0.3, 1.05)
    ax.set_xlabel("layer (resid_pre; 0 = embeddings)")
    ax.set_ylabel("cosine of the two refusal directions")
    ax.set_title("agreement of B and P")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=6.5)
