"""Metrics of the knowledge-patching analysis (METHODS §1)."""

from __future__ import annotations

from postmech_eval.analyses.metrics import check_unique, metric

METRICS = check_unique(
    (
        metric(
            "patch_corr", "higher", "pair", "Pearson r between the B and P mean heatmaps (flattened cells)"
        ),
        metric("patch_top10_iou", "higher", "pair", "IoU of the top-10% cells of the B and P heatmaps"),
        metric(
            "patch_peak_layer_shift",
            "lower",
            "pair",
            "\\|peak layer B − peak layer P\\| / L (0 = the peak did not move; the last layer's "
            "final-token cell, E = 1 by construction, is not a candidate)",
        ),
        metric(
            "cross_recovery_base_to_post",
            "higher",
            "pair",
            "mean E of B→P patching over P's own top-10% cells",
        ),
        metric(
            "cross_recovery_post_to_base",
            "higher",
            "pair",
            "mean E of P→B patching over B's own top-10% cells",
        ),
        metric("pairs_used", None, "pair", "statement pairs in all four heatmaps (a count)", "none"),
        metric("pairs_excluded", None, "pair", "pairs dropped (no partner, ~0 LD gap, ...; a count)", "none"),
        metric(
            "attribution_corr",
            "higher",
            "pair",
            "Pearson r of attribution-patching estimates vs exact E (a diagnostic)",
        ),
    ),
    "knowledge metrics",
)
