"""Confidence: entropy neurons of the last MLP, their overlap and ablation (METHODS §5)."""
