"""Configuration and inputs of the truth analyses (METHODS §2, §3): the two configs, the
held-out and training statements, and the probe layer.

Apart from ``run`` so the probe and steering code reads as the method, and the organisms'
verification can share the same defaults without importing an analysis.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar, Literal

from postmech_eval.config import (
    Config,
    Constraint,
    Interval,
    InvalidParameterError,
    NonEmpty,
    Options,
    Satisfies,
    UserError,
    validate,
)
from postmech_eval.data import TRUTH_TRAIN_DATASETS, Statement, load_statements
from postmech_eval.estimators.bootstrap import N_BOOTSTRAP

TRAIN_DATASETS: tuple[str, ...] = TRUTH_TRAIN_DATASETS
WHICH = ("base", "post")


@dataclass(frozen=True, kw_only=True)
class TruthProbeConfig(Config):
    """METHODS §2 defaults. ``layer`` is the block whose output is read
    (``blocks.{layer}.resid_post``); ``layer=None`` means floor(0.375 L); ``layer="auto"`` picks
    it by validation accuracy on ``val_fraction`` of the TRAINING statements (never the test
    set; see ``layer_choice``); ``heldout`` is a bundled dataset name or a path to a statement
    file; ``split`` picks the held-out items. ``leave_one_out``: also a table of held-out
    accuracies with every dataset left out in turn (scikit-learn's LeaveOneGroupOut).
    ``data_dir``: a directory of the user's statement files (CSV ``statement,label[,...]`` or
    JSONL, one per dataset, e.g. the paper's geometry-of-truth CSVs); ``heldout`` and
    ``train_datasets`` then name files in it (``cities`` -> ``<data_dir>/cities.csv``).
    ``figures``: also draw ``truth_probe_sweep.png`` (the accuracy curves by layer); off under
    ``postmech-eval run``, whose ``truth_probe.png`` shows the same curves."""

    heldout: str = "cities"
    train_datasets: tuple[str, ...] = TRAIN_DATASETS
    layer: int | str | None = None
    val_fraction: float = 0.2
    leave_one_out: bool = False
    data_dir: str | None = None
    probe: Literal["mm", "lr"] = "mm"
    split: Literal["train", "test", "all"] = "test"
    seed: int = 0
    n_bootstrap: int = N_BOOTSTRAP
    batch_size: int = 16
    figures: bool = True

    LAYER_STREAM: ClassVar[str] = "resid_post"
    _constraints: ClassVar[dict[str, list[Constraint]]] = {
        "heldout": [NonEmpty()],
        "train_datasets": [NonEmpty()],
        "layer": [Interval(Integral, 0, None), Options(("auto",)), None],
        "val_fraction": [Interval(Real, 0, 1, closed="neither")],
        "probe": [Options(("mm", "lr"))],
        "split": [Options(("train", "test", "all"))],
        "seed": [Interval(Integral, None, None)],
        "n_bootstrap": [Interval(Integral, 0, None)],
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
    layer: int | str | None = None
    val_fraction: float = 0.2
    data_dir: str | None = None
    steer_layers: tuple[int, ...] | None = None
    coeff: float = 1.0
    probe: Literal["mm", "lr"] = "mm"
    n_shots: int = 4
    split: Literal["train", "test", "all"] = "test"
    seed: int = 0
    n_bootstrap: int = N_BOOTSTRAP
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
    rows = load_statements(
        config.heldout, "all", data_dir=config.data_dir
    )  # validates the file: one error naming file:line
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
            raise UserError(
                f"The 'items' parameter must hold dicts with a 'statement' string and a 0/1 'label'. "
                f"Item {i} is {item!r}."
            )
        kept = {k: v for k, v in item.items() if k in fields}
        out.append(Statement(**{"subject": "", "object": "", "dataset": str(config.heldout), **kept}))
    if not out:
        raise UserError("The 'items' parameter must be non-empty (or None for the default items). Got [].")
    return out


def _training_statements(config: Any) -> list[Statement]:
    return [
        s for name in config.train_datasets for s in load_statements(name, "all", data_dir=config.data_dir)
    ]


def _layer(config: Any, n_layers: int) -> int | None:
    """The configured probe layer; None for ``"auto"`` (chosen once activations exist)."""
    if config.layer == "auto":
        return None
    layer = math.floor(0.375 * n_layers) if config.layer is None else config.layer
    if not 0 <= layer < n_layers:
        raise UserError(
            f"The 'layer' parameter must be in [0, {n_layers - 1}] for this model. Got {layer} instead."
        )
    return layer


# --------------------------------------------------------------------------- probes


def _steer_layers(config: TruthSteeringConfig, n_layers: int, layer: int) -> tuple[int, ...]:
    layers = config.steer_layers
    if layers is None:
        layers = tuple(range(math.floor(0.25 * n_layers), layer + 1))
    bad = [x for x in layers if not 0 <= x < n_layers]
    if bad or not layers:
        raise UserError(
            f"The 'steer_layers' parameter must be non-empty layers in [0, {n_layers - 1}]. Got {list(layers)} instead."
        )
    return tuple(layers)


def _n_layers(model: Any) -> int:
    from postmech_eval.engine.arch import get_adapter  # torch: only once a model exists

    return get_adapter(model).n_layers


def _check_layers_early(pair: Any, config: Any) -> None:
    """Layer errors before any weights load, when the pair exposes its HF config."""
    try:
        n_layers = int(pair.config("base").num_hidden_layers)
    except (AttributeError, TypeError, ValueError):
        return  # no config without loading: the checks run once the model is there
    layer = _layer(config, n_layers)
    if isinstance(config, TruthSteeringConfig) and (layer is not None or config.steer_layers is not None):
        _steer_layers(config, n_layers, layer if layer is not None else n_layers - 1)


# --------------------------------------------------------------------------- steering
