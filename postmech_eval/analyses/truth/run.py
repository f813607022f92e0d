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
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch

from postmech_eval.analyses import AnalysisResult
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
from postmech_eval.config import (
    Config,
    Constraint,
    Interval,
    InvalidParameterError,
    NonEmpty,
    Options,
    Satisfies,
    validate,
)
from postmech_eval.data import TRUTH_TRAIN_DATASETS, Statement, load_statements
from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.capture import logits_last
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

TRAIN_DATASETS: tuple[str, ...] = TRUTH_TRAIN_DATASETS
WHICH = ("base", "post")


@dataclass(frozen=True, kw_only=True)
class TruthProbeConfig(Config):
    """METHODS §2 defaults. ``layer`` is the block whose output is read
    (``blocks.{layer}.resid_post``); ``layer=None`` means floor(0.375 L); ``heldout`` is a bundled
    dataset name or a path to a statement JSONL file; ``split`` picks the held-out items."""

    heldout: str = "cities"
    train_datasets: tuple[str, ...] = TRAIN_DATASETS
    layer: int | None = None
    probe: Literal["mm", "lr"] = "mm"
    split: Literal["train", "test", "all"] = "test"
    seed: int = 0
    batch_size: int = 16

    LAYER_STREAM: ClassVar[str] = "resid_post"
    _constraints: ClassVar[dict[str, list[Constraint]]] = {
        "heldout": [NonEmpty()],
        "train_datasets": [NonEmpty()],
        "layer": [Interval(Integral, 0, None), None],
        "probe": [Options(("mm", "lr"))],
        "split": [Options(("train", "test", "all"))],
        "seed": [Interval(Integral, None, None)],
        "batch_size": [Interval(Integral, 1, None)],
    }

    def __post_init__(self) -> None:
        _check_common(self)


@dataclass(frozen=True, kw_only=True)
class TruthSteeringConfig(Config):
    """METHODS §3 defaults. ``layer`` and ``steer_layers`` are block outputs
    (``blocks.{l}.resid_post``). ``layer=None``: probe layer floor(0.375 L); ``steer_layers=None``:
    floor(0.25 L)..layer inclusive; ``n_shots`` labelled examples, half true, half false."""

    heldout: str = "cities"
    train_datasets: tuple[str, ...] = TRAIN_DATASETS
    layer: int | None = None
    steer_layers: tuple[int, ...] | None = None
    coeff: float = 1.0
    probe: Literal["mm", "lr"] = "mm"
    n_shots: int = 4
    split: Literal["train", "test", "all"] = "test"
    seed: int = 0
    batch_size: int = 16

    LAYER_STREAM: ClassVar[str] = "resid_post"
    _constraints: ClassVar[dict[str, list[Constraint]]] = {
        **TruthProbeConfig._constraints,
        "steer_layers": [Satisfies(lambda v: all(int(x) >= 0 for x in v), "a tuple of ints >= 0"), None],
        "coeff": [Interval(Real, None, None)],
        "n_shots": [
            Satisfies(
                lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0 and v % 2 == 0,
                "an even int >= 0",
            )
        ],
    }

    def __post_init__(self) -> None:
        _check_common(self)


def _check_common(cfg: Any) -> None:
    """The constraints, then the one rule between two fields."""
    if isinstance(cfg.train_datasets, str):
        object.__setattr__(cfg, "train_datasets", tuple(p for p in cfg.train_datasets.split("|") if p))
    validate(cfg)
    if cfg.heldout in cfg.train_datasets:
        raise InvalidParameterError(
            f"The 'heldout' parameter of {type(cfg).__name__} must not be one of train_datasets "
            f"{list(cfg.train_datasets)}. Got {cfg.heldout!r} instead."
        )


# --------------------------------------------------------------------------- data


def _heldout_statements(config: Any, split: str) -> list[Statement]:
    """Held-out statements of `split`; a user file without 'split' fields gives all its lines."""
    rows = load_statements(config.heldout, "all")  # validates the file: one error naming file:line
    if split == "all" or any(not s.split for s in rows):
        return rows
    return [s for s in rows if s.split == split]


def default_probe_items(config: TruthProbeConfig | None = None) -> list[dict[str, Any]]:
    """The task's docs: the held-out dataset's statements of ``config.split``."""
    config = config or TruthProbeConfig()
    return [dataclasses.asdict(s) for s in _heldout_statements(config, config.split)]


def default_steering_items(config: TruthSteeringConfig | None = None) -> list[dict[str, Any]]:
    """The task's docs: the held-out dataset's statements of ``config.split``."""
    config = config or TruthSteeringConfig()
    return [dataclasses.asdict(s) for s in _heldout_statements(config, config.split)]


def _as_statements(items: Sequence[dict] | None, config: Any) -> list[Statement]:
    if items is None:
        return _heldout_statements(config, config.split)
    fields = {f.name for f in dataclasses.fields(Statement)}
    out = []
    for i, item in enumerate(items):
        if not isinstance(item.get("statement"), str) or item.get("label") not in (0, 1):
            raise ValueError(
                f"The 'items' parameter must hold dicts with a 'statement' string and a 0/1 'label'. "
                f"Item {i} is {item!r}."
            )
        kept = {k: v for k, v in item.items() if k in fields}
        out.append(Statement(**{"subject": "", "object": "", "dataset": str(config.heldout), **kept}))
    if not out:
        raise ValueError("The 'items' parameter must be non-empty (or None for the default items). Got [].")
    return out


def _training_statements(config: Any) -> list[Statement]:
    return [s for name in config.train_datasets for s in load_statements(name, "all")]


def _layer(config: Any, n_layers: int) -> int:
    layer = math.floor(0.375 * n_layers) if config.layer is None else config.layer
    if not 0 <= layer < n_layers:
        raise ValueError(
            f"The 'layer' parameter must be in [0, {n_layers - 1}] for this model. Got {layer} instead."
        )
    return layer


# --------------------------------------------------------------------------- probes


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
        model, tokenizer = pair.get(which)
        n_layers = _n_layers(model)
        acts[which] = statement_activations(model, tokenizer, texts, range(n_layers), config.batch_size)
    layer = _layer(config, n_layers)
    n_train = len(train)
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
    cfg = {**dataclasses.asdict(config), "layer_resolved": layer, "n_layers": n_layers, "n_train": n_train}
    artifacts = write_probe_artifacts(output_dir, probes, sweep, layer, cfg, metrics) if output_dir else {}
    return AnalysisResult(
        metrics=metrics,
        records=probe_records(test, scores),
        config=cfg,
        seed=config.seed,
        artifacts=artifacts,
    )


def _n_layers(model: Any) -> int:
    return get_adapter(model).n_layers


def _check_layers_early(pair: Any, config: Any) -> None:
    """Layer errors before any weights load, when the pair exposes its HF config."""
    try:
        n_layers = int(pair.config("base").num_hidden_layers)
    except (AttributeError, TypeError, ValueError):
        return  # no config without loading: the checks run once the model is there
    layer = _layer(config, n_layers)
    if isinstance(config, TruthSteeringConfig):
        _steer_layers(config, n_layers, layer)


# --------------------------------------------------------------------------- steering


def _steer_layers(config: TruthSteeringConfig, n_layers: int, layer: int) -> tuple[int, ...]:
    layers = config.steer_layers
    if layers is None:
        layers = tuple(range(math.floor(0.25 * n_layers), layer + 1))
    bad = [x for x in layers if not 0 <= x < n_layers]
    if bad or not layers:
        raise ValueError(
            f"The 'steer_layers' parameter must be non-empty layers in [0, {n_layers - 1}]. Got {list(layers)} instead."
        )
    return tuple(layers)


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
    for which in WHICH:
        model, tokenizer = pair.get(which)
        n_layers = _n_layers(model)
        layer = _layer(config, n_layers)
        texts = [s.statement for s in train]
        acts = statement_activations(model, tokenizer, texts, [layer], config.batch_size)[0]
        probe = fit_probe(acts, train, config.probe)
        vectors[which] = torch.tensor(probe.steering_vector_, dtype=torch.float32)
    steer = _steer_layers(config, n_layers, layer)
    # Phase 2 (post first: it is still loaded when the pair holds one model at a time).
    pdiff: dict[str, torch.Tensor] = {}
    positions: dict[str, list[tuple[int, int]]] = {}
    for target in ("post", "base"):
        model, tokenizer = pair.get(target)
        ids = answer_ids(tokenizer, prompts[0])
        positions[target] = [statement_positions(tokenizer, p) for p in prompts]
        pdiff[target] = p_diff(logits_last(model, tokenizer, prompts, batch_size=config.batch_size), ids)
        for src in WHICH:
            logits = steer_logits(
                model,
                tokenizer,
                prompts,
                labels,
                positions[target],
                vectors[src],
                steer,
                config.coeff,
                config.batch_size,
            )
            pdiff[f"{src}_{target}"] = p_diff(logits, ids)
    y = np.array(labels)
    metrics: dict[str, float] = {}
    parts: dict[str, dict[str, float]] = {}
    for src in WHICH:
        for target in WHICH:
            base_p, int_p = pdiff[target].numpy(), pdiff[f"{src}_{target}"].numpy()
            total, t2f, f2t = nif(base_p[y == 1], int_p[y == 1], base_p[y == 0], int_p[y == 0])
            metrics[f"nif_{src}_{target}"] = total
            parts[f"nif_{src}_{target}"] = {"nif": total, "true_to_false": t2f, "false_to_true": f2t}
    for target in WHICH:
        p = pdiff[target].numpy()
        metrics[f"p_diff_{target}_true"] = float(p[y == 1].mean()) if (y == 1).any() else math.nan
        metrics[f"p_diff_{target}_false"] = float(p[y == 0].mean()) if (y == 0).any() else math.nan
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
        "n_layers": n_layers,
        "n_train": len(train),
        "n_demo_pool": len(demo_pool),
    }
    artifacts = write_steering_artifacts(output_dir, vectors, parts, cfg, metrics) if output_dir else {}
    return AnalysisResult(metrics=metrics, records=records, config=cfg, seed=config.seed, artifacts=artifacts)
