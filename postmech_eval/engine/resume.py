"""Record one forward of a prompt so decoder layers can be re-run from the middle of it.

Why: activation patching at layer l only changes what comes after layer l (and, attention
being causal, after the patched token). To re-run just that part for many patched copies
at once we record, during one clean forward, exactly what each decoder layer received —
hidden states plus every other argument (rotary ``position_embeddings``, attention mask,
``cache_position`` ...) through a ``with_kwargs`` forward pre-hook — and the keys/values
its attention saw. ``run_layer`` then calls a layer directly on a batch of rows with
those arguments. Nothing about the architecture is assumed beyond "a stack of decoder
layers, then the final norm and the unembedding" (``postmech_eval.engine.arch``), and the user of
``run_layer`` (``postmech_eval.engine.patching``) verifies with a control row that resuming
reproduces the clean run.

Positions are negative offsets from the end of the prompt (-1 = last token). Prompts are
single sequences (batch 1, no padding), so a negative offset is one column.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from postmech_eval.engine.arch import decoder_body, get_adapter
from postmech_eval.engine.devices import input_device, weight
from postmech_eval.engine.layer_call import run_layer  # re-exported: resume's callers call layers

__all__ = [
    "Trace",
    "columns_of",
    "first_output",
    "last_logits_only",
    "reusable",
    "run_layer",
    "trace",
    "unembed_last",
    "unembed_rows",
]


@dataclass
class Trace:
    """One clean forward of one prompt, kept so patched runs can resume mid-stack.

    ``resid_post[l]`` is layer l's output [T, d] (model dtype, model device);
    ``calls[l]`` is (args, kwargs) that layer l received, with the hidden states
    removed (``hidden_keys[l]`` says whether they came positionally (None) or by name);
    ``logits_last`` [vocab] are the model's own logits at the last position.
    With ``start`` (a column) the forward ran as prefix [0, start) + suffix [start, T)
    through the model's KV cache: ``calls`` are the suffix's and ``prefix_kv[l]`` holds
    the keys/values layer l's attention saw for the prefix, so patched runs only
    recompute columns >= start (a patch cannot reach earlier tokens: attention is causal).
    ``kv`` (traces made with ``keep_kv``): every layer's (keys, values, n) of the whole prompt,
    reusable as another trace's prefix; ``model_id`` = id() of the model; ``embeds`` [T, d]:
    what the first layer received (whole-prompt traces only).
    """

    input_ids: Tensor
    resid_post: Tensor
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]]
    hidden_keys: list[str | None]
    logits_last: Tensor
    start: int = 0
    prefix_kv: dict[int, tuple[Tensor, Tensor]] | None = None
    kv: dict[int, tuple[Tensor, Tensor, int]] | None = None
    model_id: int = 0
    embeds: Tensor | None = None

    @property
    def n_tokens(self) -> int:
        return int(self.resid_post.shape[1])

    def columns(self, positions: Sequence[int]) -> list[int]:
        """Negative offsets -> column indices, validated against this prompt's length."""
        return columns_of(positions, self.n_tokens)

    def values(self, positions: Sequence[int]) -> Tensor:
        """Donor values for patching: resid_post at ``positions`` for every layer [L, n, d]."""
        return self.resid_post[:, self.columns(positions), :]


def last_logits_only(model: nn.Module) -> dict[str, Any]:
    """``logits_to_keep=1`` where the model takes it: we only read the last position, and the
    unembedding of every position can cost as much as a few decoder layers."""
    return {"logits_to_keep": 1} if _takes_logits_to_keep(type(model)) else {}


@functools.cache
def _takes_logits_to_keep(cls: type) -> bool:  # inspect.signature per forward cost ~50 us
    import inspect

    return "logits_to_keep" in inspect.signature(cls.forward).parameters


def columns_of(positions: Sequence[int], n_tokens: int) -> list[int]:
    cols = []
    for p in positions:
        if not isinstance(p, int) or p >= 0 or -p > n_tokens:
            raise ValueError(
                f"positions must be negative ints in [-{n_tokens}, -1] (offsets from the end of "
                f"the prompt); got {p!r}"
            )
        cols.append(n_tokens + p)
    return cols


def first_output(out: Any) -> Tensor:
    return out[0] if isinstance(out, tuple | list) else out


def unembed_last(model: nn.Module, hidden_last: Tensor) -> Tensor:
    """Logits from last-position residual states [rows, d] -> [rows, vocab].

    Applies the final norm, the output embedding (with its bias, if any) and Gemma-2
    style final logit soft-capping, i.e. what the model's own head does.
    """
    adapter = get_adapter(model)
    logits = model.get_output_embeddings()(adapter.final_norm(hidden_last))
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def unembed_rows(model: nn.Module, hidden_last: Tensor, token_ids: Sequence[int]) -> Tensor:
    """The logits of ``token_ids`` only: [rows, d] -> [rows, len(token_ids)], equal to
    ``unembed_last(...)[:, token_ids]`` (soft-capping is elementwise) without the
    full-vocabulary product, which on a 262k vocabulary costs about as much as every decoder
    layer of a small model for one token."""
    adapter = get_adapter(model)
    head = model.get_output_embeddings()
    normed = adapter.final_norm(hidden_last)
    ids = torch.as_tensor(list(token_ids), dtype=torch.long)
    w = weight(head)
    rows = w[ids.to(w.device)]
    logits = torch.nn.functional.linear(normed.to(rows.device, rows.dtype), rows)
    if getattr(head, "bias", None) is not None:
        logits = logits + weight(head, "bias")[ids.to(w.device)]
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


class _Recorder:
    """Forward hooks that record each decoder layer's call (pre-hook) and output."""

    def __init__(self, layers: Sequence[nn.Module]) -> None:
        n = len(layers)
        self.calls: list[Any] = [None] * n
        self.keys: list[str | None] = [None] * n
        self.outs: list[Any] = [None] * n
        self.first_in: Tensor | None = None  # the first layer's hidden states
        self.handles = []
        for i, layer in enumerate(layers):
            self.handles.append(layer.register_forward_pre_hook(self._pre(i), with_kwargs=True))
            self.handles.append(layer.register_forward_hook(self._post(i)))

    def _pre(self, idx: int):
        def fn(module: nn.Module, args: tuple, kwargs: dict) -> None:
            if args:
                self.calls[idx], self.keys[idx] = (tuple(args[1:]), dict(kwargs)), None
                hidden = args[0]
            else:
                kw = dict(kwargs)
                key = "hidden_states" if "hidden_states" in kw else next(iter(kw))
                hidden = kw.pop(key)
                self.calls[idx], self.keys[idx] = ((), kw), key
            if idx == 0:
                self.first_in = hidden

        return fn

    def _post(self, idx: int):
        def fn(module: nn.Module, args: tuple, output: Any) -> None:
            self.outs[idx] = first_output(output)

        return fn

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        if any(c is None for c in self.calls) or any(o is None for o in self.outs):
            raise RuntimeError("trace: some decoder layers were not called during the forward pass")


def _record_kv(cache: Any, store: dict[int, tuple[Tensor, Tensor, int]]) -> None:
    """Wrap ``cache.update`` (this instance only) to keep the keys/values attention saw:
    store[layer] = (keys, values, number of new columns at the end). No copy: the cache is a
    ``DynamicCache`` of our own that is updated once per layer, and its update returns a new
    tensor (the new keys, or their concatenation to the prefix's) that nothing writes to."""
    update = cache.update

    def recording(key_states: Tensor, value_states: Tensor, layer_idx: int, *a: Any, **kw: Any) -> Any:
        k, v = update(key_states, value_states, layer_idx, *a, **kw)
        store[layer_idx] = (k, v, key_states.shape[-2])
        return k, v

    cache.update = recording


def reusable(prefix: Trace | None, model: nn.Module, ids: Tensor, col: int) -> bool:
    """Can ``prefix`` (a kept-KV trace of the same model) stand in for our first ``col`` tokens?"""
    return (
        prefix is not None
        and prefix.kv is not None
        and prefix.model_id == id(model)
        and prefix.n_tokens >= col
        and torch.equal(prefix.input_ids[:, :col].to(ids.device), ids[:, :col])
        and all(k.shape[-2] == prefix.n_tokens for k, _, _ in prefix.kv.values())
    )


@torch.no_grad()
def trace(
    model: nn.Module,
    input_ids: Tensor,
    start: int | None = None,
    *,
    keep_kv: bool = False,
    prefix: Trace | None = None,
    logits: Tensor | None = None,
) -> Trace:
    """Run ``input_ids`` [1, T] (or [T]) once and record every decoder layer's call and output.

    start: optional negative offset; patched runs on this trace then recompute only
    columns >= start (earlier ones are served from a KV cache), so cells before ``start``
    must be no-ops. keep_kv: also keep this run's keys/values (``Trace.kv``), so that a
    later trace of a prompt with the same leading tokens can pass it as ``prefix`` and skip
    its own prefix forward (e.g. the false prompt of a pair reusing the true prompt's
    few-shot prefix). A ``prefix`` that does not match (other model or tokens) is ignored.
    logits: the prompt's last-position logits when already known (another trace of the same
    prompt): then only the decoder stack runs, without the LM head (on a 262k vocabulary the
    head's product costs as much as many tokens through the layers), and they are reused.
    """
    ids = input_ids.reshape(1, -1) if input_ids.ndim == 1 else input_ids
    if ids.ndim != 2 or ids.shape[0] != 1:
        raise ValueError(f"input_ids must have shape [T] or [1, T]; got {tuple(input_ids.shape)}")
    n_tokens = ids.shape[1]
    col = 0 if start is None else columns_of([start], n_tokens)[0]
    adapter = get_adapter(model)
    ids = ids.to(input_device(model))
    mask = torch.ones_like(ids)
    seen: dict[int, tuple[Tensor, Tensor, int]] = {}
    prefix_out: Tensor | None = None
    kwargs: dict[str, Any] = {"use_cache": False}
    if col > 0 or keep_kv:
        from transformers import DynamicCache

        cache = DynamicCache(config=model.config)
        kwargs = {"past_key_values": cache, "use_cache": True}
        if col > 0 and reusable(prefix, model, ids, col):
            for layer, (k, v, _) in sorted(prefix.kv.items()):  # type: ignore[union-attr]
                cache.update(k[..., :col, :], v[..., :col, :], layer)
            prefix_out = prefix.resid_post[:, :col]  # type: ignore[union-attr]
        elif col > 0:
            rec = _Recorder(adapter.layers)
            try:
                model(
                    input_ids=ids[:, :col], attention_mask=mask[:, :col], **kwargs, **last_logits_only(model)
                )
            finally:
                rec.close()
            prefix_out = torch.stack([o[0] for o in rec.outs])
        _record_kv(cache, seen)
    rec = _Recorder(adapter.layers)
    body = decoder_body(model) if logits is not None else model
    try:
        out = body(input_ids=ids[:, col:], attention_mask=mask, **kwargs, **last_logits_only(body))
    finally:
        rec.close()
    resid = torch.stack([o[0] for o in rec.outs])
    if prefix_out is not None:
        resid = torch.cat([prefix_out.to(resid.dtype), resid], dim=1)
    if logits is not None:
        logits_last = logits
    else:
        logits_last = out.logits[0, -1].float()
        _check_head(model, resid, logits_last)
    prefix_kv = (
        {layer: (k[..., :-n, :], v[..., :-n, :]) for layer, (k, v, n) in seen.items()} if seen else None
    )
    # keys/values of every column, when the cache returned them whole (a sliding-window layer
    # may cut a long prompt's; ``reusable`` then refuses them)
    kv = dict(seen) if keep_kv else None
    embeds = rec.first_in[0] if col == 0 and rec.first_in is not None else None
    return Trace(ids, resid, rec.calls, rec.keys, logits_last, col, prefix_kv, kv, id(model), embeds)


def _check_head(model: nn.Module, resid: Tensor, logits_last: Tensor) -> None:
    """Patched rows are read through ``unembed_last``; it must reproduce the model's own head.
    Checked on a model's first trace (a property of the model, not of the prompt: on a 262k
    vocabulary the product costs as much as several layers, once per trace before)."""
    if getattr(model, "_postmech_head_checked", False):
        return
    own = unembed_last(model, resid[-1, -1:]).float()[0]
    tol = 1e-4 if resid.dtype == torch.float32 else 2e-2
    if (own - logits_last).abs().max() > tol * (1 + logits_last.abs().max()):
        raise RuntimeError(
            "trace: final norm + unembedding of the last layer's output does not reproduce the "
            f"model's logits for model_type={model.config.model_type!r}; the head does more "
            "than postmech_eval.engine.patching.unembed_last knows about"
        )
    model._postmech_head_checked = True  # type: ignore[attr-defined]
