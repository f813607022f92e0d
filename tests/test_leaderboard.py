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


def _md_rows(out: str, first: str = "| ") -> list[list[str]]:
    lines = [line for line in out.splitlines() if line.startswith(first)]
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]


def test_md_transposed_for_few_pairs_right_aligned_with_intervals_and_undefined_apart(two_pairs, capsys):
    write_results(two_pairs / "third", {KP: sft_metrics()[KP]}, base="org:x", post="org:y")
    assert _cli(str(two_pairs), "--format", "md", "--view", "metrics") == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert all(len(line) <= 120 for line in table), max(map(len, table))  # not 400 characters wide
    header, rule, *body = _md_rows(out, "|")
    assert header[0] == "Metric" and len(header) == 4  # metrics as rows, one column per pair
    assert rule[0].startswith(":-") and all(c.endswith(":") for c in rule[1:])  # numbers right-aligned
    rows = {r[0]: dict(zip(header[1:], r[1:], strict=True)) for r in body}
    sft, cpt = "organism: base / sft", "organism: base / cpt"
    only_kp = next(h for h in header if "org:y" in h)
    assert len(rows) == len(leaderboard.HEADLINE)
    # cpt ran refusal, but its ratios have no value: "undefined", never the not-measured dash
    assert [rows[c.label][cpt] for c in leaderboard.HEADLINE if c.task == RT].count("undefined") == 4
    assert sum(rows[c.label][only_kp] == "—" for c in leaderboard.HEADLINE) == len(leaderboard.HEADLINE) - 1
    # every number with its 95% interval; rates are fractions, like the findings' rules
    assert rows["Truth: probe acc P"][sft] == "0.93 ± 0.02"
    assert rows["Knowledge: patch corr B vs P (r)"][sft] == "0.93 [0.91, 0.95]"
    assert rows["Confidence: gap explained (share)"][sft] == "0.08 [0.06, 0.10]"
    assert not any("%" in line for line in table) and "fractions (0-1)" in out
    assert "1.96 × stderr" in out and "undefined = the task ran" in out
    assert f"{sft}: B = organism:base, P = organism:sft" in out  # the specs, in the legend
    # wide (one row per pair) on request
    assert _cli(str(two_pairs), "--format", "md", "--view", "metrics", "--transpose", "never") == 0
    header, _, *body = _md_rows(capsys.readouterr().out, "|")
    assert header[:3] == ["Pair", "Base (B)", "Post (P)"] and len(body) == 3


def test_csv_is_tidy_long_and_loads_in_pandas_without_cleaning(two_pairs, capsys):
    import pandas as pd

    path = two_pairs / "board.csv"
    assert _cli(str(two_pairs), "--format", "csv", "--output", str(path)) == 0
    df = pd.read_csv(path)
    assert list(df.columns[:10]) == ["pair", "base", "post", "task", "metric", "value", "stderr", "ci_low", "ci_high", "n"]  # fmt: skip
    for col in ("value", "stderr", "ci_low", "ci_high", "n"):
        assert pd.api.types.is_numeric_dtype(df[col]), col
    assert not df.duplicated(["pair", "task", "metric"]).any()
    sft = df[df.post == "organism:sft"].set_index(["task", "metric"])
    assert len(sft) == sum(len(v) for v in sft_metrics().values())  # every metric, by its key
    acc = sft.loc[(TP, "probe_acc_post")]
    assert acc.value == pytest.approx(0.93) and acc.stderr == pytest.approx(0.01)  # a fraction
    assert acc.ci_low == pytest.approx(0.93 - 0.0195996, abs=1e-6)
    corr = sft.loc[(KP, "patch_corr")]
    assert (corr.ci_low, corr.ci_high) == pytest.approx((0.91, 0.95)) and pd.isna(corr.stderr)
    assert corr.n == 120  # knowledge statistics: the pairs used
    iou = sft.loc[(EN, "entropy_neuron_iou")]
    assert iou.ci_low == iou.ci_high == pytest.approx(0.82)  # exact: lo = hi = value
    cpt = df[df.post == "organism:cpt"].set_index(["task", "metric"])
    assert pd.isna(cpt.loc[(RT, "transfer_forward")].value)  # undefined: a row, no value
    assert df.value.dropna().between(-10, 1000).all()
    assert (df.task.str.startswith("postmech_")).all() and not df.metric.str.contains(" ").any()


def test_paired_view_shows_b_p_and_delta_with_intervals(two_pairs, capsys):
    assert _cli(str(two_pairs), "--format", "md", "--view", "paired") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    probe = next(line for line in lines if "organism: base / sft" in line and "probe accuracy" in line)
    cells = [c.strip() for c in probe.strip("|").split("|")]
    assert cells[2:] == ["0.91 ± 0.02", "0.93 ± 0.02", "+0.02"]
    nif = next(line for line in lines if "base / sft" in line and "steering NIF" in line)
    assert "0.83 [0.81, 0.85]" in nif and "0.88 [0.86, 0.90]" in nif and "+0.05" in nif
    refusal = next(line for line in lines if "base / cpt" in line and "harmful prompts refused" in line)
    assert refusal.count("undefined") == 3  # B, P and Δ: ran, no value
    assert _cli(str(two_pairs), "--format", "csv", "--view", "paired") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    got = {(r["post"], r["metric"]): r for r in rows}
    assert float(got[("organism:sft", "refusal_post_harmful")]["value"]) == pytest.approx(0.95)
    assert float(got[("organism:sft", "refusal_base_harmful")]["value"]) == pytest.approx(0.45)
    assert {r["metric"] for r in rows} <= {m for row in leaderboard.PAIRED for m in (row.base, row.post)}


def test_csv_reads_old_files_without_intervals(tmp_path, capsys):
    write_results(tmp_path, sft_metrics(), uncertainty=None)  # a results file from before CIs
    assert _cli(str(tmp_path), "--format", "csv") == 0
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["probe_acc_post"]["value"] == "0.93" and rows["probe_acc_post"]["ci_low"] == ""
    assert rows["entropy_neuron_iou"]["ci_low"] == "0.82"  # exact: its interval is the value


def test_latex_booktabs_one_captioned_table_per_table(two_pairs, tmp_path):
    out = tmp_path / "board.tex"
    assert _cli(str(two_pairs), "--format", "latex", "--output", str(out)) == 0
    text = out.read_text()
    # metrics + B/P/Δ + findings summary + detail, each its own table with caption and label
    for env in ("\\begin{table}", "\\begin{tabular}", "\\caption{", "\\label{tab:postmech-", "\\toprule"):
        assert text.count(env) == 4, env
    assert "\\hline" not in text and "booktabs" in text
    first = text.split("\\begin{tabular}{", 1)[1].split("}", 1)[0]
    assert first == "lrr"  # two pairs: transposed, numbers right-aligned
    assert "—" not in text and "→" not in text and "Truth: probe acc P" in text
    assert "0.93 +/- 0.02" in text and not {"Δ", "±", "−", "×"} & set(text)
    assert "95\\%" in text  # the captions are escaped


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
    assert len([line for line in out.splitlines() if line.startswith("| ")]) - 1 == len(leaderboard.HEADLINE)
    assert out.count("organism: base / ") == 2 * 2 and "org:x vs org:y" in out  # legend + header
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
    assert _cli(str(two_pairs), "--columns", "all", "--format", "md", "--view", "metrics") == 0
    rows = [r[0] for r in _md_rows(capsys.readouterr().out, "| ")[1:]]
    assert "entropy_neurons/entropy_gap_explained" in rows
    assert not any("_ci_lo" in h or "_ci_hi" in h or "_stderr" in h for h in rows)
    assert len(rows) == sum(len(v) for v in sft_metrics().values())
    assert _cli(str(two_pairs), "--columns", "headline", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["metric"] for r in rows} == {c.metric for c in leaderboard.HEADLINE}


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


def test_duplicate_runs_are_named_with_the_file_used_or_kept_apart_per_run(tmp_path, caplog, capsys):
    old = write_results(tmp_path / "run-a", {KP: dict(sft_metrics()[KP], patch_corr=0.5)}, date=1000.0)
    new = write_results(tmp_path / "run-b", {KP: sft_metrics()[KP]}, date=2000.0)
    with caplog.at_level(logging.WARNING):
        (run,) = load_runs([tmp_path]).runs
    assert run.value(KP, "patch_corr") == 0.93 and run.task_sources[KP] == new
    assert str(old) in caplog.text and str(new) in caplog.text and f"using {new}" in caplog.text
    assert run.duplicates == [(KP, [old, new], new, "newest full run")]
    page = leaderboard.render([str(tmp_path)], fmt="html")
    assert 'id="duplicates"' in page and str(old) in page
    assert _cli(str(tmp_path), "--per-run", "--format", "csv", "--columns", "headline") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    corr = {r["pair"]: float(r["value"]) for r in rows if r["metric"] == "patch_corr"}
    assert corr == {"organism: base / sft [run-a]": 0.5, "organism: base / sft [run-b]": 0.93}


def test_figures_are_redrawn_from_the_committed_artifacts(tmp_path):
    """Every analysis of a committed run gets its figures as PNG (>= 150 dpi) + SVG, listed
    with a caption in figures.json, drawn from the artifacts alone (no model)."""
    import shutil

    from PIL import Image

    from postmech_eval.suite import figures

    src = REPO / "leaderboard" / "runs" / "organism_base__organism_sft" / "artifacts"
    dst = tmp_path / "artifacts"
    shutil.copytree(
        src, dst, ignore=shutil.ignore_patterns("*.png", "*.svg", "figures.json", "*.safetensors")
    )
    written = figures.write_figures([dst])
    assert {f.name for f in written} == set(figures.DRAWERS)
    for folder, entries in written.items():
        assert entries and all(e["caption"].endswith(".") and len(e["caption"]) > 80 for e in entries)
        assert [e["name"] for e in figures.manifest(folder)] == [e["name"] for e in entries]
        for e in entries:
            with Image.open(folder / e["png"]) as im:
                assert min(im.info["dpi"]) >= 149.9
            assert (folder / e["svg"]).read_text().lstrip().startswith("<?xml")
    names = {e["name"] for entries in written.values() for e in entries}
    assert {"knowledge_heatmaps", "truth_probe", "truth_steering", "refusal_rates", "entropy_neurons",
            "entropy_ablation", "confidence_gap"} <= names  # fmt: skip


def test_the_suite_draws_in_two_processes_and_lists_every_figure_once(tmp_path):
    """After the analyses, ``postmech-eval run`` draws the knowledge per-dataset maps in a second process: the
    manifests are those of a one-process redraw (same names, order and captions), and every
    listed PNG + SVG exists."""
    import shutil

    from postmech_eval.suite import figures
    from postmech_eval.suite.run_figures import write_run_figures

    src = REPO / "leaderboard" / "runs" / "organism_base__organism_sft" / "artifacts"
    one, two = tmp_path / "one", tmp_path / "two"
    for dst in (one, two):
        shutil.copytree(
            src, dst, ignore=shutil.ignore_patterns("*.png", "*.svg", "figures.json", "*.safetensors")
        )
    figures.write_figures([one])
    write_run_figures(two, list(figures.DRAWERS), tmp_path / "figures.log")
    assert (tmp_path / "figures.log").read_text() == ""
    for task in figures.DRAWERS:
        a, b = figures.manifest(one / task), figures.manifest(two / task)
        assert a and b == a
        assert all((two / task / e["svg"]).is_file() for e in b)
    names = [e["name"] for e in figures.manifest(two / "postmech_knowledge_patching")]
    assert names[:2] == ["knowledge_heatmaps", "knowledge_heatmaps_cross"]
    assert len([n for n in names if n.startswith("knowledge_heatmaps_dataset_")]) >= 2


def test_figures_drawn_as_tasks_finish_match_a_redraw_and_clear_the_marker(tmp_path):
    """The suite's streaming path: each task's figures drawn by the thread when lm_eval
    reports it done (lm_eval's process touches the marker first), the marker removed once
    nothing is left to draw, the manifests those of a one-process redraw."""
    import shutil

    from postmech_eval.suite import figures
    from postmech_eval.suite.run_figures import RunFigures

    tasks = [t for t in figures.DRAWERS if t != "postmech_knowledge_patching"]
    src = REPO / "leaderboard" / "runs" / "organism_base__organism_sft" / "artifacts"
    one, two = tmp_path / "one", tmp_path / "two"
    for dst in (one, two):
        for task in tasks:
            shutil.copytree(src / task, dst / task,
                            ignore=shutil.ignore_patterns("*.png", "*.svg", "figures.json", "*.safetensors"))  # fmt: skip
    figures.write_figures([one])
    marker = tmp_path / ".drawing"
    run = RunFigures(two, tmp_path / "figures.log", marker)
    for task in tasks:
        marker.touch()
        run.task_done(task)
    run.finish(tasks)
    assert not marker.exists()
    for task in tasks:
        a, b = figures.manifest(one / task), figures.manifest(two / task)
        assert a and b == a
        assert all((two / task / e["svg"]).is_file() for e in b)
