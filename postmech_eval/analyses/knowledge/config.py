"""Configuration of the knowledge-patching analysis (METHODS §1).

Apart from ``run`` so that the pairing rules (``pairs``) can read it without importing
the analysis that uses them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from numbers import Integral, Real
from typing import Any, ClassVar, Literal

from postmech_eval.config import Config, Constraint, Interval, NonEmpty, Options
from postmech_eval.estimators.bootstrap import N_BOOTSTRAP

DEFAULT_DATASETS: tuple[str, ...] = (
    "cities",
    "neg_cities",
    "larger_than",
    "smaller_than",
    "sp_en_trans",
    "neg_sp_en_trans",
    "facts",
)

#: ``max_pairs_per_dataset: auto`` (the default) resolves to METHODS' 20 pairs per dataset,
#: except for a model deeper than ``DEEP_LAYERS`` whose weights are on the CPU, which gets
#: ``DEEP_CPU_PAIRS``. Why: one patched heatmap costs about L^2 (L x positions cells, each a
#: forward through L layers) and a pair needs four (own B, own P, and both cross maps); at 20
#: per dataset (95 pairs) Gemma-3-270M (L = 18) measured about 50 CPU-s per pair, some 80
#: CPU-min for the task, over the suite's 45-minute budget on 2 cores by itself. The resolved count and why
#: are in the result config (``max_pairs_per_dataset_resolved`` / ``_source``); an integer
#: setting is always used as given.
AUTO_PAIRS = 20
DEEP_LAYERS = 12
DEEP_CPU_PAIRS = 5


@dataclass(frozen=True, kw_only=True)
class KnowledgeConfig(Config):
    """Knobs of the patching analysis; defaults follow METHODS §1.

    Layers: a heatmap row l is the residual stream *output* of block l
    (``blocks.{l}.resid_post``, the h_l of METHODS) patched at one position.

    Columns: the last ``n_positions`` tokens of the *statement* inside the prompt (counted
    from the statement's end: -1 = its final token), then, with ``patch_suffix`` (on, as the
    paper's reference code does), every token of the suffix " This statement is:".
    Shorter statements leave their leading columns empty (NaN, skipped in means); a column
    that fewer than ``min_coverage`` of the pairs reach is left out of the heatmaps (null).
    Heatmaps and metrics are computed pooled over the datasets (the headline metrics) and
    per dataset (artifacts and the result config).
    ``max_pairs_per_dataset`` keeps the run within minutes; pairs are a seeded sample;
    ``"auto"`` = 20, or 5 for a model of more than 12 layers on the CPU (``resolve_max_pairs``).
    ``correct_only``: also drop pairs a model judges the wrong way round (LD_true < LD_false);
    METHODS only drops |LD_true - LD_false| < ``min_gap``, so this is off by default.
    ``data_dir``: a directory of the user's statement files (CSV or JSONL, one per dataset;
    see ``postmech_eval.data.statement_files``); ``datasets`` then name files in it. Pairing
    needs ``subject`` and ``object`` columns; a file without a ``split`` column is used whole
    (test items and few-shot demonstrations alike, never a statement as its own demo).
    """

    datasets: tuple[str, ...] = DEFAULT_DATASETS
    split: Literal["train", "test", "all"] = "test"
    fewshot_split: Literal["train", "test", "all"] = "train"
    data_dir: str | None = None
    max_pairs_per_dataset: int | Literal["auto"] = "auto"
    n_positions: int = 10
    patch_suffix: bool = True
    shots_per_label: int = 2
    min_gap: float = 1e-3
    correct_only: bool = False
    min_coverage: float = 0.5
    top_fraction: float = 0.1
    cross_model: bool = True
    attribution: bool = True
    max_rows: int = 256
    figures: bool = True
    progress: bool = True
    seed: int = 0
    n_bootstrap: int = N_BOOTSTRAP

    LAYER_STREAM: ClassVar[str] = "resid_post"
    _constraints: ClassVar[dict[str, list[Constraint]]] = {
        "datasets": [NonEmpty()],
        "max_pairs_per_dataset": [Options(("auto",)), Interval(Integral, 1, None)],
        "n_positions": [Interval(Integral, 1, None)],
        "shots_per_label": [Interval(Integral, 0, None)],
        "min_gap": [Interval(Real, 0, None, closed="neither")],
        "top_fraction": [Interval(Real, 0, 1, closed="right")],
        "min_coverage": [Interval(Real, 0, 1)],
        "max_rows": [Interval(Integral, 1, None)],
        "seed": [Interval(Integral, None, None)],
        "n_bootstrap": [Interval(Integral, 0, None)],
    }


def resolve_max_pairs(setting: int | str, n_layers: int, device_type: str) -> tuple[int, str]:
    """(pairs per dataset, why) for a ``max_pairs_per_dataset`` setting (see ``AUTO_PAIRS``)."""
    if setting != "auto":
        return int(setting), "given"
    if n_layers > DEEP_LAYERS and device_type == "cpu":
        return DEEP_CPU_PAIRS, f"auto: {n_layers} layers > {DEEP_LAYERS} on cpu"
    return AUTO_PAIRS, f"auto: {n_layers} layers on {device_type}"


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
