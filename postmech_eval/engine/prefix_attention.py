"""Attention for patched rows that share one recorded prefix: the prefix is read once.

Why: patched runs resume mid-prompt with the receiver's recorded prefix keys/values in
front of each row's own new columns. Concatenating them per row (what a KV cache does)
copies the whole prefix for every row at every layer, and eager grouped-query attention
repeats it again per head: on Gemma-3-270M a layer call on 64 rows cost 44 ms even with a
single new column. Here the prefix scores of all rows are one matmul against the one copy
of the prefix keys, the rows' own columns are scored against their own keys, and one softmax
runs over both, exactly the attention the concatenation computes (up to float rounding).

It is registered with transformers' ``AttentionInterface`` as ``postmech_prefix`` and used
only inside :func:`prefix_attention` (``postmech_eval.engine.resume.run_layer``), which swaps
``config._attn_implementation`` for the duration of one layer call. A call it does not cover
(attention sinks, dropout, an unexpected mask) falls back to the concatenation and the
model's own attention, so nothing is silently different; the patching engine's control row
checks every resumed batch against the clean run anyway.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

NAME = "postmech_prefix"

#: The prefix keys/values of the layer being called: set by the stand-in cache's update.
_PREFIX: contextvars.ContextVar[tuple[Tensor, Tensor] | None] = contextvars.ContextVar(
    "postmech_prefix", default=None
)
_ORIGINAL: contextvars.ContextVar[str] = contextvars.ContextVar("postmech_original", default="eager")
_registered = False


def stash(prefix_k: Tensor, prefix_v: Tensor) -> None:
    """Called by the stand-in cache: this layer's recorded prefix (batch 1)."""
    _PREFIX.set((prefix_k, prefix_v))


def _fallback(module: nn.Module, query: Tensor, key: Tensor, value: Tensor, mask: Any, **kw: Any) -> Any:
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.llama.modeling_llama import eager_attention_forward

    pk, pv = _PREFIX.get()  # type: ignore[misc]
    rows = key.shape[0]
    key = torch.cat([pk.expand(rows, *pk.shape[1:]), key], dim=-2)
    value = torch.cat([pv.expand(rows, *pv.shape[1:]), value], dim=-2)
    fn = ALL_ATTENTION_FUNCTIONS.get_interface(_ORIGINAL.get(), eager_attention_forward)
    return fn(module, query, key, value, mask, **kw)


def attention(
    module: nn.Module,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attention_mask: Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    softcap: float | None = None,
    **kwargs: Any,
) -> tuple[Tensor, None]:
    """query [r, H, n, d]; key/value [r, Hkv, n, d] (the rows' own columns only); the prefix
    [1, Hkv, P, d] from :func:`stash`; mask [r or 1, 1, n, P + n] (additive or boolean) or None
    (causal). Returns [r, n, H, d] like transformers' attention functions."""
    prefix = _PREFIX.get()
    covered = (
        prefix is not None
        and dropout == 0.0
        and kwargs.get("s_aux") is None
        and kwargs.get("sinks") is None
        and (attention_mask is None or attention_mask.shape[-1] == prefix[0].shape[-2] + key.shape[-2])
    )
    if not covered:
        return _fallback(
            module,
            query,
            key,
            value,
            attention_mask,
            scaling=scaling,
            dropout=dropout,
            softcap=softcap,
            **kwargs,
        )
    pk, pv = prefix  # type: ignore[misc]
    r, h, n, d = query.shape
    hkv, p = key.shape[1], pk.shape[-2]
    g = h // hkv
    scale = d**-0.5 if scaling is None else scaling
    q = query.reshape(r, hkv, g, n, d)
    # prefix: one [Hkv, r*g*n, d] @ [Hkv, d, P] product against the single copy of its keys
    q_flat = q.permute(1, 0, 2, 3, 4).reshape(hkv, r * g * n, d)
    s_pre = torch.matmul(q_flat, pk[0].transpose(-1, -2)).reshape(hkv, r, g, n, p).permute(1, 0, 2, 3, 4)
    s_own = torch.matmul(q, key.unsqueeze(2).transpose(-1, -2))  # [r, Hkv, g, n, n]
    scores = torch.cat([s_pre, s_own], dim=-1) * scale
    if softcap:
        scores = torch.tanh(scores / softcap) * softcap
    if attention_mask is None:  # causal among the new columns; the prefix is visible to all
        causal = torch.ones(n, n, dtype=torch.bool, device=query.device).tril()
        allowed = torch.cat([torch.ones(n, p, dtype=torch.bool, device=query.device), causal], dim=-1)
        scores = scores.masked_fill(~allowed, float("-inf"))
    elif attention_mask.dtype == torch.bool:
        scores = scores.masked_fill(~attention_mask.unsqueeze(2), float("-inf"))
    else:
        scores = scores + attention_mask.unsqueeze(2)
    probs = torch.softmax(scores.float(), dim=-1).to(query.dtype)
    p_pre, p_own = probs[..., :p], probs[..., p:]
    out_pre = torch.matmul(p_pre.permute(1, 0, 2, 3, 4).reshape(hkv, r * g * n, p), pv[0])
    out_pre = out_pre.reshape(hkv, r, g, n, d).permute(1, 0, 2, 3, 4)
    out = out_pre + torch.matmul(p_own, value.unsqueeze(2))  # [r, Hkv, g, n, d]
    return out.reshape(r, h, n, d).transpose(1, 2).contiguous(), None


def _register() -> None:
    global _registered
    if not _registered:
        from transformers import AttentionInterface

        AttentionInterface.register(NAME, attention)
        _registered = True


@contextlib.contextmanager
def prefix_attention(model: nn.Module) -> Iterator[None]:
    """Inside the block the model's attention layers use :func:`attention` (one layer call)."""
    _register()
    config = model.config
    original = getattr(config, "_attn_implementation", None) or "eager"
    token = _ORIGINAL.set(original)
    config._attn_implementation = NAME
    try:
        yield
    finally:
        config._attn_implementation = original
        _ORIGINAL.reset(token)
        _PREFIX.set(None)
