"""A cheap, content-based fingerprint of a loaded model.

Why in the engine: on-disk activation caches are keyed by what a model computes (config +
a strided weight digest), not by where it was loaded from, so a changed checkpoint never
reads stale results; the engine's capture cache needs it without knowing about loading.
"""

from __future__ import annotations

import hashlib
import json

import torch
from torch import nn

# config keys that describe where/how a model was loaded, not what it computes
# (parameter dtypes enter the digest directly; the family is implied by the module names)
_VOLATILE = (
    "_name_or_path",
    "transformers_version",
    "_commit_hash",
    "_attn_implementation",
    "dtype",
    "torch_dtype",
    "architectures",
)


def model_fingerprint(model: nn.Module, samples: int = 4096) -> str:
    """sha256 over the config and a cheap digest of every parameter.

    The digest takes name, shape, dtype and ``samples`` evenly strided values of
    each tensor (plus the sum of 1-D tensors such as norms), so it costs
    milliseconds even for 8B models yet changes when a checkpoint changes.
    """
    cfg = {
        k: v
        for k, v in model.config.to_dict().items()
        if k not in _VOLATILE and not k.startswith("_attn_implementation")
    }
    h = hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            h.update(f"{name}|{tuple(p.shape)}|{p.dtype}".encode())
            if p.device.type == "meta":
                continue
            flat = p.detach().reshape(-1)
            # float64: float32 rounds n - 1 up to n past 2**24 elements (Gemma-3 embeddings: IndexError)
            idx = torch.linspace(0, flat.numel() - 1, min(samples, flat.numel()), dtype=torch.float64).long()
            vals = flat[idx.to(flat.device)].float().cpu()
            if p.dim() == 1:
                vals = torch.cat([vals, flat.double().sum().float().cpu().reshape(1)])
            h.update(vals.numpy().tobytes())
    return h.hexdigest()
