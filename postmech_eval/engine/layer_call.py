"""One decoder layer called directly on patched rows, with a receiver's recorded arguments.

Why: patched runs resume mid-stack (``postmech_eval.engine.resume`` records what each layer
received in one clean forward). Calling a layer on many rows needs those arguments given the
rows' shape: batch-1 tensors broadcast to the rows, the live KV cache swapped for a stand-in
that serves the receiver's recorded prefix, and, for packed rows
(``postmech_eval.engine.packed_rows``: every row's own tokens as one sequence), every
per-column tensor (rotary ``position_embeddings``, ``position_ids``) gathered to each packed
token's column, so each token is computed at its own position.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import Tensor, nn

from postmech_eval.engine.arch import get_adapter


class _PrefixKV:
    """Stands in for the KV cache in resumed layer calls: the receiver's recorded prefix
    keys/values (broadcast to the batch) followed by the keys/values of the new columns.
    ``shared``: hand the prefix to ``prefix_attention`` instead of concatenating; ``packing``
    (with the receiver's whole-prompt ``kv``): hand it the packed layout too, bound to this
    layer's clean keys/values over the recomputed columns."""

    def __init__(
        self,
        prefix: dict[int, tuple[Tensor, Tensor]],
        shared: bool = False,
        packing: Any = None,  # an engine.packed_rows.Packing
        kv: dict[int, tuple[Tensor, Tensor, int]] | None = None,
    ) -> None:
        self.prefix = prefix
        self.shared = shared or packing is not None
        self.packing = packing
        self.kv = kv

    def update(self, key_states: Tensor, value_states: Tensor, layer_idx: int, *a: Any, **kw: Any) -> Any:
        k, v = self.prefix[layer_idx]
        if self.shared:
            from postmech_eval.engine.prefix_attention import stash

            packing = None
            if self.packing is not None and self.kv is not None:
                ck, cv, _ = self.kv[layer_idx]
                p = k.shape[-2]
                packing = self.packing.bind_layer(
                    layer_idx, ck[..., p:, :], cv[..., p:, :], key_states, value_states
                )
            stash(k, v, packing)
            return key_states, value_states
        rows = key_states.shape[0]
        return (
            torch.cat([k.expand(rows, *k.shape[1:]), key_states], dim=-2),
            torch.cat([v.expand(rows, *v.shape[1:]), value_states], dim=-2),
        )


def _expand(obj: Any, rows: int, kv: _PrefixKV | None = None, packing: Any = None) -> Any:
    """Give batch-1 tensors in a captured call ``rows`` rows (views, no copies); swap the
    live KV cache object for the prefix stand-in. With ``packing``, per-column tensors
    ([1, n, ...] with n the receiver's recomputed columns; masks are 4-D and stay whole)
    are gathered to the packed tokens' columns."""
    if isinstance(obj, Tensor):
        if packing is not None:
            if obj.ndim in (2, 3) and obj.shape[0] == 1 and obj.shape[1] == packing.width:
                return obj.index_select(1, packing.slot.to(obj.device))
            return obj
        if obj.ndim >= 2 and obj.shape[0] == 1 and rows != 1:
            return obj.expand(rows, *obj.shape[1:])
        return obj
    if kv is not None and type(obj).__name__.endswith("Cache"):
        return kv
    if isinstance(obj, tuple):
        return tuple(_expand(o, rows, kv, packing) for o in obj)
    if isinstance(obj, list):
        return [_expand(o, rows, kv, packing) for o in obj]
    if isinstance(obj, dict):
        return {k: _expand(v, rows, kv, packing) for k, v in obj.items()}
    return obj


def run_layer(
    model: nn.Module,
    receiver: Any,  # an engine.resume.Trace (resume imports this module)
    layer: int,
    hidden: Tensor,
    shared_prefix: bool = True,
    packing: Any = None,  # an engine.packed_rows.Packing (which imports this module)
) -> Tensor:
    """Call decoder layer ``layer`` on ``hidden`` [rows, T - start, d] with the receiver's
    recorded arguments (and its prefix keys/values when it was traced with ``start``). With
    ``shared_prefix`` (and more than one row) the rows attend to the one recorded copy of the
    prefix (``postmech_eval.engine.prefix_attention``) instead of a copy each. With ``packing``
    ``hidden`` is [1, N, d], the rows' own tokens (a receiver traced with ``keep_kv``)."""
    if packing is not None and (receiver.prefix_kv is None or receiver.kv is None):
        raise ValueError("run_layer: packed rows need a receiver traced with keep_kv")
    shared = packing is not None or (shared_prefix and receiver.prefix_kv is not None and hidden.shape[0] > 1)
    kv = (
        _PrefixKV(receiver.prefix_kv, shared, packing, receiver.kv)
        if receiver.prefix_kv is not None
        else None
    )
    args, kwargs = receiver.calls[layer]
    rows = hidden.shape[0]
    args, kwargs = _expand(args, rows, kv, packing), _expand(kwargs, rows, kv, packing)
    key = receiver.hidden_keys[layer]
    module = get_adapter(model).layers[layer]
    if shared:
        from postmech_eval.engine.prefix_attention import prefix_attention

        scope: Any = prefix_attention(model)
    else:
        scope = contextlib.nullcontext()
    with scope, _only_on(module, None if packing is None else packing.last):
        out = module(**{key: hidden}, **kwargs) if key else module(hidden, *args, **kwargs)
    return out[0] if isinstance(out, tuple | list) else out


#: Per-token submodules of a decoder layer whose output only matters at the tokens that are
#: read (``module.mlp`` in every supported family; the query and output projections where
#: they are separate modules). Names a family lacks are skipped.
PER_TOKEN = ("mlp", "self_attn.q_proj", "self_attn.o_proj")


@contextlib.contextmanager
def _only_on(module: nn.Module, tokens: Tensor | None) -> Any:
    """Run the layer's per-token submodules (:data:`PER_TOKEN`) on ``tokens`` of the packed
    sequence only, zeros elsewhere: in the last layer only the rows' last tokens are read, and
    the MLP is most of a layer's cost. Keys and values are still computed for every token."""
    if tokens is None:
        yield
        return
    handles = []
    for name in PER_TOKEN:
        try:
            sub = module.get_submodule(name)
        except AttributeError:
            continue
        shape: list[torch.Size] = []

        def narrow(_: nn.Module, args: tuple, shape: list = shape) -> tuple:
            shape.append(args[0].shape)
            return (args[0].index_select(1, tokens.to(args[0].device)), *args[1:])

        def widen(_: nn.Module, args: tuple, out: Any, shape: list = shape) -> Any:
            full = out.new_zeros(*shape.pop()[:-1], out.shape[-1])
            full[:, tokens.to(out.device)] = out
            return full

        handles += [sub.register_forward_pre_hook(narrow), sub.register_forward_hook(widen)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
