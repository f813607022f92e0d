"""Write a file whole or not at all.

Why: an interrupted run (SIGINT, SIGKILL, a crash) must never leave a half-written heatmap,
direction or record file that a later reader takes for a finished one. Every artifact is
written to a temporary name in the same folder and renamed over the target when complete
(``os.replace`` is atomic on one filesystem). The temporary name keeps the suffix, so
writers that pick a format from it (matplotlib, safetensors) behave the same.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """``with atomic_path(p) as tmp: write(tmp)`` -> ``p`` appears only once ``write`` returned."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
