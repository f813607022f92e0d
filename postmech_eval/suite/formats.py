"""The leaderboard's text formats: markdown, LaTeX (booktabs) and tidy long CSV.

Why each looks as it does: a markdown table is read on GitHub, so numbers are right-aligned
and, with few pairs, the table is transposed (metrics as rows, pairs as columns) instead of
running 400 characters wide. LaTeX goes into a paper: ``booktabs`` rules, one ``table``
environment per table with its caption and label, numbers right-aligned. CSV goes into
pandas or R: tidy long form, one row per (pair, task, metric) keyed by the metric's name
(not its display label), raw fractions at full precision, the interval in ``ci_low`` /
``ci_high`` and the item count in ``n``, so ``pandas.read_csv`` needs no cleaning.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from tabulate import tabulate

from postmech_eval.suite.estimates import catalogue_metric
from postmech_eval.suite.findings import evaluate_findings
from postmech_eval.suite.runs import PairRun
from postmech_eval.suite.tables import PAIRED, Column

#: pairs up to which the metrics table is transposed (``--transpose auto``)
TRANSPOSE_MAX = 4
LONG_HEADER = (
    "pair",
    "base",
    "post",
    "task",
    "metric",
    "value",
    "stderr",
    "ci_low",
    "ci_high",
    "n",
    "source",
)
FINDINGS_HEADER = ("pair", "base", "post", "finding", "verdict", "rule", "observed", "note")

_FIXES = {
    "md": (("|", "\\|"),),  # a bare pipe would split a markdown cell
    # glyphs pdflatex does not know by default (tabulate's latex escapes $, %, & and _ itself)
    "latex": (
        ("→", "->"),
        ("—", "--"),
        ("|ΔH|", "|dH|"),
        ("±", "+/-"),
        ("Δ", "Delta"),
        ("−", "-"),
        ("×", "x"),
        ("“", '"'),
        ("”", '"'),
    ),  # fmt: skip
}


def fix(text: str, fmt: str) -> str:
    """Make cell text safe for the target format."""
    for old, new in _FIXES.get(fmt, ()):
        text = text.replace(old, new)
    return text


def transpose(
    header: Sequence[str], rows: Sequence[Sequence[str]], keys: int = 3
) -> tuple[list[str], list[list[str]]]:
    """Pairs as columns (named by the first cell of each row); the metric columns become rows;
    the other ``keys`` columns (base and post specs) are left to the legend (:func:`pairs_line`)."""
    new_header = ["Metric", *(row[0] for row in rows)]
    new_rows = [[header[i], *(row[i] for row in rows)] for i in range(keys, len(header))]
    return new_header, new_rows


def numeric_columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[bool]:
    """A column is numeric when every cell starts like a number (or is a dash / undefined)."""

    def number(cell: str) -> bool:
        head = cell.strip().lstrip("+-−").split(" ")[0]
        return head.replace(".", "", 1).isdigit()

    def blank(cell: str) -> bool:
        return cell in ("—", "undefined", "")

    return [
        any(number(str(r[i])) for r in rows) and all(number(str(r[i])) or blank(str(r[i])) for r in rows)
        for i in range(len(header))
    ]


def _align(header: Sequence[str], rows: Sequence[Sequence[str]], transposed: bool) -> list[str]:
    if transposed:  # pairs as columns: every column but the metric names holds numbers
        return ["left"] + ["right"] * (len(header) - 1)
    return ["right" if n else "left" for n in numeric_columns(header, rows)]


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], transposed: bool = False) -> str:
    """A GitHub (pipe) table, numbers right-aligned (``---:`` in the rule)."""
    align = _align(header, rows, transposed)
    return tabulate(
        [[fix(str(c), "md") for c in r] for r in rows],
        headers=[fix(h, "md") for h in header],
        tablefmt="pipe",
        colalign=align,
        disable_numparse=True,
    )


def pairs_line(runs: Sequence[PairRun]) -> str:
    """``pair: B = base spec, P = post spec`` for every pair (the transposed table's key)."""
    return "; ".join(f"{r.label}: B = {r.key.base}, P = {r.key.post}" for r in runs) + "."


def _latex_escape(text: str) -> str:
    for old, new in (("\\", "\\textbackslash{}"), ("&", "\\&"), ("%", "\\%"), ("_", "\\_"), ("#", "\\#"),
                     ("$", "\\$"), ("{", "\\{"), ("}", "\\}")):  # fmt: skip
        text = text.replace(old, new)
    return fix(text, "latex")


def latex_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    caption: str,
    label: str,
    spec: str | None = None,
    transposed: bool = False,
) -> str:
    """One ``table`` environment: caption, label, a booktabs tabular, numbers right-aligned;
    ``spec`` overrides the column spec (e.g. ``p{5cm}`` for long text)."""
    align = _align(header, rows, transposed)
    body = tabulate(
        [[fix(str(c), "latex") for c in r] for r in rows],
        headers=[fix(h, "latex") for h in header],
        tablefmt="latex_booktabs",
        colalign=align,
        disable_numparse=True,
    )
    if spec:
        first, _, rest = body.partition("\n")
        body = "\\begin{tabular}{" + spec + "}\n" + rest
    return (
        "\\begin{table}[ht]\n\\centering\n\\small\n"
        f"\\caption{{{_latex_escape(caption)}}}\n\\label{{{label}}}\n{body}\n\\end{{table}}\n"
    )


def _cell(value: float | None) -> str:
    return "" if value is None or value != value else repr(float(value))


def item_count(run: PairRun, task: str, metric: str) -> int | None:
    """Items behind a metric: the analysis' ``item_counts`` (its artifacts' result.json), the
    pairs used for knowledge statistics; None when the run kept no such record."""
    folder = run.task_dirs.get(task)
    if folder is not None and (folder / "result.json").is_file():
        try:
            counts = json.loads((folder / "result.json").read_text(encoding="utf-8")).get("item_counts", {})
        except (OSError, ValueError):
            counts = {}
        if isinstance(counts.get(metric), int):
            return counts[metric]
    if task == "postmech_knowledge_patching":
        used = run.value(task, "pairs_used")
        return int(used) if used is not None else None
    return None


def long_rows(runs: Sequence[PairRun], metrics: Sequence[tuple[str, str]] | None = None) -> list[list[str]]:
    """Tidy rows of :data:`LONG_HEADER`; ``metrics`` = (task, metric) to keep, None = all."""
    rows = []
    for run in runs:
        wanted = metrics or [(t, m) for t in sorted(run.metrics) for m in run.metrics[t]]
        for task, metric in wanted:
            est = run.estimate(task, metric)
            if est is None:
                continue  # not measured: no row (undefined: a row with an empty value)
            known = catalogue_metric(task, metric)
            se = est.stderr if known is None or known.uncertainty == "stderr" else None
            lo, hi = est.bounds if est.defined and est.has_interval else (None, None)
            n = item_count(run, task, metric)
            source = str(run.task_sources.get(task, ""))
            rows.append([
                run.label, run.key.base, run.key.post, task, metric, _cell(est.value if est.defined else None),
                _cell(se), _cell(lo), _cell(hi), "" if n is None else str(n), source,
            ])  # fmt: skip
    return rows


def long_csv(runs: Sequence[PairRun], columns: Sequence[Column] | None = None, view: str = "metrics") -> str:
    """The CSV: tidy long metrics (view metrics / both), the paired metrics only (paired), or
    one row per (pair, finding) (findings)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if view == "findings":
        writer.writerow(FINDINGS_HEADER)
        for run in runs:
            for res in evaluate_findings(run):
                writer.writerow([run.label, run.key.base, run.key.post, res.finding.key, res.verdict,
                                 res.finding.rule, res.observed, res.note])  # fmt: skip
        return buf.getvalue()
    if view == "paired":
        keep = [(r.task, m) for r in PAIRED for m in (r.base, r.post)]
    else:
        keep = None if columns is None else [(c.task, c.metric) for c in columns]
    writer.writerow(LONG_HEADER)
    writer.writerows(long_rows(runs, keep))
    return buf.getvalue()
