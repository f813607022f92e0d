"""Exact activation patching that resumes mid-stack instead of re-running it.

Why: naive patching runs one full forward per (layer, position) cell, so a heatmap over
L layers and n positions costs L*n forwards, each repeating the layers below the patch
and the tokens before it. Here every cell is still computed exactly, but
- patched runs resume at layer l + 1 from the receiving run's recorded stream
  (``postmech_eval.engine.resume``), for all cells in one growing batch: rows patched at layer l
  join just before layer l + 1, so the heatmap costs L layer calls, not L*n forwards;
- only columns from the receiver's ``start`` on are recomputed, earlier ones come from
  its KV cache (a patch cannot reach earlier tokens), and all rows attend to one shared copy
  of those cached keys (``postmech_eval.engine.prefix_attention``);
- with a receiver traced ``keep_kv``, the rows are packed into one sequence so each row
  recomputes only the columns from its own patched column on
  (``postmech_eval.engine.packed_rows``; ``split="auto"``);
- cells whose patch value equals what the receiver already has (tokens before the first
  difference, within a model) are no-ops and cost nothing.
A control row that patches nothing must reproduce the clean logits; if the KV-cache
resume does not for some architecture we fall back to full prompts, and if even that
fails we raise rather than return silently wrong numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.packed_rows import packable, packed_group
from postmech_eval.engine.resume import (
    Trace,
    reusable,
    run_layer,
    trace,
    unembed_last,
    unembed_rows,
)

log = logging.getLogger(__name__)

#: Maps final-position logits [rows, vocab] to one score per row [rows] (e.g. a logit diff).
Readout = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class LogitDiff:
    """The readout ``logit[plus] - logit[minus]`` (e.g. " TRUE" vs " FALSE").

    Called on logits it is an ordinary :data:`Readout`; patching recognises it and reads
    only those two rows of the unembedding (``unembed_rows``) instead of the whole
    vocabulary, which is exact and, with Gemma's 262k tokens, most of a patched row's cost."""

    plus: int
    minus: int

    def __call__(self, logits: Tensor) -> Tensor:
        return logits[:, self.plus] - logits[:, self.minus]

    def from_hidden(self, model: nn.Module, hidden_last: Tensor) -> Tensor:
        two = unembed_rows(model, hidden_last, (self.plus, self.minus))
        return two[:, 0] - two[:, 1]


__all__ = [
    "LogitDiff",
    "Readout",
    "ResumeMismatch",
    "Trace",
    "patch_cells",
    "run_layer",
    "trace",
    "unembed_last",
]


def layer_groups(layers: list[int], rows_per_layer: int, max_rows: int) -> list[list[int]]:
    """``layers`` in groups of at most ``max_rows // rows_per_layer`` (at least one each)."""
    per_group = max(1, max_rows // max(rows_per_layer, 1))
    return [layers[i : i + per_group] for i in range(0, len(layers), per_group)]


class ResumeMismatch(RuntimeError):
    """Resuming mid-stack with nothing patched did not reproduce the clean run."""


@torch.no_grad()
def patch_cells(
    model: nn.Module,
    receiver: Trace,
    values: Tensor,
    positions: Sequence[int],
    readout: Readout,
    layers: Sequence[int] | None = None,
    max_rows: int = 256,
    split: str = "auto",
) -> Tensor:
    """Score of the receiver's run with resid_post[l] at ``positions[j]`` set to ``values[l, j]``.

    values: [L, n, d] donor activations (e.g. ``donor_trace.values(positions)``; may come
    from another model of the same width). Returns [len(layers), n] float32 scores, one per
    (layer, position) cell, equal (up to float rounding of batched matmuls) to one full
    forward per cell. ``max_rows`` caps the batch; layers are processed in groups of
    ``max_rows // n``. If the receiver was traced with ``start`` and resuming through the
    KV-cache stand-in does not reproduce the clean run for this architecture, the receiver
    is re-traced without a prefix and all columns are recomputed (logged once).
    ``split``: "auto" (cost model), "columns" (one receiver per patched column) or "none";
    it needs a receiver traced with ``keep_kv`` and changes only float rounding.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    adapter = get_adapter(model)
    n_layers = adapter.n_layers
    layers = list(range(n_layers)) if layers is None else sorted(set(layers))
    if not layers or layers[0] < 0 or layers[-1] >= n_layers:
        raise ValueError(f"layers must be a non-empty subset of [0, {n_layers - 1}]; got {layers}")
    cols = receiver.columns(positions)
    if values.ndim != 3 or values.shape[0] != n_layers or values.shape[1] != len(cols):
        raise ValueError(
            f"values must have shape [n_layers={n_layers}, n_positions={len(cols)}, d]; "
            f"got {tuple(values.shape)}"
        )
    noop = noop_cells(receiver, values, cols)
    dead = noop[layers].all(0).tolist()
    live_cols = [c for c, d in zip(cols, dead, strict=True) if not d]
    if live_cols and min(live_cols) < receiver.start:
        raise ValueError(
            f"positions must be >= the receiver's start offset {receiver.start - receiver.n_tokens} "
            f"unless their values equal the receiver's own; got {list(positions)} "
            "(trace the receiver with an earlier start)"
        )
    if split == "auto":
        split = "packed" if packable(receiver) else "none"
    elif split == "packed" and not packable(receiver):
        split = "none"
    args = (values, cols, noop, readout, layers, max_rows)
    resumes = receiver.prefix_kv is not None or (split != "none" and receiver.kv is not None)
    if not resumes:  # nothing is served from a KV cache: nothing to fall back from
        return _patch_cells(model, receiver, *args, split)
    try:
        return _patch_cells(model, receiver, *args, split)
    except (ResumeMismatch, TypeError, AttributeError, KeyError, IndexError, RuntimeError) as err:
        # a RuntimeError (e.g. a shape the packed layout did not foresee) only ends packing;
        # out of memory is the caller's to handle, not a reason to try a bigger batch
        if isinstance(err, torch.OutOfMemoryError) or (type(err) is RuntimeError and split != "packed"):
            raise
        if split == "packed":  # the unpacked rows on the same receiver, then full prompts
            if not getattr(model, "_postmech_packed_warned", False):
                log.warning("patch_cells: packed rows unsupported here (%s); running whole rows", err)
                model._postmech_packed_warned = True  # type: ignore[attr-defined]
            return patch_cells(model, receiver, values, positions, readout, layers, max_rows, "none")
        if not getattr(model, "_postmech_prefix_warned", False):
            log.warning("patch_cells: KV-cache resume unsupported here (%s); recomputing full prompts", err)
            model._postmech_prefix_warned = True  # type: ignore[attr-defined]
        full = trace(model, receiver.input_ids)
        return _patch_cells(model, full, values, cols, noop, readout, layers, max_rows, "none")


def noop_cells(receiver: Trace, values: Tensor, cols: list[int]) -> Tensor:
    """[L, n] True where the patch value equals what the receiver already has there.

    Such a patch leaves the run unchanged, so its score is the clean score and no row is
    run (within-model patching of tokens before the first token where the true and false
    prompts differ). fp32 allows 1e-6 relative float noise (e.g. KV-cached vs plain
    forward); other dtypes require exact equality.
    """
    own = receiver.resid_post[:, cols, :].float()
    diff = (values.to(own.device).float() - own).abs().amax(-1)
    tol = 1e-6 if receiver.resid_post.dtype == torch.float32 else 0.0
    return (diff <= tol * (1 + own.abs().amax(-1))).cpu()


#: ``patch_cells(split=...)`` values: "auto" = "packed" where the receiver kept its keys and
#: values, else "none"; "columns" = one receiver per patched column (an exact alternative).
SPLITS = ("auto", "packed", "columns", "none")


def _buckets(
    model: nn.Module, receiver: Trace, cols: list[int], live: dict[int, list[int]], split: str
) -> list[list[int]]:
    """Live column indices j grouped into receivers, each recomputing from its first column:
    one receiver, or ("columns") one per patched column where the receiver's kept keys/values
    can serve each one's prefix."""
    js = sorted({j for row in live.values() for j in row}, key=lambda j: cols[j])
    if not js:
        return []
    if split != "columns" or not reusable(receiver, model, receiver.input_ids, receiver.n_tokens):
        return [js]
    return [[j for j in js if cols[j] == c] for c in sorted({cols[j] for j in js})]


def _patch_cells(
    model: nn.Module,
    receiver: Trace,
    values: Tensor,
    cols: list[int],
    noop: Tensor,
    readout: Readout,
    layers: list[int],
    max_rows: int,
    split: str,
) -> Tensor:
    clean = readout(receiver.logits_last.unsqueeze(0)).float()[0].cpu()
    scores = clean.repeat(get_adapter(model).n_layers, len(cols))  # [n_layers, n]; no-op cells: clean
    rows = noop.tolist()  # Python bools: no tensor indexing per cell
    live = {layer: [j for j, d in enumerate(rows[layer]) if not d] for layer in layers}
    for bucket in _buckets(model, receiver, cols, live, split):
        first = min(cols[j] for j in bucket)
        sub = receiver
        if first > receiver.start and split != "packed":  # recompute from this column only
            sub = trace(
                model, receiver.input_ids, start=first - receiver.n_tokens, prefix=receiver,
                logits=receiver.logits_last,
            )  # fmt: skip
        members = set(bucket)
        mine = {layer: [j for j in row if j in members] for layer, row in live.items()}
        run_receiver(model, sub, values, cols, mine, readout, layers, max_rows, clean, scores, split)
    return scores[layers]


def run_receiver(
    model: nn.Module,
    receiver: Trace,
    values: Tensor,
    cols: list[int],
    live: dict[int, list[int]],
    readout: Readout,
    layers: list[int],
    max_rows: int,
    clean: Tensor,
    scores: Tensor,
    split: str,
) -> None:
    """The ``live`` cells on one receiver (every patched column >= its start), in row groups
    of whole layers; scores written into ``scores[layer, j]``."""
    n_cols = max((len(row) for row in live.values()), default=1)
    for g, group in enumerate(layer_groups(layers, n_cols, max_rows)):
        if not any(live[layer] for layer in group):
            continue
        control = g == 0  # rows that patch nothing prove resuming reproduces the clean run
        if split == "packed":
            hidden, cells = packed_group(model, receiver, values, cols, group, live, control)
        else:
            hidden, cells = _whole_rows(model, receiver, values, cols, group, live, control)
        if isinstance(readout, LogitDiff):
            out = readout.from_hidden(model, hidden).float().cpu()
        else:
            out = readout(unembed_last(model, hidden).float()).float().cpu()
        n_control = len(out) - len(cells)
        tol = 1e-4 if receiver.resid_post.dtype == torch.float32 else 5e-2
        worst = (out[:n_control] - clean).abs().max() if n_control else torch.tensor(0.0)
        if worst > tol * (1 + clean.abs()):
            raise ResumeMismatch(
                f"patch_cells: resuming from layer {group[0] + 1} with nothing patched is off by "
                f"{worst.item():.3g} from the full forward's {clean.item():.6g}; this architecture "
                "passes state between layers that a forward pre-hook does not see"
            )
        if cells:
            where = torch.tensor(cells)
            scores[where[:, 0], where[:, 1]] = out[n_control:]


def _whole_rows(
    model: nn.Module,
    receiver: Trace,
    values: Tensor,
    cols: list[int],
    group: Sequence[int],
    live: dict[int, list[int]],
    control: bool,
) -> tuple[Tensor, list[tuple[int, int]]]:
    """One group of layers' live cells as rows [rows, n, d] over every recomputed column, run
    to the last layer: the last column's hidden states (the control row first) and the
    (layer, j) of each patched row."""
    n_layers = get_adapter(model).n_layers
    start = receiver.start
    resid = receiver.resid_post[:, start:]
    values = values.to(resid.device, resid.dtype)
    x: Tensor | None = resid[group[0]].unsqueeze(0) if control else None
    cells: list[tuple[int, int]] = []
    for k in range(group[0], n_layers):
        if k in group and live[k]:
            new = resid[k].unsqueeze(0).repeat(len(live[k]), 1, 1)
            rows = torch.arange(len(live[k]), device=new.device)
            new[rows, torch.tensor([cols[j] - start for j in live[k]], device=new.device)] = values[
                k, live[k]
            ]
            cells.extend((k, j) for j in live[k])
            x = new if x is None else torch.cat([x, new])
        if k + 1 < n_layers and x is not None:
            x = run_layer(model, receiver, k + 1, x)
    if x is None:
        raise RuntimeError("patch_cells: no rows were built")
    return x[:, -1], cells
