"""Truthfulness of a pair: linear probes (METHODS.md §2) and probe-direction steering (§3).

Two analyses share this module because they share their inputs: the statement datasets,
the probe layer and the probe itself.

- `run_probe`: one capture pass per model records the residual stream (output of every
  decoder layer) at the last token of each bare statement. Probes are fitted on the
  training datasets (each dataset centred by its own mean) and tested on the held-out
  one, at the probe layer (the metrics) and at every layer (the sweep, saved as JSON and
  a PNG curve). Transfer = one model's probe applied to the other model's activations.
- `run_steering`: the probe direction of each model, rescaled to the mean class
  separation, is added (+d to false, -d to true statements) to the residual stream at
  the last two statement tokens of a few-shot prompt, at every layer of
  floor(0.25 L)..l_probe; the readout is p_diff = P(" TRUE") - P(" FALSE").

Few-shot examples (2 true + 2 false, order shuffled per item) come from the held-out
dataset's *train* split, the way METHODS §1 builds its prompt and the organisms learnt
the format: same relation as the query, never the query itself, never a test item. A
user file without a 'split' field lends all its other statements. The draw is seeded
by (seed, statement), so an item's prompt does not depend on which other items run.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from postmech_eval.analyses import AnalysisResult
from postmech_eval.analyses.steps import step_context
from postmech_eval.analyses.truth import uncertainty as unc
from postmech_eval.analyses.truth.config import (  # noqa: F401  (the analysis' public names)
    TRAIN_DATASETS,
    WHICH,
    TruthProbeConfig,
    TruthSteeringConfig,
    _as_statements,
    _check_common,
    _check_layers_early,
    _heldout_statements,
    _layer,
    _n_layers,
    _steer_layers,
    _training_statements,
    default_probe_items,
    default_steering_items,
)
from postmech_eval.analyses.truth.layer_choice import choose_layer
from postmech_eval.analyses.truth.report import (
    probe_records,
    write_probe_artifacts,
    write_steering_artifacts,
)
from postmech_eval.analyses.truth.steer import (
    SUFFIX,
    answer_ids,
    few_shot_prompt,
    nif,
    p_diff,
    statement_positions,
    steer_logits,
)
from postmech_eval.data import Statement
from postmech_eval.engine.capture import logits_last
from postmech_eval.engine.shard import map_items
from postmech_eval.estimators.probes import fit_probe, statement_activations

__all__ = [
    "SUFFIX",
    "TRAIN_DATASETS",
    "TruthProbeConfig",
    "TruthSteeringConfig",
    "statement_activations",
    "default_probe_items",
    "default_steering_items",
    "few_shot_prompt",
    "fit_probe",
    "layer_sweep",
    "nif",
    "p_diff",
    "run_probe",
    "run_steering",
    "statement_positions",
    "steer_logits",
]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _conditions(models: Sequence[str]) -> list[tuple[str, str, str]]:
    """(probe from, applied to, name): "base", "post", "base_on_post", "post_on_base"."""
    return [(a, b, a if a == b else f"{a}_on_{b}") for a in models for b in models]


def layer_sweep(
    train_acts: dict[str, torch.Tensor],
    train: Sequence[Statement],
    test_acts: dict[str, torch.Tensor],
    y_test: Any,
    kind: str,
) -> tuple[dict[str, list[float]], list[dict[str, Any]]]:
    """Held-out accuracy of each model's probe at every layer, on every model's activations.

    ``train_acts[m]``: [L, n_train, d] raw activations of `train` (centred per dataset
    here); ``test_acts[m]``: [L, n_test, d] held-out activations, already centred.
    Returns ({condition: [acc per layer]} with conditions "base", "post",
    "base_on_post", ... and "cosine" when both base and post are given, [per-layer
    {model: fitted probe}]). One model alone gives its own curve.
    """
    models = list(train_acts)
    n_layers = next(iter(train_acts.values())).shape[0]
    sweep: dict[str, list[float]] = {name: [] for _, _, name in _conditions(models)}
    fitted: list[dict[str, Any]] = []
    for lay in range(n_layers):
        probes = {m: fit_probe(train_acts[m][lay], train, kind) for m in models}
        fitted.append(probes)
        for src, tgt, name in _conditions(models):
            sweep[name].append(probes[src].score(test_acts[tgt][lay], y_test))
        if {"base", "post"} <= set(models):
            sweep.setdefault("cosine", []).append(_cosine(probes["base"].coef_, probes["post"].coef_))
    return sweep, fitted


def _every_layer(pair: Any, which: str, texts: Sequence[str], batch_size: int) -> tuple[torch.Tensor, int]:
    """``which``'s statement activations at every layer [L, n, d] and L. The one capture both
    truth tasks make: same step, sites and model context, so the per-item cache entries of
    one task serve the other (the steering task reads the probe task's in a suite run)."""
    model, tokenizer = pair.get(which)
    n_layers = _n_layers(model)
    acts = statement_activations(
        model, tokenizer, texts, range(n_layers), batch_size, context={"model": pair.fingerprint(which)}
    )
    return acts, n_layers


def run_probe(
    pair: Any, config: TruthProbeConfig, items: Sequence[dict] | None = None, output_dir: Path | None = None
) -> AnalysisResult:
    """METHODS §2 on a pair: probe accuracies (own, transferred), direction cosine, layer sweep."""
    test = _as_statements(items, config)  # data errors surface before any model loads
    train = _training_statements(config)
    _check_layers_early(pair, config)
    # Centre the held-out dataset by its whole split (label-free), so --limit does not move it.
    pool = _heldout_statements(config, config.split)
    centre_texts = list(dict.fromkeys([s.statement for s in pool] + [s.statement for s in test]))
    texts = [s.statement for s in train] + centre_texts
    acts: dict[str, torch.Tensor] = {}
    for which in WHICH:
        acts[which], n_layers = _every_layer(pair, which, texts, config.batch_size)
    n_train = len(train)
    layer = _layer(config, n_layers)
    choice = None
    if layer is None:  # auto: validation split of the training statements, never the test set
        layer, choice = choose_layer({w: a[:, :n_train] for w, a in acts.items()}, train, config.probe,
                                     config.val_fraction, config.seed)  # fmt: skip
    where = {t: i for i, t in enumerate(centre_texts)}
    rows = [where[s.statement] for s in test]
    y_test = np.array([s.label for s in test])
    # held-out block centred by its own mean at every layer, then the evaluated rows: [L, n_test, d]
    test_acts = {}
    for w, a in acts.items():
        block = a[:, n_train:]
        test_acts[w] = (block - block.mean(dim=1, keepdim=True))[:, rows]
    train_acts = {w: a[:, :n_train] for w, a in acts.items()}
    sweep, fitted = layer_sweep(train_acts, train, test_acts, y_test, config.probe)
    metrics = {f"probe_acc_{k}": sweep[k][layer] for k in ("base", "post", "base_on_post", "post_on_base")}
    metrics["truth_dir_cosine"] = sweep["cosine"][layer]
    for w in WHICH:
        metrics[f"sweep_best_layer_{w}"] = float(int(np.argmax(sweep[w])))
        metrics[f"sweep_best_acc_{w}"] = float(max(sweep[w]))
    probes = fitted[layer]
    scores = {
        key: probes[src].decision_function(test_acts[tgt][layer]) for src, tgt, key in _conditions(WHICH)
    }
    correct = {key: (v > 0) == (y_test == 1) for key, v in scores.items()}
    own_correct = {
        w: np.stack([(fitted[lay][w].decision_function(test_acts[w][lay]) > 0) == (y_test == 1)
                     for lay in range(n_layers)])
        for w in WHICH
    }  # fmt: skip
    sweep_ci, cos_ci = unc.probe_intervals(
        {w: train_acts[w][layer].numpy() for w in WHICH},
        [s.dataset for s in train],
        [s.label for s in train],
        own_correct,
        config.probe,
        config.n_bootstrap,
        config.seed,
    )
    cfg = {
        **dataclasses.asdict(config),
        "layer_resolved": layer,
        "layer_choice": choice or {"method": "fixed" if config.layer is not None else "floor(0.375 L)"},
        "n_layers": n_layers,
        "n_train": n_train,
        "n_test": len(test),
    }
    if config.leave_one_out:
        cfg["leave_one_out"] = _leave_one_out(acts, layer, train, test, rows, n_train, config.probe)
    artifacts = (
        write_probe_artifacts(output_dir, probes, sweep, layer, cfg, metrics, config.figures)
        if output_dir
        else {}
    )
    return AnalysisResult(
        metrics=metrics,
        records=probe_records(test, scores),
        config=cfg,
        seed=config.seed,
        artifacts=artifacts,
        item_metrics=unc.probe_item_metrics(correct),
        intervals={**sweep_ci.bounds, **cos_ci.bounds},
        uncertainty=unc.describe(
            sweep_ci, cos_ci, refitted=f"truth_dir_cosine: both {config.probe} probe directions; nothing else"
        ),
    )


def _leave_one_out(
    acts: dict[str, torch.Tensor],
    layer: int,
    train: Sequence[Statement],
    test: Sequence[Statement],
    rows: Sequence[int],
    n_train: int,
    kind: str,
) -> dict[str, dict[str, float]]:
    """Held-out accuracy of each model's probe at ``layer`` with every dataset (training ones
    and the held-out items) left out in turn — scikit-learn's LeaveOneGroupOut."""
    from postmech_eval.estimators.probes import leave_one_dataset_out, make_probe

    groups = [s.dataset for s in train] + [s.dataset for s in test]
    y = np.array([s.label for s in train] + [s.label for s in test])
    out = {}
    for w, a in acts.items():
        X = torch.cat([a[layer, :n_train], a[layer, n_train:][list(rows)]]).numpy()
        out[w] = leave_one_dataset_out(make_probe(kind), X, y, groups)
    return out


def run_steering(
    pair: Any,
    config: TruthSteeringConfig,
    items: Sequence[dict] | None = None,
    output_dir: Path | None = None,
) -> AnalysisResult:
    """METHODS §3 on a pair: NIF for directions from base/post applied to base/post."""
    test = _as_statements(items, config)  # data errors surface before any model loads
    train = _training_statements(config)
    _check_layers_early(pair, config)
    everything = _heldout_statements(config, "all")
    demo_pool = [s for s in everything if s.split == "train"] or everything
    prompts = [few_shot_prompt(s, demo_pool, config.n_shots, config.seed) for s in test]
    labels = [s.label for s in test]
    if len(set(labels)) < 2:
        warnings.warn(f"Steering items hold only label {labels[0]}: the NIF metrics are NaN.", stacklevel=2)
    # Phase 1: each model's steering vector (MM probe at l_probe on the training datasets).
    vectors: dict[str, torch.Tensor] = {}
    texts = [s.statement for s in train]
    train_acts: dict[str, torch.Tensor] = {}
    for which in WHICH:
        # every layer, though one is used unless auto: in a suite run these are the probe
        # task's cached captures (see _every_layer)
        train_acts[which], n_layers = _every_layer(pair, which, texts, config.batch_size)
        layer = _layer(config, n_layers)
    choice = None
    if layer is None:
        layer, choice = choose_layer(train_acts, train, config.probe, config.val_fraction, config.seed)
    for which, a in train_acts.items():
        probe = fit_probe(a[layer], train, config.probe)
        vectors[which] = torch.tensor(probe.steering_vector_, dtype=torch.float32)
    del train_acts
    steer = _steer_layers(config, n_layers, layer)
    # Phase 2 (post first: it is still loaded when the pair holds one model at a time): one
    # per-item step per target model, sharded across ranks and cached.
    pdiff: dict[str, torch.Tensor] = {}
    positions: dict[str, list[tuple[int, int]]] = {}
    context = step_context(pair, WHICH, config, layer=layer, steer_layers=list(steer))
    for target in ("post", "base"):
        model, tokenizer = pair.get(target)
        ids = answer_ids(tokenizer, prompts[0])
        positions[target] = [statement_positions(tokenizer, p) for p in prompts]

        def readouts(
            part: list[dict[str, Any]], model: Any = model, tokenizer: Any = tokenizer, ids: Any = ids
        ) -> list[dict]:
            texts = [x["prompt"] for x in part]
            out = {"clean": p_diff(logits_last(model, tokenizer, texts, batch_size=config.batch_size), ids)}
            for src in WHICH:
                logits = steer_logits(
                    model,
                    tokenizer,
                    texts,
                    [x["label"] for x in part],
                    [tuple(x["positions"]) for x in part],
                    vectors[src],
                    steer,
                    config.coeff,
                    config.batch_size,
                )
                out[src] = p_diff(logits, ids)
            return [{k: float(v[i]) for k, v in out.items()} for i in range(len(part))]

        work = [
            {"prompt": p, "label": int(y), "positions": list(pos)}
            for p, y, pos in zip(prompts, labels, positions[target], strict=True)
        ]
        rows = map_items(f"truth_steering_{target}", work, readouts, context=context, chunk=config.batch_size)
        pdiff[target] = torch.tensor([r["clean"] for r in rows], dtype=torch.float64)
        for src in WHICH:
            pdiff[f"{src}_{target}"] = torch.tensor([r[src] for r in rows], dtype=torch.float64)
    y = np.array(labels)
    metrics: dict[str, float] = {}
    parts: dict[str, dict[str, float]] = {}
    for src in WHICH:
        for target in WHICH:
            base_p, int_p = pdiff[target].numpy(), pdiff[f"{src}_{target}"].numpy()
            total, t2f, f2t = nif(base_p[y == 1], int_p[y == 1], base_p[y == 0], int_p[y == 0])
            metrics[f"nif_{src}_{target}"] = total
            parts[f"nif_{src}_{target}"] = {"nif": total, "true_to_false": t2f, "false_to_true": f2t}
    metrics.update(unc.transfer(metrics))
    for target in WHICH:
        p = pdiff[target].numpy()
        metrics[f"p_diff_{target}_true"] = float(p[y == 1].mean()) if (y == 1).any() else math.nan
        metrics[f"p_diff_{target}_false"] = float(p[y == 0].mean()) if (y == 0).any() else math.nan
    arrays = {k: v.numpy().astype(np.float64) for k, v in pdiff.items()}
    ci = unc.steering_intervals(arrays, y, config.n_bootstrap, config.seed)
    records = [
        {
            "statement": s.statement,
            "label": s.label,
            "prompt": prompts[i],
            **{f"positions_{t}": list(positions[t][i]) for t in WHICH},
            **{f"p_diff_{k}": float(v[i]) for k, v in pdiff.items()},
        }
        for i, s in enumerate(test)
    ]
    cfg = {
        **dataclasses.asdict(config),
        "layer_resolved": layer,
        "steer_layers_resolved": list(steer),
        "layer_choice": choice or {"method": "fixed" if config.layer is not None else "floor(0.375 L)"},
        "n_layers": n_layers,
        "n_train": len(train),
        "n_demo_pool": len(demo_pool),
    }
    artifacts = write_steering_artifacts(output_dir, vectors, parts, cfg, metrics) if output_dir else {}
    return AnalysisResult(
        metrics=metrics,
        records=records,
        config=cfg,
        seed=config.seed,
        artifacts=artifacts,
        item_metrics=unc.steering_item_metrics(arrays, y),
        intervals=ci.bounds,
        uncertainty=unc.describe(ci, refitted="nothing (steering vectors held fixed)"),
    )
