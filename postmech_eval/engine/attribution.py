"""Attribution patching: first-order estimates of every patched cell, one prompt or many.

score(l, t) ~ score_clean + (values[l, t] - h_l(t)) . d score / d h_l(t), with the gradient
taken on the receiving (clean) run, from one forward + one backward (Nanda 2023; Syed et al.
2023). The knowledge analysis reports how well it tracks exact patching (``attribution_corr``).

Why a batch: on a small model that pass is mostly per-call overhead (a hook per layer,
autograd set-up), so the analysis estimates a chunk of pairs at once: the prompts are
right-padded into one batch (each pad sits after its row's last token and is masked, so no
real token attends to one, and real tokens keep their positions), each row's score is read at
its own last token, and the gradient of the rows' summed scores is each row's own gradient
(rows do not interact). The result equals per-prompt calls up to float rounding (a test).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from postmech_eval.engine.arch import decoder_body, get_adapter
from postmech_eval.engine.devices import input_device
from postmech_eval.engine.patching import LogitDiff, Readout
from postmech_eval.engine.resume import columns_of, first_output, last_logits_only

__all__ = ["attribution_batch", "attribution_cells"]


@contextlib.contextmanager
def _layer_outputs(model: nn.Module) -> Iterator[list[Tensor]]:
    """Every decoder layer's output of the forward run inside, in a graph that reaches the
    stack's input (frozen weights would leave it empty: a leaf at layer 0's input fixes that)."""
    adapter = get_adapter(model)
    outs: list[Tensor] = []

    def make_input_leaf(module: nn.Module, args: tuple, kwargs: dict) -> Any:
        if args:
            return (args[0].detach().requires_grad_(True), *args[1:]), kwargs
        key = "hidden_states" if "hidden_states" in kwargs else next(iter(kwargs))
        return args, {**kwargs, key: kwargs[key].detach().requires_grad_(True)}

    handles = [adapter.layers[0].register_forward_pre_hook(make_input_leaf, with_kwargs=True)]
    try:
        for layer in adapter.layers:
            handles.append(layer.register_forward_hook(lambda m, a, o: outs.append(first_output(o))))
        with torch.enable_grad():
            yield outs
    finally:
        for h in handles:
            h.remove()


def _estimate(score: Tensor, outs: Sequence[Tensor], grads: Sequence[Tensor], row: int, cols: list[int],
              values: Tensor) -> Tensor:  # fmt: skip
    hidden = torch.stack([o[row, cols] for o in outs]).detach().float()  # [L, n, d]
    grad = torch.stack([g[row, cols] for g in grads]).float()
    delta = ((values.to(hidden.device).float() - hidden) * grad).sum(-1)
    return (score.detach().float() + delta).cpu()


def attribution_cells(
    model: nn.Module, input_ids: Tensor, values: Tensor, positions: Sequence[int], readout: Readout
) -> Tensor:
    """Attribution patching of one prompt: [L, n] float32, same units as ``patch_cells``."""
    ids = input_ids.reshape(1, -1) if input_ids.ndim == 1 else input_ids
    ids = ids.to(input_device(model))
    cols = columns_of(positions, ids.shape[1])
    with _layer_outputs(model) as outs:
        logits = model(
            input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False, **last_logits_only(model)
        ).logits
        score = readout(logits[:, -1].float())[0]
        grads = torch.autograd.grad(score, outs)
    return _estimate(score, outs, grads, 0, cols, values)


def attribution_batch(
    model: nn.Module,
    prompts: Sequence[Tensor],
    values: Sequence[Tensor],
    positions: Sequence[Sequence[int]],
    readout: Readout,
) -> list[Tensor]:
    """``attribution_cells(model, prompts[i], values[i], positions[i], readout)`` for every i,
    computed in one padded batch: a list of [L, n_i] float32 CPU tensors.

    A readout other than :class:`~postmech_eval.engine.patching.LogitDiff` (which reads two
    unembedding rows from each row's own last state) is computed prompt by prompt."""
    if not (len(prompts) == len(values) == len(positions)):
        raise ValueError(
            f"attribution_batch needs one values tensor and one positions list per prompt; got "
            f"{len(prompts)} prompts, {len(values)} values, {len(positions)} positions"
        )
    if len(prompts) < 2 or not isinstance(readout, LogitDiff):
        return [
            attribution_cells(model, p, v, c, readout)
            for p, v, c in zip(prompts, values, positions, strict=True)
        ]
    rows = [p.reshape(-1) for p in prompts]
    lengths = [int(r.shape[0]) for r in rows]
    cols = [columns_of(pos, n) for pos, n in zip(positions, lengths, strict=True)]
    width = max(lengths)
    dev = input_device(model)
    ids = torch.stack([torch.cat([r, r[-1:].expand(width - len(r))]) for r in rows]).to(dev)
    mask = (torch.arange(width).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).long().to(dev)
    with _layer_outputs(model) as outs:
        decoder_body(model)(input_ids=ids, attention_mask=mask, use_cache=False)
        last = outs[-1]
        ends = torch.tensor([n - 1 for n in lengths], device=last.device)
        scores = readout.from_hidden(model, last[torch.arange(len(rows), device=last.device), ends]).float()
        grads = torch.autograd.grad(scores.sum(), outs)
    return [
        _estimate(scores[b], outs, grads, b, c, v) for b, (v, c) in enumerate(zip(values, cols, strict=True))
    ]
