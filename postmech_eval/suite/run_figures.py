"""A suite run's figures, drawn in two processes, the second one started as soon as the
analyses have finished.

Why: drawing (matplotlib, PNG + SVG) is single-threaded Python, about 16 s of it on the
organisms on a 2-core machine, as long as a third of the analyses. A child process saves the
knowledge task's per-dataset maps (:data:`SECOND_PROCESS_FIGURES`, about half the work) and
this process everything else, then writes the knowledge manifest from both shares. The child
starts when lm_eval reports its last analysis done, so it draws while lm_eval writes its
results and exits (seconds of one busy core); this process draws after lm_eval exits.
Figures are never drawn while analyses run: at any CPU priority they slowed the analyses
on 2 cores by about as much as they saved.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from postmech_eval.suite.figures import drawable, write_figures, write_manifest, write_task

#: the knowledge figures the second drawing process saves (the per-dataset maps): with them
#: the two processes' shares are about equal (organisms: ~8 s each of ~16 s of drawing)
SECOND_PROCESS_FIGURES = "knowledge_heatmaps_dataset_*"
KNOWLEDGE = "postmech_knowledge_patching"


def _second(name: str) -> bool:
    return fnmatch.fnmatchcase(name, SECOND_PROCESS_FIGURES)


class RunFigures:
    """The figures of one run's artifacts folder: :meth:`start_second` (when the analyses are
    done), then :meth:`finish` with the tasks that succeeded."""

    def __init__(self, artifacts_dir: Path, log_path: Path) -> None:
        self.artifacts_dir = Path(artifacts_dir)
        self.log_path = Path(log_path)
        self.child: subprocess.Popen | None = None

    @property
    def knowledge(self) -> Path:
        return self.artifacts_dir / KNOWLEDGE

    def start_second(self) -> None:
        """Start the child on the knowledge folder, if the task finished and drew nothing yet."""
        if self.child is not None or not drawable(self.knowledge, KNOWLEDGE):
            return
        with self.log_path.open("a", encoding="utf-8") as log:
            self.child = subprocess.Popen(
                [sys.executable, "-m", "postmech_eval.suite.figures", str(self.knowledge),
                 "--only", SECOND_PROCESS_FIGURES],
                stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip

    def abort(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child.communicate()
            self.child = None

    def finish(self, tasks: Sequence[str]) -> None:
        """Draw every finished task's figures (this process' share), then merge the child's."""
        folders = [self.artifacts_dir / t for t in tasks if (self.artifacts_dir / t).is_dir()]
        if self.knowledge not in folders:
            self.abort()
            write_figures(folders)
            return
        self.start_second()
        write_figures([f for f in folders if f != self.knowledge])
        mine = write_task(self.knowledge, KNOWLEDGE, lambda name: not _second(name))
        theirs = None
        if self.child is not None:
            out, _ = self.child.communicate()
            if self.child.returncode == 0:
                try:
                    theirs = [json.loads(line) for line in out.splitlines() if line.strip()]
                except ValueError:
                    theirs = None
            self.child = None
        if theirs is None:  # the child failed: draw its share here (its warnings are in the log)
            theirs = write_task(self.knowledge, KNOWLEDGE, _second)
        write_manifest(self.knowledge, mine + theirs)


def write_run_figures(artifacts_dir: Path, tasks: Sequence[str], log_path: Path) -> None:
    """Every finished task's figures, in two processes (see the module doc)."""
    RunFigures(artifacts_dir, log_path).finish(tasks)
