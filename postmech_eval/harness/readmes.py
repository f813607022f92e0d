"""Keep each task README's metric table equal to the analysis' catalogue.

``python -m postmech_eval.harness.readmes`` rewrites the table between the
metrics markers / ``<!-- metrics:end -->`` markers of every task README; the
test suite fails when a README and the catalogue differ, so the docs cannot drift.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from postmech_eval.analyses.catalogue import CATALOGUE, SUITE_TASKS
from postmech_eval.analyses.metrics import markdown_table
from postmech_eval.config import UserError
from postmech_eval.harness.plugin import tasks_dir

BEGIN, END = "<!-- metrics:begin (generated from the metric catalogue) -->", "<!-- metrics:end -->"
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)


def readme_path(task: str) -> Path:
    return Path(tasks_dir()) / task / "README.md"


def expected_block(task: str) -> str:
    return f"{BEGIN}\n{markdown_table(CATALOGUE[task])}\n{END}"


def current_block(task: str) -> str | None:
    path = readme_path(task)
    if not path.is_file():
        return None
    match = _BLOCK.search(path.read_text(encoding="utf-8"))
    return match.group(0) if match else None


def write(task: str) -> bool:
    """Rewrite ``task``'s table; True when the file changed."""
    path = readme_path(task)
    text = path.read_text(encoding="utf-8")
    if _BLOCK.search(text) is None:
        raise UserError(f"{path}: no {BEGIN!r} ... {END!r} block to fill")
    new = _BLOCK.sub(lambda _: expected_block(task), text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main() -> int:
    for task in SUITE_TASKS:  # the hub variant's README points at the bundled task's
        if write(task):
            print(f"rewrote {readme_path(task)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
