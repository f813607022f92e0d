"""Metrics of the truth-probe and truth-steering analyses (METHODS §2, §3)."""

from __future__ import annotations

from postmech_eval.analyses.metrics import WHICH, check_unique, metric

PROBE_METRICS = check_unique(
    (
        metric("probe_acc_base", "higher", "item", "B's probe on B's held-out statements (accuracy)"),
        metric("probe_acc_post", "higher", "item", "P's probe on P (accuracy)"),
        metric("probe_acc_base_on_post", "higher", "item", "B's probe on P (forward transfer, accuracy)"),
        metric("probe_acc_post_on_base", "higher", "item", "P's probe on B (backward transfer, accuracy)"),
        metric(
            "truth_dir_cosine",
            "higher",
            "pair",
            "cosine(θ_B, θ_P) of the probe directions at the probe layer",
        ),
        *(
            metric(
                f"sweep_best_layer_{m}",
                None,
                "pair",
                f"layer (resid_post) where {m}'s own probe is best on the TEST set (diagnostic)",
            )
            for m in WHICH
        ),
        *(
            metric(
                f"sweep_best_acc_{m}",
                "higher",
                "pair",
                f"{m}'s own probe accuracy at that layer (test-set max: optimistic)",
            )
            for m in WHICH
        ),
    ),
    "truth probe metrics",
)

_ROLE = {
    ("base", "base"): "own",
    ("post", "post"): "own",
    ("base", "post"): "forward",
    ("post", "base"): "backward",
}

STEERING_METRICS = check_unique(
    (
        *(
            metric(
                f"nif_{d}_{t}",
                "higher",
                "pair",
                f"NIF of {d}'s direction applied to {t} ({_ROLE[d, t]})",
            )
            for d in WHICH
            for t in WHICH
        ),
        metric(
            "nif_transfer_forward",
            "higher",
            "pair",
            "nif_base_post / nif_post_post (B's direction on P vs P's own)",
        ),
        metric(
            "nif_transfer_backward",
            "higher",
            "pair",
            "nif_post_base / nif_base_base (P's direction on B vs B's own)",
        ),
        *(
            metric(
                f"p_diff_{m}_{c}",
                "higher" if c == "true" else "lower",
                "item",
                f"mean un-steered P(TRUE) − P(FALSE) of {m} on {c} statements",
            )
            for m in WHICH
            for c in ("true", "false")
        ),
    ),
    "truth steering metrics",
)
