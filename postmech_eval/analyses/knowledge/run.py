"""Knowledge storage location: causal patching heatmaps of a (base, post) pair (METHODS §1).

Why: if post-training moved where a model stores a fact, patching the true statement's
residual stream into the false statement's run would recover the truth judgement at
different (layer, token) cells in B and P. We build (true, false) statement pairs that
share the object word and token length and differ in the subject, patch every
(layer, token) cell — the last n statement tokens and the suffix " This statement is:" —
within each model and across models, and compare the normalised heatmaps, pooled over the
datasets and per dataset. The patching engine is ``postmech_eval.engine.patching`` (exact,
resumes mid-stack); this module owns data, prompts, normalisation and metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from postmech_eval.analyses import AnalysisResult
from postmech_eval.analyses.knowledge import report
from postmech_eval.analyses.knowledge.config import (  # noqa: F401
    DEFAULT_DATASETS,
    KnowledgeConfig,
    default_items,
    resolve_max_pairs,
)
from postmech_eval.analyses.knowledge.pairs import (
    SUFFIX,
    StatementPair,
    build_pairs,
    build_prompt,
    column_layout,
    label_token_ids,
)
from postmech_eval.analyses.steps import step_context
from postmech_eval.config import UserError
from postmech_eval.engine import patching
from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.attribution import attribution_batch
from postmech_eval.engine.prompt_rows import patch_prompt
from postmech_eval.engine.shard import all_gather, map_items

log = logging.getLogger(__name__)


class _ModelRun:
    """Per-model results over the pairs: LDs, own and cross patched LDs, donor values."""

    def __init__(self) -> None:
        self.ld: dict[int, tuple[float, float]] = {}
        self.donor: dict[int, torch.Tensor] = {}
        self.own: dict[int, torch.Tensor] = {}
        self.attr: dict[int, torch.Tensor] = {}
        self.cross: dict[int, torch.Tensor] = {}


def _progress(pairs: list[StatementPair], config: KnowledgeConfig, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(pairs, desc=desc, disable=not config.progress or not pairs, leave=False)


def _item(p: StatementPair) -> dict[str, Any]:
    """What a pair's per-item steps compute from (their cache key): ids and patched positions."""
    return {
        "pair_id": p.pair_id,
        "true": p.true_ids[0].tolist(),
        "false": p.false_ids[0].tolist(),
        "positions": list(p.positions),
    }


def _own_step(
    model: Any,
    pairs: dict[int, StatementPair],
    readout: Any,
    config: KnowledgeConfig,
    base: dict[int, dict[str, Any]] | None,
    cross: bool,
    which: str,
    defer: bool = False,
    keep: _Traces | None = None,
) -> Any:
    """Per pair on one model: logit differences, donor values, the within-model map and (on
    post, with ``cross``) the cross-model map from base's donor values (METHODS §1). Given
    ``base``'s rows, pairs base excluded are skipped. With ``defer`` (base, when cross-model
    maps are on) the within-model map is left to ``_cross_step``, which computes it in one
    batch with the post -> base cells exactly as post's step does: both directions then use
    the same arithmetic, and an identity pair gives bit-equal maps either way. The false
    run is computed inside its patched run (``engine.prompt_rows``) and its LD_false read
    there; base's first step traces it for the LDs alone. ``keep`` holds the pair's true trace
    for the cross step (instead of tracing the prompt again)."""
    donor = base if cross else None

    def step(part: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        attr: list[tuple[dict[str, Any], StatementPair, torch.Tensor]] = []  # estimated together
        for it in _progress(part, config, f"knowledge patching ({which})"):
            p = pairs[it["pair_id"]]
            tt = patching.trace(model, p.true_ids, keep_kv=True)
            own = tt.values(p.positions)
            row: dict[str, Any] = {"donor": own.cpu()}
            skip = base is not None and not base[p.pair_id].get("kept")  # excluded in base
            if defer or skip:  # base's first step: the LDs only (false run traced on the true one's prefix)
                tf = patching.trace(model, p.false_ids, start=p.own_start, prefix=tt, keep_kv=True)
                cells = None
            elif donor is None:
                cells, tf = patch_prompt(
                    model, tt, p.false_ids, own, p.positions, readout, max_rows=config.max_rows
                )
            else:  # own and cross cells share one batch: positions twice, two value sets
                both = torch.cat([own, donor[p.pair_id]["donor"].to(own)], dim=1)
                cells, tf = patch_prompt(
                    model, tt, p.false_ids, both, [*p.positions] * 2, readout, max_rows=config.max_rows
                )
            ld_t, ld_f = (float(readout(x.logits_last.unsqueeze(0))[0]) for x in (tt, tf))
            row["ld"] = [ld_t, ld_f]
            if report.exclusion([ld_t - ld_f], config) or skip:
                out.append(row)
                continue
            row["kept"] = True
            if keep is not None:
                keep.put(p.pair_id, tt)
            if cells is not None:
                n = len(p.positions)
                row["own"] = cells[:, :n]
                if donor is not None:
                    row["cross"] = cells[:, n:]
            if config.attribution:
                attr.append((row, p, own))
            out.append(row)
        if attr:  # the chunk's kept pairs in one padded forward + backward
            maps = attribution_batch(
                model, [p.false_ids for _, p, _ in attr], [v for _, _, v in attr],
                [p.positions for _, p, _ in attr], readout,
            )  # fmt: skip
            for (row, _, _), m in zip(attr, maps, strict=True):
                row["attr"] = m
        return out

    return step


def _cross_step(
    model: Any,
    pairs: dict[int, StatementPair],
    readout: Any,
    config: KnowledgeConfig,
    base: dict[int, dict[str, Any]],
    post: dict[int, dict[str, Any]],
    keep: _Traces | None = None,
) -> Any:
    """Per pair kept by both models: base's within-model map and the post -> base map (post's
    donor values into base), in one batch like post's step; on base's traces from its first
    step where ``keep`` still holds them."""

    def step(part: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for it in _progress(part, config, "knowledge patching (post -> base)"):
            pid = it["pair_id"]
            if not base[pid].get("kept") or not post[pid].get("kept"):
                out.append({})
                continue
            p = pairs[pid]
            # the receiver is computed exactly as in post's step (a packed row on the true run's
            # prefix), so the two directions use the same arithmetic: on an identity pair
            # base -> post and post -> base agree to the last bit, LD_false included
            tt = keep.pop(pid) if keep is not None else None
            if tt is None:
                tt = patching.trace(model, p.true_ids, keep_kv=True)
            own = tt.values(p.positions)
            n = len(p.positions)
            both, tf = patch_prompt(
                model, tt, p.false_ids, torch.cat([own, post[pid]["donor"].to(own)], dim=1),
                [*p.positions, *p.positions], readout, max_rows=config.max_rows,
            )  # fmt: skip
            ld = [float(readout(x.logits_last.unsqueeze(0))[0]) for x in (tt, tf)]
            out.append({"own": both[:, :n], "cross": both[:, n:], "ld": ld})
        return out

    return step


class _Traces:
    """Base's true traces of each pair from its first step, for the cross step (the same runs:
    tracing them again was a third of the task's forwards), up to ``budget`` bytes of tensors;
    pairs beyond it are traced again."""

    def __init__(self, budget: int = 256 << 20) -> None:
        self.budget = budget
        self.used = 0
        self.held: dict[int, tuple[patching.Trace, int]] = {}

    @staticmethod
    def _bytes(t: patching.Trace) -> int:
        kv = sum(k.nbytes + v.nbytes for k, v, _ in (t.kv or {}).values())
        return t.resid_post.nbytes + kv

    def put(self, pair_id: int, tt: patching.Trace) -> None:
        size = self._bytes(tt)
        if self.used + size <= self.budget:
            self.held[pair_id] = (tt, size)
            self.used += size

    def pop(self, pair_id: int) -> patching.Trace | None:
        got = self.held.pop(pair_id, None)
        if got is None:
            return None
        self.used -= got[1]
        return got[0]


def _local(items: list[dict[str, Any]], rows: list[Any]) -> dict[int, dict[str, Any]]:
    return {it["pair_id"]: r for it, r in zip(items, rows, strict=True) if r is not None}


def _gather_runs(
    base: dict[int, dict[str, Any]], post: dict[int, dict[str, Any]], cross: dict[int, dict[str, Any]]
) -> tuple[_ModelRun, _ModelRun]:
    """Every rank's per-pair results (without the bulky donor values), as two _ModelRuns."""
    light = {
        pid: {
            "base": {k: v for k, v in base[pid].items() if k != "donor"} | cross.get(pid, {}),
            "post": {k: v for k, v in post[pid].items() if k != "donor"},
        }
        for pid in base
    }
    runs = {"base": _ModelRun(), "post": _ModelRun()}
    for shard in all_gather(light):
        for pid in sorted(shard):
            for which, row in shard[pid].items():
                run = runs[which]
                run.ld[pid] = tuple(row["ld"])
                for name in ("own", "attr", "cross"):
                    if name in row:
                        getattr(run, name)[pid] = row[name]
    for run in runs.values():  # pair order, whichever rank computed them
        for name in ("ld", "own", "attr", "cross"):
            setattr(run, name, dict(sorted(getattr(run, name).items())))
    return runs["base"], runs["post"]


def run(
    pair: Any,
    config: KnowledgeConfig | None = None,
    items: Sequence[dict[str, Any]] | None = None,
    output_dir: Path | None = None,
) -> AnalysisResult:
    """Within- and cross-model patching heatmaps of ``pair`` and their comparison metrics."""
    config = config or KnowledgeConfig()
    items = list(default_items(config) if items is None else items)
    torch.manual_seed(config.seed)
    model_b, tok_b = pair.get("base")
    readout_ids = label_token_ids(tok_b)
    t_id, f_id = readout_ids

    readout = patching.LogitDiff(t_id, f_id)  # patched rows read two unembedding rows only

    n_layers = get_adapter(model_b).n_layers
    n_pairs, pairs_source = resolve_max_pairs(
        config.max_pairs_per_dataset, n_layers, next(model_b.parameters()).device.type
    )
    config_set = config
    config = replace(config, max_pairs_per_dataset=n_pairs)
    pairs, excluded, survived = build_pairs(items, tok_b, config)
    layout = column_layout(pairs, tok_b, config)
    by_id = {p.pair_id: p for p in pairs}
    work = [_item(p) for p in pairs]
    # Per-pair steps, sharded across ranks (each pair stays on one rank through the three
    # steps, so donor values never travel) and cached per pair.
    # "rows": the layout of the steps' entries (base's own map moved to the cross step; 3: the
    # cross step's LDs are those of its own run)
    ctx = {"model": pair.fingerprint("base"), "rows": 3, **step_context(pair, (), config)}
    keep = _Traces() if config.cross_model else None
    step = _own_step(
        model_b, by_id, readout, config, None, False, "base", defer=config.cross_model, keep=keep
    )
    base_rows = _local(work, map_items("knowledge_base", work, step, context=ctx, chunk=4, gather=False))
    model_p, tok_p = pair.get("post")
    _check_same_tokens(tok_p, pairs, readout_ids)
    ctx = {"rows": 3, **step_context(pair, ("base", "post"), config)}
    step = _own_step(model_p, by_id, readout, config, base_rows, config.cross_model, "post")
    post_rows = _local(work, map_items("knowledge_post", work, step, context=ctx, chunk=4, gather=False))
    cross_rows: dict[int, dict[str, Any]] = {}
    if config.cross_model:
        model_b, _ = pair.get("base")
        step = _cross_step(model_b, by_id, readout, config, base_rows, post_rows, keep)
        cross_rows = _local(
            work, map_items("knowledge_cross", work, step, context=ctx, chunk=4, gather=False)
        )
    base, post = _gather_runs(base_rows, post_rows, cross_rows)
    use = [p for p in pairs if p.pair_id in base.own and p.pair_id in post.own]
    result = report.summarise(pairs, use, base, post, n_layers, config, layout.width)
    result["pair_ids"] = [p.pair_id for p in use]
    result["datasets"] = [p.dataset for p in use]
    records = report.records(items, pairs, excluded, base, post, config)
    ci = result["intervals"]
    result_metrics = {**result["metrics"], "pairs_excluded": float(len(pairs) - len(use))}
    artifacts: dict[str, str] = {}
    if output_dir is not None:
        artifacts = report.write(Path(output_dir), result, survived, config, layout)
    if not use:
        log.warning("knowledge patching: no pair survived (built %d); metrics are NaN", len(pairs))
    return AnalysisResult(
        metrics=result_metrics,
        records=records,
        config={
            **asdict(config),
            "max_pairs_per_dataset": config_set.max_pairs_per_dataset,
            "max_pairs_per_dataset_resolved": n_pairs,
            "max_pairs_per_dataset_source": pairs_source,
            "pairs_per_dataset": survived,
            "columns": layout.labels,
            "peaks": report.labelled_peaks(result["peaks"], layout),
            "per_dataset": report.dataset_summary(result, layout),
            "label_token_ids": list(readout_ids),
        },
        seed=config.seed,
        artifacts=artifacts,
        intervals=ci.bounds,
        uncertainty={
            **ci.settings,
            "refitted": "nothing (per-pair maps are measurements)",
            "notes": ci.notes,
        },
    )


def _check_same_tokens(tokenizer: Any, pairs: list[StatementPair], ids: tuple[int, int]) -> None:
    """Cross-model patching needs both models to see the very same tokens."""
    if label_token_ids(tokenizer) != ids:
        raise UserError("base and post tokenizers give different ' TRUE'/' FALSE' token ids")
    for p in pairs[:3]:
        if tokenizer(p.true_prompt)["input_ids"] != p.true_ids[0].tolist():
            raise UserError(f"base and post tokenizers tokenize pair {p.pair_id}'s prompt differently")


__all__ = [
    "KnowledgeConfig",
    "StatementPair",
    "build_pairs",
    "build_prompt",
    "default_items",
    "run",
    "label_token_ids",
    "SUFFIX",
    "DEFAULT_DATASETS",
]
