"""Where a model's inputs go and what its weights are, also when accelerate placed it.

Why: with ``parallelize=True`` / a ``device_map`` (accelerate), layers live on several devices,
and offloaded ones (``"cpu"`` / ``"disk"`` in the map) keep their parameters on the ``meta``
device between forwards, their values held by the module's accelerate hook. Hooks follow
each module's output device and dtype already (``postmech_eval.engine.hooks``); what else
touches a model directly — the device its input ids go to, and the few weights read outside a
forward (unembedding, final norm, an MLP's down-projection for entropy neurons) — goes
through here, so every intervention works on a dispatched model as on a plain one.
"""

from __future__ import annotations

import torch
from torch import nn


def input_device(model: nn.Module) -> torch.device:
    """The device input ids must be on: the input embedding's execution device (accelerate's
    hook records it for dispatched models), else the first parameter not on ``meta``."""
    embed = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    hook = getattr(embed, "_hf_hook", None)
    if getattr(hook, "execution_device", None) is not None:
        return torch.device(hook.execution_device)
    for p in model.parameters():
        if p.device.type != "meta":
            return p.device
    return torch.device("cpu")


def weight(module: nn.Module, name: str = "weight") -> torch.Tensor:
    """``module.<name>`` as a real tensor, detached: an offloaded parameter (``meta``) is read
    from the module's accelerate hook (its weights map, on CPU or disk)."""
    p = getattr(module, name)
    if p.device.type != "meta":
        return p.detach()
    hook = getattr(module, "_hf_hook", None)
    weights = getattr(hook, "weights_map", None)
    if weights is None:
        raise RuntimeError(
            f"{type(module).__name__}.{name} is on the meta device and no accelerate hook holds it"
        )
    device = getattr(hook, "execution_device", None)
    value = weights[name]
    return value.to(device) if device is not None else value
