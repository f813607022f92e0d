"""Input checks, data splits and per-model site resolution for the refusal analysis.

Why a separate module: everything here must finish — and fail, if the inputs are bad —
before a single completion is generated (DESIGN: fail early). ``preflight`` reads only
configs and tokenizers; ``resolve_site`` is the first step that runs a model.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from postmech_eval.analyses.refusal.config import KINDS, train_sets  # noqa: F401  (re-exported)
from postmech_eval.analyses.refusal.search import SearchResult, search_site
from postmech_eval.config import UserError
from postmech_eval.estimators.refusal_direction import (
    RefusalDirection,
    check_layer,
    fit_grid,
    post_instruction_length,
    refusal_token_ids,
)

WHICH: tuple[str, ...] = ("base", "post")
#: Fraction of depth of METHODS §4's default layer (floor(0.35 L); 11 for L = 32).
DEFAULT_LAYER_FRACTION = 0.35
#: Refusal sites of the bundled organisms (name -> (layer, position)), used as their
#: ``layer="default"``. Chosen by a generation sweep on the shipped weights over every
#: layer (1..6 x positions -1/-3, refusal rates of 32-token greedy completions;
#: tests/test_refusal.py, slow, re-runs it): at layer 5, position -1, ablating sft's own
#: direction takes harmful refusal 0.82 -> 0.05 and adding it takes harmless 0.08 -> 0.53,
#: the largest sum. Layer 5 is not an ``auto`` candidate (METHODS §4 keeps layers < 0.8 L =
#: 4.8); among those, auto picks (3, -1) for sft (ablation 0.82 -> 0.18, addition 0.08 ->
#: 0.15; see the task README), and METHODS' floor(0.35 L) = 2 ablates (0.15) but barely adds
#: (0.13).
ORGANISM_SITES: dict[str, tuple[int, int]] = {"base": (5, -1), "sft": (5, -1)}
#: Rows per batch when ``batch_size`` is None (RefusalConfig's docstring): generations of the
#: tiny bundled organisms, and everything else.
TINY_ORGANISMS: tuple[str, ...] = ("base", "sft", "cpt")
ORGANISM_GENERATE_BATCH = 128
DEFAULT_BATCH = 32


@dataclass(frozen=True)
class Plan:
    """What preflight settled for one model before any weights run."""

    n_layers: int
    template: str
    layer: int | None  # None = auto search
    position: int
    layer_source: str
    batch_size: int = 32  # rows per generate batch


@dataclass
class ModelSite:
    """One model's fitted direction and where it came from."""

    layer: int
    position: int
    direction: RefusalDirection
    per_layer: torch.Tensor  # [L + 1, d]: directions at every layer at ``position`` (0 = none there)
    layer_source: str
    hookpoint: str | None
    search: SearchResult | None = None

    def summary(self, alpha: float | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "layer": self.layer,
            "position": self.position,
            "layer_source": self.layer_source,
            # the coefficient of every addition on this model, its own direction's and the other's
            "alpha": float(alpha) if alpha is not None else self.direction.alpha_,
            "hookpoint": self.hookpoint,
            "n_fit": [self.direction.n_harmful_, self.direction.n_harmless_],
        }
        if self.search is not None:
            out["auto"] = self.search.to_dict()
        return out

    def digest(self, alpha: float | None) -> str:
        """sha256 of what this site's interventions do (direction values, layer, position,
        addition coefficient): the cache key of completions generated under them."""
        import hashlib

        d = self.direction.direction_.detach().float().cpu().contiguous().numpy().tobytes()
        extra = f"{self.layer}|{self.position}|{self.summary(alpha)['alpha']!r}".encode()
        return hashlib.sha256(d + extra).hexdigest()


def check_items(items: Sequence[dict[str, Any]]) -> None:
    """Each item needs a non-empty 'instruction' and kind 'harmful' or 'harmless'."""
    if not items:
        raise UserError("The 'items' parameter must hold at least one instruction. Got an empty list.")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise TypeError(
                f"items[{i}] must be a dict with 'instruction' and 'kind'. Got {type(item).__name__}."
            )
        text = item.get("instruction")
        if not isinstance(text, str) or not text.strip():
            raise UserError(
                f"items[{i}]: field 'instruction' must be a non-empty string. Got {text!r} instead."
            )
        if item.get("kind") not in KINDS:
            raise UserError(
                f"items[{i}]: field 'kind' must be one of {list(KINDS)}. Got {item.get('kind')!r}."
            )


def format_prompts(
    tokenizer: Any, instructions: Sequence[str], template: str, max_new_tokens: int = 0
) -> list[str]:
    """Base template "User: {instruction}\\nAssistant:" or the model's chat template ("chat").

    A prompt that would not leave ``max_new_tokens`` of room in the model's context is cut:
    the instruction is shortened (its end dropped) until it fits, with a warning naming the
    item, instead of running past the context length.
    """
    from postmech_eval.models.specs import format_prompt

    def fill(text: str) -> str:
        if template == "chat":
            return format_prompt(tokenizer, text, use_chat_template=True)
        return template.replace("{instruction}", text)

    limit = getattr(tokenizer, "model_max_length", None)
    room = limit - max_new_tokens if isinstance(limit, int) and limit < 10**7 else None
    out = []
    for i, text in enumerate(instructions):
        prompt = fill(text)
        if room is not None:
            n = len(tokenizer(prompt)["input_ids"])
            if n > room:
                ids = tokenizer(text, add_special_tokens=False)["input_ids"]
                keep = max(1, len(ids) - (n - room) - 2)
                while keep > 1:
                    prompt = fill(tokenizer.decode(ids[:keep]))
                    if len(tokenizer(prompt)["input_ids"]) <= room:
                        break
                    keep = max(1, keep - max(1, keep // 10))
                warnings.warn(
                    f"refusal item {i}: the prompt is {n} tokens, more than the {room} the context "
                    f"leaves before {max_new_tokens} new tokens; its instruction was cut to {keep} tokens",
                    stacklevel=2,
                )
        out.append(prompt)
    return out


def _organism_name(pair: Any, which: str) -> str | None:
    spec = pair.spec(which)
    if spec.startswith("organism:"):
        return spec.split(":", 1)[1]
    try:
        from postmech_eval.organisms import ORGANISMS, organism_path
    except ImportError:
        return None
    here = Path(spec).expanduser()
    if not here.exists():
        return None
    for name in ORGANISMS:
        try:
            if here.resolve() == Path(organism_path(name)).resolve():
                return name
        except (FileNotFoundError, KeyError):
            continue
    return None


def _tokenizer(pair: Any, which: str) -> Any:
    if pair.is_loaded(which):
        return pair._loaded[which][1]
    return pair._tokenizer(which)


def preflight(pair: Any, config: Any) -> dict[str, Plan]:
    """Resolve layer and template per model from configs and tokenizers only; raise on bad inputs."""
    plans: dict[str, Plan] = {}
    for which in WHICH:
        n_layers = int(pair.config(which).num_hidden_layers)
        layer_spec, position, source = config.layer, config.position, "config"
        if layer_spec == "default":
            organism = _organism_name(pair, which)
            if organism in ORGANISM_SITES:
                (layer_spec, position), source = (
                    ORGANISM_SITES[organism],
                    f"organism default ({organism}; generation sweep)",
                )
            else:
                layer_spec, source = DEFAULT_LAYER_FRACTION, "METHODS default floor(0.35 L)"
        if layer_spec == "auto":
            layer, source = None, "auto"
        elif isinstance(layer_spec, float):
            layer = check_layer(math.floor(layer_spec * n_layers), n_layers)
        else:
            layer = check_layer(layer_spec, n_layers)
        template = config.base_template if which == "base" else config.post_template
        if template == "chat" and not getattr(_tokenizer(pair, which), "chat_template", None):
            other = "base_template" if which == "base" else "post_template"
            raise UserError(
                f"The {which} model {pair.spec(which)!r} has no chat template, but {other}='chat' asks for it "
                f"(METHODS §4 prompts post-trained models with their own template). Give it a chat template, "
                f"or pass {other}='User: {{instruction}}\\nAssistant:' to use a plain template."
            )
        batch = config.batch_size
        if batch is None:
            batch = (
                ORGANISM_GENERATE_BATCH if _organism_name(pair, which) in TINY_ORGANISMS else DEFAULT_BATCH
            )
        plans[which] = Plan(
            n_layers=n_layers, template=template, layer=layer, position=position, layer_source=source,
            batch_size=batch,
        )  # fmt: skip
    return plans


def resolve_site(
    loaded: tuple[Any, Any], plan: Plan, train: dict[str, list[Any]], config: Any, context: Any = None
) -> ModelSite:
    """Fit the model's directions at every layer and take the planned (or searched) site.

    ``context`` (the model's fingerprint) keys the per-prompt capture cache."""
    from postmech_eval.analyses.refusal.steering_export import steering_hookpoint

    model, tok = loaded
    prompts = {k: format_prompts(tok, [r.instruction for r in train[k]], plan.template) for k in KINDS}
    for k in KINDS:
        random.Random(f"{config.seed}:{k}:fit").shuffle(prompts[k])
    auto = plan.layer is None
    # The validation prompts are held out in every mode, so a fixed site equal to auto's pick
    # fits exactly auto's direction (layer=3 reproduces layer=auto's numbers on the organisms).
    n_val = config.auto_n_val
    if not auto and any(len(prompts[k]) <= n_val for k in KINDS):
        n_val = 0
    if auto and any(len(prompts[k]) <= n_val for k in KINDS):
        sizes = {k: len(prompts[k]) for k in KINDS}
        raise UserError(
            f"The 'auto_n_val' parameter ({n_val}) must leave training prompts to fit; got {sizes}."
        )
    fit = {k: prompts[k][n_val : n_val + config.n_train] for k in KINDS}
    if auto:
        depth = post_instruction_length(tok, fit["harmful"] + fit["harmless"])
        positions = tuple(range(-1, -max(1, min(config.auto_positions, depth)) - 1, -1))
    else:
        positions = (plan.position,)
    kw = {"batch_size": config.batch_size or DEFAULT_BATCH}
    grid = fit_grid(model, tok, fit["harmful"], fit["harmless"], positions, context=context, **kw)
    search = None
    if auto:
        from postmech_eval.estimators.judges import PrefixJudge

        val = {k: prompts[k][:n_val] for k in KINDS}
        search = search_site(
            model, tok, grid, val["harmful"], val["harmless"], refusal_token_ids(tok, config.score_phrases),
            PrefixJudge(phrases=config.judge_phrases), score=config.auto_score, max_kl=config.auto_max_kl,
            max_layer_fraction=config.auto_max_layer_fraction, min_add_gain=config.auto_min_add_gain,
            alpha=config.alpha, max_new_tokens=config.auto_max_new_tokens, **kw,
        )  # fmt: skip
        layer, position = search.layer, search.position
    else:
        layer, position = int(plan.layer), plan.position  # type: ignore[arg-type]
    if (layer, position) not in grid:
        raise UserError(
            f"No refusal direction at layer {layer}, position {position}: harmful and harmless prompts have "
            "the same mean activation there (e.g. layer 0 reads a template token's embedding). Choose a "
            "later 'layer' or layer='auto'."
        )
    d_model = grid[(layer, position)].direction_.shape[0]
    zero = torch.zeros(d_model)
    per_layer = torch.stack(
        [grid[(i, position)].direction_ if (i, position) in grid else zero for i in range(plan.n_layers + 1)]
    )
    try:
        hookpoint: str | None = steering_hookpoint(model, layer)
    except ValueError:
        hookpoint = None
    return ModelSite(layer=layer, position=position, direction=grid[(layer, position)], per_layer=per_layer,
                     layer_source=plan.layer_source, hookpoint=hookpoint, search=search)  # fmt: skip
