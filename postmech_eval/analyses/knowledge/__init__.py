"""Knowledge storage location: causal patching heatmaps within and across the pair (METHODS §1)."""
