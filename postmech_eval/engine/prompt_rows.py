"""The receiving prompt computed as one more packed row of its own patched run.

Why: knowledge patching reads the false statement's run as the receiver and patches the true
statement's states into it. The two prompts share every token before the first one where they
differ, so the true prompt's trace already holds the false run's prefix; what is left of the
false run is a few tokens through every layer. As a forward of its own that costs a whole call
of the model (on small models mostly fixed per-call cost: every weight read once, hundreds of
small ops), about as much as all its patched rows' arithmetic. Here those tokens are one more
packed row (``postmech_eval.engine.packed_rows``) in the patched rows' run: layer by layer the
receiver row's output is what the rows patched at that layer start from, and its keys and
values are the clean ones those rows read. The true prompt's recorded layer arguments, cut to
the recomputed columns (``rebased``), serve every row (both prompts have the same length).

Checked on every call: a control row replays the true prompt's own tokens over the same
columns and must reproduce its trace's logits (the model's own forward), and the first layer's
input of the new tokens (the input embedding, with the scale some families apply) must
reproduce what the true prompt's first layer received. Otherwise, or for prompts of another
length, the receiver is traced as before (``resume.trace`` with the true prompt as prefix) and
``patching.patch_cells`` runs on it: the same numbers up to float rounding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor, nn

from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.layer_call import run_layer
from postmech_eval.engine.packed_rows import PackedRows
from postmech_eval.engine.patching import (
    LogitDiff,
    Readout,
    ResumeMismatch,
    layer_groups,
    noop_cells,
    patch_cells,
    run_receiver,
)
from postmech_eval.engine.resume import Trace, reusable, trace, unembed_last

log = logging.getLogger(__name__)

__all__ = ["patch_prompt", "qualifies", "rebased"]


def rebased(whole: Trace, col: int) -> Trace:
    """A whole-prompt ``keep_kv`` trace as if its first ``col`` tokens had run as a cached
    prefix: every recorded per-column argument cut to columns >= ``col`` (rotary tables and
    position ids [1, T, ...], ``cache_position`` [T], masks [.., T, T] to their last T - col
    query rows: masks are functions of the query and key positions), the kept keys/values as
    prefix. What a resumed layer call then receives is what the suffix forward would pass."""
    n = whole.n_tokens
    if whole.kv is None or whole.start != 0:
        raise ValueError("rebased: needs a whole-prompt trace made with keep_kv")

    def cut(obj: Any) -> Any:
        if isinstance(obj, Tensor):
            if obj.ndim == 4 and obj.shape[-2:] == (n, n):
                return obj[..., col:, :]
            if obj.ndim == 1 and obj.shape[0] == n:
                return obj[col:]
            if obj.ndim in (2, 3) and obj.shape[0] == 1 and obj.shape[1] == n:
                return obj[:, col:]
            return obj
        if isinstance(obj, tuple | list):
            return type(obj)(cut(o) for o in obj)
        if isinstance(obj, dict):
            return {k: cut(v) for k, v in obj.items()}
        return obj

    calls = [(cut(args), cut(kwargs)) for args, kwargs in whole.calls]
    prefix_kv = {layer: (k[..., :col, :], v[..., :col, :]) for layer, (k, v, _) in whole.kv.items()}
    kv = {layer: (k, v, n - col) for layer, (k, v, _) in whole.kv.items()}
    return replace(whole, calls=calls, start=col, prefix_kv=prefix_kv, kv=kv, embeds=None)


def _first_inputs(model: nn.Module, prefix: Trace, ids: Tensor) -> Tensor | None:
    """What the first decoder layer receives for ``ids`` [1, m]: the input embedding, scaled by
    sqrt(d) where the family does so outside the embedding module (Gemma 1/2). None unless
    that reproduces, bit for bit, what ``prefix``'s first layer received (e.g. GPT-2 adds
    position embeddings: such a model is traced as before)."""
    if prefix.embeds is None:
        return None
    embed = model.get_input_embeddings()
    own = embed(prefix.input_ids)[0]
    for scale in (None, float(model.config.hidden_size) ** 0.5):
        ref = own if scale is None else own * torch.tensor(scale, dtype=own.dtype)
        if ref.shape == prefix.embeds.shape and torch.equal(ref, prefix.embeds):
            new = embed(ids)[0]
            return new if scale is None else new * torch.tensor(scale, dtype=new.dtype)
    return None


@torch.no_grad()
def patch_prompt(
    model: nn.Module,
    prefix: Trace,
    input_ids: Tensor,
    values: Tensor,
    positions: Sequence[int],
    readout: Readout,
    layers: Sequence[int] | None = None,
    max_rows: int = 256,
) -> tuple[Tensor, Trace]:
    """``patch_cells`` into the run of ``input_ids`` (a prompt sharing ``prefix``'s first
    tokens, e.g. a pair's false statement after its true one), that run computed in the same
    pass. ``prefix``: a whole-prompt ``trace(..., keep_kv=True)`` of the same model. Returns
    the [len(layers), n] scores and the receiver's trace (resid_post, kept keys/values, logits:
    what ``trace(model, input_ids, start=..., prefix=prefix, keep_kv=True)`` gives, up to
    float rounding; it recomputes from the first column a live cell or the first differing
    token needs)."""
    ids = input_ids.reshape(1, -1) if input_ids.ndim == 1 else input_ids
    ids = ids.to(prefix.input_ids.device)  # the model's input device (``trace`` put them there)
    n = ids.shape[1]
    cols = prefix.columns(positions) if prefix.n_tokens == n else []
    plan = _plan(model, prefix, ids, cols) if cols else None
    if plan is not None:
        try:
            return _fused(model, prefix, ids, values, cols, readout, layers, max_rows, *plan)
        except (ResumeMismatch, TypeError, AttributeError, KeyError, IndexError, RuntimeError) as err:
            if isinstance(err, torch.OutOfMemoryError):
                raise
            if not getattr(model, "_postmech_prompt_rows_warned", False):
                log.warning("patch_prompt: receiver as a packed row unsupported here (%s); tracing it", err)
                model._postmech_prompt_rows_warned = True  # type: ignore[attr-defined]
    start = min(positions[0], _first_difference(prefix, ids) - n) if prefix.n_tokens == n else positions[0]
    receiver = trace(model, ids, start=start, prefix=prefix, keep_kv=True)
    return patch_cells(model, receiver, values, positions, readout, layers, max_rows), receiver


def qualifies(model: nn.Module, prefix: Trace, input_ids: Tensor, positions: Sequence[int]) -> bool:
    """Whether ``patch_prompt`` computes this receiver as a packed row (else it traces it):
    same length as ``prefix``, a shared first token, first-layer inputs it can reproduce."""
    ids = input_ids.reshape(1, -1) if input_ids.ndim == 1 else input_ids
    if prefix.n_tokens != ids.shape[1]:
        return False
    return _plan(model, prefix, ids.to(prefix.input_ids.device), prefix.columns(positions)) is not None


def _first_difference(prefix: Trace, ids: Tensor) -> int:
    differ = (prefix.input_ids[0].to(ids.device) != ids[0]).nonzero()
    return int(differ[0]) if differ.numel() else ids.shape[1]


def _plan(model: nn.Module, prefix: Trace, ids: Tensor, cols: list[int]) -> tuple[int, Tensor] | None:
    """(first differing column, the new tokens' first-layer inputs) when the receiver can be a
    packed row on ``prefix`` (a shared first token, two or more new ones); None otherwise."""
    first = _first_difference(prefix, ids)
    if not (1 <= min(cols[0], first) and first < ids.shape[1] - 1):
        return None
    if prefix.start != 0 or not reusable(prefix, model, ids, first):
        return None
    inputs = _first_inputs(model, prefix, ids[:, first:])
    return None if inputs is None else (first, inputs)


def _fused(
    model: nn.Module,
    prefix: Trace,
    ids: Tensor,
    values: Tensor,
    cols: list[int],
    readout: Readout,
    layers: Sequence[int] | None,
    max_rows: int,
    first: int,
    inputs: Tensor,
) -> tuple[Tensor, Trace]:
    n_layers = get_adapter(model).n_layers
    layers = list(range(n_layers)) if layers is None else sorted(set(layers))
    if not layers or layers[0] < 0 or layers[-1] >= n_layers:
        raise ValueError(f"layers must be a non-empty subset of [0, {n_layers - 1}]; got {layers}")
    if values.ndim != 3 or values.shape[0] != n_layers or values.shape[1] != len(cols):
        raise ValueError(
            f"values must have shape [n_layers={n_layers}, n_positions={len(cols)}, d]; got {tuple(values.shape)}"
        )
    # before the first differing token the receiver's states are the prefix's own
    noop = noop_cells(prefix, values, cols) & torch.tensor([c < first for c in cols])
    noop_rows = noop.tolist()
    live = {k: [j for j, d in enumerate(noop_rows[k]) if not d] for k in layers}
    col = min([first] + [cols[j] for row in live.values() for j in row])  # the first recomputed column
    base = rebased(prefix, col)
    width, lo = ids.shape[1] - col, first - col
    group = layer_groups(layers, max((len(r) for r in live.values()), default=1), max_rows)[0]
    resid = prefix.resid_post[:, col:].clone()  # the receiver's, its columns >= first filled per layer
    vals = values.to(resid.device, resid.dtype)
    rows = PackedRows(width, resid.device)
    own = rows.add(torch.cat([prefix.embeds[col:first], inputs.to(resid.dtype)]), [lo])  # type: ignore[index]
    rows.add(prefix.embeds[col:], [lo])  # type: ignore[index]  # control: the prefix's own tokens
    record: dict[int, tuple[Tensor, Tensor]] = {}
    cells: list[tuple[int, int]] = []
    for k in range(n_layers):
        packing = rows.packing(receiver=own, record=record)
        if k + 1 == n_layers:  # only the rows' last tokens (and the receiver's states) are read
            packing = replace(packing, last=torch.unique(torch.cat([own, rows.ends])))
        rows.x = run_layer(model, base, k, rows.x, packing=packing)  # type: ignore[arg-type]
        resid[k, lo:] = rows.x[0, own]  # type: ignore[index]
        mine = live[k] if k in group else []
        skip = 2 if k == group[0] else 0  # controls resumed from here: whole, last column only
        firsts = [0, width - 1][:skip] + [cols[j] - col for j in mine]
        if firsts:
            rows.add(resid[k], firsts, skip, vals[k, mine] if mine else None)
            cells.extend((k, j) for j in mine)
    hidden = rows.x[0, rows.ends]  # type: ignore[index]
    if isinstance(readout, LogitDiff):
        out = readout.from_hidden(model, hidden).float().cpu()
    else:
        out = readout(unembed_last(model, hidden).float()).float().cpu()
    logits = unembed_last(model, hidden[:1]).float()[0]
    receiver = _receiver_trace(prefix, base, ids, resid, record, logits, first)
    clean = readout(logits.unsqueeze(0)).float()[0].cpu()
    tol = 1e-4 if resid.dtype == torch.float32 else 5e-2
    expected = torch.stack([readout(prefix.logits_last.unsqueeze(0)).float()[0].cpu(), clean, clean])
    worst = (out[1:4] - expected).abs().max()
    if worst > tol * (1 + expected.abs().max()):
        raise ResumeMismatch(
            f"patch_prompt: the receiver as a packed row is off by {worst.item():.3g} on its control rows"
        )
    scores = clean.repeat(n_layers, len(cols))
    if cells:
        where = torch.tensor(cells)
        scores[where[:, 0], where[:, 1]] = out[4:]
    rest = [k for k in layers if k not in group]
    if rest:
        rest_live = {k: live[k] for k in rest}
        run_receiver(
            model, receiver, values, cols, rest_live, readout, rest, max_rows, clean, scores, "packed"
        )
    return scores[layers], receiver


def _receiver_trace(
    prefix: Trace,
    base: Trace,
    ids: Tensor,
    resid: Tensor,
    record: dict[int, tuple[Tensor, Tensor]],
    logits: Tensor,
    first: int,
) -> Trace:
    """The receiver's run as a ``Trace`` resumable from ``base.start`` (its keys/values kept)."""
    col = base.start
    kv: dict[int, tuple[Tensor, Tensor, int]] = {}
    for layer, (k, v, _) in prefix.kv.items():  # type: ignore[union-attr]
        nk, nv = record[layer]
        kv[layer] = (
            torch.cat([k[..., :first, :], nk], -2),
            torch.cat([v[..., :first, :], nv], -2),
            ids.shape[1] - col,
        )
    return replace(
        base,
        input_ids=ids,
        resid_post=torch.cat([prefix.resid_post[:, :col], resid], 1),
        logits_last=logits,
        kv=kv,
    )
