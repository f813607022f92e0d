"""Integration: data parallel over 2 CPU processes and resuming a killed run, through the real
``lm_eval`` CLI on the organism pair.

Data parallel: ``torchrun --nproc_per_node 2`` with ``ACCELERATE_USE_CPU=true`` gives lm-eval an
Accelerator with 2 gloo processes; each rank gets every other doc, runs its share of every
per-item step, and all ranks reduce to the same pair metrics (postmech_eval.engine.shard).
Resume: a run killed mid-task recomputes only the per-item results its cache lacks.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.test_lm_eval_cli import PAIR, results_of

TASK = "postmech_refusal_transfer"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _args(task: str, art: Path, out: Path, limit: int, extra: str = "") -> list[str]:
    model_args = f"{PAIR},artifacts_dir={art}" + (f",{extra}" if extra else "")
    return ["-m", "lm_eval", "run", "--model", "postmech", "--model_args", model_args,
            "--tasks", task, "--limit", str(limit), "--output_path", str(out)]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}


def _metrics(out: Path, task: str) -> dict[str, float]:
    res = results_of(out)["results"][task]
    return {k: v for k, v in res.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _same(a: dict[str, float], b: dict[str, float], tol: float) -> list[str]:
    """Names whose values differ by more than ``tol`` (NaN equals NaN)."""
    assert set(a) == set(b), set(a) ^ set(b)
    bad = []
    for k in a:
        if math.isnan(a[k]) and math.isnan(b[k]):
            continue
        if not abs(a[k] - b[k]) <= tol:
            bad.append(f"{k}: {a[k]} vs {b[k]}")
    return bad


def test_two_cpu_processes_give_the_single_process_metrics(tmp_path):
    one = subprocess.run(
        [sys.executable, *_args(TASK, tmp_path / "a1", tmp_path / "o1", 8)],
        capture_output=True, text=True, timeout=900, env=_env(),
    )  # fmt: skip
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_port", str(_free_port()), *_args(TASK, tmp_path / "a2", tmp_path / "o2", 8)],
        capture_output=True, text=True, timeout=900, env=_env(),
    )  # fmt: skip
    assert two.returncode == 0, two.stderr[-3000:]
    # same metrics (directions are means over prompts: summation order moves the 8th digit)
    assert not _same(_metrics(tmp_path / "o1", TASK), _metrics(tmp_path / "o2", TASK), 1e-6)
    # every completion identical, item by item
    rec1 = (tmp_path / "a1" / TASK / "records.jsonl").read_text().splitlines()
    rec2 = (tmp_path / "a2" / TASK / "records.jsonl").read_text().splitlines()
    assert len(rec1) == 8 and rec1 == rec2
    # each rank did half of every per-item step
    lines = re.findall(r"\[postmech rank (\d)/2\] " + TASK + r": per-item steps done here (.*)", two.stderr)
    assert sorted(r for r, _ in lines) == ["0", "1"], two.stderr[-2000:]
    for _, steps in lines:
        for done, total in re.findall(r"(\d+)/(\d+)", steps):
            assert int(done) * 2 == int(total), steps
    # one writer: rank 0's result.json says so
    result = json.loads((tmp_path / "a2" / TASK / "result.json").read_text())
    assert result["items"]["world_size"] == 2 and result["items"]["rank"] == 0


def _entries(cache: Path, step: str) -> int:
    folder = cache / step
    return (
        sum(1 for p in folder.rglob("*.safetensors") if not p.name.startswith(".")) if folder.is_dir() else 0
    )


def test_a_killed_run_recomputes_only_what_its_cache_lacks(tmp_path):
    task, step = "postmech_truth_probe", "statement_activations"
    art, cache = tmp_path / "art", tmp_path / "art" / ".cache"
    proc = subprocess.Popen(
        [sys.executable, *_args(task, art, tmp_path / "o_killed", 10)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
    )  # fmt: skip
    deadline = time.time() + 600
    while _entries(cache, step) < 300 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = _entries(cache, step)
    assert 300 <= kept < 2 * 1214, kept  # mid-task: some of both models' captures missing
    assert (art / task / ".incomplete").exists()
    rerun = subprocess.run(
        [sys.executable, *_args(task, art, tmp_path / "o_rerun", 10)],
        capture_output=True, text=True, timeout=900, env=_env(),
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    stats = json.loads((art / task / "result.json").read_text())["items"]["steps"][step]
    assert stats["cached"] == kept and stats["computed"] == stats["total"] - kept
    fresh = subprocess.run(
        [sys.executable, *_args(task, tmp_path / "art_fresh", tmp_path / "o_fresh", 10, "cache=false")],
        capture_output=True, text=True, timeout=900, env=_env(),
    )  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert not (tmp_path / "art_fresh" / ".cache").exists()
    assert not _same(_metrics(tmp_path / "o_rerun", task), _metrics(tmp_path / "o_fresh", task), 1e-6)
