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
    DIR/<base>__<post>/figures.log           warnings of the figure drawing (usually empty)
"""

from __future__ import annotations

import contextlib
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
from postmech_eval.suite.run_figures import RunFigures
from postmech_eval.suite.runs import ResultsFileError, read_results_file

#: glibc malloc settings the lm_eval process gets (a variable already set wins). By default
#: glibc hands freed blocks of a few MB back to the OS and faults them in again on the next
#: batch: in a loop of organism-pair ``patch_cells`` calls that was ~10k minor page faults and
#: ~20 ms of system time per call (of ~45 ms), none with these settings, which keep up to
#: 256 MiB of freed memory in the process for reuse.
ALLOCATOR_ENV = {"MALLOC_TRIM_THRESHOLD_": str(256 << 20), "MALLOC_MMAP_THRESHOLD_": str(256 << 20)}


LM_EVAL_CLI = "postmech_eval.harness.quick_exit"
#: niceness of the lm_eval process (and its forked jobs): the figures of a finished task, drawn
#: by this process, go first, so that few are left when the last analysis ends
ANALYSES_NICE = 5


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with :data:`ALLOCATOR_ENV` where unset."""
    out = dict(os.environ if env is None else env)
    for key, value in ALLOCATOR_ENV.items():
        out.setdefault(key, value)
    return out


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
    overwrite: bool = False

    @property
    def pair_dir(self) -> Path:
        return self.output_dir / pair_slug(self.base, self.post)

    @property
    def artifacts_dir(self) -> Path:
        return self.pair_dir / "artifacts"

    def settings_digest(self) -> str:
        """What a task's result depends on besides the task: a finished task is reused only
        when this is unchanged (same pair, model args, settings, limit, seed, suite version)."""
        import hashlib

        from postmech_eval import __version__

        blob = json.dumps(
            [self.base, self.post, self.model_args, self.metadata, self.limit, self.seed, self.log_samples,
             __version__],
        )  # fmt: skip
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def command(self, tasks: Sequence[str] | None = None) -> list[str]:
        model_args = (
            f"base={self.base},post={self.post},artifacts_dir={self.artifacts_dir},"
            "on_task_error=continue,progress=true,figures=false"  # drawn by run_figures
        )
        if self.model_args:
            model_args += "," + self.model_args
        # lm_eval's own CLI, exiting without the interpreter's ~2 s teardown (harness.quick_exit)
        cmd = [sys.executable, "-m", LM_EVAL_CLI, "run", "--model", "postmech", "--model_args", model_args]
        tasks = self.tasks if tasks is None else tasks
        cmd += ["--tasks", ",".join(tasks), "--output_path", str(self.pair_dir / "results.json")]
        cmd += ["--seed", self.seed]
        if self.limit is not None:
            cmd += ["--limit", str(self.limit)]
        if self.metadata:
            cmd += ["--metadata", self.metadata]
        if self.log_samples:
            cmd.append("--log_samples")
        return cmd


def _stream(proc: subprocess.Popen, log, verbose: bool, figures: RunFigures) -> None:
    """Copy the child's stderr into the log; echo only our progress lines (all with --verbose);
    hand each analysis reported done to ``figures``."""
    assert proc.stderr is not None
    for line in proc.stderr:
        log.write(line)
        # an analysis in a forked job (harness.parallel) can print while another one's
        # progress bar (no newline) is on the line: our part starts at the tag
        tag = line.find("[postmech] ")
        if tag > 0:
            line = line[tag:]
        if verbose or line.startswith("[postmech]") or line.startswith("postmech: error"):
            sys.stderr.write(line)
            sys.stderr.flush()
        if line.startswith("[postmech] ") and ": done in " in line:
            figures.task_done(line[len("[postmech] ") :].split(":", 1)[0])


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


COMPLETED = "completed.json"


def completed_tasks(run: SuiteRun) -> dict[str, Path]:
    """Tasks a previous run of these settings finished in ``run.pair_dir``: {task: results file}.

    Finished = recorded in ``completed.json`` under the same settings digest, its results
    file still there with the task's metrics, and its artifacts without the incomplete
    marker (a kill leaves it)."""
    try:
        book = json.loads((run.pair_dir / COMPLETED).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    out: dict[str, Path] = {}
    for task in run.tasks:
        entry = book.get(task) if isinstance(book, dict) else None
        if not isinstance(entry, dict) or entry.get("settings") != run.settings_digest():
            continue
        results = run.pair_dir / str(entry.get("results"))
        folder = run.artifacts_dir / task
        if (
            not results.is_file()
            or (folder / ".incomplete").exists()
            or not (folder / "result.json").is_file()
        ):
            continue
        try:
            if task in read_results_file(results).metrics:
                out[task] = results
        except ResultsFileError:
            continue
    return out


def _record_completed(run: SuiteRun, tasks: Sequence[str], results: Path) -> None:
    from postmech_eval.atomic import write_text

    path = run.pair_dir / COMPLETED
    try:
        book = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        book = {}
    for task in tasks:
        book[task] = {"settings": run.settings_digest(), "results": results.name}
    write_text(path, json.dumps(book, indent=2, sort_keys=True))


def run_suite(run: SuiteRun) -> int:
    """Launch lm_eval once for the tasks not already finished (all with ``overwrite``); 0 when
    every task has metrics, 1 otherwise."""
    run.pair_dir.mkdir(parents=True, exist_ok=True)
    reused = {} if run.overwrite else completed_tasks(run)
    todo = [t for t in run.tasks if t not in reused]
    if reused:
        print(
            f"postmech: {len(reused)} of {len(run.tasks)} tasks already complete in {_show(run.pair_dir)} "
            f"with these settings, kept: {', '.join(reused)} (--overwrite reruns them)",
            flush=True,
        )
    if not todo:
        return _report(run, reused, {}, {}, None, 0.0)
    log_path = run.pair_dir / "lm_eval.log"
    from postmech_eval.config import DRAWING_ENV, SUITE_ONLY_ENV

    env = child_env()
    env[SUITE_ONLY_ENV] = "1"  # only postmech tasks run: skip indexing lm-eval's own
    drawing = run.pair_dir / ".drawing"  # exists while figures are drawn (see run_figures)
    drawing.unlink(missing_ok=True)
    env[DRAWING_ENV] = str(drawing)
    if not run.verbose:
        env.setdefault("LMEVAL_LOG_LEVEL", "WARNING")
    print(f"postmech: {run.base} -> {run.post}: {len(todo)} tasks in one lm_eval run", flush=True)
    start = time.time()
    figures = RunFigures(run.artifacts_dir, run.pair_dir / "figures.log", drawing)
    figures.start()  # imports while lm_eval starts (one core is idle then)
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(run.command(todo), stdout=log, stderr=subprocess.PIPE, text=True, env=env)
        with contextlib.suppress(OSError, AttributeError):  # not on every platform
            os.setpriority(os.PRIO_PROCESS, proc.pid, ANALYSES_NICE)
        try:
            _stream(proc, log, run.verbose, figures)
            code = proc.wait()
        except KeyboardInterrupt:
            figures.abort()
            proc.send_signal(signal.SIGINT)  # let lm_eval stop; the running task keeps its marker
            proc.wait()
            print(
                f"postmech: error: interrupted; tasks that did not finish are marked "
                f"{run.artifacts_dir}/<task>/.incomplete and are recomputed by the next run",
                file=sys.stderr,
            )
            return 130
    if code != 0:
        figures.abort()
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        print(f"postmech: error: lm_eval exited with {code}; last lines of {log_path}:", file=sys.stderr)
        print("\n".join(f"  {line[:200]}" for line in tail), file=sys.stderr)
        return 1
    results = _newest_results(run.pair_dir, start)
    if results is None:
        figures.abort()
        print(
            f"postmech: error: lm_eval exited 0 but wrote no results file under {run.pair_dir} "
            f"(see {log_path})",
            file=sys.stderr,
        )
        return 1
    try:
        parsed = read_results_file(results)
    except ResultsFileError as err:
        figures.abort()
        print(f"postmech: error: {err}", file=sys.stderr)
        return 1
    failed: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for task in todo:
        folder = run.artifacts_dir / task
        error = _task_file(folder, "error.json", start)
        if error is not None:
            failed[task] = str(error.get("error", "failed"))
        done = _task_file(folder, "result.json", start)
        if done is not None and isinstance(done.get("seconds"), (int, float)):
            seconds[task] = float(done["seconds"])
        if task not in parsed.metrics and task not in failed:
            failed[task] = "no metrics in the results file"
    _record_completed(run, [t for t in todo if t not in failed], results)
    # paper figures (PNG + SVG) from the artifacts
    figures.finish([t for t in todo if t not in failed])
    wall = time.time() - start  # lm_eval and the figures: the whole job
    return _report(run, {**reused, **dict.fromkeys(todo, results)}, failed, seconds, log_path, wall)


def _report(
    run: SuiteRun,
    sources: dict[str, Path],
    failed: dict[str, str],
    seconds: dict[str, float],
    log_path: Path | None,
    wall: float,
) -> int:
    """The summary table over every task (from the results file each one's metrics are in)."""
    per_task: dict = {}
    for results in dict.fromkeys(sources.values()):
        mine = [t for t in run.tasks if sources.get(t) == results]
        per_task.update(summary.task_estimates(read_results_file(results), mine))
    per_task = {t: per_task[t] for t in run.tasks if t in per_task}
    for task in run.tasks:  # reused tasks: the time they took when they ran
        if task not in seconds:
            done = _task_file(run.artifacts_dir / task, "result.json", 0.0) or {}
            if isinstance(done.get("seconds"), (int, float)):
                seconds[task] = float(done["seconds"])
    results = max(sources.values(), key=lambda p: p.stat().st_mtime)
    if run.table:
        ran = f"{wall:.0f} s wall" if log_path is not None else "every task reused"
        title = f"postmech suite: {run.base} -> {run.post}  ({ran})"
        print("\n" + summary.render(title, per_task, seconds, failed))
        print(summary.timing_table(seconds, run.tasks, wall if log_path is not None else None))
    print(f"\nresults:   {_show(results)}")
    for older in sorted({p for p in sources.values() if p != results}):
        print(f"           {_show(older)}  (reused tasks)")
    print(f"artifacts: {_show(run.artifacts_dir)}  (figures: */figures.json lists */*.png + .svg)")
    if log_path is not None:
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
