"""Leaderboard: loading lm-eval results, merging per pair, rendering, findings verdicts."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest

from postmech_eval.suite import leaderboard
from postmech_eval.suite.findings import FINDINGS
from postmech_eval.suite.registry import load_registry
from postmech_eval.suite.runs import PairKey, load_runs, read_results_file
from tests.results_fixtures import EN, KP, RT, TP, cpt_metrics, sft_metrics, write_results

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def two_pairs(tmp_path: Path) -> Path:
    write_results(tmp_path / "sft", sft_metrics(), post="organism:sft")
    write_results(tmp_path / "cpt", cpt_metrics(), post="organism:cpt")
    return tmp_path


def _cli(*argv: str) -> int:
    return leaderboard.run_cli(list(argv))


def test_md_one_row_per_pair_with_units_intervals_and_undefined_apart_from_missing(two_pairs, capsys):
    write_results(two_pairs / "third", {KP: sft_metrics()[KP]}, base="org:x", post="org:y")
    assert _cli(str(two_pairs), "--format", "md", "--view", "metrics") == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 3
    for label in ("Knowledge: patch corr (r)", "Truth: probe acc P (%)", "Refusal: forward transfer (ratio)"):
        assert label in out
    cpt = next(r for r in rows if "organism:cpt" in r)
    sft = next(r for r in rows if "organism:sft" in r)
    only_kp = next(r for r in rows if "org:y" in r)
    # cpt ran refusal, but its ratios have no value: "undefined", never the not-measured dash
    assert cpt.count("undefined") == 3 and "—" not in cpt
    assert only_kp.count("—") == len(leaderboard.HEADLINE) - 1 and "undefined" not in only_kp
    # every number with its 95% interval: ± 1.96·stderr for rates, [lo, hi] for pair statistics
    assert "95.0 ± 2.0" in sft and "0.93 [0.91, 0.95]" in sft and "0.18 [0.16, 0.20]" in sft
    assert "—" not in sft and "undefined" not in sft and "n/a" not in out
    assert "1.96 × stderr" in out and "undefined = the task ran" in out
    # Rows are named from leaderboard/pairs.yaml.
    assert "organism: base / sft" in sft and "organism: base / cpt" in cpt


def test_csv_is_machine_readable_with_value_lo_hi_columns(two_pairs, capsys):
    assert _cli(str(two_pairs), "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_post = {r["Post (P)"]: r for r in rows}
    sft = by_post["organism:sft"]
    assert float(sft["Truth: probe acc P (%)"]) == pytest.approx(93.0)
    assert float(sft["Truth: probe acc P (%) lo"]) == pytest.approx(93.0 - 1.959964, abs=1e-5)
    assert float(sft["Truth: probe acc P (%) hi"]) == pytest.approx(93.0 + 1.959964, abs=1e-5)
    assert float(sft["Knowledge: patch corr (r)"]) == pytest.approx(0.93)
    assert float(sft["Knowledge: patch corr (r) lo"]) == pytest.approx(0.91)
    # exact statistics: lo = hi = value
    assert sft["Confidence: entropy-neuron IoU lo"] == sft["Confidence: entropy-neuron IoU hi"] == "0.82"
    cpt = by_post["organism:cpt"]
    assert [cpt[f"Refusal: forward transfer (ratio){s}"] for s in ("", " lo", " hi")] == ["", "", ""]


def test_paired_view_shows_b_p_and_delta_with_intervals(two_pairs, capsys):
    assert _cli(str(two_pairs), "--format", "md", "--view", "paired") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    probe = next(line for line in lines if "organism: base / sft" in line and "probe accuracy" in line)
    cells = [c.strip() for c in probe.strip("|").split("|")]
    assert cells[2:] == ["91.0 ± 2.0", "93.0 ± 2.0", "+2.0"]
    nif = next(line for line in lines if "base / sft" in line and "steering NIF" in line)
    assert "0.83 [0.81, 0.85]" in nif and "0.88 [0.86, 0.90]" in nif and "+0.05" in nif
    refusal = next(line for line in lines if "base / cpt" in line and "harmful prompts refused" in line)
    assert refusal.count("undefined") == 3  # B, P and Δ: ran, no value
    assert _cli(str(two_pairs), "--format", "csv", "--view", "paired") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    row = next(
        r for r in rows if r["Post (P)"] == "organism:sft" and r["Metric"].startswith("Refusal: harmful")
    )
    assert float(row["P"]) == pytest.approx(95.0) and float(row["P lo"]) == pytest.approx(93.04, abs=1e-3)
    assert float(row["Delta"]) == pytest.approx(50.0)


def test_csv_reads_old_files_without_intervals(tmp_path, capsys):
    write_results(tmp_path, sft_metrics(), uncertainty=None)  # a results file from before CIs
    assert _cli(str(tmp_path), "--format", "csv") == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["Truth: probe acc P (%)"] == "93.0" and row["Truth: probe acc P (%) lo"] == ""
    assert row["Confidence: entropy-neuron IoU lo"] == "0.82"  # exact: its interval is the value


def test_latex_renders_a_tabular(two_pairs, tmp_path):
    out = tmp_path / "board.tex"
    assert _cli(str(two_pairs), "--format", "latex", "--output", str(out)) == 0
    text = out.read_text()
    assert text.count("\\begin{tabular}") == 4  # metrics + B/P/Δ + findings summary + detail
    assert "—" not in text and "→" not in text and "probe acc P (\\%)" in text
    assert "93.0 +/- 2.0" in text and not {"Δ", "±", "−", "×"} & set(text)


def test_corrupted_and_foreign_files_are_skipped_with_a_warning(two_pairs, tmp_path, caplog, capsys):
    good = write_results(tmp_path / "third", sft_metrics(), base="org:x", post="org:y")
    broken = good.parent / "results_2020-01-01T00-00-00.json"
    broken.write_text(good.read_text()[:300])  # truncated mid-write
    foreign = good.parent / "results_2020-01-02T00-00-00.json"
    foreign.write_text(json.dumps({"results": {"hellaswag": {"acc,none": 0.5}}}))
    not_results = good.parent / "results_list.json"
    not_results.write_text("[1, 2]")
    with caplog.at_level(logging.WARNING):
        assert _cli(str(tmp_path), "--format", "md", "--view", "metrics") == 0
    out = capsys.readouterr().out
    assert len([line for line in out.splitlines() if line.startswith("| ")]) == 1 + 3  # header + 3 pairs
    warned = caplog.text
    for path, reason in ((broken, "invalid JSON"), (foreign, "foreign"), (not_results, "not an lm-eval")):
        assert str(path) in warned and reason in warned


def test_files_of_one_pair_merge_newest_wins(tmp_path):
    metrics = sft_metrics()
    write_results(tmp_path, {KP: metrics[KP]}, date=1000.0)
    newer = dict(metrics[KP], patch_corr=0.5)
    write_results(tmp_path, {KP: newer, TP: metrics[TP]}, date=2000.0)
    write_results(tmp_path, {KP: dict(metrics[KP], patch_corr=0.1)}, date=500.0)  # oldest, written last
    loaded = load_runs([tmp_path])
    assert len(loaded.runs) == 1 and not loaded.skipped
    run = loaded.runs[0]
    assert len(run.sources) == 3
    assert run.value(KP, "patch_corr") == 0.5
    assert run.value(TP, "probe_acc_post") == 0.93
    assert run.value(RT, "transfer_forward") is None


def test_pair_identity_from_model_args(tmp_path):
    defaults = read_results_file(
        write_results(tmp_path / "a", {KP: {"patch_corr": 0.9}}, base=None, post=None)
    )
    assert defaults.key == PairKey("organism:base", "organism:sft")
    as_dict = read_results_file(
        write_results(tmp_path / "b", {KP: {"patch_corr": 0.9}}, post="organism:cpt", model_args_as_dict=True)
    )
    assert as_dict.key == PairKey("organism:base", "organism:cpt")
    assert as_dict.metrics[KP] == {"patch_corr": 0.9}  # stderr, CI and alias entries are not metrics
    assert as_dict.intervals[KP] == {"patch_corr": (0.88, 0.92)} and as_dict.stderr[KP] == {}


def test_non_pair_runs_are_skipped_with_a_reason(tmp_path, caplog):
    path = write_results(tmp_path, {"postmech_statements_mc": {"acc": 0.7}}, base=None, post=None)
    data = json.loads(path.read_text())
    data["config"].update(model="hf", model_args="pretrained=gpt2")
    path.write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING):
        loaded = load_runs([tmp_path])
    assert not loaded.runs and "not a postmech pair run" in loaded.skipped[0][1]
    assert str(path) in caplog.text


def test_registry_labels_hub_pairs_case_insensitively(tmp_path, capsys):
    write_results(tmp_path, {KP: {"patch_corr": 0.9}}, base="meta-llama/Llama-2-13B-hf", post="meta-llama/Llama-2-13b-chat-hf")  # fmt: skip
    assert _cli(str(tmp_path), "--pairs", str(REPO / "leaderboard" / "pairs.yaml"), "--view", "metrics") == 0
    assert "Llama-2-13B / chat" in capsys.readouterr().out


def test_pairs_registry_lists_the_paper_and_organism_pairs():
    registry = load_registry(REPO / "leaderboard" / "pairs.yaml")
    keys = {(p.base, p.post) for p in registry.pairs}
    assert ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct") in keys
    assert ("meta-llama/Llama-3.1-8B", "allenai/Llama-3.1-Tulu-3-8B-SFT") in keys
    assert ("mistralai/Mistral-7B-v0.3", "mistralai/Mistral-7B-Instruct-v0.3") in keys
    assert ("meta-llama/Llama-2-13b-hf", "meta-llama/Llama-2-13b-chat-hf") in keys
    assert ("organism:base", "organism:sft") in keys and ("organism:base", "organism:cpt") in keys
    paper = [p for p in registry.pairs if p.paper]
    assert len(paper) == 5
    assert all(p.model_args["dtype"] == "bfloat16" and p.model_args["one_at_a_time"] == "true" for p in paper)
    assert "one_at_a_time=true" in registry.get("llama2-13b-chat").model_args_string()
    with pytest.raises(KeyError, match="llama2-13b-chat"):
        registry.get("llama2-13b-chatt")


def test_bad_registry_entry_names_file_and_entry(tmp_path):
    bad = tmp_path / "pairs.yaml"
    bad.write_text("pairs:\n  - {name: x, base: a, post: b, dtpye: bf16}\n")
    with pytest.raises(ValueError, match=r"pairs\[0\]: unknown key 'dtpye'"):
        load_registry(bad)


def test_missing_path_or_no_results_is_exit_2(tmp_path, capsys):
    assert _cli(str(tmp_path / "nope")) == 2
    assert "nope" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert _cli(str(tmp_path / "empty")) == 2


def test_render_accepts_paths_like_the_run_command_does(two_pairs):
    text = leaderboard.render([str(two_pairs)], fmt="md")
    assert "organism:cpt" in text and "Findings" in text


def test_all_columns_lists_every_metric(two_pairs, capsys):
    assert _cli(str(two_pairs), "--columns", "all", "--format", "csv") == 0
    header = next(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert "entropy_neurons/entropy_gap_explained" in header
    assert "entropy_neurons/entropy_gap_explained lo" in header
    assert not any("_ci_lo" in h or "_ci_hi" in h or "_stderr" in h for h in header)
    assert len(header) == 3 + 3 * sum(len(v) for v in sft_metrics().values())


def test_findings_view_states_each_rule(two_pairs, capsys):
    assert _cli(str(two_pairs), "--findings") == 0
    out = capsys.readouterr().out
    for finding in FINDINGS:
        assert finding.rule in out
    assert "patch_corr >= 0.8" in out and "transfer_gap >= 0.2" in out
    assert "patch_corr = 0.93 [0.91, 0.95]" in out  # the numbers, with their intervals
    assert "undefined: transfer_gap has no value" in out and "n/a" not in out


def _png(path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(1, 1), dpi=20)
    FigureCanvasAgg(fig)
    fig.savefig(path)
    return path


def test_figures_found_in_artifacts_dir_only_for_the_files_tasks(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    heat = _png(run_dir / "artifacts" / KP / "heatmap_base.png")
    _png(run_dir / "artifacts" / EN / "entropy_neurons_base.png")  # task not in this file
    # artifacts_dir as the run saw it: relative to a cwd that is not ours.
    write_results(
        run_dir, {KP: {"patch_corr": 0.9}}, extra_model_args={"artifacts_dir": "elsewhere/artifacts"}
    )
    monkeypatch.chdir(tmp_path)
    (run,) = load_runs([run_dir]).runs
    assert run.images == [heat.resolve()]


def test_figures_found_in_lm_default_artifacts_dir(tmp_path, monkeypatch):
    heat = _png(tmp_path / "postmech_artifacts" / "organism_base__organism_cpt" / KP / "heatmap_post.png")
    write_results(tmp_path / "out", {KP: {"patch_corr": 0.9}}, post="organism:cpt")
    monkeypatch.chdir(tmp_path)
    (run,) = load_runs([tmp_path / "out"]).runs
    assert run.images == [heat.resolve()]


def test_metric_catalogue_matches_the_task_yamls():
    """TASK_METRICS (used to catch typos in gates) must not drift from the shipped tasks: the
    YAMLs list no metrics of their own, the task class takes them from the same catalogue."""
    from postmech_eval.analyses.catalogue import CATALOGUE
    from postmech_eval.suite.runs import TASK_METRICS

    for task, names in TASK_METRICS.items():
        path = REPO / "tasks" / task / f"{task}.yaml"
        assert path.is_file(), task
        assert "metric_list" not in path.read_text(), task
        assert list(names) == [m.name for m in CATALOGUE[task]], task


def test_leaderboard_readme_states_the_rules_the_code_applies():
    readme = (REPO / "leaderboard" / "README.md").read_text()
    for finding in FINDINGS:
        for cond in finding.conditions:
            assert f"`{cond.text()}`" in readme, cond.text()


def test_figures_in_a_run_dir_shared_by_two_pairs_are_not_misattributed(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    only = tmp_path / "one"
    fig = _png(only / "figs" / "heatmap_base.png")
    write_results(only, {KP: {"patch_corr": 0.9}})
    (run,) = load_runs([only]).runs
    assert run.images == [fig.resolve()]  # one pair in the directory: its figures are its own
    shared = tmp_path / "shared"
    _png(shared / "figs" / "heatmap_base.png")
    write_results(shared, {KP: {"patch_corr": 0.9}})
    write_results(shared, {KP: {"patch_corr": 0.9}}, post="organism:cpt")
    with caplog.at_level(logging.WARNING):
        runs = load_runs([shared]).runs
    assert [r.images for r in runs] == [[], []]
    assert caplog.text.count("PNG artifacts are not attributed") == 1


def test_run_info_is_read_and_shown_in_the_html(tmp_path):
    write_results(tmp_path, sft_metrics(), versions={KP: 1.2}, postmech_version="0.1.0")
    (run,) = load_runs([tmp_path]).runs
    info = run.info[KP]
    assert info.lm_eval_version == "0.4.13" and info.transformers_version == "5.24.0"
    assert info.postmech_version == "0.1.0" and info.seeds["numpy_seed"] == 1234 and info.limit is None
    assert run.task_versions[KP] == "1.2" and run.task_versions[TP] == "1.0"
    page = leaderboard.render([str(tmp_path)], fmt="html")
    assert "postmech-eval 0.1.0; lm-eval 0.4.13; transformers 5.24.0" in page
    assert "knowledge_patching 1.2" in page
