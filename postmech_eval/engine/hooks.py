"""Capture (and, re-exported from ``postmech_eval.engine.interventions``, the intervention
primitives) on plain PyTorch hooks, as context managers.

Why: the analyses read and write the residual stream and MLP neurons at named
sites of HF models, in plain forwards and in KV-cache generation, with
batches left-padded. Hooks live only inside ``with`` blocks and are removed in
``finally``; nothing in the model is swapped out.

Positions (``Positions``): ``"all"`` (prompt and generated tokens),
``"generated"`` (decode steps only) or negative ints counted from the end of
the prompt (``-1`` = last prompt token; prefill only). How they map to columns
of each forward is documented in :mod:`postmech_eval.engine.hookset`.

Hooks on one site run in registration order, so a :func:`capture` opened
inside :func:`intervene` sees the edited values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from postmech_eval.engine.arch import parse_site
from postmech_eval.engine.hookset import Positions, _HookSet, check_positions, last, prompt_length
from postmech_eval.engine.interventions import (
    AblateDirection,
    AblateNeurons,
    AddVector,
    Intervention,
    Patch,
    ablate_direction,
    ablate_neurons,
    add_vector,
    intervene,
    patch,
)

__all__ = [
    "Positions",
    "ActivationCache",
    "AddVector",
    "AblateDirection",
    "Patch",
    "AblateNeurons",
    "Intervention",
    "capture",
    "add_vector",
    "ablate_direction",
    "patch",
    "ablate_neurons",
    "intervene",
    "prompt_length",
    "check_positions",
    "last",
]


# --------------------------------------------------------------------------- capture
@dataclass
class ActivationCache:
    """Captured activations: ``cache[site] -> [batch, n_positions, d]`` float32 CPU.

    Forwards of one generation (KV-cache decode steps) are concatenated along
    positions; separate fresh forwards ("runs") are concatenated along batch.
    """

    runs_: dict[str, list[list[torch.Tensor]]] = field(default_factory=dict)

    def _append(self, site: str, x: torch.Tensor, new_run: bool) -> None:
        runs = self.runs_.setdefault(site, [])
        if new_run or not runs:
            runs.append([])
        runs[-1].append(x)

    def _finalize(self) -> None:
        for runs in self.runs_.values():
            for chunks in runs:
                chunks[:] = [c.to("cpu", torch.float32) for c in chunks]

    def runs(self, site: str) -> list[torch.Tensor]:
        """One tensor [batch, n_pos, d] per fresh forward (prefill) with its decode steps."""
        if site not in self.runs_:
            raise KeyError(f"site {site!r} was not captured; captured: {sorted(self.runs_)}")
        return [torch.cat(c, dim=1) for c in self.runs_[site]]

    def __getitem__(self, site: str) -> torch.Tensor:
        runs = self.runs(site)
        if len({r.shape[1] for r in runs}) > 1:
            raise ValueError(
                f"site {site!r}: runs have different numbers of positions "
                f"{[r.shape[1] for r in runs]}; use cache.runs(site) or capture per batch"
            )
        return runs[0] if len(runs) == 1 else torch.cat(runs, dim=0)

    def __contains__(self, site: object) -> bool:
        return site in self.runs_

    def keys(self) -> list[str]:
        return list(self.runs_)

    def items(self) -> list[tuple[str, torch.Tensor]]:
        return [(k, self[k]) for k in self.runs_]

    def to_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.items())


def _capture_into(hs: _HookSet, cache: ActivationCache, site: str, positions: Positions) -> None:
    def fn(x: torch.Tensor) -> None:
        cols = hs.columns(positions)
        sel = x.detach()[:, cols]
        if sel.shape[1] or hs.new_run:
            cache._append(site, sel.clone() if isinstance(cols, slice) else sel, hs.new_run)
        return None

    hs.add(site, fn)


@contextlib.contextmanager
def capture(
    model: nn.Module, sites: Sequence[str], positions: Positions = "all"
) -> Iterator[ActivationCache]:
    """Record activations at ``sites`` for every forward inside the block."""
    if isinstance(sites, str):
        sites = [sites]
    positions = check_positions(positions)
    cache = ActivationCache()
    hs = _HookSet(model)
    try:
        for site in sites:
            parse_site(site, hs.adapter.n_layers)
            _capture_into(hs, cache, site, positions)
        yield cache
    finally:
        hs.close()
        cache._finalize()
