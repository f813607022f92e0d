"""How a pair's numbers were produced: the run metadata the report shows per pair.

Why: a number in a paper needs its provenance — when it was run, with which suite, lm-eval
and task versions, seeds, resamples, ``--limit``, and which model revision (or weight
fingerprint, where the run recorded one). All of it comes from what lm-eval and the analyses
wrote (the results file and the artifacts' ``result.json``); nothing is recomputed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from postmech_eval.suite.runs import PairRun

#: analysis settings worth showing beside the numbers when a run set them (--metadata)
SETTINGS = ("n_bootstrap", "seed")


def software_text(run: PairRun) -> str:
    """``postmech-eval X; lm-eval Y; transformers Z`` over the files the run's tasks come from."""
    infos = list({id(i): i for i in run.info.values()}.values())
    parts = []
    for label, get in (
        ("postmech-eval", lambda i: i.postmech_version),
        ("lm-eval", lambda i: i.lm_eval_version),
        ("transformers", lambda i: i.transformers_version),
    ):
        found = sorted({v for v in (get(i) for i in infos) if v})
        if found:
            parts.append(f"{label} {', '.join(found)}")
    return "; ".join(parts)


def _fingerprints(run: PairRun) -> list[str]:
    """``key = value`` of every fingerprint-like entry the analyses' result.json recorded."""
    found: dict[str, str] = {}

    def walk(obj: Any, path: str, depth: int) -> None:
        if depth > 3 or not isinstance(obj, dict):
            return
        for k, v in obj.items():
            if "fingerprint" in str(k) and isinstance(v, (str, int)):
                found[f"{path}{k}"] = str(v)
            walk(v, f"{path}{k}.", depth + 1)

    for folder in run.task_dirs.values():
        try:
            walk(json.loads((folder / "result.json").read_text(encoding="utf-8")), "", 0)
        except (OSError, ValueError):
            continue
    return [f"{k} = {v}" for k, v in sorted(found.items())]


def metadata_rows(run: PairRun) -> list[list[str]]:
    """(label, value) rows of the report's per-pair metadata table."""
    infos = list({id(i): i for i in run.info.values()}.values())
    rows = [["base (B)", run.key.base], ["post-trained (P)", run.key.post]]
    dates = sorted({datetime.fromtimestamp(i.date, UTC).strftime("%Y-%m-%d %H:%M UTC") for i in infos if i.date})  # fmt: skip
    if dates:
        rows.append(["date", ", ".join(dates)])
    rows.append(["results files used", ", ".join(str(p) for p in run.used_sources or run.sources)])
    if run.run_dir is not None:
        rows.append(["run directory", str(run.run_dir)])
    software = software_text(run)
    if software:
        rows.append(["software", software])
    if run.task_versions:
        rows.append(["task versions", ", ".join(f"{t.removeprefix('postmech_')} {v}" for t, v in sorted(run.task_versions.items()))])  # fmt: skip
    seeds = sorted({f"{k}={v}" for i in infos for k, v in i.seeds.items()})
    seeds += sorted({f"{k}={v}" for i in infos for m in i.task_metadata.values() for k, v in m.items() if k in SETTINGS})  # fmt: skip
    if seeds:
        rows.append(["seeds and resamples", " ".join(seeds)])
    limits = sorted({str(i.limit) for i in infos if i.limit is not None})
    rows.append(["--limit", ", ".join(limits) if limits else "none (full runs)"])
    if run.partial:
        rows.append(
            ["partial tasks", ", ".join(f"{t} ({d} of {n})" for t, (d, n) in sorted(run.partial.items()))]
        )
    model = sorted({f"{k}={v}" for i in infos for k, v in i.model.items()})
    if model:
        rows.append(["model (lm-eval)", " ".join(model)])
    hashes = sorted({i.git_hash for i in infos if i.git_hash})
    if hashes:
        rows.append(["git commit", ", ".join(hashes)])
    prints = _fingerprints(run)
    rows.append(["weight fingerprints", "; ".join(prints) if prints else "not recorded by this run"])
    if run.duplicates:
        rows.append(
            ["duplicate runs", f"{len(run.duplicates)} task(s) in several files; newest full run used"]
        )
    return rows
