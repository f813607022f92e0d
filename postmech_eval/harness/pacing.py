"""One torch thread while ``postmech-eval run`` draws figures on the other core.

Why: the suite draws each finished task's figures (single-threaded matplotlib) while the
later analyses run. On a 2-core machine the drawing then takes one core, and two spinning
OpenMP threads sharing the other ran 2-3x slower than one thread alone (the organisms'
refusal task: 14.6 -> 38.7 s; with one thread 15.8 s). The suite says when it draws with a
marker file (``DRAWING_ENV``): this process touches it as it reports a task done (whose
figures are drawn from then on), the suite removes it when it has nothing left to draw. An
analysis checks it before each chunk of work (``Runtime.pace``), so it gets its threads
back as soon as the drawing is over.
"""

from __future__ import annotations

import os
from pathlib import Path

from postmech_eval.config import DRAWING_ENV


def marker() -> Path | None:
    """The suite's drawing marker, None outside ``postmech-eval run``."""
    path = os.environ.get(DRAWING_ENV)
    return Path(path) if path else None


class ThreadPacer:
    """Called between chunks: one torch thread while the marker exists, the analysis' own
    count otherwise (whatever it set, e.g. the refusal task's ``num_threads``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved: int | None = None  # the count to give back, while at one thread

    def __call__(self) -> None:
        import torch

        drawing = self.path.exists()
        if drawing and self.saved is None:
            self.saved = torch.get_num_threads()
            torch.set_num_threads(1)
        elif not drawing and self.saved is not None:
            self.restore()

    def restore(self) -> None:
        if self.saved is not None:
            import torch

            torch.set_num_threads(self.saved)
            self.saved = None
