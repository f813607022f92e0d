"""Configuration of the knowledge-patching analysis (METHODS §1).

Apart from ``run`` so that the pairing rules (``pairs``) can read it without importing
the analysis that uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from postmech_eval.config import from_kwargs

DEFAULT_DATASETS: tuple[str, ...] = (
    "cities",
    "neg_cities",
    "larger_than",
    "smaller_than",
    "sp_en_trans",
    "neg_sp_en_trans",
    "facts",
)


@dataclass(frozen=True, kw_only=True)
class KnowledgeConfig:
    """Knobs of the patching analysis; defaults follow METHODS §1.

    ``n_positions``: heatmap columns = the last n tokens of the *statement* inside the
    prompt (column -1 = the statement's final token, just before " This statement is:").
    Shorter statements leave their leading columns empty (NaN, skipped in means); a column
    that fewer than ``min_coverage`` of the pairs reach is left out of the heatmaps (null).
    ``max_pairs_per_dataset`` keeps the run within minutes; pairs are a seeded sample.
    ``correct_only``: also drop pairs a model judges the wrong way round (LD_true < LD_false);
    METHODS only drops |LD_true - LD_false| < ``min_gap``, so this is off by default.
    """

    datasets: tuple[str, ...] = DEFAULT_DATASETS
    split: Literal["train", "test", "all"] = "test"
    fewshot_split: Literal["train", "test", "all"] = "train"
    max_pairs_per_dataset: int = 20
    n_positions: int = 10
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

    def __post_init__(self) -> None:
        checks = {
            "max_pairs_per_dataset": self.max_pairs_per_dataset >= 1,
            "n_positions": self.n_positions >= 1,
            "shots_per_label": self.shots_per_label >= 0,
            "min_gap": self.min_gap > 0,
            "top_fraction": 0 < self.top_fraction <= 1,
            "min_coverage": 0 <= self.min_coverage <= 1,
            "max_rows": self.max_rows >= 1,
            "datasets": len(self.datasets) >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(
                    f"The {name!r} parameter of KnowledgeConfig is out of range. Got {getattr(self, name)!r}."
                )

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any] | None) -> KnowledgeConfig:
        return from_kwargs(cls, kwargs)
