"""Integration: the real ``lm_eval`` CLI, in a subprocess, on the bundled organism pair."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

PAIR = "base=organism:base,post=organism:sft"


def lm_eval(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "lm_eval", "run", "--model", "postmech", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def results_of(output: Path) -> dict:
    files = sorted(output.rglob("results_*.json"))
    assert files, f"no results JSON under {output}"
    return json.loads(files[-1].read_text())


def samples_of(output: Path, task: str) -> list[dict]:
    files = sorted(output.rglob(f"samples_{task}_*.jsonl"))
    assert files, f"no samples for {task} under {output}"
    return [json.loads(line) for line in files[-1].read_text().splitlines() if line.strip()]


def test_stock_style_task_runs_on_the_post_model(tmp_path):
    out = tmp_path / "res"
    proc = lm_eval(
        "--model_args", PAIR, "--tasks", "postmech_statements_mc", "--limit", "4", "--output_path", str(out)
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    acc = results_of(out)["results"]["postmech_statements_mc"]["acc,none"]
    assert 0.0 <= acc <= 1.0


def test_unknown_model_name_fails_fast_with_one_message():
    from postmech_eval.harness.lm import PostMechLM

    with pytest.raises(ValueError, match=r"bad base='organism:nope'.*Available"):
        PostMechLM(base="organism:nope", post="organism:sft")
    proc = lm_eval(
        "--model_args", "base=organism:base,post=/no/such/dir", "--tasks", "postmech_statements_mc"
    )
    assert proc.returncode != 0
    assert "bad post='/no/such/dir'" in proc.stderr


def test_whole_suite_through_lm_eval_cli(tmp_path):
    """One lm-eval process runs the `postmech` group; every named metric lands in results JSON."""
    from postmech_eval.analyses.catalogue import CATALOGUE, SUITE_TASKS
    from postmech_eval.analyses.metrics import emitted_names

    out = tmp_path / "res"
    art = tmp_path / "art"
    proc = lm_eval(
        "--model_args",
        f"{PAIR},artifacts_dir={art}",
        "--tasks",
        "postmech",
        "--limit",
        "6",
        "--log_samples",
        "--output_path",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = results_of(out)
    results = data["results"]
    for task in SUITE_TASKS:
        assert task in results, f"{task} missing from results"
        emitted = {k.split(",")[0] for k in results[task] if "_stderr" not in k} - {
            "alias",
            "name",
            "sample_len",
        }
        assert emitted == set(emitted_names(CATALOGUE[task])), f"{task}: results differ from the catalogue"
        # lm-eval's table shows the catalogue's directions (↑ / ↓ / nothing; none for CI bounds)
        hib = data["higher_is_better"][task]
        assert {k: v for k, v in hib.items() if not k.endswith(("_ci_lo", "_ci_hi"))} == {
            m.name: m.higher_is_better for m in CATALOGUE[task]
        }
        # METHODS §6: every mean over items has lm-eval's numeric standard error
        for m in CATALOGUE[task]:
            stderr = results[task][f"{m.name}_stderr,none"]
            if m.kind == "item":
                assert isinstance(stderr, float) and stderr >= 0, (task, m.name, stderr)
            if m.has_interval:
                lo, hi = (results[task][f"{n},none"] for n in m.interval_names)
                value = results[task][f"{m.name},none"]
                assert (math.isnan(lo) and math.isnan(hi)) or lo <= value <= hi or math.isnan(value), m.name
    assert results["postmech_refusal_transfer"]["refusal_post_harmful,none"] >= 0.0
    assert not math.isnan(results["postmech_truth_probe"]["probe_acc_post,none"])
    # --log_samples keeps one record per evaluated item, with the analysis' per-item data.
    samples = samples_of(out, "postmech_refusal_transfer")
    assert len(samples) == 6
    record = json.loads(samples[0]["resps"][0][0])["record"]
    assert record, "per-item record is empty"
    # Artifacts land beside the results, one folder per task, each with its summary.
    for task in SUITE_TASKS:
        summary = json.loads((art / task / "result.json").read_text())
        assert summary["seed"] is not None and summary["metrics"]
        assert (art / task / "records.jsonl").is_file()  # per-item records, without --log_samples too
    _recompute_nif_interval(art / "postmech_truth_steering", results["postmech_truth_steering"])


def _recompute_nif_interval(folder: Path, results: dict) -> None:
    """An interval in the results JSON is recomputed offline from the artifacts alone: the
    per-statement p_diff records and the recorded settings, with METHODS §3's NIF written
    out here and scipy's percentile bootstrap over true / false statements."""
    import numpy as np
    from scipy.stats import bootstrap

    records = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    (group,) = json.loads((folder / "result.json").read_text())["uncertainty"]["groups"]
    y = np.array([r["label"] for r in records])
    plain = np.array([r["p_diff_base"] for r in records])
    steered = np.array([r["p_diff_base_base"] for r in records])
    t, f = np.flatnonzero(y == 1), np.flatnonzero(y == 0)

    def nif(ti, fi):
        pt, pf = plain[t[ti]].mean(), plain[f[fi]].mean()
        return 0.5 * ((steered[t[ti]].mean() - pt) / (-1 - pt) + (steered[f[fi]].mean() - pf) / (1 - pf))

    res = bootstrap(
        (np.arange(len(t)), np.arange(len(f))),
        nif,
        n_resamples=group["n_resamples"],
        method="percentile",
        vectorized=False,
        rng=np.random.default_rng(group["seed"]),
    )
    lo, hi = np.percentile(res.bootstrap_distribution, [2.5, 97.5])
    assert results["nif_base_base_ci_lo,none"] == pytest.approx(lo, abs=1e-12)
    assert results["nif_base_base_ci_hi,none"] == pytest.approx(hi, abs=1e-12)


def test_quick_exit_runs_lm_evals_cli_with_its_exit_status(tmp_path):
    """``harness.quick_exit`` (how ``postmech-eval run`` starts lm_eval) is lm-eval's own CLI:
    the same refusal and status for an unknown task, and ``--help`` exits 0 as lm_eval's."""
    args = ["run", "--model", "postmech", "--tasks", "postmech_no_such_task", "--output_path", str(tmp_path)]
    real = subprocess.run(
        [sys.executable, "-m", "lm_eval", *args], capture_output=True, text=True, timeout=300
    )
    quick = subprocess.run(
        [sys.executable, "-m", "postmech_eval.harness.quick_exit", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert real.returncode != 0 and quick.returncode == real.returncode
    assert "postmech_no_such_task" in quick.stderr + quick.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "postmech_eval.harness.quick_exit", "run", "--help"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert helped.returncode == 0 and "--model_args" in helped.stdout
