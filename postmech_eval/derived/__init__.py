"""Derived models: rewrites of a model's weights whose effect on every metric is known.

Why: they give exact expected answers on the user's own model (``postmech-eval selftest``).
Function-preserving: :func:`identity`, :func:`permute_last_mlp` (every family),
:func:`rotate_residual` (the families in :data:`LAYOUTS`); known-effect: :func:`abliterate`,
:func:`plant_entropy_neuron`. Every function returns a copy; its input is never modified.
"""

from postmech_eval.derived.edits import (
    PlantedNeuron,
    abliterate,
    identity,
    null_direction,
    permute_last_mlp,
    plant_entropy_neuron,
)
from postmech_eval.derived.layout import LAYOUTS, NOT_QUALIFIED, layout_for, why_not
from postmech_eval.derived.rotate import fold_norms, random_rotation, rotate_residual

__all__ = [
    "LAYOUTS",
    "NOT_QUALIFIED",
    "PlantedNeuron",
    "abliterate",
    "fold_norms",
    "identity",
    "layout_for",
    "null_direction",
    "permute_last_mlp",
    "plant_entropy_neuron",
    "random_rotation",
    "rotate_residual",
    "why_not",
]
