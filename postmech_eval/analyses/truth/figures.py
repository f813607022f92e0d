"""Figures of the truth analyses: the probe by layer, and steering with the probe direction.

Why these two: the paper's truthfulness claims are (1) a linear truth direction exists in
both models, is similar, and a probe trained on one reads the other, and (2) adding that
direction flips the model's TRUE/FALSE answer in both models, whichever model it came from.
Figure 1 puts base | post | their agreement (cosine) side by side by layer; figure 2 shows
the answer (p_diff = P(TRUE) − P(FALSE)) before and after steering, per target model, and
the normalised effect (NIF) of all four (direction, target) combinations with their CIs.
Inputs are the JSON artifacts (``truth_probe_sweep.json``, ``result.json``, records), so the
suite can redraw a committed run without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from postmech_eval.analyses import figstyle

Z95 = 1.959963984540054
SHORT = {"base": "B", "post": "P"}


def _band(ax: Any, xs: Sequence[int], acc: Sequence[float], n: int, colour: str, **kw: Any) -> None:
    """An accuracy curve with its 95% band over n held-out statements (± 1.96·stderr)."""
    p = np.asarray([np.nan if a is None else a for a in acc], dtype=float)
    ax.plot(xs, p, color=colour, marker="o", ms=3, **kw)
    if n > 1:
        half = Z95 * np.sqrt(p * (1 - p) / (n - 1))
        ax.fill_between(xs, p - half, p + half, color=colour, alpha=0.18, lw=0)


def probe_figure(sweep: dict, result: dict) -> dict:
    """Probe accuracy by layer: own probes (B, P), transferred probes, direction cosine."""
    acc = sweep["accuracy"]
    layers = list(sweep.get("layers", range(len(acc["base"]))))
    cfg = result.get("config", {})
    n = int(cfg.get("n_test") or result.get("item_counts", {}).get("probe_acc_base") or 0)
    heldout = cfg.get("heldout", "held-out")
    layer = sweep.get("probe_layer", cfg.get("layer_resolved"))
    m, ci = result.get("metrics", {}), result.get("intervals", {})
    with figstyle.style():
        fig = figstyle.new_figure(9.0, 3.0)
        axes = fig.subplots(1, 3, sharey=False)
        c = figstyle.COLOURS
        _band(axes[0], layers, acc["base"], n, c["base"], label="B probe on B")
        _band(axes[0], layers, acc["post"], n, c["post"], label="P probe on P")
        _band(axes[1], layers, acc["base_on_post"], n, c["base"], ls="--", label="B probe on P")
        _band(axes[1], layers, acc["post_on_base"], n, c["post"], ls="--", label="P probe on B")
        for ax, title in zip(axes[:2], ("own probes", "transferred probes"), strict=True):
            ax.set_ylim(0.3, 1.02)
            ax.axhline(0.5, color=figstyle.NEUTRAL, lw=0.6, ls=":")
            ax.set_ylabel(f"held-out accuracy ({heldout})")
            ax.set_title(title)
            ax.legend(loc="lower right")
        cos = [np.nan if v is None else v for v in acc.get("cosine", [])]
        if cos:
            axes[2].plot(layers, cos, color="k", marker="o", ms=3, label="cos(θ_B, θ_P)")
            lo_hi = ci.get("truth_dir_cosine")
            if lo_hi and layer is not None:
                v = m.get("truth_dir_cosine", cos[layer])
                axes[2].errorbar([layer], [v], yerr=[[v - lo_hi[0]], [lo_hi[1] - v]], color="k", capsize=3,
                                 label="95% CI at probe layer")  # fmt: skip
            axes[2].legend(loc="lower right")
        axes[2].set_ylim(-0.05, 1.05)
        axes[2].set_ylabel("cosine of the two probe directions")
        axes[2].set_title("agreement of B and P")
        for ax in axes:
            ax.set_xlabel("layer (resid_post)")
            ax.set_xticks(layers)
            if layer is not None:
                ax.axvline(layer, color=figstyle.NEUTRAL, lw=0.8)
        fig.suptitle(f"Truth probe ({str(cfg.get('probe', 'mm')).upper()}) by layer; n = {n} held-out "
                     f"{heldout} statements, bands = 95% intervals; grey line = probe layer {layer}")  # fmt: skip
    caption = (
        f"Truth probes, n = {n} held-out {heldout} statements: look for both models' accuracy rising "
        f"at the same layers and the transferred probes (dashed) staying close to the own ones; "
        f"at the probe layer B→P reads {figstyle.ci_text(m.get('probe_acc_base_on_post'))}, "
        f"P→B {figstyle.ci_text(m.get('probe_acc_post_on_base'))}, cosine "
        f"{figstyle.ci_text(m.get('truth_dir_cosine'), ci.get('truth_dir_cosine'))}."
    )
    return {"name": "truth_probe", "main": True, "figure": fig, "caption": caption}


def steering_figure(records: Sequence[dict], result: dict) -> dict:
    """p_diff of true / false statements, unsteered and steered, per target; NIF of all four."""
    m, ci = result.get("metrics", {}), result.get("intervals", {})
    true = [r for r in records if r.get("label") == 1]
    false = [r for r in records if r.get("label") == 0]
    conditions = (("", "no steering", figstyle.NEUTRAL), ("base", "B's direction", figstyle.COLOURS["base"]),
                  ("post", "P's direction", figstyle.COLOURS["post"]))  # fmt: skip
    with figstyle.style():
        fig = figstyle.new_figure(9.0, 3.1)
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.1]})
        for ax, target in zip(axes[:2], ("base", "post"), strict=True):
            for j, (direction, label, colour) in enumerate(conditions):
                key = f"p_diff_{direction}_{target}" if direction else f"p_diff_{target}"
                for g, group in enumerate((true, false)):
                    mean, lo, hi, _ = figstyle.mean_ci(r.get(key) for r in group)
                    x = g + (j - 1) * 0.26
                    ax.bar(x, mean, 0.24, color=colour, label=label if g == 0 else None,
                           yerr=[[mean - lo], [hi - mean]], capsize=2, ecolor="0.2")  # fmt: skip
            ax.axhline(0, color="k", lw=0.6)
            ax.set_xticks([0, 1], [f"true statements\n(n = {len(true)})", f"false statements\n(n = {len(false)})"])  # fmt: skip
            ax.set_ylim(-1.05, 1.05)
            ax.set_ylabel("p_diff = P(TRUE) − P(FALSE)")
            ax.set_title(f"steering {figstyle.NAMES[target]}")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
        combos = [("base", "base"), ("post", "base"), ("base", "post"), ("post", "post")]
        for i, (d, t) in enumerate(combos):
            name = f"nif_{d}_{t}"
            v = m.get(name)
            if v is None or v != v:
                axes[2].text(i, 0.02, "undef.", ha="center", fontsize=7)
                continue
            lo, hi = ci.get(name, (v, v))
            axes[2].bar(i, v, 0.6, color=figstyle.COLOURS[d], edgecolor=figstyle.COLOURS[t], lw=2,
                        yerr=[[v - lo], [hi - v]], capsize=3, ecolor="0.2")  # fmt: skip
            axes[2].text(i, max(hi, v) + 0.03, f"{v:.2f}", ha="center", fontsize=7)
        axes[2].set_xticks(range(4), [f"{SHORT[d]} dir\non {SHORT[t]}" for d, t in combos])
        axes[2].set_ylim(min(0.0, *(m.get(f"nif_{d}_{t}") or 0 for d, t in combos)) - 0.05, 1.15)
        axes[2].axhline(0, color="k", lw=0.6)
        axes[2].set_ylabel("normalised intervention effect (NIF)")
        axes[2].set_title("NIF (1 = answer fully flipped), 95% CI")
        fig.suptitle("Truth steering: the probe direction added to false / subtracted from true statements; "
                     "error bars = 95% intervals")  # fmt: skip
    caption = (
        f"Truth steering on {len(true)} true and {len(false)} false held-out statements: look for "
        f"steered bars pointing the other way (true → −1, false → +1) in both models, whichever model the "
        f"direction came from; NIF B dir on P = {figstyle.ci_text(m.get('nif_base_post'), ci.get('nif_base_post'))}, "
        f"P dir on B = {figstyle.ci_text(m.get('nif_post_base'), ci.get('nif_post_base'))}."
    )
    return {"name": "truth_steering", "main": True, "figure": fig, "caption": caption}
