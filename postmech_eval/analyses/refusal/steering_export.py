"""Export a refusal direction as a steering file for lm-eval's stock ``--model steered``.

Why: users should be able to re-run an activation addition with tools they already have.
lm-eval's ``steered`` model (``lm_eval/models/hf_steered.py``, 0.4.13) reads either a CSV
of sparse-autoencoder features (needs ``sparsify``/``sae_lens``, no raw vectors) or a
``.pt`` file ``{hookpoint: {"steering_vector", "steering_coefficient", "action", "bias",
"head_index"}}`` through ``torch.load``. A raw vector fits only the ``.pt`` form, so this
is the one place the suite writes a torch-serialised file: it holds nothing but a dict of
plain tensors, floats, strings and ``None`` and loads with ``torch.load(weights_only=True)``
(checked by the tests). The suite itself never reads it back: the same content is written
beside it as safetensors + JSON, which :func:`load_steering` reads.

Hookpoints are module names under ``model.base_model``; hf_steered adds the vector to the
*output* of that module at every position (prompt and generated), which equals our
``AddVector`` at ``resid_pre`` of layer l when the module is decoder layer l - 1
(or the token embedding for l = 0).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from postmech_eval.atomic import atomic_path, write_text
from postmech_eval.config import UserError
from postmech_eval.engine.arch import get_adapter
from postmech_eval.estimators.refusal_direction import check_layer

#: Families whose embedding module output is not resid_pre of layer 0 (scaled afterwards).
_EMBED_SCALED_LATER = ("gemma2",)


def steering_hookpoint(model: Any, layer: int) -> str:
    """hf_steered hookpoint whose output is the residual stream entering ``layer`` (0..L)."""
    adapter = get_adapter(model)
    check_layer(layer, adapter.n_layers)
    if layer == 0:
        if adapter.family in _EMBED_SCALED_LATER:
            raise UserError(
                f"The 'layer' parameter cannot be 0 for a {adapter.family} model: its embedding output "
                "is rescaled before layer 0, so no hf_steered hookpoint equals resid_pre of layer 0."
            )
        target = model.get_input_embeddings()
    else:
        target = adapter.layers[layer - 1]
    for name, module in model.base_model.named_modules():
        if module is target:
            return name
    raise UserError(
        f"No module of model.base_model matches layer {layer}; cannot name an hf_steered hookpoint"
    )


def export_steering(
    path: str | Path,
    hookpoint: str,
    direction: torch.Tensor,
    layer: int,
    coefficient: float,
    metadata: dict[str, Any] | None = None,
    write_pt: bool = True,
) -> dict[str, str]:
    """Write ``path`` (.pt for hf_steered) and ``path.with_suffix('.safetensors'/.json)``.

    With ``write_pt=False`` only the safetensors/JSON twins are written (no pickle format).

    ``hookpoint`` comes from :func:`steering_hookpoint` (computed while the model is loaded).
    ``direction`` is stored normalised; hf_steered adds ``coefficient * direction``.
    Returns {"steer_pt": ..., "steer_safetensors": ..., "steer_json": ...}.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".pt":
        raise UserError(
            f"The 'path' parameter must end with '.pt' (hf_steered reads .pt). Got {str(path)!r} instead."
        )
    if not isinstance(direction, torch.Tensor) or direction.dim() != 1:
        raise UserError(
            f"The 'direction' parameter must be a 1-D tensor. Got {type(direction).__name__} instead."
        )
    unit = (direction.detach().double() / direction.double().norm()).float().cpu().contiguous()
    entry = {
        "steering_vector": unit,
        "steering_coefficient": float(coefficient),
        "action": "add",
        "bias": None,
        "head_index": None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    if write_pt:
        tmp = path.with_suffix(".pt.tmp")
        torch.save({hookpoint: entry}, tmp)
        tmp.replace(path)
    meta = {"hookpoint": hookpoint, "layer": int(layer), "coefficient": float(coefficient), "action": "add"}
    meta.update(metadata or {})
    st_path, js_path = path.with_suffix(".safetensors"), path.with_suffix(".json")
    with atomic_path(st_path) as tmp:
        save_file({"steering_vector": unit}, str(tmp), metadata={"postmech": json.dumps(meta)})
    write_text(js_path, json.dumps(meta, indent=2, default=str))
    files = {"steer_safetensors": str(st_path), "steer_json": str(js_path)}
    return {"steer_pt": str(path), **files} if write_pt else files


def load_steering(path: str | Path) -> tuple[str, torch.Tensor, float]:
    """(hookpoint, unit vector, coefficient) from the safetensors twin of a .pt export."""
    from safetensors import safe_open

    path = Path(path).with_suffix(".safetensors")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["postmech"])
        vector = f.get_tensor("steering_vector")
    return str(meta["hookpoint"]), vector, float(meta["coefficient"])
