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
WHICH: tuple[str, str] = ("base", "post")


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One emitted number.

    ``direction``: ``"higher"`` / ``"lower"`` when a larger / smaller value means the
    mechanism is more preserved or the intervention works better; ``None`` for
    descriptive numbers (layers, counts, signed changes) that have no good side.
    ``kind``: ``"item"`` for a mean over test items (it has a standard error), ``"pair"``
    for a statistic of the whole pair (correlations, ratios, overlaps, counts).
    """

    name: str
    direction: Direction
    kind: Kind
    meaning: str

    @property
    def higher_is_better(self) -> bool | None:
        """lm-eval's flag: True shows ↑, False ↓, None nothing."""
        return None if self.direction is None else self.direction == "higher"


def metric(name: str, direction: Direction, kind: Kind, meaning: str) -> Metric:
    return Metric(name=name, direction=direction, kind=kind, meaning=meaning)


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
    lines = ["| metric | ↑↓ | kind | meaning |", "|---|---|---|---|"]
    for m in metrics:
        lines.append(f"| `{m.name}` | {arrow[m.direction]} | {m.kind} | {m.meaning} |")
    return "\n".join(lines)
