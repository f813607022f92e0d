"""``check NEW --baseline OLD``: regression gates against the previous checkpoint of one base.

Exit 0 when nothing got significantly worse, 1 naming each regressed metric with both
values and their uncertainty, 2 for a baseline that cannot be compared (another base,
another suite version, relative gates without a baseline).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from postmech_eval.suite import check
from tests.results_fixtures import KP, RT, TP, auto_uncertainty, sft_metrics, write_results


def _check(new: Path, *extra: str) -> int:
    return check.run_cli([str(new), *extra])


@pytest.fixture
def old(tmp_path: Path) -> Path:
    return write_results(tmp_path / "old", sft_metrics(), post="ckpt-1")


def _fails(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAIL")]


def test_two_runs_of_the_same_pair_pass_the_default_gates(old, tmp_path, capsys):
    new = write_results(tmp_path / "new", sft_metrics(), post="ckpt-1")
    assert _check(new, "--baseline", str(old)) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out and f"baseline: organism:base vs ckpt-1 ({old})" in out
    # every metric with a direction is gated; descriptive ones (layers, counts) are not
    assert "refusal_post_harmful vs baseline: drop <= 0" in out
    assert "refusal_post_harmless vs baseline: rise <= 0" in out
    assert "pairs_used" not in out


def test_a_checkpoint_that_lost_its_refusal_fails_and_names_the_metric(old, tmp_path, capsys):
    metrics = sft_metrics()
    metrics[RT]["refusal_post_harmful"] = 0.10
    new = write_results(tmp_path / "new", metrics, post="ckpt-2")  # another checkpoint of the base
    assert _check(new, "--baseline", str(old)) == 1
    fails = _fails(capsys.readouterr().out)
    assert len(fails) == 1
    line = fails[0]
    assert "postmech_refusal_transfer/refusal_post_harmful" in line
    assert "baseline 0.950 ± 0.020 -> new 0.100 ± 0.020" in line  # both values with ± 1.96·stderr
    assert "change -0.85" in line and "combined 95% uncertainty 0.0277" in line
    assert "rule: refusal_post_harmful vs baseline: drop <= 0, unless within" in line


def test_a_change_inside_the_noise_is_not_a_regression(old, tmp_path, capsys):
    metrics = sft_metrics()
    metrics[TP]["probe_acc_post"] = 0.93 - 0.02  # se 0.01 in both: 1.96·sqrt(2)·0.01 = 0.0277
    metrics[KP]["patch_corr"] = 0.93 - 0.025  # CI half-widths 0.02 in both: sqrt(2)·0.02 = 0.0283
    new = write_results(tmp_path / "new", metrics)
    assert _check(new, "--baseline", str(old)) == 0
    out = capsys.readouterr().out
    probe = next(line for line in out.splitlines() if "/probe_acc_post:" in line)
    corr = next(line for line in out.splitlines() if "/patch_corr:" in line)
    assert probe.startswith("PASS") and "uncertainty 0.0277; drop 0.02 > 0, but within the noise" in probe
    assert corr.startswith("PASS") and "uncertainty 0.0283; drop 0.025 > 0, but within the noise" in corr
    metrics[TP]["probe_acc_post"] = 0.93 - 0.03  # now beyond it
    newer = write_results(tmp_path / "newer", metrics)
    assert _check(newer, "--baseline", str(old)) == 1
    (line,) = _fails(capsys.readouterr().out)
    assert "probe_acc_post" in line


def test_exact_metrics_have_no_noise_margin(old, tmp_path, capsys):
    metrics = sft_metrics()
    metrics["postmech_entropy_neurons"]["entropy_neuron_iou"] = 0.81  # exact: lo = hi
    new = write_results(tmp_path / "new", metrics)
    assert _check(new, "--baseline", str(old)) == 1
    (line,) = _fails(capsys.readouterr().out)
    assert "entropy_neuron_iou" in line and "combined 95% uncertainty 0" in line


def test_a_metric_that_became_undefined_fails(old, tmp_path, capsys):
    metrics = sft_metrics()
    metrics[RT]["transfer_gap"] = math.nan
    new = write_results(tmp_path / "new", metrics)
    assert _check(new, "--baseline", str(old)) == 1
    (line,) = _fails(capsys.readouterr().out)
    assert "transfer_gap" in line and "undefined in the new run" in line


def test_a_metric_undefined_in_both_runs_is_skipped(tmp_path, capsys):
    metrics = sft_metrics()
    metrics[RT].update(transfer_backward=math.nan, transfer_gap=math.nan)  # base never refuses
    old = write_results(tmp_path / "old", metrics)
    new = write_results(tmp_path / "new", metrics)
    assert _check(new, "--baseline", str(old)) == 0
    out = capsys.readouterr().out
    assert "SKIP  postmech_refusal_transfer/transfer_gap: baseline undefined -> new undefined" in out
    assert "[undefined in both runs]" in out and "0 failed, 2 skipped" in out


def test_thresholds_mix_absolute_and_relative_gates(old, tmp_path, capsys):
    gates = tmp_path / "gates.yaml"
    gates.write_text(
        "gates:\n"
        "  - {task: postmech_refusal_transfer, metric: refusal_post_harmful, min: 0.8}\n"
        "  - {task: postmech_truth_probe, metric: probe_acc_post, max_drop: 0.05}\n"
        "  - {task: postmech_refusal_transfer, metric: refusal_post_harmless, max_worse: 0.02,"
        " significant: true}\n"
    )
    metrics = sft_metrics()
    metrics[TP]["probe_acc_post"] = 0.90  # dropped 0.03: within max_drop
    metrics[RT]["refusal_post_harmless"] = 0.09  # rose 0.06: beyond 0.02 and the noise
    new = write_results(tmp_path / "new", metrics)
    assert _check(new, "--thresholds", str(gates), "--baseline", str(old)) == 1
    out = capsys.readouterr().out
    (line,) = _fails(out)
    assert "refusal_post_harmless" in line and "rise 0.06 > 0.02" in line
    assert "2 passed, 1 failed" in out
    # the same file without --baseline: its relative gates cannot be judged
    assert _check(new, "--thresholds", str(gates)) == 2
    err = capsys.readouterr().err
    assert "need --baseline" in err and "postmech_truth_probe/probe_acc_post" in err


def test_a_baseline_without_intervals_takes_uncertainty_as_zero(tmp_path, capsys):
    old = write_results(tmp_path / "old", sft_metrics(), uncertainty=None)  # a file from before CIs
    metrics = sft_metrics()
    metrics[TP]["probe_acc_post"] = 0.92
    new = write_results(tmp_path / "new", metrics)
    assert _check(new, "--baseline", str(old)) == 1
    (line,) = _fails(capsys.readouterr().out)
    assert "probe_acc_post" in line and "uncertainty taken as 0" in line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base": "organism:cpt"}, "measured base model 'organism:base', the new run"),
        ({"versions": {TP: 2.0}}, "another postmech suite version (task versions: postmech_truth_probe 1.0"),
        ({"postmech_version": "0.2.0"}, "was made by postmech-eval 0.1.0"),
    ],
)
def test_an_incomparable_baseline_is_bad_input(tmp_path, capsys, change, message):
    old = write_results(tmp_path / "old", sft_metrics(), postmech_version="0.1.0")
    new = write_results(tmp_path / "new", sft_metrics(), **{"postmech_version": "0.1.0", **change})
    assert _check(new, "--baseline", str(old)) == 2
    err = capsys.readouterr().err
    assert err.startswith("postmech: error: ") and message in err and len(err.strip().splitlines()) == 1
    if "base" in change:
        assert "'organism:cpt'" in err  # both bases named


def test_other_bad_baseline_inputs_exit_2(old, tmp_path, capsys):
    new = write_results(tmp_path / "new", sft_metrics())
    assert _check(new) == 2
    assert "needs --thresholds FILE, --baseline OLD, or both" in capsys.readouterr().err
    assert _check(new, "--baseline", str(tmp_path / "nowhere")) == 2
    assert "nowhere" in capsys.readouterr().err
    other_tasks = write_results(tmp_path / "kp_only", {KP: sft_metrics()[KP]})
    only_tp = write_results(tmp_path / "tp_only", {TP: sft_metrics()[TP]})
    assert _check(only_tp, "--baseline", str(other_tasks)) == 2
    assert "no postmech task in common" in capsys.readouterr().err
    limited = write_results(tmp_path / "limited", sft_metrics(), limit=5)
    assert _check(new, "--baseline", str(limited)) == 2
    assert "--limit runs" in capsys.readouterr().err
    gates = tmp_path / "gates.yaml"
    for body, message in (
        ("max_drop: -1}", "must be >= 0"),
        ("max_worse: 0.1, max_drop: 0.1}", "give 'max_worse' or 'max_drop', not both"),
        ("significant: yes please}", "must be true or false"),
        ("significant: true}", "'significant' needs 'max_drop', 'max_rise' or 'max_worse'"),
    ):
        gates.write_text(f"gates:\n  - {{task: postmech_truth_probe, metric: probe_acc_post, {body}\n")
        assert _check(new, "--thresholds", str(gates), "--baseline", str(old)) == 2
        assert message in capsys.readouterr().err, body
    gates.write_text(
        "gates:\n  - {task: postmech_truth_probe, metric: sweep_best_layer_post, max_worse: 1}\n"
    )
    assert _check(new, "--thresholds", str(gates), "--baseline", str(old)) == 2
    assert "has no good side" in capsys.readouterr().err


def test_console_entry_with_baseline(old, tmp_path):
    """Through ``python -m postmech_eval.cli`` as CI calls it: 0 / 1 / 2 survive the process."""
    same = write_results(tmp_path / "same", sft_metrics())
    metrics = sft_metrics()
    metrics[RT]["refusal_post_harmful"] = 0.2
    worse = write_results(tmp_path / "worse", metrics, uncertainty=auto_uncertainty(metrics))
    other = write_results(tmp_path / "other", sft_metrics(), base="meta-llama/Llama-3.1-8B")
    cmd = [sys.executable, "-m", "postmech_eval.cli", "check"]
    procs = [
        subprocess.run([*cmd, str(p), "--baseline", str(old)], capture_output=True, text=True)
        for p in (same.parent.parent, worse, other)
    ]
    assert [p.returncode for p in procs] == [0, 1, 2]
    assert "refusal_post_harmful" in procs[1].stdout
    assert "organism:base" in procs[2].stderr and "meta-llama/Llama-3.1-8B" in procs[2].stderr


def test_ci_example_runs_the_baseline_workflow():
    """The example workflow restores a baseline, gates against it, and its check commands
    are ones this CLI accepts."""
    import argparse
    import shlex

    import yaml

    repo = Path(__file__).resolve().parents[1]
    workflow = yaml.safe_load((repo / "leaderboard" / "ci-example.yml").read_text())
    steps = workflow["jobs"]["postmech"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/cache/restore") for u in uses)
    assert any(u.startswith("actions/cache/save") for u in uses)
    commands = [
        line for s in steps for line in s.get("run", "").splitlines() if "postmech-eval check" in line
    ]
    assert any("--baseline" in c for c in commands) and any("--thresholds" in c for c in commands)
    parser = argparse.ArgumentParser()
    check.add_arguments(parser)
    for command in commands:
        argv = shlex.split(command)
        parsed = parser.parse_args(argv[argv.index("check") + 1 :])
        assert parsed.results == "new/"
