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
_PREFIX: contextvars.ContextVar[tuple[Tensor, Tensor, Any] | None] = contextvars.ContextVar(
    "postmech_prefix", default=None
)
_ORIGINAL: contextvars.ContextVar[str] = contextvars.ContextVar("postmech_original", default="eager")
_registered = False


def stash(prefix_k: Tensor, prefix_v: Tensor, packing: Any = None) -> None:
    """Called by the stand-in cache: this layer's recorded prefix (batch 1) and, for packed
    rows, their layout (``packed_rows.Packing`` bound to this layer's clean keys/values)."""
    _PREFIX.set((prefix_k, prefix_v, packing))


def _fallback(module: nn.Module, query: Tensor, key: Tensor, value: Tensor, mask: Any, **kw: Any) -> Any:
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.llama.modeling_llama import eager_attention_forward

    pk, pv, _ = _PREFIX.get()  # type: ignore[misc]
    rows = key.shape[0]
    key = torch.cat([pk.expand(rows, *pk.shape[1:]), key], dim=-2)
    value = torch.cat([pv.expand(rows, *pv.shape[1:]), value], dim=-2)
    fn = ALL_ATTENTION_FUNCTIONS.get_interface(_ORIGINAL.get(), eager_attention_forward)
    return fn(module, query, key, value, mask, **kw)


class PackingUnsupported(TypeError):
    """A packed layer call reached an attention variant :func:`attention` does not cover."""


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
    (causal). Returns [r, n, H, d] like transformers' attention functions.

    Packed rows (``stash(..., packing=...)``, ``postmech_eval.engine.packed_rows``) arrive as
    one sequence [1, H, N, d] of every row's own tokens; they are laid out right-aligned in
    [rows, n] with the receiver's clean keys/values in the columns a row does not recompute
    (those are exactly what such a row would recompute there), attended as above, and read back.
    """
    stashed = _PREFIX.get()
    covered = (
        stashed is not None and dropout == 0.0 and kwargs.get("s_aux") is None and kwargs.get("sinks") is None
    )
    packing = stashed[2] if stashed is not None else None
    if covered and packing is not None:
        p, w = stashed[0].shape[-2], packing.width
        if attention_mask is None or attention_mask.shape[-1] == p + w:
            own_bias, whole = _own_bias(attention_mask, p, w, query.dtype)
            if own_bias is not None:  # the usual mask: packed queries attended directly
                scale = query.shape[-1] ** -0.5 if scaling is None else scaling
                out = packing.attend(query, key, value, stashed[:2], own_bias, scale, softcap)
                return out, None
        query, key, value = packing.pad(query, key, value)
    covered = covered and (
        attention_mask is None or attention_mask.shape[-1] == stashed[0].shape[-2] + key.shape[-2]
    )
    if not covered:
        if packing is not None:
            raise PackingUnsupported("packed rows: this attention call is not covered")
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
    out = _shared_prefix(query, key, value, stashed[0], stashed[1], attention_mask, scaling, softcap)
    return (out if packing is None else packing.unpad(out)), None


def _shared_prefix(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    pk: Tensor,
    pv: Tensor,
    attention_mask: Tensor | None,
    scaling: float | None,
    softcap: float | None,
) -> Tensor:
    r, h, n, d = query.shape
    hkv, p = key.shape[1], pk.shape[-2]
    g = h // hkv
    scale = d**-0.5 if scaling is None else scaling
    # head-major [Hkv, r, g, n, .] throughout: the prefix scores are one [Hkv, r*g*n, d] @
    # [Hkv, d, P] product against the single copy of its keys, and nothing score-sized is copied
    q = (query * scale).reshape(r, hkv, g, n, d).permute(1, 0, 2, 3, 4).contiguous()
    s_pre = torch.matmul(q.view(hkv, r * g * n, d), pk[0].transpose(-1, -2)).view(hkv, r, g, n, p)
    k_own = key.transpose(0, 1).unsqueeze(2)  # [Hkv, r, 1, n, d]
    s_own = torch.matmul(q, k_own.transpose(-1, -2))  # [Hkv, r, g, n, n]
    own_bias, whole = _own_bias(attention_mask, p, n, s_own.dtype)
    if own_bias is not None and not softcap:
        s_own = s_own + own_bias
    scores = torch.cat([s_pre, s_own], dim=-1)
    if softcap:
        scores = torch.tanh(scores / softcap) * softcap
        if own_bias is not None:  # after the cap, as the model's own attention does
            scores[..., p:] += own_bias
    if whole is not None and whole.dtype == torch.bool:
        scores.masked_fill_(~whole.transpose(0, 1).unsqueeze(2), float("-inf"))
    elif whole is not None:
        scores.add_(whole.transpose(0, 1).unsqueeze(2))
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    out = torch.matmul(probs[..., :p].reshape(hkv, r * g * n, p), pv[0]).view(hkv, r, g, n, d)
    out = out + torch.matmul(probs[..., p:], value.transpose(0, 1).unsqueeze(2))  # [Hkv, r, g, n, d]
    return out.permute(1, 3, 0, 2, 4).reshape(r, n, h, d)


def _own_bias(mask: Tensor | None, p: int, n: int, dtype: torch.dtype) -> tuple[Tensor | None, Tensor | None]:
    """(an additive [n, n] mask of the rows' own columns, None) when ``mask`` is causal among
    them and shows every prefix column to every row (the usual case: only the small block
    is masked); (None, the whole mask [rows or 1, 1, n, P + n]) otherwise."""
    if mask is None:
        return torch.full((n, n), float("-inf"), dtype=dtype).triu(1), None
    if mask.shape[0] == 1:
        m = mask[0, 0]
        if m.dtype == torch.bool and bool(m[:, :p].all()):
            return torch.zeros(n, n, dtype=dtype, device=m.device).masked_fill(~m[:, p:], float("-inf")), None
        if m.dtype != torch.bool and bool((m[:, :p] == 0).all()):
            return m[:, p:].to(dtype), None
    return None, mask


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
