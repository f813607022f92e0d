"""Settings and texts of the entropy-neuron analysis (METHODS §5).

Why apart from ``run``: settings and the corpus are checked before any model loads (by
``postmech-eval run`` and lm-eval's task loading); this module imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import ClassVar

from postmech_eval.config import Config, Constraint, Interval
from postmech_eval.estimators.bootstrap import N_BOOTSTRAP

__all__ = ["ConfidenceConfig", "default_items"]


@dataclass(frozen=True, kw_only=True)
class ConfidenceConfig(Config):
    """Settings of the entropy-neuron analysis (METHODS §5 defaults).

    Candidates are the last block's MLP neurons (``blocks.{L-1}.mlp_neurons``); no other
    layer is read or ablated.

    norm_quantile / n_neurons: selection (strictly above the quantile, then lowest logitvar).
    n_random_sets: random same-norm-range control draws (seeds seed, seed+1, ...).
    n_reference: texts of the corpus' train split used for the neuron means (None = all).
    max_length: tokens per text (longer texts are truncated).
    min_gap: |H_base - H_post| (nats) below which entropy_gap_explained is NaN.
    skip_first: positions not scored at the start of each text: BOS (when present) and the
    next ``skip_first`` tokens, as the paper's reference filters them (0 scores everything).
    corpus_path: a JSONL file of ``{"text": ...}`` lines (optional ``split``: "train" lines
    give the neuron means, "test" lines are ablated); None = the bundled corpus. A file
    without splits is used whole for both.
    figures: also draw ``entropy_neurons_{base,post}.png`` (norm vs logit variance); off under
    ``postmech-eval run``, whose ``entropy_neurons.png`` shows both scatters.
    """

    norm_quantile: float = 0.75
    n_neurons: int = 10
    n_random_sets: int = 3
    n_reference: int | None = 256
    max_length: int = 128
    batch_size: int = 16
    min_gap: float = 1e-3
    skip_first: int = 3
    corpus_path: str | None = None
    seed: int = 0
    n_bootstrap: int = N_BOOTSTRAP
    figures: bool = True

    LAYER_STREAM: ClassVar[str] = "mlp_neurons"  # of the last block only
    _constraints: ClassVar[dict[str, list[Constraint]]] = {
        "norm_quantile": [Interval(Real, 0, 1, closed="left")],
        "n_neurons": [Interval(Integral, 1, None)],
        "n_random_sets": [Interval(Integral, 0, None)],
        "n_reference": [Interval(Integral, 1, None), None],
        "max_length": [Interval(Integral, 2, None)],
        "batch_size": [Interval(Integral, 1, None)],
        "min_gap": [Interval(Real, 0, None)],
        "skip_first": [Interval(Integral, 0, None)],
        "seed": [Interval(Integral, None, None)],
        "n_bootstrap": [Interval(Integral, 0, None)],
    }


def default_items(config: ConfidenceConfig | None = None) -> list[dict[str, str]]:
    """The held-out corpus texts as ``{"text": ...}`` items (the task's docs)."""
    return [{"text": t} for t in _corpus(config or ConfidenceConfig(), "test")]


def _corpus(config: ConfidenceConfig, split: str) -> list[str]:
    """Texts of ``split`` from the bundled corpus or ``corpus_path`` (all of a file without splits)."""
    from postmech_eval.data import load_corpus, read_jsonl

    if config.corpus_path is None:
        return load_corpus(split=split)  # type: ignore[arg-type]
    has_split = any("split" in row for row in read_jsonl(config.corpus_path))
    return load_corpus(split=split if has_split else "all", path=config.corpus_path)  # type: ignore[arg-type]


def _reference_texts(config: ConfidenceConfig) -> list[str]:
    texts = _corpus(config, "train")
    return texts if config.n_reference is None else texts[: config.n_reference]
