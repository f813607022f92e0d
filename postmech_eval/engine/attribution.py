"""Attribution patching of several prompts in one forward and one backward pass.

Why: attribution patching (``patching.attribution_cells``) estimates every cell of a
heatmap from one forward + one backward on the receiving prompt. On a small model that
pass is mostly per-call overhead (a hook per layer, autograd set-up), so the knowledge
analysis' pairs are estimated a chunk at a time: the prompts are right-padded into one
batch (each pad sits after its row's last token and is masked, so no real token attends to
one, and real tokens keep their positions), each row's score is read at its own last
token, and the gradient of the rows' summed scores is each row's own gradient (rows do not
interact). The result equals per-prompt calls up to float rounding (a test).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from postmech_eval.engine.arch import decoder_body, get_adapter
from postmech_eval.engine.devices import input_device
from postmech_eval.engine.patching import LogitDiff, Readout, attribution_cells
from postmech_eval.engine.resume import columns_of, first_output

__all__ = ["attribution_batch"]


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
    adapter = get_adapter(model)
    rows = [p.reshape(-1) for p in prompts]
    lengths = [int(r.shape[0]) for r in rows]
    cols = [columns_of(pos, n) for pos, n in zip(positions, lengths, strict=True)]
    width = max(lengths)
    dev = input_device(model)
    ids = torch.stack([torch.cat([r, r[-1:].expand(width - len(r))]) for r in rows]).to(dev)
    mask = (torch.arange(width).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).long().to(dev)
    outs: list[Tensor] = []
    handles = []

    def make_input_leaf(module: nn.Module, args: tuple, kwargs: dict) -> Any:
        # Frozen weights would leave the graph empty; a leaf at the stack's input fixes that.
        if args:
            return (args[0].detach().requires_grad_(True), *args[1:]), kwargs
        key = "hidden_states" if "hidden_states" in kwargs else next(iter(kwargs))
        return args, {**kwargs, key: kwargs[key].detach().requires_grad_(True)}

    try:
        handles.append(adapter.layers[0].register_forward_pre_hook(make_input_leaf, with_kwargs=True))
        for layer in adapter.layers:
            handles.append(layer.register_forward_hook(lambda m, a, o: outs.append(first_output(o))))
        with torch.enable_grad():
            decoder_body(model)(input_ids=ids, attention_mask=mask, use_cache=False)
            last = torch.arange(len(rows), device=outs[-1].device)
            ends = torch.tensor([n - 1 for n in lengths], device=outs[-1].device)
            scores = readout.from_hidden(model, outs[-1][last, ends]).float()
            grads = torch.autograd.grad(scores.sum(), outs)
    finally:
        for h in handles:
            h.remove()
    result = []
    for b, (v, c) in enumerate(zip(values, cols, strict=True)):
        hidden = torch.stack([o[b, c] for o in outs]).detach().float()  # [L, n, d]
        grad = torch.stack([g[b, c] for g in grads]).float()
        delta = ((v.to(hidden.device).float() - hidden) * grad).sum(-1)
        result.append((scores[b].detach() + delta).cpu())
    return result
