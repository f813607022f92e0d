"""The lm-eval face of the package: lazy registration, task discovery, the model name."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest

TASKS = (
    "postmech_knowledge_patching",
    "postmech_truth_probe",
    "postmech_truth_steering",
    "postmech_refusal_transfer",
    "postmech_entropy_neurons",
)


def test_start_up_hook_is_lazy():
    """The .pth hook must not import torch or lm-eval into unrelated Python processes."""
    code = "import json, sys; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lm_eval', 'transformers'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    hooked = subprocess.run(
        [sys.executable, "-c", "import sys; print('postmech_eval.harness.plugin' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert hooked.stdout.strip() == "True", "postmech_eval.pth is not installed"


def test_registry_resolves_postmech_after_lm_eval_import():
    code = (
        "import lm_eval.models; from lm_eval.api.registry import model_registry; "
        "print(model_registry.origin('postmech') or 'postmech' in model_registry)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "postmech_eval.harness.lm" in out.stdout or out.stdout.strip() == "True"
    stock = subprocess.run(
        [sys.executable, "-c", "from lm_eval.api.registry import get_model; print(get_model('hf').__name__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert stock.stdout.strip() == "HFLM"


@functools.cache
def task_manager():
    from lm_eval.tasks import TaskManager

    return TaskManager()


def test_task_manager_finds_every_task_without_include_path():
    names = set(task_manager().all_tasks)
    for task in (*TASKS, "postmech"):
        assert task in names


@pytest.mark.parametrize("task", TASKS)
def test_task_yaml_lists_metrics_with_aggregation(task):
    """Item metrics aggregate with lm-eval's mean, pair metrics and CI bounds with ``first``."""
    from lm_eval.api.metrics import mean

    from postmech_eval.analyses.catalogue import CATALOGUE
    from postmech_eval.harness.task import PostMechTask, first

    config = task_manager()._index[task]
    assert config.yaml_path is not None and config.yaml_path.exists()
    obj = task_manager().load([task])["tasks"][task]
    assert isinstance(obj, PostMechTask)
    kinds = {m.name: m.kind for m in CATALOGUE[task]}
    for name, agg in obj.aggregation().items():
        assert agg is (mean if kinds.get(name) == "item" else first), name


def test_cli_help_is_fast_and_names_commands():
    out = subprocess.run(
        [sys.executable, "-m", "postmech_eval.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("organisms", "run", "leaderboard", "check"):
        assert command in out.stdout


@pytest.mark.parametrize("task", TASKS)
def test_task_yaml_declares_every_contract_metric(task):
    """The metric names users and CI gates rely on are the built task's metrics."""
    from postmech_eval.analyses.catalogue import CATALOGUE
    from postmech_eval.analyses.metrics import emitted_names
    from postmech_eval.suite.runs import TASK_METRICS

    obj = task_manager().load([task])["tasks"][task]
    assert set(obj.aggregation()) == set(emitted_names(CATALOGUE[task]))
    assert set(TASK_METRICS[task]) == {m.name for m in CATALOGUE[task]}


def test_include_defaults_false_lists_no_postmech_task(tmp_path):
    """The plugin respects lm-eval's switch: only the caller's paths, ours only when given."""
    from lm_eval.tasks import TaskManager

    from postmech_eval.harness.plugin import tasks_dir

    assert TaskManager(include_defaults=False, include_path=str(tmp_path)).all_tasks == []
    ours = TaskManager(include_defaults=False, include_path=tasks_dir()).all_tasks
    assert set(TASKS) <= set(ours)
