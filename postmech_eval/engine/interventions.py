"""The interventions of the analyses (add a vector, ablate a direction, patch, ablate
neurons), as frozen dataclasses applied by :func:`intervene` inside a ``with`` block.

Why apart from capture (``postmech_eval.engine.hooks``): these edit the residual stream and
MLP neurons, with per-row vectors and directions so that conditions differing only in them
share one batched forward or ``generate``; capture only reads. Both register on the same
``_HookSet``, so a capture opened inside :func:`intervene` sees the edited values. Positions
are those of :mod:`postmech_eval.engine.hookset`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from postmech_eval.engine.arch import parse_site
from postmech_eval.engine.hookset import Positions, _HookSet, check_positions
from postmech_eval.engine.sites import make_site

__all__ = [
    "AddVector",
    "AblateDirection",
    "Patch",
    "AblateNeurons",
    "Intervention",
    "add_vector",
    "ablate_direction",
    "patch",
    "ablate_neurons",
    "intervene",
]


@dataclass(frozen=True, kw_only=True, eq=False)
class AddVector:
    """x <- x + coeff * vector at ``site`` and ``positions``.

    ``vector`` [d] is added to every row; [batch, d] gives each row its own vector (a zero row
    leaves that row exactly unchanged), so conditions that differ only in the vector share
    one batched forward or ``generate`` call.
    """

    site: str
    vector: torch.Tensor
    coeff: float = 1.0
    positions: Positions = "all"

    def __post_init__(self) -> None:
        parse_site(self.site)
        object.__setattr__(self, "positions", check_positions(self.positions))
        if not isinstance(self.vector, torch.Tensor) or self.vector.dim() not in (1, 2):
            raise ValueError(f"vector must be a tensor [d] or [batch, d]; got {_shape(self.vector)}")


@dataclass(frozen=True, kw_only=True, eq=False)
class AblateDirection:
    """x <- x - (x.r) r (r = direction / |direction|) at ``sites`` and ``positions``.

    ``sites="all"`` = every layer's resid_pre, attn_out and mlp_out (METHODS §4).
    ``direction`` [d] applies to every row; [batch, d] gives each row its own direction, and a
    zero row is not ablated at all (that row is left exactly unchanged).
    """

    direction: torch.Tensor
    sites: Literal["all"] | Sequence[str] = "all"
    positions: Positions = "all"

    def __post_init__(self) -> None:
        if not isinstance(self.direction, torch.Tensor) or self.direction.dim() not in (1, 2):
            raise ValueError(f"direction must be a tensor [d] or [batch, d]; got {_shape(self.direction)}")
        if float(self.direction.norm()) == 0.0:
            raise ValueError("direction must be non-zero; got a zero vector")
        if self.sites != "all":
            if isinstance(self.sites, str):
                object.__setattr__(self, "sites", (self.sites,))
            for s in self.sites:
                parse_site(s)
        object.__setattr__(self, "positions", check_positions(self.positions))


@dataclass(frozen=True, kw_only=True, eq=False)
class Patch:
    """Replace the activation at ``site`` and ``positions`` by ``values``.

    values: [batch, n_positions, d] (batch 1 broadcasts), one slice per position.
    """

    site: str
    values: torch.Tensor
    positions: Positions

    def __post_init__(self) -> None:
        parse_site(self.site)
        object.__setattr__(self, "positions", check_positions(self.positions))
        if not isinstance(self.values, torch.Tensor) or self.values.dim() != 3:
            raise ValueError(f"values must be a tensor [batch, n_pos, d]; got {_shape(self.values)}")
        if not isinstance(self.positions, str) and self.values.shape[1] != len(self.positions):
            raise ValueError(
                f"values must have one slice per position: {len(self.positions)} positions "
                f"{list(self.positions)}; got values.shape[1]={self.values.shape[1]}"
            )


@dataclass(frozen=True, kw_only=True, eq=False)
class AblateNeurons:
    """Set MLP neurons (input of the down projection) of ``layer`` to 0 or their means.

    means: [len(neurons)] or [d_mlp] (then indexed by ``neurons``); required for "mean".
    """

    layer: int
    neurons: Sequence[int]
    mode: Literal["zero", "mean"] = "zero"
    means: torch.Tensor | None = None
    positions: Positions = "all"

    def __post_init__(self) -> None:
        if self.mode not in ("zero", "mean"):
            raise ValueError(f"mode must be 'zero' or 'mean'; got {self.mode!r}")
        if self.mode == "mean" and self.means is None:
            raise ValueError("means must be given when mode='mean'; got None")
        object.__setattr__(self, "neurons", tuple(int(n) for n in self.neurons))
        object.__setattr__(self, "positions", check_positions(self.positions))


Intervention = AddVector | AblateDirection | Patch | AblateNeurons


def _rows(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A per-row tensor [batch, 1, d] checked against the activation's batch."""
    if v.dim() == 3 and v.shape[0] != x.shape[0]:
        raise ValueError(f"per-row vectors have {v.shape[0]} rows; the forward has batch {x.shape[0]}")
    return v


def _direction_groups(r: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(row indices, unit direction) for each distinct non-zero row of r [batch, d]."""
    if r.dim() == 1:
        return []
    groups = []
    for k in torch.unique(r, dim=0):
        if bool(k.any()):
            groups.append(((r == k).all(dim=-1).nonzero().flatten(), k))
    return groups


def _ablate(
    x: torch.Tensor, c: Any, r: torch.Tensor, groups: list[tuple[torch.Tensor, torch.Tensor]]
) -> torch.Tensor:
    """x - (x.r) r for one direction [d], or per row (r [batch, d]): the rows sharing a direction
    get exactly the single-direction arithmetic, rows whose direction is zero are untouched."""
    if r.dim() == 1:
        rr = r.to(x.device, x.dtype)
        return x - (x @ rr).unsqueeze(-1) * rr
    if r.shape[0] != x.shape[0]:
        raise ValueError(f"per-row directions have {r.shape[0]} rows; the forward has batch {x.shape[0]}")
    out = x.clone()
    for rows, k in groups:
        rows = rows.to(x.device)
        rr = k.to(x.device, x.dtype)
        out[rows] = x[rows] - (x[rows] @ rr).unsqueeze(-1) * rr
    return out


def _shape(x: Any) -> str:
    return f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__


def _check_dim(name: str, vec: torch.Tensor, want: int, site: str) -> None:
    if vec.shape[-1] != want:
        raise ValueError(f"{name} for site {site!r} must have size {want}; got {vec.shape[-1]}")


def _register(hs: _HookSet, iv: Intervention) -> None:
    ad = hs.adapter
    if isinstance(iv, AddVector):
        parse_site(iv.site, ad.n_layers)
        _check_dim("vector", iv.vector, ad.site_dim(iv.site), iv.site)
        v = iv.vector.detach() * iv.coeff
        if v.dim() == 2:  # one vector per row: [batch, 1, d] against x [batch, n_pos, d]
            v = v.unsqueeze(1)
        hs.edit(iv.site, iv.positions, lambda x, c: x + _rows(v, x).to(x.device, x.dtype))
    elif isinstance(iv, AblateDirection):
        sites = iv.sites
        if sites == "all":
            sites = ad.sites(("resid_pre", "attn_out", "mlp_out"))
        r = iv.direction.detach().double()
        if r.dim() == 1:
            r = r / r.norm()
        else:  # per row; zero rows stay zero (no ablation)
            norms = r.norm(dim=-1, keepdim=True)
            r = torch.where(norms > 0, r / norms.clamp_min(1e-300), r)
        groups = _direction_groups(r)
        for s in sites:
            parse_site(s, ad.n_layers)
            _check_dim("direction", r, ad.site_dim(s), s)
            hs.edit(s, iv.positions, functools.partial(_ablate, r=r, groups=groups))
    elif isinstance(iv, Patch):
        parse_site(iv.site, ad.n_layers)
        _check_dim("values", iv.values, ad.site_dim(iv.site), iv.site)
        vals = iv.values.detach()

        def put(x: torch.Tensor, c: Any) -> torch.Tensor:
            if vals.shape[0] not in (1, x.shape[0]) or vals.shape[1] != x.shape[1]:
                raise ValueError(
                    f"Patch values for {iv.site!r} have shape {tuple(vals.shape)}; the forward "
                    f"selects [batch={x.shape[0]}, n_pos={x.shape[1]}] (batch 1 broadcasts)"
                )
            return vals.to(x.device, x.dtype).expand(x.shape[0], -1, -1)

        hs.edit(iv.site, iv.positions, put)
    elif isinstance(iv, AblateNeurons):
        site = make_site(iv.layer, "mlp_neurons")
        parse_site(site, ad.n_layers)
        idx = torch.tensor(iv.neurons, dtype=torch.long)
        if idx.numel() and (idx.min() < 0 or idx.max() >= ad.d_mlp):
            raise ValueError(f"neurons must be in [0, {ad.d_mlp - 1}]; got {list(iv.neurons)}")
        if iv.mode == "mean":
            m = iv.means.detach().reshape(-1)  # type: ignore[union-attr]
            if m.numel() == ad.d_mlp and m.numel() != idx.numel():
                m = m[idx]
            if m.numel() != idx.numel():
                raise ValueError(
                    f"means must have len(neurons)={idx.numel()} or d_mlp={ad.d_mlp} entries; got {m.numel()}"
                )
        else:
            m = torch.zeros(idx.numel())

        def set_neurons(x: torch.Tensor, c: Any) -> torch.Tensor:
            x = x.clone()
            x[..., idx.to(x.device)] = m.to(x.device, x.dtype)
            return x

        hs.edit(site, iv.positions, set_neurons)
    else:
        raise TypeError(
            f"interventions must be AddVector, AblateDirection, Patch or AblateNeurons; "
            f"got {type(iv).__name__}"
        )


@contextlib.contextmanager
def intervene(model: nn.Module, interventions: Sequence[Intervention]) -> Iterator[None]:
    """Apply several interventions at once (registered in order) inside the block."""
    hs = _HookSet(model)
    try:
        for iv in interventions:
            _register(hs, iv)
        yield
    finally:
        hs.close()


def add_vector(
    model: nn.Module,
    site: str,
    vector: torch.Tensor,
    coeff: float = 1.0,
    positions: Positions = "all",
) -> contextlib.AbstractContextManager[None]:
    """Context manager: x <- x + coeff * vector at ``site``."""
    return intervene(model, [AddVector(site=site, vector=vector, coeff=coeff, positions=positions)])


def ablate_direction(
    model: nn.Module,
    direction: torch.Tensor,
    sites: Literal["all"] | Sequence[str] = "all",
    positions: Positions = "all",
) -> contextlib.AbstractContextManager[None]:
    """Context manager: project ``direction`` out at ``sites`` (default METHODS §4 set)."""
    return intervene(model, [AblateDirection(direction=direction, sites=sites, positions=positions)])


def patch(
    model: nn.Module, site: str, values: torch.Tensor, positions: Positions
) -> contextlib.AbstractContextManager[None]:
    """Context manager: replace ``site`` at ``positions`` by cached ``values``."""
    return intervene(model, [Patch(site=site, values=values, positions=positions)])


def ablate_neurons(
    model: nn.Module,
    layer: int,
    neurons: Sequence[int],
    mode: Literal["zero", "mean"] = "zero",
    means: torch.Tensor | None = None,
    positions: Positions = "all",
) -> contextlib.AbstractContextManager[None]:
    """Context manager: zero- or mean-ablate MLP neurons of ``layer``."""
    return intervene(
        model,
        [AblateNeurons(layer=layer, neurons=neurons, mode=mode, means=means, positions=positions)],
    )
