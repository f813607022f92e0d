"""Benchmark: what the bootstrap CIs (METHODS §6) add to the organism suite's wall time.

Why: issue 14 allows the statistics at most 10% of ``postmech-eval run`` on the bundled
pair. Two figures, measured in one run of this script:

1. end to end — ``postmech-eval run`` with ``n_bootstrap=0`` and with the default (1000
   resamples), alternated ``--repeats`` times so a busy machine slows both alike; the
   median wall time of each side and their ratio;
2. inside — the seconds every analysis spent in ``percentile_intervals`` (recorded in each
   task's ``result.json`` under ``uncertainty``) as a share of the analyses' own seconds.
   This one is immune to start-up noise and is the tighter figure.

Usage::

    python benchmarks/bench_bootstrap.py              # 1 repeat per side (~2 min)
    python benchmarks/bench_bootstrap.py --repeats 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _run(out: Path, n_bootstrap: int | None) -> float:
    cmd = [sys.executable, "-m", "postmech_eval.cli", "run", "--output-dir", str(out)]
    if n_bootstrap is not None:
        cmd += ["--metadata", json.dumps({"n_bootstrap": n_bootstrap})]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _bootstrap_seconds(uncertainty: Any) -> float:
    """Sum of every ``seconds`` entry of a result's uncertainty record (one per interval group)."""
    if isinstance(uncertainty, dict):
        own = (
            float(uncertainty.get("seconds", 0.0))
            if isinstance(uncertainty.get("seconds"), int | float)
            else 0.0
        )
        return own + sum(_bootstrap_seconds(v) for k, v in uncertainty.items() if k != "seconds")
    if isinstance(uncertainty, list):
        return sum(_bootstrap_seconds(v) for v in uncertainty)
    return 0.0


def _inside(out: Path) -> dict[str, tuple[float, float]]:
    """task -> (analysis seconds, bootstrap seconds) from the run's result.json files."""
    rows = {}
    for path in sorted(out.glob("*/artifacts/*/result.json")):
        res = json.loads(path.read_text())
        rows[res["task"]] = (float(res["seconds"]), _bootstrap_seconds(res.get("uncertainty")))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    load = [os.getloadavg()[0]]
    off: list[float] = []
    on: list[float] = []
    inside: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            order = [(0, off), (None, on)] if r % 2 == 0 else [(None, on), (0, off)]
            for n, bucket in order:
                out = Path(tmp) / f"{'off' if n == 0 else 'on'}{r}"
                bucket.append(_run(out, n))
                if n is None:
                    inside = _inside(out)
    load.append(os.getloadavg()[0])
    t_off, t_on = statistics.median(off), statistics.median(on)
    analyses = sum(a for a, _ in inside.values())
    boot = sum(b for _, b in inside.values())
    print(f"postmech-eval run, organism pair, median of {args.repeats} (load {load[0]:.1f} -> {load[1]:.1f})")
    print(f"  n_bootstrap=0     {t_off:7.1f} s")
    print(f"  n_bootstrap=1000  {t_on:7.1f} s   ratio {t_on / t_off:.3f}  (limit 1.10)")
    print("inside the analyses (n_bootstrap=1000):")
    for task, (a, b) in inside.items():
        print(f"  {task:32s} {a:6.1f} s analysis  {b:6.2f} s bootstrap  {100 * b / a:5.1f}%")
    print(f"  {'all':32s} {analyses:6.1f} s analysis  {boot:6.2f} s bootstrap  {100 * boot / analyses:5.1f}%")
    print(f"  bootstrap share of the whole run: {100 * boot / t_on:.1f}%")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"off_s": off, "on_s": on, "ratio": t_on / t_off, "inside": inside, "load": load}, indent=1
            )
        )


if __name__ == "__main__":
    main()
