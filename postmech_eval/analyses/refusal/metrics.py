"""Metrics of the refusal-transfer analysis (METHODS §4).

Directions: refusing harmful prompts is ↑, refusing harmless ones (over-refusal) ↓; with
a direction ablated the harmful refusal should fall (↓: the direction is the mechanism),
with it added the harmless refusal should rise (↑). Every rate and ratio also comes with
a ``_loose`` twin from the second judge.
"""

from __future__ import annotations

from postmech_eval.analyses.metrics import WHICH, Metric, check_unique, metric


def _rates(suffix: str, judge: str) -> list[Metric]:
    out = []
    for m in WHICH:
        out.append(
            metric(f"refusal_{m}_harmful{suffix}", "higher", "item", f"{m} refuses harmful prompts{judge}")
        )
        out.append(
            metric(f"refusal_{m}_harmless{suffix}", "lower", "item", f"{m} refuses harmless prompts{judge}")
        )
    for t in WHICH:
        for d in WHICH:
            out.append(
                metric(
                    f"refusal_{t}_harmful_ablate_{d}{suffix}",
                    "lower",
                    "item",
                    f"{t} refuses harmful prompts with {d}'s direction ablated{judge}",
                )
            )
    for t in WHICH:
        for d in WHICH:
            out.append(
                metric(
                    f"refusal_{t}_harmless_add_{d}{suffix}",
                    "higher",
                    "item",
                    f"{t} refuses harmless prompts with {d}'s direction added{judge}",
                )
            )
    ratios = {
        "transfer_forward": "drop of P's refusal under r_B / under r_P (ablation)",
        "transfer_backward": "drop of B's refusal under r_P / under r_B (ablation)",
        "transfer_forward_add": "gain of P's harmless refusal with r_B / with r_P (addition)",
        "transfer_backward_add": "gain of B's harmless refusal with r_P / with r_B (addition)",
    }
    out += [metric(f"{n}{suffix}", "higher", "pair", f"{text}{judge}") for n, text in ratios.items()]
    return out


#: The refusal finding's margins (METHODS §4: backward transfer works, forward is limited).
GAPS = (
    metric("transfer_gap", "higher", "pair", "transfer_backward − transfer_forward (ablation)"),
    metric("transfer_gap_add", "higher", "pair", "transfer_backward_add − transfer_forward_add (addition)"),
)


METRICS = check_unique(
    (
        *_rates("", ""),
        *_rates("_loose", " (second judge)"),
        *GAPS,
        metric(
            "refusal_dir_cosine",
            "higher",
            "pair",
            "cosine(r_B, r_P) of the two directions used (CI: train prompts resampled, directions refitted)",
        ),
        *(
            metric(
                f"refusal_layer_{m}", None, "pair", f"layer of {m}'s direction (resid_pre; a setting)", "none"
            )
            for m in WHICH
        ),
    ),
    "refusal metrics",
)
