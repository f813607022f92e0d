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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from postmech_eval.analyses import AnalysisResult
from postmech_eval.analyses.knowledge import report
from postmech_eval.analyses.knowledge.config import DEFAULT_DATASETS, KnowledgeConfig  # noqa: F401
from postmech_eval.analyses.knowledge.pairs import (
    SUFFIX,
    StatementPair,
    build_pairs,
    build_prompt,
    column_layout,
    label_token_ids,
)
from postmech_eval.config import UserError
from postmech_eval.engine import patching
from postmech_eval.engine.arch import get_adapter

log = logging.getLogger(__name__)


def default_items(config: KnowledgeConfig) -> list[dict[str, Any]]:
    """The task's documents: every statement of the configured datasets and split (all of a
    user file that has no split column)."""
    from postmech_eval.config import UserError
    from postmech_eval.data import load_statements

    out: list[dict[str, Any]] = []
    for name in config.datasets:
        rows = load_statements(name, "all", data_dir=config.data_dir)
        if config.data_dir is not None and not any(s.subject and s.object for s in rows):
            raise UserError(
                f"knowledge patching pairs statements by their 'subject' and 'object' columns; dataset "
                f"{name!r} in {config.data_dir} has none (add them, e.g. subject=city, object=country)"
            )
        if config.split != "all" and all(s.split for s in rows):
            rows = [s for s in rows if s.split == config.split]
        out += [asdict(s) for s in rows]
    return out


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


def _own_pass(
    model: Any,
    pairs: list[StatementPair],
    readout: Any,
    config: KnowledgeConfig,
    donor: _ModelRun | None,
    skip: set[int],
    which: str,
) -> _ModelRun:
    run = _ModelRun()
    for p in _progress(pairs, config, f"knowledge patching ({which})"):
        # cross-model cells need every position recomputed; within-model ones only from
        # the first token where the prompts differ
        start = p.positions[0] if donor is not None else p.own_start
        tt = patching.trace(model, p.true_ids, keep_kv=True)
        tf = patching.trace(model, p.false_ids, start=start, prefix=tt)  # shares the few-shot prefix
        ld_t, ld_f = (float(readout(x.logits_last.unsqueeze(0))[0]) for x in (tt, tf))
        run.ld[p.pair_id] = (ld_t, ld_f)
        run.donor[p.pair_id] = tt.values(p.positions).cpu()
        if report.exclusion([ld_t - ld_f], config) or p.pair_id in skip:
            continue
        run.own[p.pair_id] = patching.patch_cells(
            model, tf, tt.values(p.positions), p.positions, readout, max_rows=config.max_rows
        )
        if config.attribution:
            run.attr[p.pair_id] = patching.attribution_cells(
                model, p.false_ids, tt.values(p.positions), p.positions, readout
            )
        if donor is not None and p.pair_id in donor.donor:
            run.cross[p.pair_id] = patching.patch_cells(
                model, tf, donor.donor[p.pair_id], p.positions, readout, max_rows=config.max_rows
            )
    return run


def _cross_pass(
    model: Any,
    pairs: list[StatementPair],
    readout: Any,
    config: KnowledgeConfig,
    receiver: _ModelRun,
    donor: _ModelRun,
    use: set[int],
) -> None:
    for p in _progress(pairs, config, "knowledge patching (post -> base)"):
        if p.pair_id in use:
            tf = patching.trace(model, p.false_ids, start=p.positions[0])
            receiver.cross[p.pair_id] = patching.patch_cells(
                model, tf, donor.donor[p.pair_id], p.positions, readout, max_rows=config.max_rows
            )


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

    def readout(logits: torch.Tensor) -> torch.Tensor:
        return logits[:, t_id] - logits[:, f_id]

    pairs, excluded, survived = build_pairs(items, tok_b, config)
    layout = column_layout(pairs, tok_b, config)
    n_layers = get_adapter(model_b).n_layers
    base = _own_pass(model_b, pairs, readout, config, None, set(), "base")
    model_p, tok_p = pair.get("post")
    _check_same_tokens(tok_p, pairs, readout_ids)
    skip = {pid for pid, (a, b) in base.ld.items() if report.exclusion([a - b], config)}
    post = _own_pass(model_p, pairs, readout, config, base if config.cross_model else None, skip, "post")
    use = [p for p in pairs if p.pair_id in base.own and p.pair_id in post.own]
    if config.cross_model and use:
        model_b, _ = pair.get("base")
        _cross_pass(model_b, use, readout, config, base, post, {p.pair_id for p in use})
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
