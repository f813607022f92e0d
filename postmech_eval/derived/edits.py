"""Known-effect rewrites of a model: identity, last-MLP permutation, abliteration, planted neuron.

Why: each rewrite changes the weights in a way whose effect on some metric is known from
theory alone, so running the analyses on (model, rewrite) tells a user whether the engine
is exact on their architecture before any real comparison:

- ``identity``: P = B, every cross-model metric at its "no change" value;
- ``permute_last_mlp``: neurons of the last MLP reordered (function-preserving on every
  family): entropy-neuron selection and logit variances map through the permutation;
- ``abliterate``: a direction projected out of every residual write (Arditi et al. 2024's
  weight orthogonalisation): the model then behaves as the original under directional
  ablation of that direction;
- ``plant_entropy_neuron``: one last-layer neuron given a large output vector in the
  unembedding's near-null space: it is an entropy neuron by construction.

Every function returns a new model (a deep copy); the input is never modified.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from postmech_eval.config import UserError
from postmech_eval.derived.layout import getpath, is_conv1d, layout_for, why_not
from postmech_eval.derived.rotate import untie
from postmech_eval.engine.arch import get_adapter


def identity(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with the same weights (a separate object, so hooks never collide)."""
    return copy.deepcopy(model)


# ----------------------------------------------------------------------------- permutation
def _mlp_readers(block: nn.Module, mlp_path: str, down_path: str) -> list[nn.Module]:
    """Every linear layer of the MLP except the down projection (gate, up, fused gate_up, fc)."""
    down = getpath(block, down_path)
    mlp = getpath(block, mlp_path)
    return [m for m in mlp.modules() if hasattr(m, "weight") and m is not down and m.weight.ndim == 2]


@torch.no_grad()
def permute_last_mlp(model: nn.Module, seed: int = 0) -> tuple[nn.Module, torch.Tensor]:
    """(copy, perm): neuron j of the copy's last MLP is neuron ``perm[j]`` of ``model``.

    Reader rows (and biases) and down-projection columns move together, so the MLP output is
    the same sum in another order. A fused gate_up projection (Phi-3) has its two halves
    permuted alike.
    """
    model = copy.deepcopy(model)
    adapter = get_adapter(model)
    block = adapter.layers[-1]
    d_mlp = adapter.d_mlp
    perm = torch.randperm(d_mlp, generator=torch.Generator().manual_seed(seed))
    down_path = adapter.spec.down_proj
    mlp_path = down_path.rsplit(".", 1)[0]
    for reader in _mlp_readers(block, mlp_path, down_path):
        conv = is_conv1d(reader)
        w = reader.weight.data
        width = w.shape[1] if conv else w.shape[0]
        if width % d_mlp:
            raise UserError(f"permute_last_mlp: an MLP layer of width {width} is not a multiple of {d_mlp}")
        full = torch.cat([perm + k * d_mlp for k in range(width // d_mlp)])
        reader.weight.data = w[:, full].contiguous() if conv else w[full].contiguous()
        if getattr(reader, "bias", None) is not None:
            reader.bias.data = reader.bias.data[full].contiguous()
    down = getpath(block, down_path)
    w = down.weight.data
    down.weight.data = w[perm].contiguous() if is_conv1d(down) else w[:, perm].contiguous()
    return model, perm


# ----------------------------------------------------------------------------- abliteration
@torch.no_grad()
def abliterate(model: nn.Module, direction: torch.Tensor) -> nn.Module:
    """A copy with ``direction`` projected out of every residual write: W <- (I - r r^T) W.

    Embeddings, attention and MLP output projections (and their biases) write nothing along
    r afterwards, so the residual stream never holds an r component: the copy computes what
    ``model`` computes under directional ablation x <- x - (x.r) r at every layer input and
    every attention / MLP output. Families whose writes pass through a post-norm gain cannot
    be abliterated exactly in the weights (see :mod:`postmech_eval.derived.layout`).
    """
    layout = layout_for(model)
    if layout is None:
        raise UserError(f"abliteration does not apply to this model: {why_not(model)}")
    model = copy.deepcopy(model)
    untie(model)  # a tied unembedding would lose r too; only the writes are edited
    adapter = get_adapter(model)
    r = direction.detach().double().flatten()
    r = r / r.norm()

    def off(t: torch.Tensor, dim: int) -> None:  # remove r along dimension ``dim`` (size d_model)
        x = t.double().movedim(dim, -1)
        t.copy_((x - (x @ r)[..., None] * r).movedim(-1, dim).to(t.dtype))

    for path in layout.embeds:
        off(getpath(model, path).weight.data, 1)
    for block in adapter.layers:
        for path in layout.writers:
            writer = getpath(block, path)
            off(writer.weight.data, 1 if is_conv1d(writer) else 0)
            if getattr(writer, "bias", None) is not None:
                off(writer.bias.data, 0)
    return model


# ----------------------------------------------------------------------------- planted neuron
@dataclass(frozen=True)
class PlantedNeuron:
    """Where the planted entropy neuron is and what it writes."""

    layer: int
    neuron: int
    direction: torch.Tensor  # unit [d_model], the near-null direction of the unembedding
    norm: float  # |w_i| after planting
    logitvar_ratio: float  # its logit variance / the median neuron's (theory: ~0)


def null_direction(model: nn.Module, chunk: int = 8192) -> tuple[torch.Tensor, float]:
    """(u, ratio): the unit direction whose logit attribution varies least over the vocabulary.

    The effective unembedding is the one METHODS §5 defines: final-norm gain folded in, each
    row centred over the vocab, each vocab column normalised. logitvar(u) is then
    u^T C u / (V - 1) with C the centred second moment of those columns, so u is C's
    eigenvector of smallest eigenvalue (restricted to the complement of 1 for LayerNorm
    families, whose writes are centred). ``ratio`` = its logitvar / the mean eigenvalue's.
    """
    adapter = get_adapter(model)
    w_u = adapter.unembed_weight.detach().to("cpu", torch.float64)  # [V, d]
    gain = adapter.final_norm_weight.detach().to("cpu", torch.float64)
    cols = w_u * gain[None, :]
    cols = cols - cols.mean(dim=0, keepdim=True)  # centre each d_model row over the vocab
    gram = torch.zeros(adapter.d_model, adapter.d_model, dtype=torch.float64)
    total = torch.zeros(adapter.d_model, dtype=torch.float64)
    for start in range(0, cols.shape[0], chunk):
        c = cols[start : start + chunk]
        c = c / c.norm(dim=1, keepdim=True).clamp_min(1e-12)
        gram += c.T @ c
        total += c.sum(0)
    vocab = cols.shape[0]
    cov = gram - torch.outer(total, total) / vocab
    basis = torch.eye(adapter.d_model, dtype=torch.float64)
    if adapter.norm_kind == "layernorm":
        ones = torch.full((adapter.d_model, 1), adapter.d_model**-0.5, dtype=torch.float64)
        basis = torch.linalg.qr(torch.cat([ones, basis[:, : adapter.d_model - 1]], 1))[0][:, 1:]
    evals, evecs = torch.linalg.eigh(basis.T @ cov @ basis)
    u = basis @ evecs[:, 0]
    return u / u.norm(), float(evals[0] / evals.mean())


def _linear_input(block: nn.Module, family: str) -> tuple[nn.Module, slice | None]:
    """The MLP layer whose output the neuron's activation is linear (or ReLU-like) in, and the
    slice of its rows that is the value half for a fused gate_up projection (Phi-3)."""
    if family == "phi3":
        return getpath(block, "mlp.gate_up_proj"), slice(1, 2)  # rows [gate; up]: the up half
    if family == "gpt2":
        return getpath(block, "mlp.c_fc"), None
    if family == "gpt_neox":
        return getpath(block, "mlp.dense_h_to_4h"), None
    return getpath(block, "mlp.up_proj"), None


def _scale_input(model: nn.Module, neuron: int, factor: float) -> None:
    adapter = get_adapter(model)
    module, half = _linear_input(adapter.layers[-1], adapter.family)
    row = neuron + (adapter.d_mlp if half is not None else 0)
    if is_conv1d(module):
        module.weight.data[:, row] *= factor
    else:
        module.weight.data[row, :] *= factor
    if getattr(module, "bias", None) is not None:
        module.bias.data[row] *= factor


def _spread(model: nn.Module, tokenizer: Any, texts: Sequence[str], neuron: int) -> tuple[float, float]:
    """(std of the neuron's activation, rms norm of the final residual) over ``texts``' tokens."""
    from postmech_eval.engine.hooks import capture
    from postmech_eval.engine.sites import make_site

    last = get_adapter(model).n_layers - 1
    sites = [make_site(last, "mlp_neurons"), make_site(last, "resid_post")]
    acts, norms = [], []
    for text in texts:
        ids = tokenizer(text, return_tensors="pt", truncation=True, max_length=128)["input_ids"]
        with capture(model, sites) as cache:
            model(input_ids=ids.to(next(model.parameters()).device), use_cache=False)
        acts.append(cache[sites[0]][0, :, neuron].double().cpu())
        norms.append(cache[sites[1]][0].double().norm(dim=-1).cpu())
    a, n = torch.cat(acts), torch.cat(norms)
    return float(a.std()), float(n.pow(2).mean().sqrt())


@torch.no_grad()
def plant_entropy_neuron(
    model: nn.Module,
    neuron: int = 0,
    scale: float = 4.0,
    *,
    tokenizer: Any = None,
    texts: Sequence[str] = (),
    strength: float = 2.0,
) -> tuple[nn.Module, PlantedNeuron]:
    """A copy whose last-layer MLP neuron ``neuron`` writes ``scale`` x the largest norm along u.

    u = :func:`null_direction`: the neuron then has the largest output norm and a logit
    variance near 0, the two properties METHODS §5 selects on, and it moves the logits only
    through the final norm (Stolfo et al. 2024's entropy neuron). With ``texts`` (and their
    ``tokenizer``), the neuron's value input is rescaled so that the spread of what it writes,
    std(a) |w|, is ``strength`` x the rms norm of the final residual on those texts: a
    measurable effect on a random-init model too. Mean ablation then removes var(a) |w|^2 of
    squared norm on average, the final norm divides by less and next-token entropy falls.
    """
    model = copy.deepcopy(model)
    adapter = get_adapter(model)
    layer = adapter.n_layers - 1
    if not 0 <= neuron < adapter.d_mlp:
        raise UserError(f"neuron must be in [0, {adapter.d_mlp - 1}]; got {neuron}")
    u, ratio = null_direction(model)
    w = adapter.down_proj_weight(layer)  # [d_model, d_mlp] view
    norm = float(scale * w.double().norm(dim=0).max())
    col = (norm * u).to(w.dtype)
    down = adapter.down_proj(layer)
    if adapter.spec.down_weight_transposed:
        down.weight.data[neuron, :] = col
    else:
        down.weight.data[:, neuron] = col
    if texts:
        if tokenizer is None:
            raise TypeError("plant_entropy_neuron: texts need their tokenizer")
        std, rms = _spread(model, tokenizer, texts, neuron)
        if std > 0:
            _scale_input(model, neuron, strength * rms / (std * norm))
    return model, PlantedNeuron(
        layer=layer, neuron=neuron, direction=u.float(), norm=norm, logitvar_ratio=ratio
    )
