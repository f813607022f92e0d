"""Reading lm-eval results JSON into one record per (base, post) pair.

The leaderboard and the CI gate both start from files that ``lm_eval --output_path DIR``
wrote (``DIR/<sanitized model name>/results_<timestamp>.json``). A pair may be evaluated
task by task, so several files can describe one pair: they merge into one ``PairRun``,
the newest file winning per metric. Files that cannot be read, or that are not postmech
results, are reported with their path and reason instead of vanishing silently.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from postmech_eval.config import MissingFileError
from postmech_eval.suite.estimates import Estimate, catalogue_metric
from postmech_eval.suite.results import (  # noqa: F401  (the suite's reading API, re-exported)
    DEFAULT_BASE,
    DEFAULT_POST,
    RESULTS_GLOB,
    TASK_METRICS,
    TASK_PREFIX,
    PairKey,
    ResultsFile,
    ResultsFileError,
    RunInfo,
    TaskCI,
    TaskTable,
    pair_key,
    parse_model_args,
    read_results_file,
)

logger = logging.getLogger("postmech_eval.suite.runs")
Status = Literal["measured", "undefined", "not measured"]


@dataclass
class PairRun:
    """Everything known about one pair after merging its results files.

    Per task, the metrics, standard errors, CIs and run info all come from the one file
    chosen for that task, so a value is never shown with another run's interval.
    """

    key: PairKey
    metrics: TaskTable
    sources: list[Path]
    model_args: dict[str, str]
    name: str | None = None
    images: list[Path] = field(default_factory=list)
    #: task -> (items evaluated, items the task has) for tasks known only from ``--limit`` runs
    partial: dict[str, tuple[int, int]] = field(default_factory=dict)
    stderr: TaskTable = field(default_factory=dict)
    intervals: TaskCI = field(default_factory=dict)
    #: task -> how the file its numbers come from was run
    info: dict[str, RunInfo] = field(default_factory=dict)
    #: the files some task's numbers come from (``sources`` also lists superseded ones)
    used_sources: list[Path] = field(default_factory=list)
    #: task -> the results file its numbers come from
    task_sources: dict[str, Path] = field(default_factory=dict)
    #: task -> the artifacts folder of the file its numbers come from (figures, records)
    task_dirs: dict[str, Path] = field(default_factory=dict)
    #: (task, files holding it, the file used, why) wherever several files hold one task
    duplicates: list[tuple[str, list[Path], Path, str]] = field(default_factory=list)
    #: the run directory, when runs are kept apart (``--per-run``): part of the label
    run_dir: Path | None = None

    @property
    def label(self) -> str:
        base = self.name or self.key.label
        return f"{base} [{self.run_dir.name}]" if self.run_dir is not None else base

    def value(self, task: str, metric: str) -> float | None:
        """The metric as a float, or None when it is absent or NaN (both mean "no number")."""
        raw = self.metrics.get(task, {}).get(metric)
        if raw is None or math.isnan(raw):
            return None
        return raw

    def estimate(self, task: str, metric: str) -> Estimate | None:
        """Value and 95% interval (see :class:`Estimate`); None when not measured. A NaN
        value (undefined) is an Estimate whose ``defined`` is False."""
        raw = self.metrics.get(task, {}).get(metric)
        if raw is None:
            return None
        known = catalogue_metric(task, metric)
        return Estimate.build(
            raw,
            self.stderr.get(task, {}).get(metric),
            self.intervals.get(task, {}).get(metric),
            known.uncertainty if known is not None else None,
        )

    def interval(self, task: str, metric: str) -> tuple[float, float] | None:
        """The 95% interval: value ± Z95·stderr for item metrics, (ci_lo, ci_hi) for pair
        statistics, (v, v) for exact ones; None without a number or an interval."""
        est = self.estimate(task, metric)
        if est is None or not est.defined or not est.has_interval:
            return None
        return est.bounds

    def status(self, task: str, metric: str) -> Status:
        """ "not measured" (task or metric absent), "undefined" (NaN in a run of the task)."""
        raw = self.metrics.get(task, {}).get(metric)
        if raw is None:
            return "not measured"
        return "undefined" if math.isnan(raw) else "measured"

    @property
    def task_versions(self) -> dict[str, str]:
        """task -> the version lm-eval recorded for it (from the file that task came from)."""
        return {t: i.task_versions[t] for t, i in self.info.items() if t in i.task_versions}

    @property
    def postmech_versions(self) -> set[str]:
        return {i.postmech_version for i in self.info.values() if i.postmech_version}


@dataclass
class LoadedRuns:
    """Result of :func:`load_runs`: the pairs, and every file skipped with its reason."""

    runs: list[PairRun]
    skipped: list[tuple[Path, str]]


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


def merge(files: Sequence[ResultsFile], per_run: bool = False) -> list[PairRun]:
    """Merge results files per pair (per pair and run directory with ``per_run``), the newest
    full run winning per task. Figures come only from the file each task's numbers come from,
    so a pair run twice shows each figure once, beside the numbers it belongs to."""
    by_key: dict[tuple[PairKey, Path | None], list[ResultsFile]] = {}
    for item in files:
        by_key.setdefault((item.key, item.run_root.resolve() if per_run else None), []).append(item)
    roots: dict[Path, set[PairKey]] = {}
    for item in files:
        roots.setdefault(item.run_root.resolve(), set()).add(item.key)
    runs = []
    warned: set[Path] = set()
    for (key, run_dir), group in by_key.items():
        group = sorted(group, key=lambda f: (f.timestamp, str(f.path)))
        chosen, duplicates = _choose_per_task(key, group)
        used = [f for f in group if any(f is c for c in chosen.values())]
        images: list[Path] = []
        for item in used:
            images.extend(p for p in item.png_refs if _task_of(p) is None or chosen.get(_task_of(p)) is item)
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
                metrics={t: dict(f.metrics[t]) for t, f in chosen.items()},
                sources=[f.path for f in group],
                used_sources=[f.path for f in used],
                model_args=group[-1].model_args,
                images=list(dict.fromkeys(images)),
                partial={t: f.partial[t] for t, f in chosen.items() if t in f.partial},
                stderr={t: dict(f.stderr.get(t, {})) for t, f in chosen.items()},
                intervals={t: dict(f.intervals.get(t, {})) for t, f in chosen.items()},
                info={t: f.info for t, f in chosen.items()},
                task_sources={t: f.path for t, f in chosen.items()},
                task_dirs={
                    t: f.artifacts_dir / t
                    for t, f in chosen.items()
                    if f.artifacts_dir is not None and (f.artifacts_dir / t).is_dir()
                },
                duplicates=duplicates,
                run_dir=run_dir,
            )
        )
    return sorted(runs, key=lambda r: (r.key.base, r.key.post, str(r.run_dir or "")))


def _task_of(png: Path) -> str | None:
    """The task whose artifacts folder holds ``png`` (``.../<task>/x.png``), if any."""
    return next((p for p in reversed(png.parts[:-1]) if p.startswith(TASK_PREFIX)), None)


def _choose_per_task(
    key: PairKey, group: Sequence[ResultsFile]
) -> tuple[dict[str, ResultsFile], list[tuple[str, list[Path], Path, str]]]:
    """Per task, the file to use: the newest FULL run; a ``--limit`` run only where no full
    run of that task exists (the task is then partial). More than one file for a task is
    reported with the one used (a warning naming every file), never merged silently."""
    out: dict[str, ResultsFile] = {}
    duplicates: list[tuple[str, list[Path], Path, str]] = []
    tasks = sorted({t for f in group for t in f.metrics})
    for task in tasks:
        having = [f for f in group if task in f.metrics]  # oldest first
        full = [f for f in having if task not in f.partial]
        chosen = (full or having)[-1]
        out[task] = chosen
        if len(having) > 1:
            why = "newest full run" if full else "newest run; every run of it used --limit"
            if full and len(full) < len(having):
                why += f", {len(having) - len(full)} --limit run(s) ignored"
            duplicates.append((task, [f.path for f in having], chosen.path, why))
            logger.warning(
                "%s: %d results files hold %s (%s); using %s (%s; --per-run shows one row per run directory)",
                key.label,
                len(having),
                task,
                ", ".join(str(f.path) for f in having),
                chosen.path,
                why,
            )
    return out, duplicates


def load_runs(paths: Sequence[str | Path], strict: bool = False, per_run: bool = False) -> LoadedRuns:
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
    return LoadedRuns(runs=merge(files, per_run=per_run), skipped=skipped)
