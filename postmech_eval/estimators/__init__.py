"""Fit/predict objects the analyses compose: truth probes, refusal directions, entropy-neuron
scans and ablation, refusal judges. scikit-learn style: ``__init__`` stores, ``fit`` sets
``coef_`` / ``direction_`` / ``neurons_``."""
