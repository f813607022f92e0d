"""Refusal directions: difference in means of the residual stream, and where to take it.

Why: METHODS §4 (after Arditi et al. 2024, "Refusal in language models is mediated by a
single direction") takes r = mean act(harmful) - mean act(harmless) at one layer input
and one post-instruction position. Which (layer, position) carries the refusal signal
differs between models, so this module fits a candidate at every (layer, position)
(:func:`fit_grid`) and gives the refusal-token log-odds the search of
:mod:`postmech_eval.analyses.refusal.search` (``layer: auto``) scores them with.

Layer numbering: a direction "at layer l" is read from ``blocks.{l}.resid_pre`` for
0 <= l < L and, for l == L, from ``blocks.{L-1}.resid_post`` (the last layer's output,
before the final norm). So layers run 0..L inclusive; see :func:`site_for_layer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from postmech_eval.config import UserError
from postmech_eval.engine.capture import collect_items, encode
from postmech_eval.engine.sites import make_site


def check_layer(layer: int, n_layers: int, name: str = "layer") -> int:
    """Validate a direction layer in 0..n_layers (n_layers = output of the last layer)."""
    if isinstance(layer, bool) or not isinstance(layer, int):
        raise TypeError(f"The {name!r} parameter must be an int in [0, {n_layers}]. Got {layer!r} instead.")
    if not 0 <= layer <= n_layers:
        raise UserError(
            f"The {name!r} parameter must be in [0, {n_layers}] for a model with {n_layers} layers "
            f"({n_layers} = output of the last layer). Got {layer} instead."
        )
    return layer


def site_for_layer(layer: int, n_layers: int) -> str:
    """Engine site holding the residual stream *entering* layer ``layer`` (0..n_layers)."""
    check_layer(layer, n_layers)
    if layer == n_layers:
        return make_site(n_layers - 1, "resid_post")
    return make_site(layer, "resid_pre")


def direction_sites(n_layers: int) -> list[str]:
    """Sites of every candidate layer 0..n_layers, in layer order."""
    return [site_for_layer(layer, n_layers) for layer in range(n_layers + 1)]


class RefusalDirection:
    """Difference-in-means direction between harmful and harmless activations.

    ``fit(harmful [n, d], harmless [m, d])`` sets ``direction_`` (unit vector [d]),
    ``mean_diff_`` ([d], unnormalised), ``alpha_`` (mean projection difference
    mean(harmful . r) - mean(harmless . r) = |mean_diff_|: the default addition
    coefficient of METHODS §4) and the counts. ``layer``/``position`` are bookkeeping only.
    ``harmful_acts_`` / ``harmless_acts_`` keep the fitted rows (the caller's tensors, not
    copies) so the direction can be refitted on bootstrap resamples of the prompts.
    """

    def __init__(self, *, layer: int | None = None, position: int | None = None) -> None:
        self.layer = layer
        self.position = position

    def fit(self, harmful_acts: torch.Tensor, harmless_acts: torch.Tensor) -> RefusalDirection:
        for name, acts in (("harmful_acts", harmful_acts), ("harmless_acts", harmless_acts)):
            if not isinstance(acts, torch.Tensor) or acts.dim() != 2 or acts.shape[0] == 0:
                shape = tuple(acts.shape) if isinstance(acts, torch.Tensor) else type(acts).__name__
                raise UserError(
                    f"The {name!r} parameter must be a non-empty tensor [n, d]. Got {shape} instead."
                )
        if harmful_acts.shape[1] != harmless_acts.shape[1]:
            raise UserError(
                f"harmful_acts and harmless_acts must have the same width d. "
                f"Got {harmful_acts.shape[1]} and {harmless_acts.shape[1]} instead."
            )
        diff = harmful_acts.double().mean(0) - harmless_acts.double().mean(0)
        norm = float(diff.norm())
        if norm == 0.0 or not torch.isfinite(diff).all():
            raise UserError(
                "harmful and harmless activations have identical (or non-finite) means; no direction"
            )
        self.mean_diff_ = diff.float()
        self.direction_ = (diff / norm).float()
        self.alpha_ = norm
        self.harmful_acts_, self.harmless_acts_ = harmful_acts, harmless_acts
        self.n_harmful_ = int(harmful_acts.shape[0])
        self.n_harmless_ = int(harmless_acts.shape[0])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "direction_"):
            raise RuntimeError("This RefusalDirection is not fitted yet; call fit(harmful, harmless) first.")

    def projection(self, acts: torch.Tensor) -> torch.Tensor:
        """acts [n, d] -> projections on the unit direction [n]."""
        self._check_fitted()
        return acts.float() @ self.direction_

    def cosine(self, other: RefusalDirection) -> float:
        self._check_fitted()
        other._check_fitted()
        return float(self.direction_.double() @ other.direction_.double())


def post_instruction_length(tokenizer: Any, prompts: Sequence[str]) -> int:
    """Number of trailing tokens shared by every prompt (the template after the instruction)."""
    ids = [encode(tokenizer, [p])["input_ids"][0].tolist() for p in prompts]
    n = 0
    while all(len(x) > n for x in ids) and len({x[-1 - n] for x in ids}) == 1:
        n += 1
    return n


def fit_grid(
    model: Any,
    tokenizer: Any,
    harmful: Sequence[str],
    harmless: Sequence[str],
    positions: Sequence[int],
    batch_size: int = 16,
    progress: bool = False,
    context: Any = None,
) -> dict[tuple[int, int], RefusalDirection]:
    """One fitted direction per (layer 0..L, position): {(layer, position): RefusalDirection}.

    Candidates whose harmful and harmless means coincide (no direction exists, as at layer 0
    on a template token, whose embedding is the same for every prompt) are left out. The
    captures are a per-item step of the shared map (sharded across ranks; cached per prompt
    with ``context``, e.g. the model's fingerprint).
    """
    from postmech_eval.engine.arch import get_adapter

    n_layers = get_adapter(model).n_layers
    sites = direction_sites(n_layers)
    kw = dict(positions=tuple(positions), batch_size=batch_size, step="refusal_fit", context=context)
    acts_h = collect_items(model, tokenizer, list(harmful), sites, **kw)
    acts_l = collect_items(model, tokenizer, list(harmless), sites, **kw)
    grid: dict[tuple[int, int], RefusalDirection] = {}
    for layer, site in enumerate(sites):
        for j, pos in enumerate(positions):
            h, l_ = acts_h[site][:, j], acts_l[site][:, j]
            if torch.equal(h.double().mean(0), l_.double().mean(0)):
                continue  # e.g. layer 0 at a template token: same embedding for every prompt
            grid[(layer, pos)] = RefusalDirection(layer=layer, position=pos).fit(h, l_)
    return grid


def refusal_token_ids(tokenizer: Any, phrases: Sequence[str]) -> list[int]:
    """First token of each phrase, spelled with and without a leading space (deduplicated)."""
    ids: set[int] = set()
    for phrase in phrases:
        for text in (phrase, " " + phrase):
            tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
            if tokens:
                ids.add(int(tokens[0]))
    if not ids:
        raise UserError(f"No refusal tokens: phrases {list(phrases)!r} tokenize to nothing")
    return sorted(ids)


def refusal_logodds(logits: torch.Tensor, token_ids: Sequence[int]) -> torch.Tensor:
    """log p(refusal token) - log p(anything else) per row: [n, vocab] -> [n]."""
    logp = torch.log_softmax(logits.double(), dim=-1)
    mask = torch.zeros(logits.shape[-1], dtype=torch.bool)
    mask[list(token_ids)] = True
    return (torch.logsumexp(logp[:, mask], -1) - torch.logsumexp(logp[:, ~mask], -1)).float()
