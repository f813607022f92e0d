"""The end-of-run summary: metrics as rows, base / post / post − base as columns, ≤ 100 columns.

Why this shape: lm-eval's own table puts every metric of every task in one very wide table;
a reader of one pair wants to see B beside P. A metric whose name holds ``base`` or ``post``
as its last model token (``probe_acc_base`` / ``probe_acc_post``, ``nif_base_base`` /
``nif_base_post``) is shown as one row ``probe_acc_(B|P)`` with both values and their
difference; a pair-level metric has its one value in the "pair" column. Each value carries
its 95% interval (``0.825 ± 0.083`` = ± 1.96·stderr for means over items, ``0.55 [0.41, 0.68]``
for bootstrap CIs), with fewer digits where a column is narrow; an undefined statistic
(NaN while the task ran) reads "undefined". The ``_loose`` twins (the second refusal judge)
stay in the results file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from postmech_eval.analyses.catalogue import CATALOGUE
from postmech_eval.suite.estimates import UNDEFINED, Estimate, catalogue_metric
from postmech_eval.suite.results import ResultsFile

WIDTH = 100
#: widths of the B, P, P − B and pair columns; the metric name gets the rest
CELLS = (17, 17, 8, 19)
Cell = float | Estimate
_TOKEN = re.compile(r"(?<![a-z])(base|post)(?![a-z])")


def _row_key(name: str) -> tuple[str, str] | None:
    """(row stem, which) when ``name``'s last model token can be swapped for the other one."""
    found = list(_TOKEN.finditer(name))
    if not found:
        return None
    last = found[-1]
    return name[: last.start()] + "(B|P)" + name[last.end() :], last.group(1)


def task_estimates(parsed: ResultsFile, tasks: Iterable[str]) -> dict[str, dict[str, Estimate]]:
    """Every metric of ``tasks`` in one results file as an :class:`Estimate` (value + CI)."""
    out: dict[str, dict[str, Estimate]] = {}
    for task in tasks:
        values = parsed.metrics.get(task, {})
        out[task] = {}
        for name, value in values.items():
            known = catalogue_metric(task, name)
            out[task][name] = Estimate.build(
                value,
                parsed.stderr.get(task, {}).get(name),
                parsed.intervals.get(task, {}).get(name),
                known.uncertainty if known is not None else None,
            )
    return out


def _estimate(value: Cell) -> Estimate:
    return value if isinstance(value, Estimate) else Estimate(float(value))


def _fmt(value: Cell | None, width: int = 9) -> str:
    """The cell text, with as many digits as fit in ``width`` (3, 2, then 2 without the space
    after the comma); never so few that an interval collapses into its value."""
    if value is None:
        return "—"
    est = _estimate(value)
    tries = [est.text(3), est.text(2), est.text(2, compact=True)]
    return next((t for t in tries if len(t) <= width), tries[-1])


def _delta(b_cell: Cell, p_cell: Cell) -> str:
    b, p = _estimate(b_cell), _estimate(p_cell)
    if not (math.isfinite(b.value) and math.isfinite(p.value)):
        return UNDEFINED
    if all(e.stderr is None and float(e.value).is_integer() for e in (b, p)):
        return f"{int(p.value - b.value):+d}"  # layers, counts
    return f"{p.value - b.value:+.3f}"


def rows(task: str, metrics: Mapping[str, Cell]) -> list[list[str]]:
    """[metric, B, P, P − B, pair] rows of one task, in catalogue order."""
    names = [m.name for m in CATALOGUE.get(task, ()) if not m.name.endswith("_loose")]
    names += sorted(n for n in metrics if n not in names and not n.endswith("_loose"))
    out: list[list[str]] = []
    done: set[str] = set()
    b_w, p_w, _, pair_w = CELLS
    for name in names:
        if name in done or name not in metrics:
            continue
        key = _row_key(name)
        if key is not None:
            stem, which = key
            other = stem.replace("(B|P)", "post" if which == "base" else "base")
            if other in metrics and other not in done:
                b_name, p_name = (name, other) if which == "base" else (other, name)
                shown = _delta(metrics[b_name], metrics[p_name])
                out.append([stem, _fmt(metrics[b_name], b_w), _fmt(metrics[p_name], p_w), shown, ""])
                done.update((b_name, p_name))
                continue
        out.append([name, "", "", "", _fmt(metrics[name], pair_w)])
        done.add(name)
    return out


def _row(label: str, cells: Sequence[str]) -> str:
    """One line: the cells right-aligned, the label cut (…) to what is left of WIDTH."""
    tail = " ".join(f"{c:>{w}}" for c, w in zip(cells, CELLS, strict=True))
    room = WIDTH - 2 - 1 - len(tail)
    label = label if len(label) <= room else label[: room - 1] + "…"
    return f"  {label:<{room}} {tail}"


def render(
    title: str,
    per_task: Mapping[str, Mapping[str, Cell]],
    seconds: Mapping[str, float] | None = None,
    failed: Mapping[str, str] | None = None,
) -> str:
    """The whole summary as text no wider than :data:`WIDTH` (values: floats or Estimates)."""
    seconds, failed = dict(seconds or {}), dict(failed or {})
    lines = [title[:WIDTH], "  ± = 1.96 × stderr; [lo, hi] = bootstrap 95% CI; Δ = P − B", ""]
    for task in per_task:
        took = f" ({seconds[task]:.0f} s)" if task in seconds else ""
        lines.append(f"{task}{took}"[:WIDTH])
        if task in failed:
            lines.append(f"  FAILED: {failed[task]}"[:WIDTH])
            continue
        lines.append(_row("metric", ["B", "P", "P − B", "pair"]))
        for metric, b, p, d, pair in rows(task, per_task[task]):
            lines.append(_row(metric, [b, p, d, pair]))
        lines.append("")
    return "\n".join(line.rstrip()[:WIDTH] for line in lines)


def timing_table(seconds: Mapping[str, float], order: Sequence[str], wall: float | None = None) -> str:
    """Each task's seconds, their sum, and the run's wall time (less than the sum when
    analyses ran side by side: ``harness.parallel``)."""
    total = sum(seconds.get(t, 0.0) for t in order)
    out = [f"{'task':<36} {'seconds':>8}"]
    out += [f"{t:<36} {seconds[t]:>8.1f}" for t in order if t in seconds]
    out.append(f"{'all analyses (sum)':<36} {total:>8.1f}")
    if wall:
        out.append(f"{'whole run (wall, figures included)':<36} {wall:>8.1f}")
    return "\n".join(out)
