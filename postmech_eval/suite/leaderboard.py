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
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from postmech_eval.suite.findings import FINDINGS, VERDICTS_LEGEND
from postmech_eval.suite.formats import TRANSPOSE_MAX, latex_table, long_csv, md_table, pairs_line
from postmech_eval.suite.formats import transpose as transpose_table
from postmech_eval.suite.registry import Registry, default_registry_path, load_registry
from postmech_eval.suite.runs import LoadedRuns, PairRun, load_runs
from postmech_eval.suite.tables import (  # noqa: F401  (re-exported: the leaderboard's public names)
    HEADLINE,
    LEGEND,
    MISSING,
    PAIRED,
    UNITS_NOTE,
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
TRANSPOSE: tuple[str, ...] = ("auto", "always", "never")


def _transposed(n_runs: int, transpose: str) -> bool:
    return transpose == "always" or (transpose == "auto" and n_runs <= TRANSPOSE_MAX)


def render_text(
    runs: Sequence[PairRun],
    columns: Sequence[Column] | None,
    fmt: Format,
    view: str = "both",
    transpose: str = "auto",
) -> str:
    """Render md, latex or csv. csv holds one table: tidy long metrics (metrics / both /
    paired) or one row per finding (findings). ``columns`` None: headline (md, latex), every
    metric (csv)."""
    if fmt == "csv":
        return long_csv(runs, columns, view)
    columns = HEADLINE if columns is None else columns
    parts: list[str] = []
    md = fmt == "md"
    if fmt == "latex":
        parts.append("% postmech-eval leaderboard; needs \\usepackage{booktabs}\n")

    def table(
        header: list[str],
        rows: list[list[str]],
        caption: str,
        label: str,
        spec: str | None = None,
        flip: bool = False,
    ) -> None:
        if md:
            parts.append(md_table(header, rows, flip))
        else:
            parts.append(latex_table(header, rows, caption, f"tab:postmech-{label}", spec, flip))

    if view in ("metrics", "both"):
        header, rows = metrics_table(runs, columns)
        flip = _transposed(len(runs), transpose)
        if flip:
            header, rows = transpose_table(header, rows)
        key = (" " + pairs_line(runs)) if flip else ""
        if md:
            parts.append("## Pairs side by side\n")
            parts.append(LEGEND + key + "\n")
        table(header, rows, "Pairs side by side. " + LEGEND + key, "metrics", flip=flip)
    if view in ("paired", "both"):
        if md:
            parts.append("\n## Base and post-trained model: B, P and Δ (P − B)\n")
            parts.append("Δ has no interval: B and P are measured on the same items. " + UNITS_NOTE + "\n")
        table(*paired_table(runs), "Base (B) and post-trained (P) model side by side; Δ = P − B has no "
              "interval (B and P are measured on the same items). " + UNITS_NOTE, "paired")  # fmt: skip
    if view in ("findings", "both"):
        if md:
            parts.append("\n## Findings of the paper: do they reproduce?\n")
            parts.append(_rules_legend())
        table(
            *findings_summary(runs), "Findings of the paper per pair. " + VERDICTS_LEGEND, "findings-summary"
        )
        if md:  # a list, not a 1000-character table: the observed numbers are long text
            parts.append("\nPer finding: the rule, the numbers it used, and why a verdict is not a pass.\n")
            for pair, title, rule, observed, verdict in findings_table(runs)[1]:
                parts.append(f"- **{pair}, {title}**: {verdict}. Rule `{rule}`; observed {observed}")
            return "\n".join(parts) + "\n"
        table(*findings_table(runs), "Per finding: the rule, the numbers it used (95% intervals) and the "
              "verdict.", "findings", spec="p{2.4cm}p{2.6cm}p{3.8cm}p{5.2cm}p{2.4cm}")  # fmt: skip
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
    transpose: str = "auto",
    per_run: bool = False,
) -> str:
    """Render a leaderboard from loaded runs, or straight from results paths.

    With paths, files are loaded (bad ones skipped with a warning) and rows named from
    ``registry`` (default: the pairs registry found by :func:`default_registry_path`).
    ``columns`` None: the headline columns (csv: every metric, in long form).
    """
    if isinstance(source, LoadedRuns):
        loaded = source
    else:
        loaded = load_runs(list(source), per_run=per_run)
        label_runs(loaded.runs, registry if registry is not None else _registry(None))
    view = view or ("metrics" if fmt == "csv" else "both")
    if fmt == "html":
        from postmech_eval.suite.report_html import render_html

        return render_html(loaded, HEADLINE if columns is None else columns, view=view)
    if fmt not in FORMATS:
        raise ValueError(
            f"The 'fmt' parameter of render must be one of {list(FORMATS)}. Got {fmt!r} instead."
        )
    return render_text(loaded.runs, columns, fmt, view=view, transpose=transpose)


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
        "--columns",
        choices=("headline", "all"),
        default=None,
        help="which metrics to show (default: headline; csv: all, in long form)",
    )
    parser.add_argument(
        "--transpose",
        choices=TRANSPOSE,
        default="auto",
        help=f"md/latex metrics table with metrics as rows (auto: up to {TRANSPOSE_MAX} pairs)",
    )
    parser.add_argument(
        "--per-run",
        action="store_true",
        help="one row per run directory instead of merging the runs of a pair (newest wins per task)",
    )
    parser.add_argument(
        "--write-figures",
        action="store_true",
        help="(re)draw every task's paper figures (PNG + SVG) from the artifacts under DIR first",
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
        if getattr(args, "write_figures", False):
            from postmech_eval.suite.figures import write_figures

            for folder, entries in write_figures(args.paths).items():
                logger.info("figures: %s (%d)", folder, len(entries))
        loaded = load_runs(args.paths, per_run=getattr(args, "per_run", False))
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
    choice = getattr(args, "columns", None)
    columns = None if choice is None else HEADLINE if choice == "headline" else all_columns(loaded.runs)
    text = render(loaded, args.format, columns, view=view, transpose=getattr(args, "transpose", "auto"))
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
