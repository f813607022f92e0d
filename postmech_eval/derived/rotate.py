"""Residual rotation: a function-preserving rewrite whose effect on every direction is known.

Why: if every residual state h of a model becomes h Q (Q orthogonal) while its logits stay
the same, every direction an analysis reads from that stream (truth probe, refusal
direction, per layer) must come out as v Q, so cos(v_B, v_P) = cos(v, v Q) exactly, while
every within-model number (probe accuracy, refusal rate, entropy) must not move. That is a
ground truth on any model of a qualifying family (:mod:`postmech_eval.derived.layout`).

How (row vectors; SliceGPT / QuaRot do the same): first *fold* each norm's gain g (and
LayerNorm's bias b) into the layers that read it, so the norm itself is scale-free:
reader W <- W diag(g), norm bias <- b / g, gain <- 1. RMSNorm without a gain commutes with
any orthogonal Q (rms(hQ) = rms(h)); LayerNorm also subtracts the mean, which commutes with
Q only when Q maps the all-ones vector to itself, so LayerNorm families get a random
rotation of the complement of 1. Then: embeddings E <- E Q, readers W <- W Q, writers
W <- Q^T W (bias b <- b Q), norm biases b <- b Q, unembedding W_U <- W_U Q.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from postmech_eval.config import UserError
from postmech_eval.derived.layout import ResidualLayout, getpath, is_conv1d, layout_for, why_not
from postmech_eval.engine.arch import get_adapter


def _layout(model: nn.Module) -> ResidualLayout:
    layout = layout_for(model)
    if layout is None:
        raise UserError(f"residual rotation does not apply to this model: {why_not(model)}")
    return layout


def untie(model: nn.Module) -> None:
    """Give the unembedding its own weight (folding the final norm changes it, not the embedding)."""
    adapter = get_adapter(model)
    head = getpath(model, adapter.spec.unembed)
    head.weight = nn.Parameter(head.weight.detach().clone())
    model.config.tie_word_embeddings = False
    if hasattr(model.config, "get_text_config"):
        model.config.get_text_config().tie_word_embeddings = False


def _scale_reader(module: nn.Module, scale: torch.Tensor) -> None:
    """Reader weight times diag(scale) on its d_model (input) side."""
    w = module.weight.data
    if is_conv1d(module):
        w.mul_(scale[:, None])
    else:
        w.mul_(scale[None, :])


def _norms(model: nn.Module, layout: ResidualLayout) -> list[tuple[nn.Module, list[nn.Module]]]:
    adapter = get_adapter(model)
    out = [
        (getpath(block, norm), [getpath(block, r) for r in readers])
        for block in adapter.layers
        for norm, readers in layout.norms
    ]
    out.append((adapter.final_norm, [getpath(model, adapter.spec.unembed)]))
    return out


@torch.no_grad()
def fold_norms(model: nn.Module, *, min_gain: float = 1e-6) -> nn.Module:
    """A copy of ``model`` with every residual norm's gain folded into its readers (same logits).

    A LayerNorm bias b becomes b / g inside the gain-free norm, so readers still see
    (n + b/g) diag(g) W^T = (n * g + b) W^T. A gain with |g| < ``min_gain`` cannot be
    divided out and is refused.
    """
    layout = _layout(model)
    model = copy.deepcopy(model)
    untie(model)
    offset = get_adapter(model).norm_weight_offset
    for norm, readers in _norms(model, layout):
        gain = norm.weight.data + offset
        if bool((gain.abs() < min_gain).any()):
            raise UserError(f"fold_norms: a norm gain is below {min_gain:g} in magnitude; cannot fold it")
        for reader in readers:
            _scale_reader(reader, gain)
        if getattr(norm, "bias", None) is not None:
            norm.bias.data.div_(gain)
        norm.weight.data.fill_(1.0 - offset)
    return model


def random_rotation(d: int, seed: int, *, fix_ones: bool = False) -> torch.Tensor:
    """A Haar-random orthogonal [d, d] matrix (float64); ``fix_ones``: Q 1 = 1 (for LayerNorm)."""
    gen = torch.Generator().manual_seed(seed)
    m = d - 1 if fix_ones else d
    a = torch.randn(m, m, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r))[None, :]  # Haar measure (Mezzadri 2007)
    if not fix_ones:
        return q
    u = torch.full((d, 1), d**-0.5, dtype=torch.float64)
    basis = torch.linalg.qr(torch.cat([u, torch.randn(d, d - 1, generator=gen, dtype=torch.float64)], 1))[0]
    rest = basis[:, 1:]  # orthonormal basis of the complement of 1
    return u @ u.T + rest @ q @ rest.T


def _apply(t: torch.Tensor, fn) -> None:
    t.copy_(fn(t.double()).to(t.dtype))


@torch.no_grad()
def rotate_residual(model: nn.Module, seed: int = 0) -> tuple[nn.Module, torch.Tensor]:
    """(folded and rotated copy of ``model``, Q): its residual state is h Q, its logits unchanged.

    Q is float64 [d_model, d_model]; a direction v of the original reads as v Q in the copy.
    """
    layout = _layout(model)
    model = fold_norms(model)
    adapter = get_adapter(model)
    q = random_rotation(adapter.d_model, seed, fix_ones=adapter.norm_kind == "layernorm")
    for path in layout.embeds:
        _apply(getpath(model, path).weight.data, lambda w: w @ q)
    for norm, readers in _norms(model, layout):
        if getattr(norm, "bias", None) is not None:
            _apply(norm.bias.data, lambda b: b @ q)
        for reader in readers:
            _apply(reader.weight.data, (lambda w: q.T @ w) if is_conv1d(reader) else (lambda w: w @ q))
    for block in adapter.layers:
        for path in layout.writers:
            writer = getpath(block, path)
            _apply(writer.weight.data, (lambda w: w @ q) if is_conv1d(writer) else (lambda w: q.T @ w))
            if getattr(writer, "bias", None) is not None:
                _apply(writer.bias.data, lambda b: b @ q)
    return model, q
