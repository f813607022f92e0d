"""Metrics of the entropy-neuron analysis (METHODS §5).

Entropy and loss changes under ablation are signed descriptions of what the neurons do,
so they carry no direction; the overlap of the selected sets and how much of the
confidence gap they explain do.
"""

from __future__ import annotations

from postmech_eval.analyses.metrics import WHICH, Metric, check_unique, metric


def _per_model(m: str) -> list[Metric]:
    return [
        metric(
            f"ablate_dentropy_{m}",
            None,
            "item",
            f"mean entropy change of {m} when its neurons are mean-ablated",
        ),
        metric(f"ablate_dloss_{m}", None, "item", f"mean loss change of {m} under the ablation"),
        metric(
            f"ablate_dentropy_direct_{m}", None, "item", f"entropy change through the unembedding only ({m})"
        ),
        metric(f"ablate_dloss_direct_{m}", None, "item", f"loss change through the unembedding only ({m})"),
        metric(
            f"ablate_abs_dentropy_{m}", None, "item", f"mean per-token \\|ΔH\\| of {m} under the ablation"
        ),
        metric(
            f"ablate_dentropy_random_{m}",
            None,
            "item",
            f"entropy change ablating random same-norm neurons ({m})",
        ),
        metric(f"ablate_abs_dentropy_random_{m}", None, "item", f"\\|ΔH\\| ablating random neurons ({m})"),
        metric(
            f"ablate_abs_dentropy_excess_{m}",
            "higher",
            "item",
            f"per-text \\|ΔH\\| selected − \\|ΔH\\| random ({m}; > 0: the selected neurons matter more)",
        ),
        metric(
            f"direct_effect_share_{m}",
            None,
            "pair",
            f"Σ\\|Δloss_direct\\| / Σ\\|Δloss_total\\| of {m} (≈0: acts through the norm)",
        ),
        metric(f"entropy_{m}", None, "item", f"mean next-token entropy of {m}, clean"),
        metric(f"loss_{m}", "lower", "item", f"mean next-token loss of {m}, clean"),
        metric(f"n_tokens_{m}", None, "pair", f"tokens scored for {m} (a count)", "none"),
    ]


METRICS = check_unique(
    (
        metric(
            "entropy_neuron_iou",
            "higher",
            "pair",
            "\\|S_B ∩ S_P\\| / \\|S_B ∪ S_P\\| of the selected neuron sets (weights only: exact)",
            "exact",
        ),
        metric(
            "logitvar_spearman",
            "higher",
            "pair",
            "Spearman ρ of logitvar over last-layer neurons, B vs P (weights only: exact)",
            "exact",
        ),
        *(m for which in WHICH for m in _per_model(which)),
        metric("entropy_gap", None, "item", "per-text H_base − H_post, the confidence gap"),
        metric(
            "entropy_gap_explained",
            "higher",
            "pair",
            "(H_post,ablated − H_post) / (H_base − H_post): share of the gap the neurons explain",
        ),
    ),
    "confidence metrics",
)
