"""Refusal direction and its transfer between a base model and its post-trained child.

METHODS §4 (after Arditi et al. 2024 and Du et al. 2025, arXiv 2504.02904): each model's
refusal direction r is the difference in means of its residual stream on harmful vs
harmless training instructions at one (layer, post-instruction position). Test prompts
are then completed greedily (KV cache, 32 new tokens) under

- directional ablation of r (every layer's resid_pre, attn_out and mlp_out, every
  position including generated ones) on harmful prompts, and
- activation addition x + alpha r at r's layer (all positions) on harmless prompts, alpha
  being the TARGET model's (given, or its own direction's mean projection difference) for
  both its own direction and the other model's, so a ratio compares directions, not norms,

with each model's own direction and with the other model's, and judged by two refusal
judges (:mod:`postmech_eval.estimators.judges`). Base models read "User: {instruction}\\nAssistant:",
post-trained ones their chat template.

Transfer ratios (ablation, harmful prompts; a "drop" is refusal without intervention minus
refusal under ablation)::

    transfer_forward  = drop of P under r_B / drop of P under r_P   (B's direction steers P)
    transfer_backward = drop of B under r_P / drop of B under r_B   (P's direction steers B)

Addition enters as ``transfer_forward_add`` / ``transfer_backward_add``: the same ratios of
*gains* in harmless refusal under addition (e.g. gain of P with r_B / gain of P with r_P).
A ratio whose own-direction change is below ``transfer_min_change`` in absolute value is NaN
(0/0 is not a transfer), and ``config["transfer_nan_reasons"]`` says why; it never raises.
Every refusal metric also exists with a ``_loose`` suffix (first-sentence judge).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from postmech_eval.analyses import AnalysisResult
from postmech_eval.analyses.refusal.config import KINDS, RefusalConfig, default_items, train_sets
from postmech_eval.analyses.refusal.plan import (
    WHICH,
    ModelSite,
    check_items,
    format_prompts,
    preflight,
    resolve_site,
)
from postmech_eval.analyses.refusal.report import (
    CONDITIONS,
    cosine_per_layer,
    intervals,
    item_metrics,
    metrics_from_records,
    records_from_texts,
    verdict_arrays,
    write_artifacts,
)
from postmech_eval.engine.shard import map_items
from postmech_eval.estimators.bootstrap import describe
from postmech_eval.estimators.judges import FirstSentenceJudge, PrefixJudge
from postmech_eval.estimators.refusal_direction import site_for_layer

__all__ = ["RefusalConfig", "default_items", "run"]


def run(
    pair: Any,
    config: RefusalConfig,
    items: Sequence[dict[str, Any]] | None = None,
    output_dir: Path | None = None,
) -> AnalysisResult:
    """Fit both directions, generate under every condition, judge, and compute METHODS §4 metrics.

    Every input check (items, instruction files, layer range, chat templates) happens before
    any model runs. With ``one_at_a_time`` (here or on the pair) B and P are never resident
    together: phases run B (fit r_B; B with r_B), P (fit r_P; P with both), B (B with r_P).
    """
    if not isinstance(config, RefusalConfig):
        raise TypeError(
            f"The 'config' parameter must be a RefusalConfig. Got {type(config).__name__} instead."
        )
    threads = torch.get_num_threads()
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    try:
        return _run(pair, config, items, output_dir)
    finally:
        torch.set_num_threads(threads)


def _run(
    pair: Any,
    config: RefusalConfig,
    items: Sequence[dict[str, Any]] | None = None,
    output_dir: Path | None = None,
) -> AnalysisResult:
    t0, load_start = time.perf_counter(), os.getloadavg()[0]
    torch.manual_seed(config.seed)
    items = [dict(it) for it in (items if items is not None else default_items(config))]
    check_items(items)
    train = {kind: train_sets(config, kind)[0] for kind in KINDS}
    plan = preflight(pair, config)  # layer range, chat templates, n_layers: before any model runs
    by_kind = {kind: [i for i, it in enumerate(items) if it["kind"] == kind] for kind in KINDS}
    texts: dict[str, dict[str, list[str]]] = {w: {} for w in WHICH}
    sites: dict[str, ModelSite] = {}
    separate = config.one_at_a_time or bool(getattr(pair, "one_at_a_time", False))

    def use(which: str) -> tuple[Any, Any]:
        if separate:
            pair.unload("post" if which == "base" else "base")
        return pair.get(which)

    def generate_for(which: str, conditions: Sequence[str]) -> None:
        """Completions of ``which`` under ``conditions``: one per-item step (prompt x
        condition), sharded across ranks and cached per completion."""
        model, tok = use(which)
        work: list[dict[str, Any]] = []
        for kind in KINDS:
            prompts = format_prompts(
                tok,
                [items[i]["instruction"] for i in by_kind[kind]],
                plan[which].template,
                max_new_tokens=config.max_new_tokens,
            )
            work += [
                {"kind": kind, "cond": c, "prompt": p}
                for c in conditions
                if c in CONDITIONS[kind]
                for p in prompts
            ]
        context = {
            "model": pair.fingerprint(which),
            "max_new_tokens": config.max_new_tokens,
            "directions": {s: sites[s].digest(config.alpha) for s in sorted(sites)},
        }
        # batches of one kind of hook (none / ablation / addition, either direction) and of about
        # one length: a batch carries only hooks some row needs and pads little. Every completion
        # is the same in any batch (tests/test_refusal_batched.py).
        order = sorted(range(len(work)), key=lambda i: (hook_kind(work[i]["cond"]), len(work[i]["prompt"])))
        done_sorted = map_items(
            f"refusal_generate_{which}", [work[i] for i in order],
            lambda part: _generate(which, model, tok, part), context=context, chunk=plan[which].batch_size,
        )  # fmt: skip
        done: list[str] = [""] * len(work)
        for i, text in zip(order, done_sorted, strict=True):
            done[i] = text
        for w, text in zip(work, done, strict=True):
            texts[which].setdefault(f"{w['kind']}:{w['cond']}", []).append(text)

    def _generate(which: str, model: Any, tok: Any, part: list[dict[str, Any]]) -> list[str]:
        """One batched ``generate`` over rows of mixed conditions: each row carries its own
        direction (ablation) or vector (addition), zero where its condition has none."""
        from postmech_eval.engine.generation import generate

        ivs = row_interventions([w["cond"] for w in part], which, sites, plan[which].n_layers, config.alpha)
        return generate(
            model, tok, [w["prompt"] for w in part], max_new_tokens=config.max_new_tokens,
            batch_size=plan[which].batch_size, interventions=ivs, progress=config.progress,
        )  # fmt: skip

    timings: dict[str, float] = {}
    t = time.perf_counter()
    sites["base"] = resolve_site(
        use("base"), plan["base"], train, config, {"model": pair.fingerprint("base")}
    )
    generate_for("base", ("none", "ablate_base", "add_base"))
    timings["phase_base_s"] = time.perf_counter() - t
    t = time.perf_counter()
    sites["post"] = resolve_site(
        use("post"), plan["post"], train, config, {"model": pair.fingerprint("post")}
    )
    generate_for("post", ("none", "ablate_post", "add_post", "ablate_base", "add_base"))
    timings["phase_post_s"] = time.perf_counter() - t
    t = time.perf_counter()
    generate_for("base", ("ablate_post", "add_post"))
    timings["phase_base_cross_s"] = time.perf_counter() - t
    if separate:
        pair.unload("base")

    judges = {
        "": PrefixJudge(phrases=config.judge_phrases),
        "_loose": FirstSentenceJudge(phrases=config.loose_phrases),
    }
    records = records_from_texts(items, texts, by_kind, judges)
    metrics, nan_reasons = metrics_from_records(records, by_kind, judges, config.transfer_min_change)
    arrays = verdict_arrays(records, by_kind, judges)
    ci_transfer, ci_cosine = intervals(
        arrays, judges, config.transfer_min_change, sites, config.n_bootstrap, config.seed
    )
    cos_layers = cosine_per_layer(sites["base"], sites["post"])
    metrics["refusal_dir_cosine"] = float(sites["base"].direction.cosine(sites["post"].direction))
    metrics["refusal_layer_base"] = float(sites["base"].layer)
    metrics["refusal_layer_post"] = float(sites["post"].layer)
    result_config = {
        **{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        **{f"refusal_{k}_{w}": v for w in WHICH for k, v in sites[w].summary(config.alpha).items()},
        "cosine_per_layer": cos_layers,
        "transfer_nan_reasons": nan_reasons,
        "n_train_available": {kind: len(train[kind]) for kind in KINDS},
        "n_items": {kind: len(by_kind[kind]) for kind in KINDS},
        "generate_batch_size": {w: plan[w].batch_size for w in WHICH},
        "specs": {w: pair.spec(w) for w in WHICH},
        "timings_s": {**timings, "total_s": time.perf_counter() - t0},
        "load_avg_1m_start_end": [load_start, os.getloadavg()[0]],
        "torch_threads": torch.get_num_threads(),
    }
    artifacts = write_artifacts(output_dir, sites, cos_layers, records, result_config) if output_dir else {}
    return AnalysisResult(
        metrics=metrics,
        records=records,
        config=result_config,
        seed=config.seed,
        artifacts=artifacts,
        item_metrics=item_metrics(records, by_kind, arrays),
        intervals={**ci_transfer.bounds, **ci_cosine.bounds},
        uncertainty=describe(
            ci_transfer,
            ci_cosine,
            refitted="refusal_dir_cosine: both difference-in-means directions (layer and position fixed); "
            "transfer ratios: nothing (directions fixed)",
        ),
    )


def hook_kind(cond: str) -> int:
    """0 for "none", 1 for an ablation, 2 for an addition (of either model's direction): rows
    of one kind share the same hooks, so batches are formed within a kind."""
    return 0 if cond == "none" else 1 if cond.startswith("ablate") else 2


def row_interventions(
    conds: Sequence[str], target: str, sites: dict[str, ModelSite], n_layers: int, alpha: float | None
) -> list[Any]:
    """The hooks of rows with conditions ``conds`` (one per row) on model ``target``, as per-row
    interventions: row i is ablated / steered exactly as ``_interventions(conds[i], ...)`` alone
    would (zero rows are untouched), so every condition shares one batched generation."""
    from postmech_eval.engine.hooks import AblateDirection, AddVector

    d = next(iter(sites.values())).direction.direction_
    ablate = torch.zeros(len(conds), d.shape[-1], dtype=d.dtype)
    add: dict[str, torch.Tensor] = {}
    for i, cond in enumerate(conds):
        if cond == "none":
            continue
        action, source = cond.split("_")
        rd = sites[source].direction.direction_
        if action == "ablate":
            ablate[i] = rd
        else:
            site = site_for_layer(sites[source].layer, n_layers)
            add.setdefault(site, torch.zeros_like(ablate))[i] = rd
    out: list[Any] = []
    if bool(ablate.any()):
        out.append(AblateDirection(direction=ablate))
    coeff = float(alpha) if alpha is not None else sites[target].direction.alpha_
    out += [AddVector(site=site, vector=v, coeff=coeff) for site, v in add.items()]
    return out


def _interventions(
    cond: str, target: str, sites: dict[str, ModelSite], n_layers: int, alpha: float | None
) -> list[Any]:
    """Hooks of condition ``cond`` ("none", "ablate_<source>", "add_<source>") on model ``target``.

    An addition adds the source's unit direction at the source's layer with the TARGET's
    coefficient (``alpha``, else the target's own mean projection difference), so own and
    cross additions on one model differ only in direction (METHODS §4).
    """
    from postmech_eval.engine.hooks import AblateDirection, AddVector

    if cond == "none":
        return []
    action, source = cond.split("_")
    rd = sites[source].direction
    if action == "ablate":
        return [AblateDirection(direction=rd.direction_)]
    coeff = float(alpha) if alpha is not None else sites[target].direction.alpha_
    return [AddVector(site=site_for_layer(sites[source].layer, n_layers), vector=rd.direction_, coeff=coeff)]
