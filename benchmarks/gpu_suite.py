"""The suite on a GPU: organism pair on cuda (fp32) and the Gemma pair in bf16, vs the CPU run.

Why: the exactness tests run on CPU; a GPU changes kernels (TF32 off, fp32 here) and bf16
changes precision. This runs ``postmech-eval run`` on the organism pair on cpu and on cuda,
and on the Gemma pair (``gguf:gemma3-270m`` -> ``organism:gemma3-270m-sft``) on cuda in
bfloat16, then prints each run's wall time and, per task, the largest metric difference from
the CPU run and the metrics that differ by more than ``--tol``. The Gemma CPU reference is a
results folder given with ``--gemma-cpu`` (e.g. the committed leaderboard run), else it is run
here on the CPU too (``--gemma-cpu run``; slow).

    bash benchmarks/gpu_suite.sh                 # what to run on a GPU machine
    python benchmarks/gpu_suite.py --out gpu_out --skip-gemma
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

ORGANISMS = ("organism:base", "organism:sft")
GEMMA = ("gguf:gemma3-270m", "organism:gemma3-270m-sft")
COMMITTED_GEMMA = Path("leaderboard/runs/gguf_gemma3-270m__organism_gemma3-270m-sft")


def suite(pair: tuple[str, str], out: Path, model_args: str) -> tuple[float, dict[str, dict[str, float]]]:
    cmd = [sys.executable, "-m", "postmech_eval.cli", "run", "--base", pair[0], "--post", pair[1],
           "--output-dir", str(out), "--model-args", model_args, "--no-table", "--overwrite"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"run failed ({model_args}):\n{proc.stderr[-2000:]}", file=sys.stderr)
    return wall, results_in(out)


def results_in(folder: Path) -> dict[str, dict[str, float]]:
    """Every task's float metrics from the newest results file under ``folder``, merged."""
    merged: dict[str, dict[str, float]] = {}
    for path in sorted(folder.rglob("results_*.json"), key=lambda p: p.stat().st_mtime):
        for task, values in json.loads(path.read_text()).get("results", {}).items():
            merged[task] = {k: v for k, v in values.items() if isinstance(v, float)}
    return merged


def compare(name: str, ref: dict, got: dict, tol: float) -> None:
    print(f"\n{name}: per task, max |GPU - CPU| and metrics beyond {tol:g}")
    for task in sorted(ref):
        if task not in got:
            print(f"  {task}: missing from the GPU run")
            continue
        diffs = {
            k: abs(ref[task][k] - got[task][k])
            for k in ref[task]
            if k in got[task] and not (math.isnan(ref[task][k]) and math.isnan(got[task][k]))
        }
        worst = max(diffs.values(), default=0.0)
        beyond = sorted(
            (k for k, d in diffs.items() if not d <= tol),
            key=lambda k: -diffs[k] if diffs[k] == diffs[k] else 0,
        )
        print(f"  {task}: max {worst:.2e}; {len(beyond)} beyond: {', '.join(beyond[:8])}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="gpu_suite_out")
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--skip-gemma", action="store_true")
    parser.add_argument("--gemma-cpu", default=str(COMMITTED_GEMMA), help="CPU results folder, or 'run'")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("gpu_suite: no CUDA device here; run it on a GPU machine")
    out = Path(args.out)
    times: dict[str, float] = {}
    times["organisms cpu fp32"], cpu = suite(ORGANISMS, out / "org_cpu", "device=cpu")
    times["organisms cuda fp32"], gpu = suite(ORGANISMS, out / "org_cuda", "device=cuda,dtype=float32")
    compare("organisms, cuda fp32 vs cpu fp32", cpu, gpu, args.tol)
    if not args.skip_gemma:
        times["gemma cuda bf16"], g_gpu = suite(GEMMA, out / "gemma_cuda", "device=cuda,dtype=bfloat16")
        if args.gemma_cpu == "run":
            times["gemma cpu fp32"], g_cpu = suite(GEMMA, out / "gemma_cpu", "device=cpu")
        else:
            g_cpu = results_in(Path(args.gemma_cpu))
        if g_cpu:
            compare("gemma, cuda bf16 vs cpu fp32", g_cpu, g_gpu, args.tol)
        else:
            print(f"\ngemma: no CPU reference under {args.gemma_cpu} (pass --gemma-cpu run)")
    print(f"\n{'run':<22} {'wall s':>8}")
    for name, wall in times.items():
        print(f"{name:<22} {wall:>8.1f}")
    print(f"GPU: {torch.cuda.get_device_name(0)}")


if __name__ == "__main__":
    main()
