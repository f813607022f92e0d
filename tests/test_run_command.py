"""``postmech-eval run`` through the real CLI: one lm_eval process, a folder named after the
pair, a summary no wider than 100 columns, and a failing task that loses nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from postmech_eval.suite.launch import pair_slug
from postmech_eval.suite.runs import read_results_file


def postmech_eval(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "postmech_eval.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
    )


def test_run_writes_one_results_file_in_the_pair_folder(tmp_path: Path):
    out = tmp_path / "res"
    proc = postmech_eval(
        "run",
        "--tasks",
        "postmech_truth_probe",
        "postmech_entropy_neurons",
        "--limit",
        "8",
        "--output-dir",
        "res",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = out / pair_slug("organism:base", "organism:sft")
    assert folder.name == "organism_base__organism_sft"
    (results,) = folder.glob("results_*.json")  # both tasks in ONE lm_eval results file
    assert set(read_results_file(results).metrics) == {"postmech_truth_probe", "postmech_entropy_neurons"}
    assert (folder / "lm_eval.log").is_file()
    assert (folder / "artifacts" / "postmech_truth_probe" / "result.json").is_file()
    # the analyses draw no figures inside lm_eval (figures=false); run draws each task's once
    manifest = json.loads((folder / "artifacts" / "postmech_truth_probe" / "figures.json").read_text())
    assert manifest["figures"] and all(
        (folder / "artifacts" / "postmech_truth_probe" / f["png"]).is_file() for f in manifest["figures"]
    )
    assert (folder / "artifacts" / "postmech_entropy_neurons" / "figures.json").is_file()
    # figures=false also leaves out the analyses' own quick plots (the suite's show the same)
    assert not list((folder / "artifacts").glob("*/truth_probe_sweep.png"))
    assert not list((folder / "artifacts").glob("*/entropy_neurons_base.png"))
    assert not (folder / ".drawing").exists()  # the drawing marker is gone once drawing is
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100, [line for line in lines if len(line) > 100]
    assert any(line.startswith("  probe_acc_(B|P)") for line in lines)  # B / P / P − B row
    assert any(
        line.startswith("postmech_entropy_neurons") and line.split()[-1].replace(".", "").isdigit()
        for line in lines[-12:]
    )  # per-task time table
    assert "postmech-eval leaderboard" in proc.stdout
    # lm-eval's own INFO lines stay in the log, not on the console
    assert "INFO" not in proc.stderr and "[postmech] postmech_truth_probe: done" in proc.stderr

    # The same command again: both tasks are complete with these settings, nothing reruns.
    args = ["run", "--tasks", "postmech_truth_probe", "postmech_entropy_neurons", "--limit", "8"]
    again = postmech_eval(*args, "--output-dir", "res", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 of 2 tasks already complete" in again.stdout and "every task reused" in again.stdout
    assert any(line.startswith("  probe_acc_(B|P)") for line in again.stdout.splitlines())
    assert list(folder.glob("results_*.json")) == [results]
    # Other settings (a new --limit) are another run; --overwrite reruns a complete task.
    other = postmech_eval(
        *args[:-1], "7", "--tasks", "postmech_entropy_neurons", "--output-dir", "res", cwd=tmp_path
    )
    assert other.returncode == 0 and "already complete" not in other.stdout, other.stderr[-3000:]
    forced = postmech_eval(*args[:3], "--overwrite", "--tasks", "postmech_truth_probe", "--limit", "8",
                           "--output-dir", "res", cwd=tmp_path)  # fmt: skip
    assert forced.returncode == 0 and "already complete" not in forced.stdout, forced.stderr[-3000:]
    assert len(list(folder.glob("results_*.json"))) == 3


def test_a_failing_task_keeps_the_other_tasks_results(tmp_path: Path):
    out = tmp_path / "res"
    proc = postmech_eval(
        "run",
        "--tasks",
        "postmech_truth_probe,postmech_entropy_neurons",
        "--limit",
        "8",
        "--metadata",
        json.dumps({"layer": 99}),  # out of range for truth (6 layers); confidence has no layer
        "--output-dir",
        str(out),
    )
    assert proc.returncode == 1
    assert "failed tasks: postmech_truth_probe" in proc.stderr
    folder = out / "organism_base__organism_sft"
    (results,) = folder.glob("results_*.json")
    metrics = read_results_file(results).metrics
    assert metrics["postmech_entropy_neurons"]["entropy_neuron_iou"] >= 0.0
    error = json.loads((folder / "artifacts" / "postmech_truth_probe" / "error.json").read_text())
    assert "layer" in error["error"]


def test_bad_pair_or_task_is_one_line_before_lm_eval_starts(tmp_path: Path):
    proc = postmech_eval("run", "--base", "organism:bsae", "--output-dir", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "postmech: error: bad --base 'organism:bsae': Cannot resolve model spec 'organism:bsae': "
        "unknown organism 'bsae'. Did you mean 'base'? Available: base, sft, cpt, gemma3-270m-sft"
    ]
    proc = postmech_eval("run", "--tasks", "postmech_truth_prob", "--output-dir", str(tmp_path / "o"))
    assert proc.returncode == 2 and "Did you mean 'postmech_truth_probe'?" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_the_checks_before_lm_eval_import_no_torch(tmp_path: Path):
    """Every check ``run`` makes before launching lm_eval (pair, tasks, settings, every task's
    data files, the output folder) runs on the light modules: torch, sklearn and transformers
    are the child's to import (they cost the parent ~8 s on a 2-core machine otherwise)."""
    code = (
        "import subprocess, sys\n"
        "class Launched(Exception): pass\n"
        "def launch(*a, **k): raise Launched()\n"
        "subprocess.Popen = launch\n"
        "from postmech_eval import cli\n"
        "try:\n"
        f"    cli.main(['run', '--output-dir', {str(tmp_path / 'o')!r}, '--metadata', '{{\"seed\": 3}}'])\n"
        "except Launched:\n"
        "    print('LAUNCHED', sorted(m for m in ('torch', 'sklearn', 'transformers', 'scipy') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "LAUNCHED []" in proc.stdout, proc.stdout + proc.stderr[-2000:]
