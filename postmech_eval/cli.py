"""``postmech-eval``: organisms, the one-command suite, the leaderboard and CI gates.

Heavy imports happen inside each subcommand so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from postmech_eval.analyses.catalogue import SUITE_TASKS


def _check_metadata(raw: str | None, tasks: tuple[str, ...]) -> None:
    """``--metadata``: a JSON object whose every key is a setting of a task being run, with a
    value that task's config accepts; checked here, in a second, before lm_eval starts."""

    from postmech_eval.analyses.catalogue import ANALYSES, build_config, config_fields, spec_for
    from postmech_eval.config import UnknownNameError, suggestion

    meta: dict = {}
    if raw:
        meta = _parse_metadata(raw)
    fields = {t: set(config_fields(t)) for t in tasks if t in ANALYSES}
    from postmech_eval.analyses.catalogue import HUB_METADATA_KEYS, STATEMENT_HUB_KEYS

    valid = set().union(*fields.values()) | (
        {"dataset", "split"} if "postmech_statements_mc" in tasks else set()
    )
    if "postmech_refusal_transfer_hub" in tasks:
        valid |= set(HUB_METADATA_KEYS)
    if any(t.startswith("postmech_truth") and t.endswith("_hub") for t in tasks):
        valid |= {*STATEMENT_HUB_KEYS, "hub_cache_dir"}
    for key in meta:
        if key not in valid:
            raise UnknownNameError(
                f"--metadata for {', '.join(tasks)}: " + suggestion("key", key, sorted(valid))
            )
    for task, names in fields.items():
        config = build_config(task, {k: v for k, v in meta.items() if k in names})
        if not spec_for(task).from_hub:  # hub docs are built (and checked) in the run
            spec_for(task).items_loader()(config)  # reads (and validates) the task's data files


def _check_model_args(raw: str) -> None:
    """The ``--model-args`` values this package parses cheaply, checked before lm_eval starts
    (the model checks them all again, with the rest)."""
    from postmech_eval.harness.parallel import parse_jobs

    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = part.partition("=")
        if key.strip() == "jobs":
            parse_jobs(value.strip())


def _parse_metadata(raw: str) -> dict:
    import json

    from postmech_eval.config import UserError

    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as err:
        raise UserError(
            f"--metadata must be JSON ({err.msg} at column {err.colno}). Got {raw!r} instead."
        ) from None
    if not isinstance(meta, dict):
        raise UserError(f"--metadata must be a JSON object of settings. Got {raw!r} instead.")
    return meta


def _check_output_dir(out: Path) -> None:
    import os

    from postmech_eval.config import UserError

    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"--output-dir {out} is (under) a file, not a directory")
    if not os.access(probe, os.W_OK):
        raise UserError(f"--output-dir {out} cannot be written ({probe} is read-only)")


def _run_command(args: argparse.Namespace) -> int:
    """Check the pair, the tasks, the settings and the output folder (seconds), then run the
    suite in one lm_eval process."""
    from postmech_eval.analyses.catalogue import CATALOGUE
    from postmech_eval.config import UserError
    from postmech_eval.models.specs import resolve_spec
    from postmech_eval.suite.launch import SuiteRun, expand_tasks, run_suite

    tasks = expand_tasks(args.tasks, SUITE_TASKS, [*CATALOGUE, "postmech_statements_mc"])
    for name, spec in (("--base", args.base), ("--post", args.post)):
        try:
            resolve_spec(spec)
        except (KeyError, ValueError, TypeError, FileNotFoundError) as err:
            msg = err.args[0] if err.args else str(err)
            raise UserError(f"bad {name} {spec!r}: {msg}") from None
    _check_metadata(args.metadata, tasks)
    _check_model_args(args.model_args)
    out = Path(args.output_dir)
    _check_output_dir(out)
    run = SuiteRun(
        base=args.base,
        post=args.post,
        tasks=tasks,
        output_dir=out,
        model_args=args.model_args,
        metadata=args.metadata,
        limit=args.limit,
        seed=args.seed,
        log_samples=args.log_samples,
        verbose=args.verbose,
        table=not args.no_table,
        overwrite=args.overwrite,
    )
    return run_suite(run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="postmech-eval",
        description="How post-training reshapes an LLM: mechanistic comparisons of a base/post pair.",
        epilog="--debug (anywhere) or POSTMECH_DEBUG=1: show the traceback of an input error.",
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
    run.add_argument(
        "--output-dir", required=True, help="results go to DIR/<base>__<post>/ (lm-eval JSON, artifacts, log)"
    )
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
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="rerun tasks already complete in the output dir with the same settings (default: keep them)",
    )
    run.add_argument("--verbose", action="store_true", help="show lm-eval's own log lines (INFO)")

    lead = sub.add_parser("leaderboard", help="render pairs side by side from lm-eval results")
    chk = sub.add_parser("check", help="CI gates: exit 0 pass, 1 a gate failed, 2 bad input")
    st = sub.add_parser(
        "selftest", help="derived pairs with exact expected answers on a model: exit 0 pass, 1 fail"
    )
    try:
        from postmech_eval.selftest import table as selftest_table

        selftest_table.add_arguments(st)
        from postmech_eval.suite import check, leaderboard

        leaderboard.add_arguments(lead)
        check.add_arguments(chk)
    except ImportError:  # pragma: no cover - only while a module is missing in a partial checkout
        pass
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit 0 / 1 as each command says; a user error is one ``postmech: error:`` line and exit 2
    (``--debug`` or ``POSTMECH_DEBUG=1`` shows its traceback)."""
    from postmech_eval.config import UserError, debug_enabled, one_line

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in argv:
        argv.remove("--debug")
        import os

        os.environ["POSTMECH_DEBUG"] = "1"
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(parser, args)
    except UserError as err:
        if debug_enabled():
            raise
        print(one_line(err), file=sys.stderr)
        return 2


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
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
    if args.command == "selftest":
        from postmech_eval.selftest import table

        return int(table.main(args))
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
