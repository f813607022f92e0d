"""The leaderboard's tables as data: columns, metric rows, findings rows.

Kept apart from rendering so the text formats (``leaderboard``) and the HTML report
(``report_html``) share one source without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from postmech_eval.suite.findings import FINDINGS, evaluate_findings
from postmech_eval.suite.registry import Registry
from postmech_eval.suite.runs import PairRun

Unit = Literal["r", "%", "ratio", "cos", "iou", "raw"]
MISSING = "—"


@dataclass(frozen=True)
class Column:
    """A leaderboard column: where its number lives and how to show it."""

    label: str
    task: str
    metric: str
    unit: Unit

    def display(self, value: float | None, missing: str = MISSING) -> str:
        if value is None:
            return missing
        if self.unit == "%":
            return f"{100 * value:.1f}"
        if self.unit == "raw":
            return f"{value:.4g}"
        return f"{value:.2f}"

    def scaled(self, value: float | None) -> float | None:
        """The value in the column's unit (percent columns x100), unrounded."""
        if value is None:
            return None
        return round(100 * value, 10) if self.unit == "%" else value


HEADLINE: tuple[Column, ...] = (
    Column("Knowledge: patch corr (r)", "postmech_knowledge_patching", "patch_corr", "r"),
    Column("Truth: probe acc P (%)", "postmech_truth_probe", "probe_acc_post", "%"),
    Column("Truth: B probe on P acc (%)", "postmech_truth_probe", "probe_acc_base_on_post", "%"),
    Column("Truth: direction cosine", "postmech_truth_probe", "truth_dir_cosine", "cos"),
    Column("Truth: steering NIF (B dir on P)", "postmech_truth_steering", "nif_base_post", "ratio"),
    Column("Refusal: P harmful refusal (%)", "postmech_refusal_transfer", "refusal_post_harmful", "%"),
    Column("Refusal: forward transfer (ratio)", "postmech_refusal_transfer", "transfer_forward", "ratio"),
    Column("Refusal: backward transfer (ratio)", "postmech_refusal_transfer", "transfer_backward", "ratio"),
    Column("Confidence: entropy-neuron IoU", "postmech_entropy_neurons", "entropy_neuron_iou", "iou"),
    Column("Confidence: gap explained (%)", "postmech_entropy_neurons", "entropy_gap_explained", "%"),
)


def all_columns(runs: Sequence[PairRun]) -> tuple[Column, ...]:
    """Every (task, metric) seen in any run, for ``--columns all``."""
    seen = sorted({(t, m) for r in runs for t, ms in r.metrics.items() for m in ms})
    return tuple(Column(f"{t.removeprefix('postmech_')}/{m}", t, m, "raw") for t, m in seen)


def label_runs(runs: list[PairRun], registry: Registry | None) -> None:
    """Name each run after its registry entry, when its base/post match one, and order rows
    as the registry lists pairs (organisms, then the paper's), unregistered pairs last."""
    if registry is None:
        return
    rank: dict[int, int] = {}
    for run in runs:
        spec = registry.match(run.key)
        if spec is not None:
            run.name = spec.display
            rank[id(run)] = registry.pairs.index(spec)
    runs.sort(key=lambda r: (rank.get(id(r), len(registry.pairs)), r.key.base, r.key.post))


def metrics_table(
    runs: Sequence[PairRun], columns: Sequence[Column], missing: str = MISSING
) -> tuple[list[str], list[list[str]]]:
    header = ["Pair", "Base (B)", "Post (P)", *(c.label for c in columns)]
    rows = [
        [r.label, r.key.base, r.key.post, *(c.display(r.value(c.task, c.metric), missing) for c in columns)]
        for r in runs
    ]
    return header, rows


def findings_table(runs: Sequence[PairRun]) -> tuple[list[str], list[list[str]]]:
    header = ["Pair", "Finding", "Rule", "Observed", "Verdict"]
    rows = []
    for run in runs:
        for res in evaluate_findings(run):
            verdict = f"{res.verdict} ({res.note})" if res.note else res.verdict
            rows.append([run.label, res.finding.title, res.finding.rule, res.observed, verdict])
    return header, rows


def findings_summary(runs: Sequence[PairRun]) -> tuple[list[str], list[list[str]]]:
    """One row per pair, one verdict per finding: the at-a-glance view."""
    header = ["Pair", *(f.title for f in FINDINGS)]
    rows = [[run.label, *(res.verdict for res in evaluate_findings(run))] for run in runs]
    return header, rows
