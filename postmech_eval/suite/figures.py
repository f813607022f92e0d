"""Paper figures of a run, drawn from its artifacts folder (no model, no lm-eval).

Why here: every number an analysis measured is in its artifacts (``result.json``, the
per-item ``records.jsonl`` and the JSON tables), so the figures can be (re)drawn at any time
from a committed or downloaded run — after a styling fix, or for a run made before a figure
existed — and the HTML report can draw what a run lacks. Each analysis' ``figures`` module
holds the plotting; this module reads the files, saves PNG (``figstyle.DPI``) + SVG, and
writes ``figures.json`` per task: the manifest the report reads for order and captions.

``python -m postmech_eval.suite.figures DIR...`` (or ``postmech-eval leaderboard DIR
--write-figures``) redraws every task folder under DIR.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from postmech_eval.atomic import write_text

logger = logging.getLogger("postmech_eval.suite.figures")
MANIFEST = "figures.json"
#: which figures (by name) to build and save; None = all
Keep = Callable[[str], bool] | None
#: task -> (perspective shown in the report, its order)
ANALYSES: dict[str, tuple[str, int]] = {
    "postmech_knowledge_patching": ("Knowledge storage (causal patching)", 0),
    "postmech_truth_probe": ("Truthfulness: linear probes", 1),
    "postmech_truth_steering": ("Truthfulness: steering with the probe direction", 2),
    "postmech_refusal_transfer": ("Refusal direction and its transfer", 3),
    "postmech_entropy_neurons": ("Confidence: entropy neurons", 4),
}


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _result(folder: Path) -> dict:
    path = folder / "result.json"
    return _json(path) if path.is_file() else {}


def _knowledge(folder: Path, keep: Keep = None) -> list[dict]:
    from postmech_eval.analyses.knowledge import figures

    payload = _json(folder / "knowledge_heatmaps.json")
    examples = figures.example_pairs(_jsonl(folder / "records.jsonl"))
    return figures.figures(payload, figures.layout_from_json(payload), examples, keep)


def _truth_probe(folder: Path, keep: Keep = None) -> list[dict]:
    from postmech_eval.analyses.truth import figures

    return [figures.probe_figure(_json(folder / "truth_probe_sweep.json"), _result(folder))]


def _truth_steering(folder: Path, keep: Keep = None) -> list[dict]:
    from postmech_eval.analyses.truth import figures

    return [figures.steering_figure(_jsonl(folder / "records.jsonl"), _result(folder))]


def _refusal(folder: Path, keep: Keep = None) -> list[dict]:
    from postmech_eval.analyses.refusal import figures

    directions = folder / "refusal_directions.json"
    return [figures.refusal_figure(_result(folder), _json(directions) if directions.is_file() else None)]


def _confidence(folder: Path, keep: Keep = None) -> list[dict]:
    from postmech_eval.analyses.confidence import figures

    tables = {w: _json(folder / f"entropy_neurons_{w}.json") for w in ("base", "post")}
    result, records = _result(folder), _jsonl(folder / "records.jsonl")
    return [
        figures.neurons_figure(tables, result),
        figures.ablation_figure(records, result),
        figures.gap_figure(records, result),
    ]


#: task -> (the artifact files it needs, the drawing function)
DRAWERS: dict[str, tuple[tuple[str, ...], Callable[[Path, Keep], list[dict]]]] = {
    "postmech_knowledge_patching": (("knowledge_heatmaps.json",), _knowledge),
    "postmech_truth_probe": (("truth_probe_sweep.json", "result.json"), _truth_probe),
    "postmech_truth_steering": (("records.jsonl", "result.json"), _truth_steering),
    "postmech_refusal_transfer": (("result.json",), _refusal),
    "postmech_entropy_neurons": (
        ("entropy_neurons_base.json", "entropy_neurons_post.json", "records.jsonl", "result.json"),
        _confidence,
    ),
}


def warm() -> None:
    """Import what drawing needs (matplotlib's Agg and SVG canvases, every analysis' figures
    module: ~1 s): the suite does it while lm_eval starts, when a core is idle."""
    import importlib

    for name in (
        "matplotlib.figure", "matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg",
        "matplotlib.colors", "postmech_eval.analyses.figstyle", "postmech_eval.analyses.knowledge.figures",
        "postmech_eval.analyses.truth.figures", "postmech_eval.analyses.refusal.figures",
        "postmech_eval.analyses.confidence.figures",
    ):  # fmt: skip
        importlib.import_module(name)


def drawable(folder: Path, task: str) -> bool:
    """Whether ``folder`` (a finished task's artifacts) holds what its figures need."""
    if task not in DRAWERS or (folder / ".incomplete").exists():
        return False
    return all((folder / name).is_file() for name in DRAWERS[task][0])


def draw(folder: Path, task: str, keep: Keep = None) -> list[dict]:
    """The task's figures in memory: ``{name, figure, caption, main}`` each (those ``keep``
    accepts), empty when the folder lacks an input or an input does not parse (logged, never
    raised: a figure is never worth losing a report over)."""
    if not drawable(folder, task):
        return []
    try:
        entries = DRAWERS[task][1](folder, keep)
    except (ImportError, OSError, ValueError, KeyError, TypeError, IndexError) as err:
        logger.warning("%s: cannot draw %s figures (%s: %s)", folder, task, type(err).__name__, err)
        return []
    return [e for e in entries if keep is None or keep(e["name"])]


def write_task(folder: Path, task: str, keep: Keep = None) -> list[dict]:
    """Draw and save one task's figures (PNG + SVG); returns their manifest entries. The
    manifest itself is written only when every figure was drawn (``keep`` None)."""
    from postmech_eval.analyses import figstyle

    entries = []
    for entry in draw(folder, task, keep):
        paths = figstyle.save(entry["figure"], folder / entry["name"])
        entries.append({
            "name": entry["name"], "png": Path(paths["png"]).name, "svg": Path(paths["svg"]).name,
            "caption": entry["caption"], "main": bool(entry["main"]), "task": task,
        })  # fmt: skip
    if keep is None:
        write_manifest(folder, entries)
    return entries


def write_manifest(folder: Path, entries: list[dict]) -> None:
    """``figures.json``: the report's order and captions of the task's figures."""
    from postmech_eval.analyses import figstyle

    if entries:
        write_text(folder / MANIFEST, json.dumps({"dpi": figstyle.DPI, "figures": entries}, indent=1))


def write_figures(paths: Sequence[str | Path]) -> dict[Path, list[dict]]:
    """Redraw every task folder under ``paths`` (an ``artifacts`` folder, a run directory, or a
    task folder); returns folder -> manifest entries."""
    out: dict[Path, list[dict]] = {}
    for raw in paths:
        root = Path(raw)
        folders = (
            [root] if root.name in DRAWERS else sorted(p for p in root.rglob("postmech_*") if p.is_dir())
        )
        for folder in folders:
            if folder.name in DRAWERS and drawable(folder, folder.name):
                out[folder] = write_task(folder, folder.name)
    return out


def manifest(folder: Path) -> list[dict] | None:
    """The figures a task folder's manifest lists (existing PNGs only); None without one."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        entries = _json(path)["figures"]
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("%s: unreadable figure manifest; ignored", path)
        return None
    return [e for e in entries if isinstance(e, dict) and (folder / str(e.get("png", ""))).is_file()]


def order(task: str) -> float:
    return ANALYSES.get(task, ("", math.inf))[1]


def run_cli(argv: Sequence[str] | None = None) -> int:
    """``python -m postmech_eval.suite.figures DIR...``: redraw, print what was written. With
    ``--only PATTERN`` (one task folder): only the figures whose name matches, no manifest,
    and each entry printed as a JSON line (the suite's second drawing process)."""
    parser = argparse.ArgumentParser(prog="python -m postmech_eval.suite.figures", description=__doc__)
    parser.add_argument(
        "paths", nargs="+", metavar="DIR", help="with --only: DIR, or - to read DIR from stdin"
    )
    parser.add_argument("--only", metavar="PATTERN", help="fnmatch pattern of figure names (one task folder)")
    args = parser.parse_args(argv)
    if args.only is not None:
        if args.paths == ["-"]:  # started ahead of time: imports now, the folder when it is ready
            warm()
            line = sys.stdin.readline().strip()
            if not line:
                return 0
            args.paths = [line]
        folder = Path(args.paths[0])
        for e in write_task(folder, folder.name, lambda name: fnmatch.fnmatchcase(name, args.only)):
            print(json.dumps(e))
        return 0
    written = write_figures(args.paths)
    for folder, entries in written.items():
        for e in entries:
            print(folder / e["png"], folder / e["svg"])
    if not written:
        print("postmech: error: no drawable task artifacts under " + " ".join(args.paths))
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli())
