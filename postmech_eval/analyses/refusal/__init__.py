"""Refusal: each model's refusal direction, ablation / addition, transfer (METHODS §4)."""
