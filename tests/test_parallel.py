"""``harness.parallel``: a call's analyses split over forked copies of the process, with the
same answers as one after another, nothing lost when a copy dies, and the same metrics
through the real ``lm_eval`` CLI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from postmech_eval.config import UserError
from postmech_eval.harness import parallel

SUITE = [
    "postmech_knowledge_patching",
    "postmech_truth_probe",
    "postmech_truth_steering",
    "postmech_refusal_transfer",
    "postmech_entropy_neurons",
]


def test_the_suite_splits_into_two_balanced_groups_keeping_probe_and_steering_together():
    groups = parallel.split(SUITE, 2)
    assert groups == [
        ["postmech_knowledge_patching", "postmech_entropy_neurons"],
        ["postmech_truth_probe", "postmech_truth_steering", "postmech_refusal_transfer"],
    ]
    cost = [sum(parallel.TASK_COST[t] for t in g) for g in groups]
    assert abs(cost[0] - cost[1]) < 1.0
    # never more processes than units; one job is the given order
    assert parallel.split(["postmech_truth_probe", "postmech_truth_steering"], 4) == [
        ["postmech_truth_probe", "postmech_truth_steering"]
    ]
    assert parallel.split(SUITE, 1) == [SUITE]
    assert sorted(t for g in parallel.split(SUITE, 8) for t in g) == sorted(SUITE)


def test_jobs_auto_forks_only_a_small_resident_cpu_pair_on_two_cores():
    small = {
        "world_size": 1,
        "on_cpu": True,
        "both_resident": True,
        "pair_bytes": lambda: 3 << 20,
        "cores": 2,
    }
    assert parallel.choose_jobs(None, 5, **small) == 2
    assert parallel.choose_jobs(None, 1, **small) == 1
    assert parallel.choose_jobs(None, 5, **{**small, "cores": 1}) == 1
    assert parallel.choose_jobs(None, 5, **{**small, "pair_bytes": lambda: 2 << 30}) == 1
    assert parallel.choose_jobs(3, 5, **{**small, "pair_bytes": lambda: 2 << 30}) == 3  # asked for

    def never() -> int:
        raise AssertionError("the pair was weighed although the answer did not depend on it")

    assert parallel.choose_jobs(1, 5, **{**small, "pair_bytes": never}) == 1
    assert parallel.choose_jobs(2, 5, **{**small, "pair_bytes": never}) == 2
    for unsafe in ({"world_size": 2}, {"on_cpu": False}, {"both_resident": False}):
        assert parallel.choose_jobs(2, 5, **{**small, **unsafe}) == 1


@pytest.mark.parametrize("bad", ["0", "-1", "two", 1.5])
def test_a_bad_jobs_value_is_one_clear_error(bad):
    with pytest.raises(UserError, match="'jobs' parameter of postmech"):
        parallel.parse_jobs(bad)
    assert parallel.parse_jobs("auto") is None and parallel.parse_jobs("3") == 3


def _work(task: str) -> list[str]:
    """Real torch arithmetic, different per task (seeded by the name)."""
    g = torch.Generator().manual_seed(sum(map(ord, task)))
    a = torch.randn(64, 64, generator=g)
    return [f"{float((a @ a).sum()):.6f}", task, str(os.getpid())]


def test_forked_answers_equal_the_sequential_ones_and_come_from_another_process(tmp_path):
    tasks = SUITE
    alone = {t: _work(t)[:2] for t in tasks}
    threads = torch.get_num_threads()
    out = parallel.run_tasks(tasks, _work, 2, tmp_path / "jobs")
    assert list(out) == tasks
    assert {t: v[:2] for t, v in out.items()} == alone
    pids = {v[2] for v in out.values()}
    assert str(os.getpid()) in pids and len(pids) == 2  # the second group ran in a copy
    assert torch.get_num_threads() == threads  # restored
    assert not (tmp_path / "jobs").exists()


def test_a_task_whose_copy_dies_is_run_again_here(tmp_path):
    parent = os.getpid()

    def work(task: str) -> list[str]:
        if os.getpid() != parent and task == "postmech_refusal_transfer":
            os._exit(3)  # the copy dies before answering this task
        return _work(task)

    out = parallel.run_tasks(SUITE, work, 2, tmp_path / "jobs")
    assert out["postmech_refusal_transfer"][2] == str(parent)  # rerun here
    assert out["postmech_truth_probe"][2] != str(parent)  # answered by the copy before it died
    assert {t: v[:2] for t, v in out.items()} == {t: _work(t)[:2] for t in SUITE}


def test_jobs_2_gives_the_metrics_of_jobs_1_through_lm_eval(tmp_path):
    """The real CLI on the organisms, twice: the per-task metrics and per-doc answers agree."""
    tasks = "postmech_truth_probe,postmech_entropy_neurons"
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        cmd = [
            sys.executable, "-m", "lm_eval", "run", "--model", "postmech", "--model_args",
            f"artifacts_dir={out}/artifacts,figures=false,cache=false,progress=true,jobs={jobs}",
            "--tasks", tasks, "--limit", "6", "--output_path", str(out / "r.json"), "--log_samples",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert ("2 analyses in 2 processes side by side" in proc.stderr) == (jobs == "2")
        (results,) = out.glob("r_*.json")
        samples = {
            task: [json.loads(x)["resps"] for f in sorted(out.rglob(f"*samples_{task}_*.jsonl"))
                   for x in f.read_text().splitlines() if x.strip()]
            for task in tasks.split(",")
        }  # fmt: skip
        assert all(samples.values()), list(out.rglob("*"))
        runs[jobs] = (json.loads(results.read_text())["results"], samples)
    (one, s1), (two, s2) = runs["1"], runs["2"]
    assert set(one) == set(two) == set(tasks.split(","))
    for task in one:
        for key, value in one[task].items():
            other = two[task][key]
            if isinstance(value, float) and math.isnan(value):
                assert isinstance(other, float) and math.isnan(other), key
            else:
                assert other == value, (task, key)
    assert s1 == s2


def test_a_bad_jobs_value_is_refused_before_lm_eval_starts(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "postmech_eval.cli", "run", "--model-args", "jobs=x", "--output-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [
        "postmech: error: The 'jobs' parameter of postmech must be 'auto' or a positive integer. Got 'x' instead."
    ]
    assert not list(tmp_path.rglob("lm_eval.log"))
