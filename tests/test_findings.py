"""Findings judged over the metrics' 95% intervals: the five outcomes and how they combine.

Every case goes through a real results file (lm-eval's writer) and the suite's reader, so
what is tested is what a user's run would show.
"""

from __future__ import annotations

import math
from pathlib import Path

from postmech_eval.suite import leaderboard
from postmech_eval.suite.findings import combine, evaluate_findings
from postmech_eval.suite.runs import PairRun, load_runs
from tests.results_fixtures import EN, KP, RT, TS, auto_uncertainty, sft_metrics, write_results


def _run(tmp_path: Path, metrics, uncertainty="auto") -> PairRun:
    write_results(tmp_path, metrics, uncertainty=uncertainty)
    (run,) = load_runs([tmp_path]).runs
    return run


def _verdicts(run: PairRun) -> dict[str, object]:
    return {r.finding.key: r for r in evaluate_findings(run)}


def test_all_four_reproduce_over_their_intervals(tmp_path):
    res = _verdicts(_run(tmp_path, sft_metrics()))
    assert {k: r.verdict for k, r in res.items()} == dict.fromkeys(res, "reproduced")
    # each rule's numbers stay printed, with their intervals
    assert "patch_corr = 0.93 [0.91, 0.95]" in res["knowledge"].observed
    assert "ablate_abs_dentropy_excess_base = 0.05 ± 0.02" in res["confidence"].observed
    assert "entropy_neuron_iou = 0.82" in res["confidence"].observed  # exact: lo = hi


def test_inconclusive_when_the_interval_straddles_the_threshold(tmp_path):
    metrics = sft_metrics()
    metrics[KP]["patch_corr"] = 0.82
    unc = auto_uncertainty(metrics)
    unc[KP]["patch_corr"] = (0.74, 0.88)
    knowledge = _verdicts(_run(tmp_path, metrics, unc))["knowledge"]
    assert knowledge.verdict == "inconclusive"
    assert "patch_corr = 0.82 [0.74, 0.88]" in knowledge.observed and "CI straddles 0.8" in knowledge.note


def test_not_reproduced_when_it_fails_over_the_whole_interval(tmp_path):
    metrics = sft_metrics()
    metrics[KP]["cross_recovery_post_to_base"] = 0.11  # the organism pair's number
    res = _verdicts(_run(tmp_path, metrics))
    assert res["knowledge"].verdict == "not reproduced"
    assert "cross_recovery_post_to_base >= 0.5 fails" in res["knowledge"].note


def test_refusal_undefined_with_its_reason_when_the_base_never_refuses(tmp_path):
    """base/sft organisms: the base refuses nothing, so backward transfer has no denominator."""
    metrics = sft_metrics()
    metrics[RT].update(
        refusal_base_harmful=0.0,
        refusal_base_harmful_ablate_base=0.0,
        refusal_base_harmful_ablate_post=0.0,
        transfer_backward=math.nan,
        transfer_gap=math.nan,
    )
    refusal = _verdicts(_run(tmp_path, metrics))["refusal"]
    assert refusal.verdict == "undefined"
    assert (
        "base never refuses harmful prompts (refusal_base_harmful = 0.00): backward transfer undefined"
        in refusal.note
    )
    assert "n/a" not in refusal.note and "not measured" not in refusal.verdict


def test_refusal_undefined_when_the_own_direction_barely_moves_refusal(tmp_path):
    metrics = sft_metrics()
    metrics[RT]["refusal_base_harmless_add_base"] = 0.02  # adding r_B hardly raises B's refusal
    refusal = _verdicts(_run(tmp_path, metrics))["refusal"]
    assert refusal.verdict == "undefined"
    assert "adding base's own direction raises its harmless refusal by only +0.02" in refusal.note
    assert "backward transfer (addition) undefined" in refusal.note


def test_confidence_not_reproduced_when_selected_neurons_lose_to_random(tmp_path):
    """base/cpt organisms: ablating the selected neurons moves entropy less than random ones."""
    metrics = sft_metrics()
    metrics[EN]["ablate_abs_dentropy_excess_post"] = 0.031 - 0.051
    confidence = _verdicts(_run(tmp_path, metrics))["confidence"]
    assert confidence.verdict == "not reproduced"
    assert "ablate_abs_dentropy_excess_post > 0 fails" in confidence.note


def test_abs_folds_the_interval_at_zero(tmp_path):
    metrics = sft_metrics()
    metrics[EN]["entropy_gap_explained"] = -0.1
    unc = auto_uncertainty(metrics)
    unc[EN]["entropy_gap_explained"] = (-0.3, 0.1)  # |.| in [0, 0.3]: straddles 0.25
    confidence = _verdicts(_run(tmp_path, metrics, unc))["confidence"]
    assert confidence.verdict == "inconclusive"
    (part,) = [p for p in confidence.parts if p.condition.left.text() == "abs(entropy_gap_explained)"]
    assert part.estimate.bounds == (0.0, 0.3)


def test_combination_order_not_reproduced_then_undefined_then_inconclusive(tmp_path):
    metrics = sft_metrics()
    metrics[TS].update(nif_post_post=0.01, nif_transfer_forward=math.nan)  # own NIF ~0: ratio undefined
    metrics[EN]["entropy_gap"] = 0.0004  # no confidence gap: share explained undefined
    metrics[EN]["entropy_neuron_iou"] = 0.52
    unc = auto_uncertainty(metrics)
    unc[EN]["entropy_neuron_iou"] = (0.45, 0.6)  # inconclusive on its own
    res = _verdicts(_run(tmp_path, metrics, unc))
    truth = res["truth"]
    assert truth.verdict == "not reproduced"  # nif_post_post >= 0.5 fails: beats undefined
    assert (
        "P's own-direction NIF is only +0.01" in truth.note and "forward NIF transfer undefined" in truth.note
    )
    confidence = res["confidence"]
    assert confidence.verdict == "undefined"  # beats the inconclusive IoU
    assert "the confidence gap H_base − H_post is only +0.0004" in confidence.note
    assert "inconclusive: CI straddles 0.5" in confidence.note
    assert combine(["inconclusive", "reproduced"]) == "inconclusive"
    assert combine(["not measured", "inconclusive"]) == "not measured"
    assert combine(["undefined", "not measured"]) == "undefined"


def test_not_measured_only_when_the_task_is_absent(tmp_path):
    metrics = sft_metrics()
    del metrics[EN]
    metrics[RT] = {k: math.nan for k in metrics[RT]}  # ran, nothing computable
    res = _verdicts(_run(tmp_path, metrics))
    assert res["confidence"].verdict == "not measured"
    assert "task postmech_entropy_neurons not in the results" in res["confidence"].note
    assert res["refusal"].verdict == "undefined"
    assert "transfer_gap has no value in a run of its task (NaN)" in res["refusal"].note


def test_a_file_without_intervals_is_judged_on_its_point_values(tmp_path):
    res = _verdicts(_run(tmp_path, sft_metrics(), uncertainty=None))
    assert {r.verdict for r in res.values()} == {"reproduced"}
    assert "patch_corr = 0.93 (no CI)" in res["knowledge"].observed


def test_tables_show_undefined_never_as_not_measured(tmp_path, capsys, monkeypatch):
    # in an empty working directory: a run without artifacts_dir has its figures under
    # ./postmech_artifacts, and the HTML would embed any found there (base64 can hold "n/a")
    monkeypatch.chdir(tmp_path)
    metrics = sft_metrics()
    metrics[RT].update(transfer_forward=math.nan, transfer_gap=math.nan)
    write_results(tmp_path, metrics)
    for fmt in ("md", "html", "latex", "csv"):
        text = leaderboard.render([str(tmp_path)], fmt=fmt, view="both" if fmt != "csv" else "findings")
        assert "n/a" not in text, fmt
        assert "undefined" in text, fmt
    md = leaderboard.render([str(tmp_path)], fmt="md", view="metrics")  # one pair: transposed
    row = next(line for line in md.splitlines() if line.startswith("| Refusal: forward transfer"))
    assert "undefined" in row and "—" not in row
