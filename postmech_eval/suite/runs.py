"""Reading lm-eval results JSON into one record per (base, post) pair.

The leaderboard and the CI gate both start from files that ``lm_eval --output_path DIR``
wrote (``DIR/<sanitized model name>/results_<timestamp>.json``). A pair may be evaluated
task by task, so several files can describe one pair: they merge into one ``PairRun``,
the newest file winning per metric. Files that cannot be read, or that are not postmech
results, are reported with their path and reason instead of vanishing silently.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from postmech_eval.config import MissingFileError
from postmech_eval.suite.results import (  # noqa: F401  (the suite's reading API, re-exported)
    DEFAULT_BASE,
    DEFAULT_POST,
    RESULTS_GLOB,
    TASK_METRICS,
    TASK_PREFIX,
    LoadedRuns,
    PairKey,
    PairRun,
    ResultsFile,
    ResultsFileError,
    pair_key,
    parse_model_args,
    read_results_file,
)

logger = logging.getLogger("postmech_eval.suite.runs")


def find_results_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand files and directories (searched recursively for ``results*.json``).

    Other JSON files in a run directory (artifact metadata, samples) are not results and
    are not candidates; a file named explicitly is always a candidate.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(RESULTS_GLOB) if p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise MissingFileError(f"{path}: no such file or directory")
    return list(dict.fromkeys(found))


def merge(files: Sequence[ResultsFile]) -> list[PairRun]:
    """Merge results files per pair, the newest file winning per (task, metric)."""
    by_key: dict[PairKey, list[ResultsFile]] = {}
    for item in files:
        by_key.setdefault(item.key, []).append(item)
    roots: dict[Path, set[PairKey]] = {}
    for item in files:
        roots.setdefault(item.run_root.resolve(), set()).add(item.key)
    runs = []
    warned: set[Path] = set()
    for key, group in by_key.items():
        group = sorted(group, key=lambda f: (f.timestamp, str(f.path)))
        metrics, partial = _choose_per_task(key, group)
        images: list[Path] = []
        for item in group:
            images.extend(item.png_refs)
            root = item.run_root.resolve()
            if item.artifacts_dir is not None or "artifacts_dir" in item.model_args:
                continue  # its figures live in its own artifacts_dir
            pngs = sorted(p.resolve() for p in root.rglob("*.png"))
            if len(roots[root]) == 1:
                images.extend(pngs)
            elif pngs and not item.png_refs and root not in warned:
                warned.add(root)
                logger.warning(
                    "%s holds results of %d pairs; its PNG artifacts are not attributed to "
                    "any pair (give each pair its own --output-dir)",
                    root,
                    len(roots[root]),
                )
        runs.append(
            PairRun(
                key=key,
                metrics=metrics,
                sources=[f.path for f in group],
                model_args=group[-1].model_args,
                images=list(dict.fromkeys(images)),
                partial=partial,
            )
        )
    return sorted(runs, key=lambda r: (r.key.base, r.key.post))


def _choose_per_task(
    key: PairKey, group: Sequence[ResultsFile]
) -> tuple[dict[str, dict[str, float]], dict[str, tuple[int, int]]]:
    """Per task, the newest FULL run's metrics; a ``--limit`` run only where no full run of
    that task exists (and then it is marked partial). More than one file for a task is
    reported with the one used, never merged silently."""
    metrics: dict[str, dict[str, float]] = {}
    partial: dict[str, tuple[int, int]] = {}
    tasks = sorted({t for f in group for t in f.metrics})
    for task in tasks:
        having = [f for f in group if task in f.metrics]  # oldest first
        full = [f for f in having if task not in f.partial]
        chosen = (full or having)[-1]
        metrics[task] = dict(chosen.metrics[task])
        if task in chosen.partial:
            partial[task] = chosen.partial[task]
        if len(having) > 1:
            why = "newest full run" if full else "newest run; every run of it used --limit"
            if full and len(full) < len(having):
                why += f", {len(having) - len(full)} --limit run(s) ignored"
            logger.warning(
                "%s: %d results files hold %s (%s); using %s (%s)",
                key.label,
                len(having),
                task,
                ", ".join(str(f.path) for f in having),
                chosen.path,
                why,
            )
    return metrics, partial


def load_runs(paths: Sequence[str | Path], strict: bool = False) -> LoadedRuns:
    """Read every results file under ``paths`` and merge them per pair.

    With ``strict=False`` (leaderboard) a bad file is logged as a warning naming it and
    skipped; with ``strict=True`` (CI gate) the first bad file raises ResultsFileError.
    """
    files: list[ResultsFile] = []
    skipped: list[tuple[Path, str]] = []
    for path in find_results_files(paths):
        try:
            files.append(read_results_file(path))
        except ResultsFileError as err:
            if strict:
                raise
            logger.warning("skipping %s", err)
            skipped.append((path, str(err)))
    return LoadedRuns(runs=merge(files), skipped=skipped)
