"""Patched rows packed into one sequence, so each row recomputes only its own columns.

Why: a cell patched at column c changes only columns >= c. In a [rows, n] batch every row
recomputes all n of the receiver's recomputed columns, most of them clean for most rows. Packed,
the rows' own tokens run through a layer as one sequence [1, N, d]: norms, projections and the
MLP (most of a layer's cost) do exactly the tokens the cells need, about half on a heatmap whose
positions reach back from the last token. Only attention needs the rows apart:
``prefix_attention`` lays the tokens out right-aligned in [rows, n], fills each row's earlier
columns with the receiver's clean keys/values (what that row would recompute there: a patch
cannot reach earlier columns), attends as for unpacked rows and reads the tokens back.
Layer arguments given per column (rotary embeddings, position ids) are gathered to each packed
token's column (``postmech_eval.engine.layer_call``). Two control rows that patch nothing, one
whole and one only the last column, must reproduce the clean run; a width-1 row computed at the
wrong position would not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.layer_call import run_layer
from postmech_eval.engine.resume import Trace


@dataclass(frozen=True)
class Packing:
    """Where each packed token sits: row ``flat // width``, column ``slot`` (0 = the
    receiver's first recomputed column); ``clean`` = the layer's clean keys/values over those
    columns [1, Hkv, width, d], bound per layer call by the KV stand-in; ``last``: the packed
    indices of the only tokens whose output is read (the rows' last tokens, in the last layer),
    None for all."""

    rows: int
    width: int
    slot: Tensor
    flat: Tensor
    clean: tuple[Tensor, Tensor] | None = None
    last: Tensor | None = None
    receiver: Tensor | None = None
    record: dict[int, tuple[Tensor, Tensor]] | None = None

    def bind(self, keys: Tensor, values: Tensor) -> Packing:
        return replace(self, clean=(keys, values))

    def bind_layer(self, layer: int, keys: Tensor, values: Tensor, new_k: Tensor, new_v: Tensor) -> Packing:
        """Bind one layer's clean keys/values over the recomputed columns: ``keys``/``values``
        [1, Hkv, width, d] from a trace; with ``receiver`` (``prompt_rows``: the receiving
        prompt is itself a packed row, the tokens at those packed indices, in column order) its
        columns come from this very call's new keys ``new_k`` [1, Hkv, N, d], recorded per layer."""
        if self.receiver is None:
            return self.bind(keys, values)
        idx = self.receiver.to(new_k.device)
        own_k, own_v = new_k.index_select(-2, idx), new_v.index_select(-2, idx)
        if self.record is not None:
            self.record[layer] = (own_k, own_v)
        lo = self.width - idx.numel()
        return self.bind(
            torch.cat([keys[..., :lo, :], own_k], -2), torch.cat([values[..., :lo, :], own_v], -2)
        )

    def _padded(self, own: Tensor, clean: Tensor) -> Tensor:
        """Own keys [1, Hkv, N, d] -> [rows * width, Hkv, d], clean ones where a row has none."""
        if clean.shape[-2] != self.width:
            raise TypeError(f"Packing: clean keys cover {clean.shape[-2]} columns, not {self.width}")
        r, w = self.rows, self.width
        full = clean[0].transpose(0, 1).unsqueeze(0).expand(r, -1, -1, -1).reshape(r * w, own.shape[1], -1)
        full[self.flat.to(own.device)] = own[0].transpose(0, 1).to(full.dtype)
        return full

    def _rows(self, own: Tensor, clean: Tensor) -> Tensor:
        """Own keys [1, Hkv, N, d] -> [Hkv, rows * width, d] (head-major), clean ones where a
        row has none."""
        if clean.shape[-2] != self.width:
            raise TypeError(f"Packing: clean keys cover {clean.shape[-2]} columns, not {self.width}")
        hkv, w = own.shape[1], self.width
        full = clean[0].unsqueeze(1).expand(hkv, self.rows, w, -1).reshape(hkv, self.rows * w, -1)
        full[:, self.flat.to(own.device)] = own[0].to(full.dtype)
        return full

    def pad(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """[1, H, N, d] packed -> [rows, H, width, d] right-aligned (clean keys/values, zero
        queries where a row has no token of its own)."""
        if self.clean is None:
            raise TypeError("Packing.pad: no clean keys/values bound for this layer")
        r, w = self.rows, self.width
        q = query.new_zeros(r * w, query.shape[1], query.shape[-1])
        q[self.flat.to(query.device)] = query[0].transpose(0, 1)
        k, v = self._padded(key, self.clean[0]), self._padded(value, self.clean[1])
        return tuple(t.view(r, w, *t.shape[1:]).transpose(1, 2) for t in (q, k, v))  # type: ignore[return-value]

    def unpad(self, out: Tensor) -> Tensor:
        """[rows, width, H, d] -> [1, N, H, d], the packed tokens only."""
        return out.reshape(self.rows * self.width, *out.shape[2:])[self.flat.to(out.device)].unsqueeze(0)

    def attend(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        prefix: tuple[Tensor, Tensor],
        own_bias: Tensor,
        scale: float,
        softcap: float | None,
    ) -> Tensor:
        """Attention of the packed queries that are read (all, or ``last``): [1, H, N, d] ->
        [1, N, H, d] (zeros for tokens not read). Each query's scores against the shared
        prefix are one product without padding; only its own row's ``width`` columns are
        scored in the padded [rows, width] layout. ``own_bias`` [width, width] is the additive
        causal mask among the recomputed columns (every prefix column is visible)."""
        if self.clean is None:
            raise TypeError("Packing.attend: no clean keys/values bound for this layer")
        pk, pv = prefix
        r, w = self.rows, self.width
        _, h, n, d = query.shape
        hkv, p = key.shape[1], pk.shape[-2]
        g = h // hkv
        dev = query.device
        sel = None if self.last is None else self.last.to(dev)
        flat, slot = self.flat.to(dev), self.slot.to(dev)
        if sel is not None:
            flat, slot = flat[sel], slot[sel]
        m = flat.numel()
        # head-major [Hkv, g, tokens, d] throughout (GQA: query head i reads kv head i // g)
        q = torch.empty((h, m, d), dtype=query.dtype, device=dev)  # contiguous, scaled in one pass
        torch.mul(query[0] if sel is None else query[0].index_select(1, sel), scale, out=q)
        q = q.view(hkv, g, m, d)
        s_pre = torch.matmul(q.view(hkv, g * m, d), pk[0].transpose(-1, -2)).view(hkv, g, m, p)
        k, v = self._rows(key, self.clean[0]), self._rows(value, self.clean[1])  # [Hkv, r*w, d]
        q_pad = q.new_zeros(hkv, g, r * w, d)
        q_pad[:, :, flat] = q
        s_rows = torch.matmul(q_pad.view(hkv, g, r, w, d), k.view(hkv, 1, r, w, d).transpose(-1, -2))
        s_own = s_rows.view(hkv, g, r * w, w)[:, :, flat]  # [Hkv, g, m, w]
        scores = torch.cat([s_pre, s_own], dim=-1)
        if softcap:
            scores = torch.tanh(scores / softcap) * softcap
        scores[..., p:] += own_bias[slot]
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
        out = torch.matmul(probs[..., :p].reshape(hkv, g * m, p), pv[0]).view(hkv, g, m, d)
        p_rows = probs.new_zeros(hkv, g, r * w, w)
        p_rows[:, :, flat] = probs[..., p:]
        o_rows = torch.matmul(p_rows.view(hkv, g, r, w, w), v.view(hkv, 1, r, w, d))
        out = out + o_rows.view(hkv, g, r * w, d)[:, :, flat]
        out = out.permute(2, 0, 1, 3).reshape(m, h, d)  # [m, Hkv, g, d] -> [m, H, d]
        if self.last is None:
            return out.unsqueeze(0)
        full = out.new_zeros(n, h, d)
        full[sel] = out
        return full.unsqueeze(0)


def packable(receiver: Trace) -> bool:
    """Packing needs the receiver's keys/values of every column (a ``keep_kv`` trace whose
    cache kept them whole; a sliding-window layer may cut a long prompt's)."""
    return (
        receiver.kv is not None
        and receiver.prefix_kv is not None
        and receiver.n_tokens - receiver.start > 1
        and all(k.shape[-2] == receiver.n_tokens for k, _, _ in receiver.kv.values())
    )


class PackedRows:
    """The packed sequence as it grows: each token's column (``slot``, 0 = the receiver's
    first recomputed column) and row, each row's last token (``ends``) and the hidden states
    ``x`` [1, N, d]. Rows join before the layer that first recomputes them."""

    def __init__(self, width: int, device: torch.device) -> None:
        empty = torch.empty(0, dtype=torch.long, device=device)
        self.width, self.device = width, device
        self.slot, self.row_of, self.ends = empty, empty, empty
        self.x: Tensor | None = None

    def add(self, source: Tensor, firsts: list[int], skip: int = 0, patch: Tensor | None = None) -> Tensor:
        """New rows recomputing columns [first, width) each, from ``source`` [width, d] (the
        hidden states they start from), with ``patch`` [rows - skip, d] at the first column of
        every row after the first ``skip``. Returns the new tokens' packed indices."""
        dev = self.device
        first = torch.tensor(firsts, device=dev)
        lengths = self.width - first
        offsets = torch.cumsum(lengths, 0) - lengths  # each new row's first token, from 0
        new_slot = torch.arange(int(lengths.sum()), device=dev) - torch.repeat_interleave(
            offsets - first, lengths
        )
        new = source.index_select(0, new_slot)
        if patch is not None and len(firsts) > skip:
            new[offsets[skip:]] = patch
        n_before, rows_before = int(self.slot.numel()), int(self.ends.numel())
        self.ends = torch.cat([self.ends, n_before + offsets + lengths - 1])
        rows = torch.arange(len(firsts), device=dev) + rows_before
        self.row_of = torch.cat([self.row_of, torch.repeat_interleave(rows, lengths)])
        self.slot = torch.cat([self.slot, new_slot])
        self.x = new.unsqueeze(0) if self.x is None else torch.cat([self.x, new.unsqueeze(0)], 1)
        return torch.arange(n_before, n_before + new_slot.numel(), device=dev)

    def packing(self, **kw: object) -> Packing:
        return Packing(
            int(self.ends.numel()), self.width, self.slot, self.row_of * self.width + self.slot, **kw
        )  # type: ignore[arg-type]


def packed_group(
    model: nn.Module,
    receiver: Trace,
    values: Tensor,
    cols: list[int],
    group: Sequence[int],
    live: dict[int, list[int]],
    control: bool,
) -> tuple[Tensor, list[tuple[int, int]]]:
    """One group of layers' live cells as packed rows, run to the last layer.

    Returns the last-column hidden states [rows, d] (control rows first, when ``control``)
    and the (layer, j) of each non-control row."""
    n_layers = get_adapter(model).n_layers
    start, width = receiver.start, receiver.n_tokens - receiver.start
    resid = receiver.resid_post[:, start:]
    values = values.to(resid.device, resid.dtype)
    rows = PackedRows(width, resid.device)
    cells: list[tuple[int, int]] = []
    packing: Packing | None = None
    for k in range(group[0], n_layers):
        mine = live[k] if k in group else []
        skip = 2 if (k == group[0] and control) else 0  # the control rows: whole, last column only
        firsts = [0, width - 1][:skip] + [cols[j] - start for j in mine]
        if firsts:
            rows.add(resid[k], firsts, skip, values[k, mine] if mine else None)
            cells.extend((k, j) for j in mine)
            packing = rows.packing()
        if k + 1 < n_layers and rows.x is not None and packing is not None:
            if k + 2 == n_layers:  # the last layer: only the rows' last tokens are read
                packing = replace(packing, last=rows.ends)
            rows.x = run_layer(model, receiver, k + 1, rows.x, packing=packing)
    if rows.x is None:
        raise RuntimeError("patch_cells: no rows were built")
    return rows.x[0, rows.ends], cells
