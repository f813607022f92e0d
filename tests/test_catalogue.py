"""The metric catalogue is the one list: lm-eval's task objects, the READMEs, ``check`` and
the analyses' emitted metrics all agree with it, and a difference either way is caught."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from postmech_eval.analyses.catalogue import (
    CATALOGUE,
    SUITE_TASKS,
    check_emitted,
    check_uncertainty,
    lookup,
    metric_names,
)

REPO = Path(__file__).resolve().parents[1]


@functools.cache
def built_task(task: str):
    """The task object lm-eval itself builds from the shipped YAML."""
    from lm_eval.tasks import TaskManager

    return TaskManager().load([task])["tasks"][task]


@pytest.mark.parametrize("task", SUITE_TASKS)
def test_lm_eval_task_metrics_and_directions_come_from_the_catalogue(task):
    from lm_eval.api.metrics import mean

    obj = built_task(task)
    expected = {m.name: m.higher_is_better for m in CATALOGUE[task]}
    bounds = {n: None for m in CATALOGUE[task] if m.has_interval for n in m.interval_names}
    assert obj.higher_is_better() == {**expected, **bounds}
    assert set(obj.aggregation()) == set(expected) | set(bounds)
    # item metrics are lm-eval means (so lm-eval computes their stderr); nothing else is
    for m in CATALOGUE[task]:
        assert (obj.aggregation()[m.name] is mean) == (m.kind == "item"), m.name


def test_item_metrics_have_stderr_and_pair_metrics_an_interval_unless_counts_or_settings():
    for task, metrics in CATALOGUE.items():
        for m in metrics:
            if m.kind == "item":
                assert m.uncertainty == "stderr"
            elif m.uncertainty == "none":
                assert "count" in m.meaning or "layer" in m.meaning, (task, m.name)
            else:
                assert m.has_interval, (task, m.name)


def test_uncertainty_that_does_not_match_the_catalogue_is_caught():
    task = "postmech_truth_steering"
    metrics = dict.fromkeys(metric_names(task), 0.5)
    ci = {m.name: (0.4, 0.6) for m in CATALOGUE[task] if m.has_interval}
    items = [{"p_diff_base_true": 0.25}, {"p_diff_base_true": 0.75}]
    check_uncertainty(task, metrics, items, ci)
    with pytest.raises(RuntimeError, match="missing for"):
        check_uncertainty(task, metrics, items, {})
    with pytest.raises(RuntimeError, match="not an item metric"):
        check_uncertainty(task, metrics, [{"nif_base_base": 1.0}], ci)
    with pytest.raises(RuntimeError, match="per-item values average 0.3"):
        check_uncertainty(task, metrics, [{"p_diff_base_true": 0.3}], ci)


def test_directions_say_what_a_researcher_expects():
    assert lookup("postmech_entropy_neurons", "loss_post").higher_is_better is False
    assert lookup("postmech_refusal_transfer", "refusal_post_harmless").higher_is_better is False
    assert lookup("postmech_refusal_transfer", "refusal_post_harmful").higher_is_better is True
    for task, name in [
        ("postmech_refusal_transfer", "refusal_layer_base"),
        ("postmech_knowledge_patching", "pairs_used"),
        ("postmech_knowledge_patching", "pairs_excluded"),
        ("postmech_truth_probe", "sweep_best_layer_post"),
        ("postmech_entropy_neurons", "n_tokens_base"),
    ]:
        assert lookup(task, name).higher_is_better is None, name
    assert lookup("postmech_knowledge_patching", "patch_corr").higher_is_better is True


def test_an_undeclared_emitted_metric_is_caught():
    names = dict.fromkeys(metric_names("postmech_truth_probe"), 0.5)
    check_emitted("postmech_truth_probe", names)
    with pytest.raises(RuntimeError, match=r"emitted but not declared: \['probe_acc_extra'\]"):
        check_emitted("postmech_truth_probe", {**names, "probe_acc_extra": 1.0})


def test_a_declared_metric_the_analysis_forgot_is_caught():
    names = dict.fromkeys(metric_names("postmech_truth_probe"), 0.5)
    del names["truth_dir_cosine"]
    with pytest.raises(RuntimeError, match=r"declared but not emitted: \['truth_dir_cosine'\]"):
        check_emitted("postmech_truth_probe", names)


def test_unknown_metric_lookup_suggests_the_close_name():
    with pytest.raises(
        KeyError,
        match=r"unknown metric of postmech_truth_probe 'probe_acc_psot'\. Did you mean 'probe_acc_post'\?",
    ):
        lookup("postmech_truth_probe", "probe_acc_psot")


@pytest.mark.parametrize("task", SUITE_TASKS)
def test_task_readme_metric_table_is_the_catalogue(task):
    from postmech_eval.harness.readmes import current_block, expected_block

    assert current_block(task) == expected_block(task), (
        f"tasks/{task}/README.md differs from the catalogue: run python -m postmech_eval.harness.readmes"
    )


def test_task_folders_are_thin():
    """Each task folder is its YAML (no metric list, no shim module) and its README."""
    for folder in sorted((REPO / "tasks").iterdir()):
        if not folder.is_dir():
            continue
        assert not list(folder.glob("*.py")), f"{folder.name} has a Python shim"
        for yaml_path in folder.glob("*.yaml"):
            text = yaml_path.read_text()
            if "PostMechTask" in text:
                assert "metric_list" not in text and len(text.splitlines()) <= 25, yaml_path.name
