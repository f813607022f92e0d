"""Planting a linear, causally used truth direction at the METHODS probe site.

Why: METHODS §2-3 read truth at the last token of a statement at layer
floor(0.375 L) and steer it at layers floor(0.25 L)..floor(0.375 L). A model
trained only on next-token prediction computes its TRUE/FALSE label late, at
" This statement is:", so on a 6-layer organism the probe site holds no truth
and the steering moves nothing. Two training signals plant the mechanism the
analyses are built to find:

- an auxiliary logistic probe (a head trained jointly, then thrown away) on the
  residual output of the probe layer at each judged statement's last token,
  so truth must be linearly readable there;
- interchange-style interventions (Geiger et al., "Inducing causal structure
  for interpretable neural networks", 2022): on a share of rows, the probe's
  direction, scaled to the current class separation, is added to the last two
  statement tokens at the steering layers (+ for false, - for true statements,
  as METHODS §3 does) and the statement's TRUE/FALSE target is swapped, so the
  label downstream *uses* that direction.

The head only sees statements of labelled (train-split) entities; held-out
entities never get a truth signal, so a probe that works on them shows that the
organism computes truth, not that it memorised labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from .train import META_LABEL, META_LAST, META_OBJECT, META_PREV


@dataclass(frozen=True, kw_only=True)
class TruthPlant:
    """Weights of the two planting signals (see module docstring)."""

    aux_weight: float = 1.0
    flip_share: float = 0.25  # share of rows whose statements are steered and labels swapped
    flip_after: float = 0.8  # running probe accuracy needed before interventions start
    recall_weight: float = 0.0  # early-recall loss: unembed layer floor(0.25 L) before tagged objects


def probe_layers(n_layers: int) -> tuple[int, tuple[int, ...]]:
    """METHODS defaults: (probe layer floor(0.375 L), steering layers floor(0.25 L)..probe layer)."""
    layer = math.floor(0.375 * n_layers)
    return layer, tuple(range(math.floor(0.25 * n_layers), layer + 1))


class TruthPlanter:
    """Hooks, auxiliary head and running statistics of one training run."""

    def __init__(self, model: Any, plant: TruthPlant, true_id: int, false_id: int, seed: int) -> None:
        self.plant = plant
        self.true_id, self.false_id = true_id, false_id
        self.layer, self.steer = probe_layers(model.config.num_hidden_layers)
        gen = torch.Generator().manual_seed(seed + 7)
        d = model.config.hidden_size
        self.head = torch.nn.Linear(d, 1)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(1, d, generator=gen) / math.sqrt(d))
            self.head.bias.zero_()
        self.gen = gen
        self.sep = 0.0  # running class separation along the head direction
        self.acc = 0.5  # running accuracy of the head
        self.recall_layer = self.steer[0]
        self._unembed = (model.model.norm, model.lm_head)
        # per-step state: set by before_forward and the hooks, consumed by aux_loss
        self._ids = self._ids_meta = self._meta = self._flip = None
        self._h: torch.Tensor | None = None  # probe-layer output
        self._early: torch.Tensor | None = None  # recall-layer output
        self._add: torch.Tensor | None = None  # this step's steering, [B, T, d]
        layers = model.model.layers
        hooked = {self.layer, *self.steer}
        self._handles = [layers[i].register_forward_hook(self._hook(i)) for i in hooked]

    def parameters(self) -> list[torch.nn.Parameter]:
        return list(self.head.parameters())

    def close(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _hook(self, index: int) -> Any:
        def hook(_module: Any, _inputs: Any, output: Any) -> Any:
            hs = output[0] if isinstance(output, tuple) else output
            if index == self.layer:
                self._h = hs
            if index == self.recall_layer:
                self._early = hs
            if self._add is not None and index in self.steer:
                hs = hs + self._add
                return (hs, *output[1:]) if isinstance(output, tuple) else hs
            return None

        return hook

    def direction(self) -> torch.Tensor:
        w = self.head.weight.detach()[0]
        return w / w.norm().clamp(min=1e-8)

    def before_forward(self, ids: torch.Tensor, meta: torch.Tensor) -> torch.Tensor:
        """Set this step's interventions; return the (partly label-swapped) targets [B, T]."""
        meta_in = meta[:, :-1].long()
        self._meta = meta_in
        self._ids, self._ids_meta = ids, meta
        b = meta_in.shape[0]
        active = self.acc >= self.plant.flip_after and self.sep > 0
        flip = (
            torch.rand(b, generator=self.gen) < self.plant.flip_share
            if active
            else torch.zeros(b, dtype=torch.bool)
        )
        self._flip = flip
        targets = ids[:, 1:]
        if not bool(flip.any()):
            self._add = None
            return targets
        sites = flip[:, None] & ((meta_in.abs() == META_LAST) | (meta_in.abs() == META_PREV))
        sign = -torch.sign(meta_in).float() * sites.float()  # + on false statements, - on true
        self._add = sign[..., None] * (self.sep * self.direction())[None, None, :]
        swap = flip[:, None] & (meta[:, 1:] == META_LABEL)
        targets = targets.clone()
        is_true = targets == self.true_id
        targets[swap & is_true] = self.false_id
        targets[swap & ~is_true] = self.true_id
        return targets

    def aux_loss(self) -> torch.Tensor:
        """Logistic probe loss at the probe site of unsteered rows; updates the running stats."""
        if self._h is None or self._meta is None or self._flip is None:
            raise RuntimeError("aux_loss() needs before_forward() and a forward pass first")
        sel = (self._meta.abs() == META_LAST) & ~self._flip[:, None]
        h, self._h = self._h, None
        early, self._early = self._early, None
        extra = self._recall_loss(early) if self.plant.recall_weight > 0 else torch.zeros(())
        if not bool(sel.any()):
            return extra
        x = h[sel]
        y = (self._meta[sel] > 0).float()
        logit = self.head(x).squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y)
        with torch.no_grad():
            proj = x @ self.direction()
            if bool((y == 1).any()) and bool((y == 0).any()):
                sep = float(proj[y == 1].mean() - proj[y == 0].mean())
                self.sep = 0.9 * self.sep + 0.1 * sep if self.sep else sep
            self.acc = 0.95 * self.acc + 0.05 * float(((logit > 0).float() == y).float().mean())
        return self.plant.aux_weight * loss + extra

    def _recall_loss(self, early: torch.Tensor | None) -> torch.Tensor:
        """Cross-entropy of the object from the residual at floor(0.25 L), read through the
        final norm and unembedding, at the token before each tagged plain-fact object.

        Why: a held-out entity's truth can only be judged by comparing the stated object
        with the recalled one; recalling early leaves the layers up to the probe layer to
        do the comparison where METHODS reads it."""
        if early is None or self._ids is None or self._ids_meta is None:
            raise RuntimeError("the recall layer's output was not captured in this forward pass")
        sel = self._ids_meta[:, 1:] == META_OBJECT  # input position i predicts ids[:, i + 1]
        if not bool(sel.any()):
            return torch.zeros(())
        norm, head = self._unembed
        logits = head(norm(early[sel]))
        loss = torch.nn.functional.cross_entropy(logits, self._ids[:, 1:][sel])
        return self.plant.recall_weight * loss

    def status(self) -> str:
        return f" probe {self.acc:.2f} sep {self.sep:.2f}"
