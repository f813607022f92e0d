"""``postmech-eval``: organisms, the one-command suite, the leaderboard and CI gates.

Heavy imports happen inside each subcommand so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from postmech_eval.analyses.catalogue import SUITE_TASKS


def _run_command(args: argparse.Namespace) -> int:
    """Run the suite for one pair through the real ``lm_eval`` CLI, one task at a time.

    One lm-eval process per task keeps each results file small and lets a failure in one
    perspective leave the others' results on disk.
    """
    tasks = [t for chunk in args.tasks for t in chunk.split(",") if t] if args.tasks else list(SUITE_TASKS)
    if tasks == ["postmech"]:
        tasks = list(SUITE_TASKS)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_args = f"base={args.base},post={args.post},artifacts_dir={out / 'artifacts'}"
    if args.model_args:
        model_args += "," + args.model_args
    failed: list[str] = []
    start = time.perf_counter()
    for i, task in enumerate(tasks, 1):
        print(f"[{i}/{len(tasks)}] {task} ({args.base} -> {args.post})", flush=True)
        cmd = [
            sys.executable,
            "-m",
            "lm_eval",
            "run",
            "--model",
            "postmech",
            "--model_args",
            model_args,
            "--tasks",
            task,
            "--output_path",
            str(out),
            "--seed",
            str(args.seed),
        ]
        if args.limit is not None:
            cmd += ["--limit", str(args.limit)]
        if args.metadata:
            cmd += ["--metadata", args.metadata]
        if args.log_samples:
            cmd.append("--log_samples")
        t0 = time.perf_counter()
        code = subprocess.call(cmd)
        print(
            f"    {task}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {time.perf_counter() - t0:.0f}s"
        )
        if code != 0:
            failed.append(task)
    print(f"suite finished in {time.perf_counter() - start:.0f}s; results under {out}")
    if failed:
        print(f"failed tasks: {', '.join(failed)}", file=sys.stderr)
        return 1
    if not args.no_table:
        from postmech_eval.suite import leaderboard

        print(leaderboard.render([str(out)], fmt="md"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="postmech-eval",
        description="How post-training reshapes an LLM: mechanistic comparisons of a base/post pair.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    org = sub.add_parser("organisms", help="the bundled model organisms (list | path NAME | build | verify)")
    org.add_argument("organism_args", nargs=argparse.REMAINDER, help="arguments for the organisms command")

    run = sub.add_parser("run", help="run the suite for one pair through lm-eval")
    run.add_argument("--base", default="organism:base", help="base model: hub id, local dir or organism:NAME")
    run.add_argument(
        "--post", default="organism:sft", help="post-trained model: hub id, local dir or organism:NAME"
    )
    run.add_argument("--tasks", nargs="*", help=f"tasks (default: all of {', '.join(SUITE_TASKS)})")
    run.add_argument("--output-dir", required=True, help="where lm-eval results and artifacts go")
    run.add_argument("--model-args", default="", help="extra postmech model_args, e.g. one_at_a_time=true")
    run.add_argument(
        "--metadata",
        default=None,
        help='analysis settings as JSON, passed to lm-eval --metadata, e.g. \'{"layer": "auto"}\'',
    )
    run.add_argument("--limit", type=int, default=None, help="lm-eval --limit (items per task)")
    run.add_argument("--seed", default="0,1234,1234,1234", help="lm-eval --seed")
    run.add_argument(
        "--log-samples", action="store_true", help="keep per-item records (lm-eval --log_samples)"
    )
    run.add_argument("--no-table", action="store_true", help="do not print the summary table")

    lead = sub.add_parser("leaderboard", help="render pairs side by side from lm-eval results")
    chk = sub.add_parser("check", help="CI gates: exit 0 pass, 1 a gate failed, 2 bad input")
    try:
        from postmech_eval.suite import check, leaderboard

        leaderboard.add_arguments(lead)
        check.add_arguments(chk)
    except ImportError:  # pragma: no cover - only while a module is missing in a partial checkout
        pass
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "organisms":
        from postmech_eval import organisms

        return int(organisms.main(args.organism_args) or 0)
    if args.command == "run":
        return _run_command(args)
    if args.command == "leaderboard":
        from postmech_eval.suite import leaderboard

        return int(leaderboard.main(args) or 0)
    if args.command == "check":
        from postmech_eval.suite import check

        return int(check.main(args) or 0)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
