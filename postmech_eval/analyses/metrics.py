"""The metric vocabulary: what each number an analysis emits means and which way is good.

Why one shape for every analysis: a metric's name, direction and kind are facts about the
science, stated once beside the analysis that computes it. The lm-eval task class reads
``higher_is_better`` and the aggregation from here, ``check`` and the leaderboard read
the names (and refuse typos) from here, and the task READMEs' metric tables are checked
against it, so nothing lists metrics by hand. Torch-free: the suite imports it to read
results files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from postmech_eval.config import UserError

Direction = Literal["higher", "lower"] | None
Kind = Literal["item", "pair"]
#: How a metric's sampling error is stated (METHODS §6):
#: ``stderr`` — a mean over items; lm-eval computes ``<name>_stderr`` from the per-doc values;
#: ``bootstrap`` — a pair-level statistic with a percentile bootstrap CI over the analysis' unit,
#: emitted as ``<name>_ci_lo`` / ``<name>_ci_hi``;
#: ``exact`` — a function of the weights alone (no sampled unit): emitted with lo = hi = value;
#: ``none`` — a count or a chosen layer: no interval.
Uncertainty = Literal["stderr", "bootstrap", "exact", "none"]
WHICH: tuple[str, str] = ("base", "post")
CI_SUFFIXES: tuple[str, str] = ("_ci_lo", "_ci_hi")
#: z for the normal-approximation 95% interval of a mean (value ± Z95 * stderr).
Z95 = 1.959963984540054


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One emitted number.

    ``direction``: ``"higher"`` / ``"lower"`` when a larger / smaller value means the
    mechanism is more preserved or the intervention works better; ``None`` for
    descriptive numbers (layers, counts, signed changes) that have no good side.
    ``kind``: ``"item"`` for a mean over test items (it has a standard error), ``"pair"``
    for a statistic of the whole pair (correlations, ratios, overlaps, counts).
    ``uncertainty``: see :data:`Uncertainty`; item metrics are always ``stderr``, pair
    metrics default to ``bootstrap``.
    """

    name: str
    direction: Direction
    kind: Kind
    meaning: str
    uncertainty: Uncertainty = "bootstrap"

    def __post_init__(self) -> None:
        if self.kind == "item" and self.uncertainty != "stderr":
            object.__setattr__(self, "uncertainty", "stderr")
        elif self.kind == "pair" and self.uncertainty == "stderr":
            raise UserError(f"pair metric {self.name!r} cannot have a standard error")

    @property
    def has_interval(self) -> bool:
        """True when the results carry ``<name>_ci_lo`` / ``<name>_ci_hi``."""
        return self.uncertainty in ("bootstrap", "exact")

    @property
    def interval_names(self) -> tuple[str, str]:
        return (f"{self.name}{CI_SUFFIXES[0]}", f"{self.name}{CI_SUFFIXES[1]}")

    @property
    def higher_is_better(self) -> bool | None:
        """lm-eval's flag: True shows ↑, False ↓, None nothing."""
        return None if self.direction is None else self.direction == "higher"


def metric(
    name: str, direction: Direction, kind: Kind, meaning: str, uncertainty: Uncertainty | None = None
) -> Metric:
    default: Uncertainty = "stderr" if kind == "item" else "bootstrap"
    return Metric(
        name=name, direction=direction, kind=kind, meaning=meaning, uncertainty=uncertainty or default
    )


def emitted_names(metrics: Iterable[Metric]) -> tuple[str, ...]:
    """Every name an analysis reports to lm-eval: each metric, then the CI bounds of those
    with an interval (lm-eval computes the ``_stderr`` of item metrics itself)."""
    out: list[str] = []
    for m in metrics:
        out.append(m.name)
        if m.has_interval:
            out.extend(m.interval_names)
    return tuple(out)


def check_unique(metrics: Iterable[Metric], where: str) -> tuple[Metric, ...]:
    """The catalogue as a tuple, refusing a name listed twice (a copy-paste slip)."""
    out = tuple(metrics)
    seen: set[str] = set()
    for m in out:
        if m.name in seen:
            raise UserError(f"{where} lists metric {m.name!r} twice")
        seen.add(m.name)
    return out


def markdown_table(metrics: Iterable[Metric]) -> str:
    """The metric table of a task README (checked against the catalogue by a test)."""
    arrow = {"higher": "↑", "lower": "↓", None: ""}
    shown = {"stderr": "± stderr", "bootstrap": "bootstrap CI", "exact": "exact", "none": "—"}
    lines = ["| metric | ↑↓ | kind | uncertainty | meaning |", "|---|---|---|---|---|"]
    for m in metrics:
        lines.append(
            f"| `{m.name}` | {arrow[m.direction]} | {m.kind} | {shown[m.uncertainty]} | {m.meaning} |"
        )
    return "\n".join(lines)
