"""A suite run's figures, drawn while the later analyses run, each task's as soon as it is done.

Why: drawing (matplotlib, PNG + SVG) is single-threaded Python, about 20 s of one core for the
organisms' 15 figures, as long as half the analyses; drawn after lm_eval it was a quarter of
the suite's wall time. A thread of this process (which otherwise only waits for lm_eval)
draws each task's figures when lm_eval reports the task done, so the knowledge task's (most
of the work: it runs first) are drawn while the truth, refusal and confidence analyses run.
Those analyses then share the two cores with the drawing, and two spinning OpenMP threads on
a shared core ran 2-3x slower: while anything draws, a marker file (``DRAWING_ENV``) exists
and an analysis starting then uses one torch thread (``harness.lm``). The knowledge task's
per-dataset maps (:data:`SECOND_PROCESS_FIGURES`, half that task's work) are saved by a second
process at the same time, started (and importing) while lm_eval starts; the two shares are
merged into one manifest.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from postmech_eval.suite.figures import drawable, warm, write_manifest, write_task

#: the knowledge figures a second drawing process saves (the per-dataset maps): with them the
#: two shares are about equal
SECOND_PROCESS_FIGURES = "knowledge_heatmaps_dataset_*"
KNOWLEDGE = "postmech_knowledge_patching"
_STOP = ""


def _second(name: str) -> bool:
    return fnmatch.fnmatchcase(name, SECOND_PROCESS_FIGURES)


class RunFigures:
    """The figures of one run's artifacts folder: :meth:`start` as lm_eval starts,
    :meth:`task_done` for each task lm_eval reports done, then :meth:`finish` with the tasks
    that succeeded. ``marker``: the file that exists while figures are drawn."""

    def __init__(self, artifacts_dir: Path, log_path: Path, marker: Path | None = None) -> None:
        self.artifacts_dir = Path(artifacts_dir)
        self.log_path = Path(log_path)
        self.marker = marker
        self.todo: queue.Queue[str] = queue.Queue()
        self.drawn: set[str] = set()
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.children: list[subprocess.Popen] = []
        self.pending: list[tuple[Path, str, subprocess.Popen, list[dict]]] = []
        self.helper: subprocess.Popen | None = None  # the second drawing process, before its folder

    def start(self) -> None:
        """Begin now, before any task is done (the suite calls it as lm_eval starts, when a
        core is idle): the thread imports the drawing code and starts the second process."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._work, name="postmech-figures", daemon=True)
            self.thread.start()

    def task_done(self, task: str) -> None:
        """Queue ``task``'s figures (the thread starts with the first, unless started)."""
        self.start()
        self.todo.put(task)

    def _second_process(self) -> subprocess.Popen:
        """The process that draws the knowledge per-dataset maps, started ahead: it imports
        while it waits for the folder on stdin (an empty line: nothing to draw)."""
        if self.helper is None:
            with self.log_path.open("a", encoding="utf-8") as log:
                self.helper = subprocess.Popen(
                    [sys.executable, "-m", "postmech_eval.suite.figures", "-", "--only", SECOND_PROCESS_FIGURES],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                )  # fmt: skip
            self.children.append(self.helper)
        return self.helper

    def _work(self) -> None:
        try:
            self._second_process()
            warm()
            while True:
                try:
                    task = self.todo.get(timeout=0.5)
                except queue.Empty:
                    self._clear_marker()  # the second process may have finished meanwhile
                    continue
                if task == _STOP:
                    break
                try:  # the marker: touched by lm_eval's process as it reports the task done
                    self._draw(task)
                finally:
                    self._clear_marker()
            self._collect()
        except BaseException as err:  # re-raised by finish, in the main thread
            self.error = err
        finally:
            if self.marker is not None:
                self.marker.unlink(missing_ok=True)

    def _clear_marker(self) -> None:
        """Remove the marker once nothing draws: the queue empty, every second process done."""
        if (
            self.marker is not None
            and self.todo.empty()
            and all(c.poll() is not None for _, _, c, _ in self.pending)
        ):
            self.marker.unlink(missing_ok=True)

    def _draw(self, task: str) -> None:
        folder = self.artifacts_dir / task
        if task in self.drawn or not drawable(folder, task):
            return
        self.drawn.add(task)
        if task != KNOWLEDGE:
            write_task(folder, task)
            return
        # the per-dataset maps in a second process while this thread draws the main maps and
        # goes on with the queue; the two shares are merged into one manifest by _collect
        child = self._second_process()
        self.helper = None  # one folder per process
        assert child.stdin is not None
        child.stdin.write(f"{folder}\n")
        child.stdin.close()
        child.stdin = None  # communicate() later only reads its output
        self.pending.append((folder, task, child, write_task(folder, task, lambda name: not _second(name))))

    def _collect(self) -> None:
        """Wait for each second drawing process; write its task's merged manifest."""
        if self.helper is not None:  # started ahead, never given a folder
            self.helper.communicate("")
            self.helper = None
        while self.pending:
            folder, task, child, mine = self.pending.pop(0)
            out, _ = child.communicate()
            theirs = None
            if child.returncode == 0:
                with contextlib.suppress(ValueError):
                    theirs = [json.loads(line) for line in out.splitlines() if line.strip()]
            if theirs is None:  # the child failed: draw its share here (its warnings are in the log)
                theirs = write_task(folder, task, _second)
            write_manifest(folder, mine + theirs)

    def abort(self) -> None:
        """Stop drawing (an interrupted or failed run): the child is killed, the thread left."""
        for child in self.children:
            if child.poll() is None:
                child.kill()
        if self.marker is not None:
            self.marker.unlink(missing_ok=True)

    def finish(self, tasks: Sequence[str]) -> None:
        """Every one of ``tasks``' figures: those not drawn yet, then wait for the thread."""
        for task in tasks:
            self.task_done(task)  # drawn ones are skipped
        if self.thread is None:
            return
        self.todo.put(_STOP)
        self.thread.join()
        if self.error is not None:
            raise self.error


def write_run_figures(artifacts_dir: Path, tasks: Sequence[str], log_path: Path) -> None:
    """Every finished task's figures, as the suite draws them after its analyses."""
    if tasks:
        RunFigures(artifacts_dir, log_path).finish(tasks)
