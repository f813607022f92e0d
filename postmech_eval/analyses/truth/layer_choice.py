"""``layer: auto`` for the truth analyses: the probe layer chosen on validation data (METHODS §2).

Why: floor(0.375 L) suits Llama-3.1-8B but not every model (0.64 on Gemma-3-270M, whose
best layer reaches 0.96), and choosing the best layer on the held-out TEST set — what the
layer sweep shows — is optimistic. Here a validation split is carved from the TRAINING
datasets (per dataset and label, seeded); each model's probe is fitted on the rest at every
layer and scored on it; the layer with the best mean validation accuracy of the two models
is the probe layer for both (the cosine compares directions at one layer). The test set is
never read.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from postmech_eval.estimators.probes import make_probe


def validation_split(train: Sequence[Any], fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, validation rows) of ``train``: ``fraction`` of each (dataset, label) group,
    at least one row, drawn with a seeded shuffle."""
    groups: dict[tuple[str, int], list[int]] = {}
    for i, s in enumerate(train):
        groups.setdefault((str(s.dataset), int(s.label)), []).append(i)
    val: list[int] = []
    for key in sorted(groups):
        rows = list(groups[key])
        random.Random(f"{seed}:{key[0]}:{key[1]}:val").shuffle(rows)
        k = max(1, round(fraction * len(rows))) if len(rows) > 1 else 0
        val.extend(rows[:k])
    mask = np.zeros(len(train), dtype=bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _centred(X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    out = X.copy()
    for g in np.unique(groups):
        rows = groups == g
        out[rows] -= X[rows].mean(axis=0)
    return out


def choose_layer(
    acts: dict[str, Any], train: Sequence[Any], kind: str, fraction: float, seed: int
) -> tuple[int, dict[str, Any]]:
    """The probe layer and the table that justifies it.

    ``acts[model]``: [L, n_train, d] activations of ``train``. Each dataset is centred by
    its own (label-free) mean over all its training rows, as METHODS §2 centres datasets.
    """
    fit, val = validation_split(train, fraction, seed)
    groups = np.array([str(s.dataset) for s in train])
    y = np.array([int(s.label) for s in train])
    per_model: dict[str, list[float]] = {}
    for model, a in acts.items():
        layers = np.asarray(a, dtype=np.float64)
        scores = []
        for X in layers:
            Xc = _centred(X, groups)
            probe = make_probe(kind).fit(Xc[fit], y[fit])
            scores.append(float(probe.score(Xc[val], y[val])))
        per_model[model] = scores
    mean = np.mean([per_model[m] for m in per_model], axis=0)
    layer = int(np.argmax(mean))  # ties: the earliest layer
    table = {
        "method": "validation split of the training datasets (per dataset and label)",
        "val_fraction": fraction,
        "seed": seed,
        "n_fit": int(fit.size),
        "n_val": int(val.size),
        "val_accuracy": {**per_model, "mean": [float(v) for v in mean]},
        "layer": layer,
    }
    return layer, table
