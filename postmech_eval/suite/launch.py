"""``postmech-eval run``: the whole suite for one pair in ONE ``lm_eval`` process.

Why one process: lm-eval's start-up (~10 s) was paid once per task; now the analyses share
it and the loaded pair. The model runs with ``on_task_error=continue``, so a failing
analysis leaves the others' results in the same results file and is reported here. lm-eval's
logs go to ``<pair dir>/lm_eval.log`` (shown with ``--verbose``); the console gets one line
per analysis, then a summary no wider than 100 columns and the next commands to type.

Layout of ``--output-dir DIR`` (everything of one pair in a folder named after it)::

    DIR/<base>__<post>/results_<date>.json   lm-eval's results (what leaderboard/check read)
    DIR/<base>__<post>/samples_*.jsonl       with --log-samples
    DIR/<base>__<post>/artifacts/<task>/     heatmaps, directions, per-item records, figures
    DIR/<base>__<post>/lm_eval.log           lm-eval's own output
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from postmech_eval.suite import summary
from postmech_eval.suite.runs import ResultsFileError, read_results_file


def pair_slug(base: str, post: str) -> str:
    """Folder name of a pair: both specs, filesystem-safe (``organism_base__organism_sft``)."""

    def slug(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "model"

    return f"{slug(base)}__{slug(post)}"


@dataclass(frozen=True, kw_only=True)
class SuiteRun:
    base: str
    post: str
    tasks: tuple[str, ...]
    output_dir: Path
    model_args: str = ""
    metadata: str | None = None
    limit: int | None = None
    seed: str = "0,1234,1234,1234"
    log_samples: bool = False
    verbose: bool = False
    table: bool = True

    @property
    def pair_dir(self) -> Path:
        return self.output_dir / pair_slug(self.base, self.post)

    @property
    def artifacts_dir(self) -> Path:
        return self.pair_dir / "artifacts"

    def command(self) -> list[str]:
        model_args = (
            f"base={self.base},post={self.post},artifacts_dir={self.artifacts_dir},"
            "on_task_error=continue,progress=true"
        )
        if self.model_args:
            model_args += "," + self.model_args
        cmd = [sys.executable, "-m", "lm_eval", "run", "--model", "postmech", "--model_args", model_args]
        cmd += ["--tasks", ",".join(self.tasks), "--output_path", str(self.pair_dir / "results.json")]
        cmd += ["--seed", self.seed]
        if self.limit is not None:
            cmd += ["--limit", str(self.limit)]
        if self.metadata:
            cmd += ["--metadata", self.metadata]
        if self.log_samples:
            cmd.append("--log_samples")
        return cmd


def _stream(proc: subprocess.Popen, log, verbose: bool) -> None:
    """Copy the child's stderr into the log; echo only our progress lines (all with --verbose)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        log.write(line)
        if verbose or line.startswith("[postmech]") or line.startswith("postmech: error"):
            sys.stderr.write(line)
            sys.stderr.flush()


def _show(path: Path) -> str:
    """A path as short as it can be said from here (relative when under the current directory)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _newest_results(folder: Path, since: float) -> Path | None:
    found = [p for p in folder.glob("results*.json") if p.stat().st_mtime >= since]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _task_file(folder: Path, name: str, since: float) -> dict | None:
    path = folder / name
    if not path.is_file() or path.stat().st_mtime < since:
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def run_suite(run: SuiteRun) -> int:
    """Launch lm_eval once; 0 when every task produced metrics, 1 otherwise."""
    run.pair_dir.mkdir(parents=True, exist_ok=True)
    log_path = run.pair_dir / "lm_eval.log"
    env = dict(os.environ)
    if not run.verbose:
        env.setdefault("LMEVAL_LOG_LEVEL", "WARNING")
    print(f"postmech: {run.base} -> {run.post}: {len(run.tasks)} tasks in one lm_eval run", flush=True)
    start = time.time()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(run.command(), stdout=log, stderr=subprocess.PIPE, text=True, env=env)
        try:
            _stream(proc, log, run.verbose)
            code = proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)  # let lm_eval stop; the running task keeps its marker
            proc.wait()
            print(
                f"postmech: error: interrupted; tasks that did not finish are marked "
                f"{run.artifacts_dir}/<task>/.incomplete and are recomputed by the next run",
                file=sys.stderr,
            )
            return 130
    wall = time.time() - start
    if code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        print(f"postmech: error: lm_eval exited with {code}; last lines of {log_path}:", file=sys.stderr)
        print("\n".join(f"  {line[:200]}" for line in tail), file=sys.stderr)
        return 1
    results = _newest_results(run.pair_dir, start)
    if results is None:
        print(
            f"postmech: error: lm_eval exited 0 but wrote no results file under {run.pair_dir} "
            f"(see {log_path})",
            file=sys.stderr,
        )
        return 1
    try:
        parsed = read_results_file(results)
    except ResultsFileError as err:
        print(f"postmech: error: {err}", file=sys.stderr)
        return 1
    failed: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for task in run.tasks:
        folder = run.artifacts_dir / task
        error = _task_file(folder, "error.json", start)
        if error is not None:
            failed[task] = str(error.get("error", "failed"))
        done = _task_file(folder, "result.json", start)
        if done is not None and isinstance(done.get("seconds"), (int, float)):
            seconds[task] = float(done["seconds"])
        if task not in parsed.metrics and task not in failed:
            failed[task] = "no metrics in the results file"
    per_task = summary.task_estimates(parsed, run.tasks)
    from postmech_eval.suite.figures import write_figures  # paper figures (PNG + SVG) from the artifacts

    write_figures(
        [run.artifacts_dir / t for t in run.tasks if t not in failed and (run.artifacts_dir / t).is_dir()]
    )
    if run.table:
        title = f"postmech suite: {run.base} -> {run.post}  ({wall:.0f} s wall)"
        print("\n" + summary.render(title, per_task, seconds, failed))
        print(summary.timing_table(seconds, run.tasks))
    print(f"\nresults:   {_show(results)}")
    print(f"artifacts: {_show(run.artifacts_dir)}  (figures: */figures.json lists */*.png + .svg)")
    print(f"log:       {_show(log_path)}")
    print(f"next:      postmech-eval leaderboard {_show(run.output_dir)} --format md")
    print(
        f"           postmech-eval check {_show(run.pair_dir)} \\\n               --thresholds leaderboard/thresholds.yaml"
    )
    print(
        f"           postmech-eval check {_show(run.pair_dir)} \\\n               --baseline PREVIOUS_RUN_OF_THIS_BASE"
    )
    if failed:
        print(f"postmech: error: failed tasks: {', '.join(sorted(failed))}", file=sys.stderr)
        return 1
    return 0


def expand_tasks(raw: Sequence[str] | None, suite: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """``--tasks`` values (space- or comma-separated; ``postmech`` = the whole suite), checked."""
    from postmech_eval.config import UnknownNameError, suggestion

    names = [t for chunk in raw for t in chunk.split(",") if t] if raw else ["postmech"]
    out: list[str] = []
    for name in names:
        if name == "postmech":
            out += [t for t in suite if t not in out]
        elif name in known:
            out += [name] if name not in out else []
        else:
            raise UnknownNameError(suggestion("task", name, ["postmech", *known]))
    return tuple(out)
