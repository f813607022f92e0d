"""The selftest's printed table and its command line (``postmech-eval selftest``).

Why apart from the runner: the CLI edit stays one line in ``cli.py``, and the table is the
product's face: one row per check, expected vs observed, pass / fail / n/a and the reason.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from postmech_eval.analyses.catalogue import SUITE_TASKS
from postmech_eval.selftest.run import PAIRS, Report, selftest_spec


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "nan"
    return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"


_REL = {"exact": "=", "bound": "<=", "sign": "sign"}


def format_table(report: Report) -> str:
    """Markdown-style table: pair | task | metric | expected | observed | result | why."""
    lines = [f"selftest of {report.model} ({report.family}): {'PASS' if report.ok else 'FAIL'} "
             f"in {report.seconds:.1f} s", "",
             "| pair | task | metric | expected | observed | result | why |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for p in report.pairs:
        if p.skipped:
            lines.append(f"| {p.pair} | — | — | — | — | skipped | {p.skipped} |")
            continue
        for c in p.checks:
            res = {True: "pass", False: "FAIL", None: "n/a"}[c.passed]
            exp = "< 0" if c.kind == "sign" else f"{_REL[c.kind]} {_fmt(c.expected)} ± {c.tol:g}"
            task = c.task.removeprefix("postmech_")
            lines.append(f"| {p.pair} | {task} | {c.metric} | {exp} | {_fmt(c.observed)} | {res} | {c.why} |")
    lines.append("")
    lines += [f"{p.pair}: {p.seconds:.1f} s" for p in report.pairs]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", action="append", help="model spec (repeatable); default organism:base and organism:sft"
    )
    parser.add_argument(
        "--tasks", nargs="*", help=f"analyses to check (default all of {', '.join(SUITE_TASKS)})"
    )
    parser.add_argument(
        "--pairs", nargs="*", choices=PAIRS, help=f"derived pairs (default all: {', '.join(PAIRS)})"
    )
    parser.add_argument("--limit", type=int, default=32, help="items per analysis (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the permutation and the rotation")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def main(args: argparse.Namespace) -> int:
    """Exit 0 when every applicable check of every model passes, 1 otherwise."""
    from postmech_eval.selftest.run import check_tasks

    tasks = check_tasks(args.tasks)  # a typo fails before any model loads
    reports = [selftest_spec(spec, tasks=tasks, pairs=args.pairs, limit=args.limit, seed=args.seed)
               for spec in args.model or ("organism:base", "organism:sft")]  # fmt: skip
    ok = all(r.ok for r in reports)
    if args.json:
        print(json.dumps({"ok": ok, "models": [r.to_dict() for r in reports]}, indent=1))
    else:
        print("\n\n".join(format_table(r) for r in reports))
    sys.stdout.flush()
    return 0 if ok else 1
