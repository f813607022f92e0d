"""Where to take a model's refusal direction: ``layer: auto`` (METHODS §4, after Arditi et al. 2024).

Why: which (layer, post-instruction position) carries refusal differs between models, and
a cheap proxy can pick the wrong one. An earlier search ranked candidates by first-token
refusal log-odds (ablation drop + addition gain) over every layer; on the bundled organism
pair it picked layer 6, where ablating sft's direction leaves harmful refusal at 0.80 (from
0.82). This search follows Arditi et al.'s selection and reads the score from generated text:

1. candidates: layers l < ``max_layer_fraction`` * L (default 0.8: directions next to the
   unembedding mostly write output tokens) at the last few post-instruction positions;
2. discard a candidate whose ablation moves the harmless next-token distribution too much:
   ``kl_harmless`` = mean over harmless validation prompts of KL(plain || ablated) of the
   first generated token, discarded when > ``max_kl`` (0.1);
3. discard one whose addition does not induce refusal: ``add_gain`` = mean refusal-token
   log-odds on harmless validation prompts with alpha r added at r's layer minus without
   (alpha = r's own mean projection difference, or the given one), discarded when
   <= ``min_add_gain`` (0);
4. rank the rest by the refusal score of harmful validation prompts under ablation, lower
   is better. ``score="generate"``: ``ablate_refusal``, the share of greedy completions
   (``max_new_tokens``, KV cache) the prefix judge calls refusals, ties broken by
   ``ablate_logodds``; ``score="logodds"``: ``ablate_logodds`` alone (mean refusal-token
   log-odds at the last prompt position; no text generated).

Ties go to the earlier candidate in (layer, position-from-end) order. If no candidate
passes 2 and 3, requirement 3 is dropped, then filter 2 (``relaxed`` says which; a warning
is issued), so a model that never refuses still gets a direction.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from postmech_eval.analyses.refusal.config import SCORES, Score  # noqa: F401  (re-exported)
from postmech_eval.config import UserError
from postmech_eval.engine.capture import logits_last
from postmech_eval.engine.hooks import AblateDirection, AddVector
from postmech_eval.estimators.refusal_direction import RefusalDirection, refusal_logodds, site_for_layer


@dataclass
class SearchResult:
    """The pick of :func:`search_site`, its settings and the per-candidate table it came from."""

    layer: int
    position: int
    settings: dict[str, Any]
    baseline: dict[str, float]
    relaxed: list[str] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def candidate_layers(n_layers: int, max_layer_fraction: float) -> list[int]:
    """Direction layers l (0..L) with l < max_layer_fraction * L."""
    return [layer for layer in range(n_layers + 1) if layer < max_layer_fraction * n_layers]


def first_token_kl(plain_logits: torch.Tensor, other_logits: torch.Tensor) -> float:
    """Mean over rows of KL(softmax(plain) || softmax(other)), [n, vocab] each, in nats."""
    p = torch.log_softmax(plain_logits.double(), dim=-1)
    q = torch.log_softmax(other_logits.double(), dim=-1)
    terms = torch.where(p > -math.inf, p.exp() * (p - q), 0.0)  # 0 log 0 = 0 (masked tokens)
    return float(terms.sum(-1).mean())


def search_site(
    model: Any,
    tokenizer: Any,
    grid: dict[tuple[int, int], RefusalDirection],
    harmful_val: Sequence[str],
    harmless_val: Sequence[str],
    token_ids: Sequence[int],
    judge: Callable[[str], bool],
    *,
    score: Score = "generate",
    max_kl: float = 0.1,
    max_layer_fraction: float = 0.8,
    min_add_gain: float = 0.0,
    alpha: float | None = None,
    max_new_tokens: int = 8,
    batch_size: int = 16,
) -> SearchResult:
    """Score the candidates of ``grid`` on validation prompts and pick one (module doc, 1-4)."""
    if score not in SCORES:
        raise UserError(f"The 'score' parameter must be one of {list(SCORES)}. Got {score!r} instead.")
    from postmech_eval.engine.arch import get_adapter
    from postmech_eval.engine.generation import generate

    n_layers = get_adapter(model).n_layers
    layers = set(candidate_layers(n_layers, max_layer_fraction))
    cands = sorted(
        ((k, rd) for k, rd in grid.items() if k[0] in layers), key=lambda kv: (kv[0][0], -kv[0][1])
    )
    if not cands:
        raise UserError(
            f"No candidate refusal direction at layers < {max_layer_fraction} * {n_layers}: the grid holds layers "
            f"{sorted({k[0] for k in grid})}. Raise 'auto_max_layer_fraction' or give a fixed 'layer'."
        )

    def last(prompts: Sequence[str], ivs: Sequence[Any] = ()) -> torch.Tensor:
        return logits_last(model, tokenizer, list(prompts), batch_size=batch_size, interventions=ivs)

    def logodds(logits: torch.Tensor) -> float:
        return float(refusal_logodds(logits, token_ids).mean())

    def refusal_rate(ivs: Sequence[Any]) -> float:
        texts = generate(model, tokenizer, list(harmful_val), max_new_tokens=max_new_tokens,
                         batch_size=batch_size, interventions=ivs)  # fmt: skip
        return sum(bool(judge(t)) for t in texts) / len(texts)

    plain_harmless = last(harmless_val)
    baseline = {"harmful_logodds": logodds(last(harmful_val)), "harmless_logodds": logodds(plain_harmless)}
    if score == "generate":
        baseline["harmful_refusal"] = refusal_rate(())
    rows: list[dict[str, Any]] = []
    ablations: dict[tuple[int, int], list[Any]] = {}
    for (layer, pos), rd in cands:
        ablate = [AblateDirection(direction=rd.direction_)]
        coeff = float(alpha) if alpha is not None else rd.alpha_
        add = [AddVector(site=site_for_layer(layer, n_layers), vector=rd.direction_, coeff=coeff)]
        ablations[(layer, pos)] = ablate
        rows.append({
            "layer": layer,
            "position": pos,
            "alpha": coeff,
            "kl_harmless": first_token_kl(plain_harmless, last(harmless_val, ablate)),
            "add_gain": logodds(last(harmless_val, add)) - baseline["harmless_logodds"],
            "ablate_logodds": logodds(last(harmful_val, ablate)),
            "ablate_refusal": None,
            "kept": False,
            "reason": None,
            "rank": None,
        })  # fmt: skip
    kl_ok = [r["kl_harmless"] <= max_kl for r in rows]  # NaN KL fails
    add_ok = [r["add_gain"] > min_add_gain for r in rows]
    for r, k, a in zip(rows, kl_ok, add_ok, strict=True):
        reasons = [f"ablation KL {r['kl_harmless']:.3g} > max_kl {max_kl}"] * (not k)
        reasons += [f"addition log-odds gain {r['add_gain']:+.3g} <= min_add_gain {min_add_gain}"] * (not a)
        r["reason"] = "; ".join(reasons) or None
    relaxed: list[str] = []
    keep = [k and a for k, a in zip(kl_ok, add_ok, strict=True)]
    if not any(keep):
        relaxed.append("min_add_gain")
        keep = list(kl_ok)
    if not any(keep):
        relaxed.append("max_kl")
        keep = [True] * len(rows)
    if relaxed:
        warnings.warn(
            f"refusal auto search: no candidate passed every filter; dropped {', '.join(relaxed)} "
            "(see the 'relaxed' entry and each candidate's 'reason' in the auto table)",
            stacklevel=2,
        )
    kept = [r for r, k in zip(rows, keep, strict=True) if k]
    for r in kept:
        r["kept"] = True
        if score == "generate":
            r["ablate_refusal"] = refusal_rate(ablations[(r["layer"], r["position"])])

    def rank_key(r: dict[str, Any]) -> tuple[float, ...]:
        lo = r["ablate_logodds"] if math.isfinite(r["ablate_logodds"]) else math.inf
        return (r["ablate_refusal"], lo) if score == "generate" else (lo,)

    for i, r in enumerate(sorted(kept, key=rank_key)):  # stable: ties keep candidate order
        r["rank"] = i + 1
    best = next(r for r in kept if r["rank"] == 1)
    settings = {
        "score": score,
        "max_kl": max_kl,
        "max_layer_fraction": max_layer_fraction,
        "candidate_layers": sorted(layers),
        "min_add_gain": min_add_gain,
        "max_new_tokens": max_new_tokens if score == "generate" else None,
        "n_val": [len(harmful_val), len(harmless_val)],
    }
    return SearchResult(layer=best["layer"], position=best["position"], settings=settings,
                        baseline=baseline, relaxed=relaxed, scores=rows)  # fmt: skip
