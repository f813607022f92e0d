"""The leaderboard's tables as data: columns, metric rows, the B / P / Δ view, findings rows.

Kept apart from rendering so the text formats (``leaderboard``) and the HTML report
(``report_html``) share one source without importing each other. Every number is shown
with its 95% interval (± 1.96·stderr for means over items, [lo, hi] for bootstrap CIs),
and a statistic that is undefined in a run is shown as "undefined", never as the
"not measured" dash.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from postmech_eval.suite.estimates import NOT_MEASURED, UNDEFINED, Estimate
from postmech_eval.suite.findings import FINDINGS, evaluate_findings
from postmech_eval.suite.registry import Registry
from postmech_eval.suite.runs import PairRun

Unit = Literal["r", "frac", "ratio", "cos", "iou", "nats", "raw"]
MISSING = NOT_MEASURED
#: one unit for shares everywhere (tables, CSV, findings rules): fractions, never percent
UNITS_NOTE = "Accuracies, refusal rates and shares are fractions (0-1), never percent."
LEGEND = (
    f"B = base model, P = post-trained model; ± = 1.96 × stderr (95%), [lo, hi] = bootstrap 95% CI; "
    f"{UNITS_NOTE} "
    f"{MISSING} = not measured; {UNDEFINED} = the task ran but the statistic has no value "
    "(e.g. a ratio over a ~0 change)."
)

KP = "postmech_knowledge_patching"
TP = "postmech_truth_probe"
TS = "postmech_truth_steering"
RT = "postmech_refusal_transfer"
EN = "postmech_entropy_neurons"


def _scale(unit: Unit) -> float:
    return 1.0  # fractions stay fractions (one unit in every format; see UNITS_NOTE)


def _digits(unit: Unit) -> int:
    return 3 if unit in ("raw", "nats") else 2


def show(est: Estimate | None, unit: Unit, missing: str = MISSING) -> str:
    """One cell: the value in the unit with its interval, "undefined", or ``missing``."""
    if est is None:
        return missing
    return est.text(_digits(unit), _scale(unit))


def scaled(value: float | None, unit: Unit) -> float | None:
    """A number in the unit, unrounded; None for no number (or NaN)."""
    if value is None or math.isnan(value):
        return None
    return value * _scale(unit)


@dataclass(frozen=True)
class Column:
    """A leaderboard column: where its number lives and how to show it."""

    label: str
    task: str
    metric: str
    unit: Unit

    def display(self, est: Estimate | None, missing: str = MISSING) -> str:
        return show(est, self.unit, missing)

    def scaled(self, value: float | None) -> float | None:
        """The value in the column's unit, unrounded."""
        return scaled(value, self.unit)


HEADLINE: tuple[Column, ...] = (
    Column("Knowledge: patch corr B vs P (r)", KP, "patch_corr", "r"),
    Column("Truth: probe acc B", TP, "probe_acc_base", "frac"),
    Column("Truth: probe acc P", TP, "probe_acc_post", "frac"),
    Column("Truth: B probe on P acc", TP, "probe_acc_base_on_post", "frac"),
    Column("Truth: direction cosine", TP, "truth_dir_cosine", "cos"),
    Column("Truth: steering NIF (B dir on P)", TS, "nif_base_post", "ratio"),
    Column("Refusal: B harmful refusal", RT, "refusal_base_harmful", "frac"),
    Column("Refusal: P harmful refusal", RT, "refusal_post_harmful", "frac"),
    Column("Refusal: forward transfer (ratio)", RT, "transfer_forward", "ratio"),
    Column("Refusal: backward transfer (ratio)", RT, "transfer_backward", "ratio"),
    Column("Confidence: entropy-neuron IoU", EN, "entropy_neuron_iou", "iou"),
    Column("Confidence: gap explained (share)", EN, "entropy_gap_explained", "frac"),
)


@dataclass(frozen=True)
class PairedRow:
    """One quantity measured on B and on P (``base`` / ``post`` metrics of one task)."""

    label: str
    task: str
    base: str
    post: str
    unit: Unit


#: the headline metrics that exist for both models: the B, P and Δ (P − B) view
PAIRED: tuple[PairedRow, ...] = (
    PairedRow("Truth: own probe accuracy (fraction)", TP, "probe_acc_base", "probe_acc_post", "frac"),
    PairedRow("Truth: own-direction steering NIF", TS, "nif_base_base", "nif_post_post", "ratio"),
    PairedRow(
        "Refusal: harmful prompts refused (fraction)",
        RT,
        "refusal_base_harmful",
        "refusal_post_harmful",
        "frac",
    ),
    PairedRow(
        "Refusal: harmless prompts refused (fraction)",
        RT,
        "refusal_base_harmless",
        "refusal_post_harmless",
        "frac",
    ),
    PairedRow(
        "Refusal: harmful refused, own direction ablated (fraction)",
        RT,
        "refusal_base_harmful_ablate_base",
        "refusal_post_harmful_ablate_post",
        "frac",
    ),
    PairedRow(
        "Refusal: harmless refused, own direction added (fraction)",
        RT,
        "refusal_base_harmless_add_base",
        "refusal_post_harmless_add_post",
        "frac",
    ),
    PairedRow("Confidence: mean entropy (nats)", EN, "entropy_base", "entropy_post", "nats"),
    PairedRow("Confidence: mean loss (nats)", EN, "loss_base", "loss_post", "nats"),
    PairedRow(
        "Confidence: selected − random neurons |ΔH| (nats)",
        EN,
        "ablate_abs_dentropy_excess_base",
        "ablate_abs_dentropy_excess_post",
        "nats",
    ),
)


def delta(b: Estimate | None, p: Estimate | None, unit: Unit) -> tuple[str, float | None]:
    """Δ = P − B as a cell and as a number. No interval: B and P are measured on the same
    items, and their covariance is not in the results file."""
    if b is None or p is None:
        return MISSING, None
    if not (b.defined and p.defined):
        return UNDEFINED, None
    value = (p.value - b.value) * _scale(unit)
    return f"{value:+.{_digits(unit)}f}", round(value, 10)


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
        [
            r.label,
            r.key.base,
            r.key.post,
            *(c.display(r.estimate(c.task, c.metric), missing) for c in columns),
        ]
        for r in runs
    ]
    return header, rows


def paired_table(
    runs: Sequence[PairRun], paired: Sequence[PairedRow] = PAIRED
) -> tuple[list[str], list[list[str]]]:
    """Rows of (pair, quantity, B, P, Δ), skipping quantities whose task a pair did not run."""
    header = ["Pair", "Metric", "B", "P", "Δ (P − B)"]
    rows = []
    for run in runs:
        for row in paired:
            if row.task not in run.metrics:
                continue
            b, p = run.estimate(row.task, row.base), run.estimate(row.task, row.post)
            rows.append(
                [run.label, row.label, show(b, row.unit), show(p, row.unit), delta(b, p, row.unit)[0]]
            )
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
