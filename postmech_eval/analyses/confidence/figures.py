"""Figures of the confidence analysis: the entropy-neuron sets, their ablation against
random neurons, and the confidence gap.

Why three: the paper's claim is that post-training changes confidence (the entropy gap
between B and P) but not through entropy neurons — the two models select largely the same
neurons (figure 1: B and P on shared axes, the neurons selected by both marked, and each
neuron's logit variance in B against P), those neurons matter more than random ones of the
same norm (figure 2: |ΔH| of selected vs random, and total vs direct effect), and ablating
them closes little of the gap (figure 3). Inputs are the JSON artifacts (neuron tables,
``result.json``, per-text records), so the suite can redraw a committed run without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from postmech_eval.analyses import figstyle

BOTH = "#2ca02c"


def _sets(tables: dict[str, dict]) -> tuple[set[int], set[int]]:
    return set(tables["base"]["selected"]), set(tables["post"]["selected"])


def neurons_figure(tables: dict[str, dict], result: dict) -> dict:
    """Norm vs logit variance for B and P on shared axes; logit variance of B vs P."""
    m, ci = result.get("metrics", {}), result.get("intervals", {})
    sel_b, sel_p = _sets(tables)
    both = sel_b & sel_p
    with figstyle.style():
        fig = figstyle.new_figure(10.0, 3.3)
        axes = fig.subplots(1, 3)
        axes[1].sharex(axes[0])
        axes[1].sharey(axes[0])
        for ax, which in zip(axes[:2], ("base", "post"), strict=True):
            t = tables[which]
            norm = np.array([n["norm"] for n in t["neurons"]])
            lv = np.clip(np.array([n["logitvar"] for n in t["neurons"]]), 1e-30, None)
            own = sel_b if which == "base" else sel_p
            ax.scatter(norm, lv, s=5, c="0.75", lw=0, label="all neurons")
            cand = np.array([n["candidate"] for n in t["neurons"]])
            ax.scatter(norm[cand], lv[cand], s=6, c=figstyle.LIGHT[which], lw=0,
                       label=f"norm above q{t['norm_quantile']:g}")  # fmt: skip
            only = sorted(own - both)
            ax.scatter(norm[only], lv[only], s=26, marker="x", c=figstyle.COLOURS[which],
                       label=f"selected by {which} only ({len(only)})")  # fmt: skip
            shared = sorted(both)
            ax.scatter(
                norm[shared], lv[shared], s=30, marker="*", c=BOTH, label=f"selected by both ({len(shared)})"
            )
            ax.axvline(t["norm_threshold"], color=figstyle.NEUTRAL, lw=0.7, ls="--")
            ax.set_yscale("log")
            ax.set_xlabel("output-weight norm |w_i|")
            ax.set_title(f"{figstyle.NAMES[which]}: layer {t['layer']} MLP neurons")
            ax.legend(loc="upper left", fontsize=6)
        axes[0].set_ylabel("logit variance var(ŵ_i · W_U)")
        lv_b = np.clip([n["logitvar"] for n in tables["base"]["neurons"]], 1e-30, None)
        lv_p = np.clip([n["logitvar"] for n in tables["post"]["neurons"]], 1e-30, None)
        ax = axes[2]
        ax.scatter(lv_b, lv_p, s=5, c="0.7", lw=0)
        for ids, colour, marker, label in ((sel_b - both, figstyle.COLOURS["base"], "x", "B only"),
                                           (sel_p - both, figstyle.COLOURS["post"], "x", "P only"),
                                           (both, BOTH, "*", "both")):  # fmt: skip
            ids = sorted(ids)
            ax.scatter(lv_b[ids], lv_p[ids], s=28, c=colour, marker=marker, label=f"selected by {label}")
        lims = [min(lv_b.min(), lv_p.min()), max(lv_b.max(), lv_p.max())]
        ax.plot(lims, lims, color=figstyle.NEUTRAL, lw=0.7, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        from matplotlib.ticker import NullFormatter

        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("logit variance in B")
        ax.set_ylabel("logit variance in P (same neuron)")
        ax.set_title(f"B vs P; Spearman {figstyle.ci_text(m.get('logitvar_spearman'))}")
        ax.legend(loc="upper left", fontsize=6)
        iou = figstyle.ci_text(m.get("entropy_neuron_iou"), ci.get("entropy_neuron_iou"))
        fig.suptitle(f"Entropy neurons (large norm, small logit variance): IoU of the selected sets = {iou}")
    caption = (
        f"Entropy-neuron candidates of B and P on shared axes: look for the green stars (neurons "
        f"selected by both models); their share of the union is the IoU, {iou} (exact: a function of "
        f"the weights), and the right panel shows whether each neuron keeps its logit variance."
    )
    return {"name": "entropy_neurons", "main": True, "figure": fig, "caption": caption}


def _bar(
    ax: Any, x: float, values: Sequence[Any], colour: str, label: str | None, width: float = 0.35
) -> None:
    mean, lo, hi, _ = figstyle.mean_ci(values)
    if mean != mean:
        return
    ax.bar(
        x, mean, width, color=colour, label=label, yerr=[[mean - lo], [hi - mean]], capsize=3, ecolor="0.2"
    )


def ablation_figure(records: Sequence[dict], result: dict) -> dict:
    """|ΔH| of the selected neurons vs random same-norm neurons; total vs direct ΔH."""
    recs = [r for r in records if "entropy_clean_base" in r]
    n = len(recs)
    m = result.get("metrics", {})
    with figstyle.style():
        fig = figstyle.new_figure(8.0, 3.1)
        axes = fig.subplots(1, 2)
        for i, which in enumerate(("base", "post")):
            _bar(axes[0], i - 0.19, [r.get(f"abs_dentropy_ablated_{which}") for r in recs],
                 figstyle.COLOURS[which], "selected entropy neurons" if i == 0 else None)  # fmt: skip
            _bar(axes[0], i + 0.19, [r.get(f"abs_dentropy_random_{which}") for r in recs],
                 figstyle.NEUTRAL, "random neurons, same norm" if i == 0 else None)  # fmt: skip
            clean = [r.get(f"entropy_clean_{which}") for r in recs]
            total = [r.get(f"entropy_ablated_{which}") - c for r, c in zip(recs, clean, strict=True)]
            direct = [r.get(f"entropy_direct_{which}") - c for r, c in zip(recs, clean, strict=True)]
            _bar(axes[1], i - 0.19, total, figstyle.COLOURS[which], "total effect" if i == 0 else None)
            _bar(axes[1], i + 0.19, direct, figstyle.LIGHT[which], "direct effect (no final-norm rescaling)" if i == 0 else None)  # fmt: skip
        for ax in axes:
            ax.set_xticks([0, 1], [figstyle.NAMES["base"], figstyle.NAMES["post"]])
            ax.axhline(0, color="k", lw=0.6)
        axes[0].set_ylabel("mean |ΔH| per text (nats)")
        axes[0].set_title("mean-ablation: selected vs random neurons")
        axes[1].set_ylabel("mean ΔH per text (nats)")
        axes[1].set_title("total vs direct effect on entropy")
        axes[0].legend(loc="upper right", fontsize=6.5)
        axes[1].legend(loc="best", fontsize=6.5)
        fig.suptitle(
            f"Entropy-neuron ablation on n = {n} held-out texts (error bars: 95% intervals over texts)"
        )
    caption = (
        f"Ablating the selected neurons vs random neurons of the same norm (n = {n} texts): look for "
        f"coloured bars above the grey ones (the selected neurons matter more); excess |ΔH| B "
        f"{figstyle.ci_text(m.get('ablate_abs_dentropy_excess_base'), digits=3)}, P "
        f"{figstyle.ci_text(m.get('ablate_abs_dentropy_excess_post'), digits=3)} nats."
    )
    return {"name": "entropy_ablation", "main": True, "figure": fig, "caption": caption}


def gap_figure(records: Sequence[dict], result: dict) -> dict:
    """Mean entropy of B, P and P with its entropy neurons ablated; per-text H_B vs H_P."""
    recs = [r for r in records if "entropy_clean_base" in r]
    m, ci = result.get("metrics", {}), result.get("intervals", {})
    hb = np.array([r["entropy_clean_base"] for r in recs], dtype=float)
    hp = np.array([r["entropy_clean_post"] for r in recs], dtype=float)
    with figstyle.style():
        fig = figstyle.new_figure(8.0, 3.1)
        axes = fig.subplots(1, 2)
        _bar(axes[0], 0, hb, figstyle.COLOURS["base"], None, 0.6)
        _bar(axes[0], 1, hp, figstyle.COLOURS["post"], None, 0.6)
        _bar(axes[0], 2, [r.get("entropy_ablated_post") for r in recs], figstyle.LIGHT["post"], None, 0.6)
        _bar(axes[0], 3, hp - hb, "0.4", None, 0.6)
        axes[0].set_xticks(range(4), ["B", "P", "P, entropy\nneurons ablated", "gap\nH_P − H_B"])
        axes[0].axhline(0, color="k", lw=0.6)
        axes[0].set_ylabel("mean next-token entropy per text (nats)")
        axes[0].set_title("the confidence gap")
        axes[1].scatter(hb, hp, s=10, c="k", lw=0)
        lims = [min(hb.min(), hp.min()), max(hb.max(), hp.max())] if len(recs) else [0, 1]
        axes[1].plot(lims, lims, color=figstyle.NEUTRAL, lw=0.7, ls=":")
        axes[1].set_xlabel("entropy of B (nats, per text)")
        axes[1].set_ylabel("entropy of P (nats, per text)")
        axes[1].set_title("per text (below the diagonal: P more confident)")
        share = figstyle.ci_text(m.get("entropy_gap_explained"), ci.get("entropy_gap_explained"))
        fig.suptitle(
            f"Confidence gap on n = {len(recs)} held-out texts; share explained by entropy neurons = {share}"
        )
    caption = (
        f"The confidence gap between B and P on {len(recs)} texts (error bars: 95% intervals): look "
        f"at how far ablating P's entropy neurons moves P's bar towards B's; the share of the gap "
        f"explained is {share} (bootstrap CI over texts)."
    )
    return {"name": "confidence_gap", "main": True, "figure": fig, "caption": caption}
