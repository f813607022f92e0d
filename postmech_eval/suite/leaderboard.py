"""``postmech-eval leaderboard``: pairs side by side, from lm-eval results JSON.

One row per (base, post) pair, one column per perspective's headline metric, each
column naming its unit and each number its 95% interval; then the B, P and Δ (P − B) view
of the quantities measured on both models, and the findings' verdicts. CSV keeps the
numbers machine-readable: value, lo and hi in columns of their own. Rows are labelled from the pairs registry when the run's
``base=``/``post=`` match an entry. Bad files are skipped with a warning naming them
(see :mod:`postmech_eval.suite.runs`), so one corrupted run never hides the others.

CLI entry points (wired by ``postmech_eval.cli``): :func:`add_arguments` + :func:`main`.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from tabulate import tabulate

from postmech_eval.suite.findings import FINDINGS, VERDICTS_LEGEND
from postmech_eval.suite.registry import Registry, default_registry_path, load_registry
from postmech_eval.suite.runs import LoadedRuns, PairRun, load_runs
from postmech_eval.suite.tables import (  # noqa: F401  (re-exported: the leaderboard's public names)
    HEADLINE,
    LEGEND,
    MISSING,
    PAIRED,
    Column,
    all_columns,
    delta,
    findings_summary,
    findings_table,
    label_runs,
    metrics_table,
    paired_table,
    scaled,
)

logger = logging.getLogger("postmech_eval.suite.leaderboard")

Format = Literal["md", "html", "latex", "csv"]
FORMATS: tuple[str, ...] = ("md", "html", "latex", "csv")
VIEWS: tuple[str, ...] = ("metrics", "paired", "findings", "both")
#: suffixes of a CSV column's interval bounds ("<label> lo", "<label> hi")
CSV_BOUNDS = (" lo", " hi")
PAIRED_CSV = ("B", "B lo", "B hi", "P", "P lo", "P hi", "Delta")


_CELL_FIXES = {
    "md": (("|", "\\|"),),  # a bare pipe would split a markdown cell
    # glyphs pdflatex does not know by default (tabulate's latex escapes $ and \\ itself)
    "latex": (
        ("→", "->"),
        ("—", "--"),
        ("|ΔH|", "|dH|"),
        ("±", "+/-"),
        ("Δ", "Delta"),
        ("−", "-"),
        ("×", "x"),
    ),
}


def _cells(header: list[str], rows: list[list[str]], fmt: str) -> tuple[list[str], list[list[str]]]:
    """Make cell text safe for the target format."""

    def fix(text: str) -> str:
        for old, new in _CELL_FIXES.get(fmt, ()):
            text = text.replace(old, new)
        return text

    return [fix(h) for h in header], [[fix(c) for c in row] for row in rows]


def _bounds(est, unit) -> list[str]:
    """CSV cells value, lo, hi (empty where there is no number / no interval)."""
    if est is None or not est.defined:
        return ["", "", ""]
    lo, hi = (scaled(b, unit) for b in est.bounds) if est.has_interval else (None, None)
    return ["" if v is None else repr(v) for v in (scaled(est.value, unit), lo, hi)]


def _csv(runs: Sequence[PairRun], columns: Sequence[Column], view: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if view == "findings":
        header, rows = findings_table(runs)
        writer.writerow(header)
        writer.writerows(rows)
    elif view == "paired":
        writer.writerow(["Pair", "Base (B)", "Post (P)", "Metric", "task", *PAIRED_CSV])
        for r in runs:
            for row in PAIRED:
                if row.task not in r.metrics:
                    continue
                b, p = r.estimate(row.task, row.base), r.estimate(row.task, row.post)
                number = delta(b, p, row.unit)[1]
                cells = [*_bounds(b, row.unit), *_bounds(p, row.unit), "" if number is None else repr(number)]
                writer.writerow([r.label, r.key.base, r.key.post, row.label, row.task, *cells])
    else:
        labels = [name for c in columns for name in (c.label, *(c.label + s for s in CSV_BOUNDS))]
        writer.writerow(["Pair", "Base (B)", "Post (P)", *labels])
        for r in runs:
            cells = [cell for c in columns for cell in _bounds(r.estimate(c.task, c.metric), c.unit)]
            writer.writerow([r.label, r.key.base, r.key.post, *cells])
    return buf.getvalue()


def render_text(runs: Sequence[PairRun], columns: Sequence[Column], fmt: Format, view: str = "both") -> str:
    """Render md, latex or csv. csv holds one table (metrics, paired or findings)."""
    if fmt == "csv":
        return _csv(runs, columns, view)
    tablefmt = "github" if fmt == "md" else "latex"
    parts = []

    def table(header: list[str], rows: list[list[str]]) -> None:
        header, rows = _cells(header, rows, fmt)
        parts.append(tabulate(rows, headers=header, tablefmt=tablefmt, disable_numparse=True))

    if view in ("metrics", "both"):
        if fmt == "md":
            parts.append("## Pairs side by side\n")
            parts.append(LEGEND + "\n")
        table(*metrics_table(runs, columns))
    if view in ("paired", "both"):
        if fmt == "md":
            parts.append("\n## Base and post-trained model: B, P and Δ (P − B)\n")
            parts.append("Δ has no interval: B and P are measured on the same items.\n")
        table(*paired_table(runs))
    if view in ("findings", "both"):
        if fmt == "md":
            parts.append("\n## Findings of the paper: do they reproduce?\n")
            parts.append(_rules_legend())
        table(*findings_summary(runs))
        if fmt == "md":
            parts.append("\nPer finding: the rule, the numbers it used, and why a verdict is not a pass.\n")
        table(*findings_table(runs))
    return "\n".join(parts) + "\n"


def _rules_legend() -> str:
    lines = [f"- **{f.title}**: `{f.rule}`" for f in FINDINGS]
    return "\n".join(lines) + "\n\n" + VERDICTS_LEGEND + "\n"


def render(
    source: LoadedRuns | Sequence[str | Path],
    fmt: Format = "md",
    columns: Sequence[Column] | None = None,
    view: str | None = None,
    registry: Registry | None = None,
) -> str:
    """Render a leaderboard from loaded runs, or straight from results paths.

    With paths, files are loaded (bad ones skipped with a warning) and rows named from
    ``registry`` (default: the pairs registry found by :func:`default_registry_path`).
    """
    if isinstance(source, LoadedRuns):
        loaded = source
    else:
        loaded = load_runs(list(source))
        label_runs(loaded.runs, registry if registry is not None else _registry(None))
    columns = HEADLINE if columns is None else columns
    view = view or ("metrics" if fmt == "csv" else "both")
    if fmt == "html":
        from postmech_eval.suite.report_html import render_html

        return render_html(loaded, columns, view=view)
    if fmt not in FORMATS:
        raise ValueError(
            f"The 'fmt' parameter of render must be one of {list(FORMATS)}. Got {fmt!r} instead."
        )
    return render_text(loaded.runs, columns, fmt, view=view)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``postmech-eval leaderboard``."""
    parser.add_argument("paths", nargs="+", metavar="DIR", help="results JSON files or directories")
    parser.add_argument("--format", choices=FORMATS, default="md", help="output format (default md)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    parser.add_argument(
        "--view",
        choices=VIEWS,
        default=None,
        help="metrics table, B/P/delta view, findings verdicts, or all of them (default: both; csv: metrics)",
    )
    parser.add_argument("--findings", action="store_true", help="shorthand for --view findings")
    parser.add_argument(
        "--columns", choices=("headline", "all"), default="headline", help="which metrics to show"
    )
    parser.add_argument(
        "--pairs", metavar="YAML", help="pairs registry for row names (default leaderboard/pairs.yaml)"
    )


def main(args: argparse.Namespace) -> int:
    """Run ``postmech-eval leaderboard``.

    Returns 0 when the table rendered (even if some files were skipped: each is named in a
    warning on stderr and, in HTML, on the page), 2 on bad input: a path that does not
    exist, an explicit ``--pairs`` file that does not load, or no readable results at all.
    """
    _ensure_logging()
    view = "findings" if args.findings else (args.view or ("metrics" if args.format == "csv" else "both"))
    try:
        registry = _registry(args.pairs)
        loaded = load_runs(args.paths)
    except (OSError, ValueError) as err:
        print(f"postmech: error: {err}", file=sys.stderr)
        return 2
    if not loaded.runs:
        print(
            f"postmech: error: no readable postmech results under {args.paths}",
            file=sys.stderr,
        )
        return 2
    label_runs(loaded.runs, registry)
    for run in loaded.runs:
        for task, (done, total) in sorted(run.partial.items()):
            size = f"{done} of {total} items" if done >= 0 else "limited"
            logger.warning("%s: %s is known only from a --limit run (%s)", run.label, task, size)
    columns = HEADLINE if args.columns == "headline" else all_columns(loaded.runs)
    text = render(loaded, args.format, columns, view=view)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
        logger.info("wrote %s", args.output)
    else:
        sys.stdout.write(text)
    return 0


def _registry(explicit: str | None) -> Registry | None:
    """An explicit --pairs must load; a broken default registry only costs the row names."""
    if explicit:
        return load_registry(explicit)
    path = default_registry_path()
    if path is None:
        return None
    try:
        return load_registry(path)
    except ValueError as err:
        logger.warning("ignoring pairs registry: %s", err)
        return None


def _ensure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Standalone entry: ``python -m postmech_eval.suite.leaderboard DIR ...``."""
    parser = argparse.ArgumentParser(prog="postmech-eval leaderboard", description=__doc__)
    add_arguments(parser)
    return main(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(run_cli())
