"""Data parallel on CPU: the patching task with 1 process vs 2 (torchrun), side by side.

Why: issue 15 shards every analysis' per-item steps over lm-eval's data-parallel ranks
(postmech_eval.engine.shard). This times the most per-item-heavy task, knowledge patching,
through the real lm_eval CLI: once in one process, once under
``ACCELERATE_USE_CPU=true torchrun --nproc_per_node 2`` (gloo), each with a fresh artifacts dir
and the per-item cache off (so both compute everything), with 1 torch thread per process
(the 2-process run then uses both cores). Prints wall times, the ratio, the analysis' own
seconds (from result.json) and the largest metric difference between the two runs.

    python benchmarks/bench_data_parallel.py               # full task on the organism pair
    python benchmarks/bench_data_parallel.py --limit 60    # fewer statements (8 pairs)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASK = "postmech_knowledge_patching"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(nproc: int, folder: Path, args: argparse.Namespace) -> tuple[float, float, dict[str, float]]:
    model_args = f"base={args.base},post={args.post},artifacts_dir={folder / 'art'},cache=false"
    cmd = ["-m", "lm_eval", "run", "--model", "postmech", "--model_args", model_args,
           "--tasks", args.task, "--output_path", str(folder / "out")]  # fmt: skip
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if nproc > 1:
        cmd = [
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            str(nproc),
            "--master_port",
            str(_port()),
            *cmd,
        ]
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1", "LMEVAL_LOG_LEVEL": "WARNING"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{nproc}-process run failed:\n{proc.stderr[-3000:]}")
    seconds = json.loads((folder / "art" / args.task / "result.json").read_text())["seconds"]
    results = json.loads(next((folder / "out").rglob("results_*.json")).read_text())["results"][args.task]
    metrics = {k: v for k, v in results.items() if isinstance(v, float)}
    return wall, float(seconds), metrics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="organism:base")
    parser.add_argument("--post", default="organism:sft")
    parser.add_argument("--task", default=TASK)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = run(1, Path(tmp) / "p1", args)
        two = run(2, Path(tmp) / "p2", args)
    diff = max(
        (abs(one[2][k] - two[2][k]) for k in one[2] if not (math.isnan(one[2][k]) and math.isnan(two[2][k]))),
        default=0.0,
    )
    print(f"{args.task} on {args.base} -> {args.post} (limit {args.limit}), cache off, 1 thread per process")
    print(f"{'processes':>10} {'wall s':>8} {'analysis s':>11}")
    for n, (wall, seconds, _) in ((1, one), (2, two)):
        print(f"{n:>10} {wall:>8.1f} {seconds:>11.1f}")
    print(f"speed-up 2 vs 1: wall {one[0] / two[0]:.2f}x, analysis {one[1] / two[1]:.2f}x")
    print(f"max |metric(1 process) - metric(2 processes)| = {diff:.2e}")


if __name__ == "__main__":
    main()
