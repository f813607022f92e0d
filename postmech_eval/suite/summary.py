"""The end-of-run summary: metrics as rows, base / post / post − base as columns, ≤ 100 columns.

Why this shape: lm-eval's own table puts every metric of every task in one very wide table;
a reader of one pair wants to see B beside P. A metric whose name holds ``base`` or ``post``
as its last model token (``probe_acc_base`` / ``probe_acc_post``, ``nif_base_base`` /
``nif_base_post``) is shown as one row ``probe_acc_(B|P)`` with both values and their
difference; a pair-level metric has its one value in the "pair" column. The ``_loose`` twins
(the second refusal judge) stay in the results file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from postmech_eval.analyses.catalogue import CATALOGUE

WIDTH = 100
_TOKEN = re.compile(r"(?<![a-z])(base|post)(?![a-z])")


def _row_key(name: str) -> tuple[str, str] | None:
    """(row stem, which) when ``name``'s last model token can be swapped for the other one."""
    found = list(_TOKEN.finditer(name))
    if not found:
        return None
    last = found[-1]
    return name[: last.start()] + "(B|P)" + name[last.end() :], last.group(1)


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isnan(value):
        return "nan"
    if float(value).is_integer() and abs(value) < 1e8:
        return str(int(value))  # layers and counts
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:.3g}"


def rows(task: str, metrics: Mapping[str, float]) -> list[list[str]]:
    """[metric, B, P, P − B, pair] rows of one task, in catalogue order."""
    names = [m.name for m in CATALOGUE.get(task, ()) if not m.name.endswith("_loose")]
    names += sorted(n for n in metrics if n not in names and not n.endswith("_loose"))
    out: list[list[str]] = []
    done: set[str] = set()
    for name in names:
        if name in done or name not in metrics:
            continue
        key = _row_key(name)
        if key is not None:
            stem, which = key
            other = stem.replace("(B|P)", "post" if which == "base" else "base")
            if other in metrics and other not in done:
                b_name, p_name = (name, other) if which == "base" else (other, name)
                b, p = metrics[b_name], metrics[p_name]
                delta = p - b if math.isfinite(b) and math.isfinite(p) else math.nan
                out.append([stem, _fmt(b), _fmt(p), f"{delta:+.3f}" if math.isfinite(delta) else "nan", ""])
                done.update((b_name, p_name))
                continue
        out.append([name, "", "", "", _fmt(metrics[name])])
        done.add(name)
    return out


def render(
    title: str,
    per_task: Mapping[str, Mapping[str, float]],
    seconds: Mapping[str, float] | None = None,
    failed: Mapping[str, str] | None = None,
) -> str:
    """The whole summary as text no wider than :data:`WIDTH`."""
    seconds, failed = dict(seconds or {}), dict(failed or {})
    name_w = 44
    lines = [title[:WIDTH], ""]
    head = f"{'metric':<{name_w}} {'B':>9} {'P':>9} {'P − B':>9} {'pair':>9}"
    for task in per_task:
        took = f" ({seconds[task]:.0f} s)" if task in seconds else ""
        lines.append(f"{task}{took}"[:WIDTH])
        if task in failed:
            lines.append(f"  FAILED: {failed[task]}"[:WIDTH])
            continue
        lines.append("  " + head)
        for metric, b, p, d, pair in rows(task, per_task[task]):
            label = metric if len(metric) <= name_w else metric[: name_w - 1] + "…"
            lines.append(f"  {label:<{name_w}} {b:>9} {p:>9} {d:>9} {pair:>9}")
        lines.append("")
    return "\n".join(line.rstrip() for line in lines)


def timing_table(seconds: Mapping[str, float], order: Sequence[str]) -> str:
    total = sum(seconds.get(t, 0.0) for t in order)
    out = [f"{'task':<36} {'seconds':>8}"]
    out += [f"{t:<36} {seconds[t]:>8.1f}" for t in order if t in seconds]
    out.append(f"{'all analyses':<36} {total:>8.1f}")
    return "\n".join(out)
