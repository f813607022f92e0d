"""Truthfulness: linear probes and steering with the probe direction (METHODS §2, §3)."""
