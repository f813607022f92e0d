"""One lm-eval results file -> a typed record: the pair it measured, its metrics per task
with their standard errors and CIs, how it was run, its figures and whether a ``--limit``
cut a task short.

Files that cannot be read, or that are not postmech results, raise :class:`ResultsFileError`
naming the file and the reason (``runs`` merges many files into one record per pair).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from postmech_eval.analyses.catalogue import CATALOGUE
from postmech_eval.analyses.metrics import CI_SUFFIXES
from postmech_eval.config import UserError

logger = logging.getLogger("postmech_eval.suite.runs")  # one logger for reading and merging

DEFAULT_BASE = "organism:base"
DEFAULT_POST = "organism:sft"
TASK_PREFIX = "postmech_"
RESULTS_GLOB = "results*.json"
# Every task's metric names, from the analyses' catalogue (catches typos in gates).
TASK_METRICS: dict[str, tuple[str, ...]] = {
    task: tuple(m.name for m in metrics) for task, metrics in CATALOGUE.items()
}
#: task -> metric -> number (a value or a standard error) / -> (ci_lo, ci_hi)
TaskTable = dict[str, dict[str, float]]
TaskCI = dict[str, dict[str, tuple[float, float]]]
#: where a results file may record the suite's package version (the analysis side's choice)
VERSION_KEYS = ("postmech_eval_version", "postmech_version")
SEED_KEYS = ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")
MODEL_KEYS = ("model_revision", "model_sha", "model_dtype", "device", "model_num_parameters", "batch_size")
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)")


class ResultsFileError(UserError):
    """A results file that cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class PairKey:
    """Identity of a pair: the ``base=`` and ``post=`` model specs it was run with."""

    base: str
    post: str

    @property
    def label(self) -> str:
        return f"{self.base} vs {self.post}"


@dataclass(frozen=True)
class RunInfo:
    """How a results file was produced, as far as lm-eval recorded it: what ``check`` needs to
    refuse comparing runs of different suite versions, and what a reader needs to redo one."""

    date: float | None = None
    lm_eval_version: str | None = None
    transformers_version: str | None = None
    git_hash: str | None = None
    #: postmech_eval.__version__, when the run recorded it (see :data:`VERSION_KEYS`)
    postmech_version: str | None = None
    limit: float | None = None
    seeds: dict[str, Any] = field(default_factory=dict)
    #: task -> lm-eval's ``versions`` entry (the task YAML's metadata.version), as text
    task_versions: dict[str, str] = field(default_factory=dict)
    #: task -> the task's ``metadata`` (analysis settings: bootstrap resamples, seeds, ...)
    task_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: what lm-eval recorded of the model: revision, sha, dtype, device, parameter count
    model: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResultsFile:
    """One parsed results file. ``metrics[task][metric]`` may hold NaN (undefined: the task
    ran, the statistic has no value); ``stderr`` / ``intervals`` hold what the file gives."""

    path: Path
    key: PairKey
    metrics: TaskTable
    model_args: dict[str, str]
    timestamp: float
    stderr: TaskTable = field(default_factory=dict)
    intervals: TaskCI = field(default_factory=dict)
    info: RunInfo = field(default_factory=RunInfo)
    model_name_sanitized: str | None = None
    png_refs: list[Path] = field(default_factory=list)
    artifacts_dir: Path | None = None
    #: task -> (items evaluated, items the task has) where a ``--limit`` cut the task short
    partial: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def run_root(self) -> Path:
        """The directory given to ``--output_path``: lm-eval adds one per-model subfolder."""
        parent = self.path.parent
        if self.model_name_sanitized and parent.name == self.model_name_sanitized:
            return parent.parent
        return parent


def parse_model_args(value: str | Mapping[str, Any] | None) -> dict[str, str]:
    """lm-eval's ``model_args`` (``"a=1,b=2"`` or the dict newer versions store) as str -> str.

    The string form is parsed by lm-eval's own ``simple_parse_args_string``, so a results file
    reads the way lm-eval read the command line (values kept as text for matching specs).
    """
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if not isinstance(value, str):
        raise TypeError(f"model_args must be a str or a dict. Got {type(value).__name__} instead.")
    from lm_eval.utils import simple_parse_args_string

    return {str(k): str(v) for k, v in simple_parse_args_string(value).items()}


def pair_key(model_args: Mapping[str, str]) -> PairKey:
    """The pair a run measured; the ``postmech`` model defaults to the organism pair.

    ``pretrained=`` is accepted for the post model, as the ``postmech`` model does.
    """
    post = model_args.get("post") or model_args.get("pretrained") or DEFAULT_POST
    return PairKey(model_args.get("base") or DEFAULT_BASE, post)


def _number(raw: Any) -> float | None:
    """A JSON number as float; NaN for lm-eval's "not computable" spellings; None otherwise."""
    if raw is None or raw == "N/A":
        return math.nan
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    return float(raw)


def _task_metrics(path: Path, results: Mapping[str, Any]) -> tuple[TaskTable, TaskTable, TaskCI]:
    """Per postmech task: values, standard errors and CIs. ``<m>_stderr`` and
    ``<m>_ci_lo`` / ``<m>_ci_hi`` belong to metric ``<m>``; they are never metrics themselves."""
    metrics: TaskTable = {}
    stderr: TaskTable = {}
    intervals: TaskCI = {}
    for task, entry in results.items():
        if not str(task).startswith(TASK_PREFIX) or not isinstance(entry, Mapping):
            continue
        values: dict[str, float] = {}
        errors: dict[str, float] = {}
        bounds: dict[str, list[float]] = {}
        for raw_key, raw in entry.items():
            name, sep, filt = str(raw_key).partition(",")
            if not sep:
                continue
            suffix = "" if filt == "none" else f",{filt}"
            number = _number(raw)
            if number is None:
                logger.warning("%s: %s/%s is not a number (%r); ignored", path, task, name + suffix, raw)
                continue
            if name.endswith("_stderr"):
                stem = name.removesuffix("_stderr")
                if not stem.endswith(CI_SUFFIXES) and math.isfinite(number):
                    errors[stem + suffix] = number
                continue
            bound = next((i for i, s in enumerate(CI_SUFFIXES) if name.endswith(s)), None)
            if bound is not None:
                stem = name.removesuffix(CI_SUFFIXES[bound]) + suffix
                bounds.setdefault(stem, [math.nan, math.nan])[bound] = number
                continue
            values[name + suffix] = number
        metrics[str(task)] = values
        stderr[str(task)] = {k: v for k, v in errors.items() if k in values}
        intervals[str(task)] = {
            k: (lo, hi)
            for k, (lo, hi) in bounds.items()
            if k in values and math.isfinite(lo) and math.isfinite(hi)
        }
    return metrics, stderr, intervals


def _png_refs(obj: Any, base_dirs: Sequence[Path], depth: int = 0) -> Iterable[Path]:
    """PNG paths mentioned anywhere in the JSON (e.g. an analysis' ``artifacts`` map)."""
    if depth > 8:
        return
    if isinstance(obj, str) and obj.lower().endswith(".png"):
        candidate = Path(obj)
        for base in [Path(), *base_dirs] if not candidate.is_absolute() else [Path()]:
            full = base / candidate
            if full.is_file():
                yield full.resolve()
                break
    elif isinstance(obj, Mapping):
        for item in obj.values():
            yield from _png_refs(item, base_dirs, depth + 1)
    elif isinstance(obj, list):
        for item in obj:
            yield from _png_refs(item, base_dirs, depth + 1)


def _timestamp(path: Path, data: Mapping[str, Any]) -> float:
    date = data.get("date")
    if isinstance(date, (int, float)) and not isinstance(date, bool):
        return float(date)
    match = _STAMP.search(path.name)
    if match:
        try:
            return datetime.strptime(match.group(1).split(".")[0], "%Y-%m-%dT%H-%M-%S").timestamp()
        except ValueError:
            pass
    return path.stat().st_mtime


def read_results_file(path: str | Path) -> ResultsFile:
    """Parse one lm-eval results file; raise :class:`ResultsFileError` naming it otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsFileError(f"{path}: cannot read ({err})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ResultsFileError(f"{path}: invalid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ResultsFileError(f"{path}: not an lm-eval results file (no 'results' object)")
    metrics, stderr, intervals = _task_metrics(path, data["results"])
    if not metrics:
        raise ResultsFileError(f"{path}: foreign results file (no {TASK_PREFIX}* task in 'results')")
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    try:
        model_args = parse_model_args(config.get("model_args"))
    except (TypeError, ValueError) as err:
        raise ResultsFileError(f"{path}: unreadable config.model_args ({err})") from None
    model = config.get("model")
    if model not in (None, "postmech", "PostMechLM") and not {"base", "post"} & set(model_args):
        raise ResultsFileError(f"{path}: not a postmech pair run (model={model!r}, no base=/post=)")
    sanitized = data.get("model_name_sanitized")
    partial: dict[str, tuple[int, int]] = {}
    counts = data.get("n-samples") if isinstance(data.get("n-samples"), dict) else {}
    for task in metrics:
        n = counts.get(task) if isinstance(counts.get(task), dict) else {}
        original, effective = n.get("original"), n.get("effective")
        if isinstance(original, int) and isinstance(effective, int) and effective < original:
            partial[task] = (effective, original)
        elif config.get("limit") is not None and not n:
            partial[task] = (-1, -1)  # limited, counts unknown
    result = ResultsFile(
        path=path,
        key=pair_key(model_args),
        metrics=metrics,
        model_args=model_args,
        timestamp=_timestamp(path, data),
        stderr=stderr,
        intervals=intervals,
        info=run_info(data, metrics),
        model_name_sanitized=sanitized if isinstance(sanitized, str) else None,
        partial=partial,
    )
    refs = [*_png_refs(data, [path.parent, result.run_root]), *_artifact_pngs(result)]
    result.png_refs = list(dict.fromkeys(refs))
    return result


def _text(raw: Any) -> str | None:
    return None if raw is None or isinstance(raw, (dict, list)) else str(raw)


def run_info(data: Mapping[str, Any], tasks: Iterable[str]) -> RunInfo:
    """The run metadata of one results file (each piece only where lm-eval wrote it)."""
    config = data.get("config") if isinstance(data.get("config"), Mapping) else {}
    versions = data.get("versions") if isinstance(data.get("versions"), Mapping) else {}
    configs = data.get("configs") if isinstance(data.get("configs"), Mapping) else {}
    task_metadata: dict[str, dict[str, Any]] = {}
    for task in tasks:
        meta = configs.get(task, {}).get("metadata") if isinstance(configs.get(task), Mapping) else None
        if isinstance(meta, Mapping):
            task_metadata[task] = {str(k): v for k, v in meta.items()}
    found = [data.get(k) for k in VERSION_KEYS]
    found += [meta.get(k) for meta in task_metadata.values() for k in VERSION_KEYS]
    date = data.get("date")
    limit = config.get("limit")
    return RunInfo(
        date=float(date) if isinstance(date, (int, float)) and not isinstance(date, bool) else None,
        lm_eval_version=_text(data.get("lm_eval_version")),
        transformers_version=_text(data.get("transformers_version")),
        git_hash=_text(data.get("git_hash")),
        postmech_version=next((str(v) for v in found if v not in (None, "")), None),
        limit=float(limit) if isinstance(limit, (int, float)) and not isinstance(limit, bool) else None,
        seeds={k: config[k] for k in SEED_KEYS if k in config},
        task_versions={t: str(versions[t]) for t in tasks if versions.get(t) is not None},
        task_metadata=task_metadata,
        model={k: config[k] for k in MODEL_KEYS if config.get(k) not in (None, "")},
    )


def _slug(text: str) -> str:
    # Same rule as postmech_eval.harness.lm._slug (kept here so reading results never imports torch).
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "model"


def _artifact_pngs(result: ResultsFile) -> list[Path]:
    """PNGs the postmech model wrote under its ``artifacts_dir`` for this file's tasks.

    The path in model_args is as the run saw it (maybe relative to another cwd), so it is
    also tried relative to the run directory. Without one, lm.py's default
    ``postmech_artifacts/<base>__<post>`` (relative to the current directory) is tried.
    """
    raw = result.model_args.get("artifacts_dir")
    if raw:
        given = Path(raw)
        candidates = [given] if given.is_absolute() else []
        candidates += [Path.cwd() / given, result.run_root / given, result.run_root / given.name]
    else:
        candidates = [
            Path.cwd() / "postmech_artifacts" / f"{_slug(result.key.base)}__{_slug(result.key.post)}"
        ]
    for folder in candidates:
        if folder.is_dir():
            result.artifacts_dir = folder
            found: list[Path] = []
            for task in sorted(result.metrics):
                if (folder / task / ".incomplete").exists():  # written by an interrupted run
                    logger.warning("%s: %s was interrupted; its figures are not used", folder, task)
                    continue
                if (folder / task).is_dir():
                    found += sorted(p.resolve() for p in (folder / task).rglob("*.png"))
            return found
    if raw:
        logger.warning("%s: artifacts_dir %s not found; no figures for it", result.path, raw)
    return []
