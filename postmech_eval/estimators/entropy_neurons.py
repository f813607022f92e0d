"""Entropy-neuron candidates from weights alone (METHODS §5, selection step).

Why: entropy neurons (Stolfo et al. 2024, "Confidence regulation neurons in
language models") are last-layer MLP neurons with an unusually large output
weight that writes into the unembedding's (near-)null space: they barely move any
logit directly, but they change the residual stream's norm and so, through the
final norm, the temperature of the whole next-token distribution. Both properties
are readable from the weights, so selection needs no data:

- ``norm_i = |w_i|`` with ``w_i`` the neuron's output weight (column ``i`` of the
  down projection, ``d_model`` long; for LayerNorm models centred over ``d_model``
  first, as TransformerLens' ``center_writing_weights`` does);
- ``logitvar_i = var(c_i)``, ``c_i = (w_i / |w_i|) . U`` where ``U`` is the effective
  unembedding ``diag(g) W_U`` (``g`` = final-norm scale, ``1 + weight`` for
  Gemma-style norms), centred over the vocabulary, with every vocab column
  normalised to unit length. ``var`` is torch's default (unbiased); the choice does
  not change any ranking.

Selected: neurons with ``norm`` strictly above the ``norm_quantile`` quantile of all
norms (linear interpolation), then the ``n_neurons`` of those with the lowest
``logitvar`` (ties broken by index).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from postmech_eval.config import UserError
from postmech_eval.engine.arch import get_adapter

__all__ = ["EntropyNeuronScan", "neuron_weight_stats"]


#: Above this many unembedding entries (d_model x vocab) the vocab is streamed in float32
#: chunks (float64 accumulation); below it everything is float64.
_EXACT_LIMIT = 1 << 24
_CHUNK = 1 << 15


def _unembed_moments(w_u: torch.Tensor, gain: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(G = U U^T [d, d], m = U 1 [d], vocab) of the processed unembedding U [d, vocab].

    U = diag(gain) W_U^T, centred over the vocab, each vocab column scaled to unit norm.
    For a unit w, c = w^T U has sum w^T m and sum of squares w^T G w, so the variance of
    every neuron's logit attribution follows from d x d moments: never a d_mlp x vocab
    matrix (Gemma-3's 262k vocab would make that 0.5-4 GB and minutes of CPU).
    """
    vocab, d = w_u.shape
    exact = vocab * d <= _EXACT_LIMIT
    dtype = torch.float64 if exact else torch.float32
    gain = gain.to("cpu", torch.float64)
    row_mean = gain * w_u.to("cpu", torch.float64).mean(dim=0)  # [d]: mean over the vocab
    gram = torch.zeros(d, d, dtype=torch.float64)
    total = torch.zeros(d, dtype=torch.float64)
    for start in range(0, vocab, vocab if exact else _CHUNK):
        chunk = w_u[start : start + (vocab if exact else _CHUNK)].detach().to("cpu", dtype).T  # [d, c]
        u = gain.to(dtype)[:, None] * chunk - row_mean.to(dtype)[:, None]
        u = u / u.norm(dim=0, keepdim=True).clamp_min(1e-12)
        gram += (u @ u.T).double()
        total += u.sum(dim=1).double()
    return gram, total, vocab


def neuron_weight_stats(model: nn.Module, layer: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(norms [d_mlp], logitvar [d_mlp]) of ``layer``'s MLP neurons (default: last layer), float64.

    Computed on CPU in float64 (the unembedding in float32 chunks for large vocabularies)
    so base and post rank their neurons the same way whatever dtype they were loaded in.
    ``logitvar`` is the unbiased variance over the vocab (torch's default ``var``).
    """
    adapter = get_adapter(model)
    if layer is None:
        layer = adapter.n_layers - 1
    if not isinstance(layer, int) or isinstance(layer, bool):
        raise TypeError(f"layer must be an int or None; got {type(layer).__name__}")
    if layer < 0:
        layer += adapter.n_layers
    if not 0 <= layer < adapter.n_layers:
        raise UserError(f"layer must be in [0, {adapter.n_layers - 1}]; got {layer}")
    w_out = adapter.down_proj_weight(layer).detach().to("cpu", torch.float64)  # [d_model, d_mlp]
    if adapter.norm_kind == "layernorm":
        w_out = w_out - w_out.mean(dim=0, keepdim=True)
    norms = w_out.norm(dim=0)  # [d_mlp]
    w_hat = w_out / norms.clamp_min(1e-12)
    gram, total, vocab = _unembed_moments(adapter.unembed_weight.detach(), adapter.final_norm_weight.detach())
    sum_sq = ((gram @ w_hat) * w_hat).sum(dim=0)  # [d_mlp]: sum over vocab of c^2
    mean = (total @ w_hat) / vocab
    logitvar = ((sum_sq - vocab * mean**2) / (vocab - 1)).clamp_min(0.0)
    return norms, logitvar


class EntropyNeuronScan:
    """Scikit-learn-style estimator: ``EntropyNeuronScan().fit(model).neurons_``.

    Parameters
    ----------
    norm_quantile : float in [0, 1)
        Candidates are neurons whose norm is strictly above this quantile of norms.
    n_neurons : int >= 1
        How many candidates (lowest logit variance first) to select.
    layer : int or None
        MLP layer to scan; None (default) = the last layer, as METHODS §5 says.

    Attributes (after ``fit``)
    --------------------------
    layer_ : int                 the (non-negative) layer scanned
    norms_ : Tensor [d_mlp]      float64 output-weight norms
    logitvar_ : Tensor [d_mlp]   float64 logit-attribution variances
    threshold_ : float           the norm quantile value
    candidates_ : list[int]      neurons with norm > threshold_, ascending index
    neurons_ : list[int]         selected neurons, lowest logitvar first
    """

    def __init__(self, norm_quantile: float = 0.75, n_neurons: int = 10, layer: int | None = None) -> None:
        self.norm_quantile = norm_quantile
        self.n_neurons = n_neurons
        self.layer = layer

    def _validate_params(self) -> None:
        q = self.norm_quantile
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not (0.0 <= q < 1.0) or math.isnan(q):
            raise UserError(
                f"The 'norm_quantile' parameter of EntropyNeuronScan must be a float in [0, 1). Got {q!r} instead."
            )
        n = self.n_neurons
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UserError(
                f"The 'n_neurons' parameter of EntropyNeuronScan must be an int >= 1. Got {n!r} instead."
            )

    def fit(self, model: nn.Module) -> EntropyNeuronScan:
        """Compute the weight statistics of ``model`` and select the neurons."""
        self._validate_params()
        adapter = get_adapter(model)
        layer = adapter.n_layers - 1 if self.layer is None else self.layer
        if isinstance(layer, int) and layer < 0:
            layer += adapter.n_layers
        self.norms_, self.logitvar_ = neuron_weight_stats(model, layer)
        self.layer_ = int(layer)
        self.threshold_ = float(
            torch.quantile(self.norms_, float(self.norm_quantile), interpolation="linear")
        )
        cand = torch.nonzero(self.norms_ > self.threshold_).flatten()
        self.candidates_ = [int(i) for i in cand]
        order = torch.argsort(self.logitvar_[cand], stable=True)
        self.neurons_ = [int(cand[j]) for j in order[: self.n_neurons]]
        return self

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "neurons_"):
            raise RuntimeError("This EntropyNeuronScan instance is not fitted yet. Call 'fit(model)' first.")

    def table(self) -> list[dict[str, Any]]:
        """Per-neuron rows (JSON-able): index, norm, logitvar, candidate, selected, rank."""
        self._check_is_fitted()
        cand = set(self.candidates_)
        rank = {n: r for r, n in enumerate(self.neurons_)}
        return [
            {
                "neuron": i,
                "norm": float(self.norms_[i]),
                "logitvar": float(self.logitvar_[i]),
                "candidate": i in cand,
                "selected": i in rank,
                "rank": rank.get(i),
            }
            for i in range(len(self.norms_))
        ]

    def random_control(self, seed: int, exclude_selected: bool = True) -> list[int]:
        """A same-size random draw among the candidates (the same norm range).

        Selected neurons are excluded when enough other candidates exist, so the
        control measures "any high-norm neuron", not a subset of the selection.
        """
        self._check_is_fitted()
        pool = [i for i in self.candidates_ if not (exclude_selected and i in set(self.neurons_))]
        k = len(self.neurons_)
        if len(pool) < k:
            pool = list(self.candidates_)
        gen = torch.Generator().manual_seed(int(seed))
        perm = torch.randperm(len(pool), generator=gen)[:k]
        return sorted(pool[int(j)] for j in perm)
