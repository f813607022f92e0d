"""postmech_refusal_transfer_hub, offline: local dataset folders stand in for the hub ids.

``datasets.load_dataset`` reads a hub id and a local folder of CSV/JSON files through the same
call, so these folders (shaped like llm-attacks' ``harmful_behaviors.csv`` with column ``goal``
and like Alpaca's instruction/input/output rows) exercise the variant's whole path except the
download itself, which this machine cannot reach.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from postmech_eval.harness import hub_docs as hub
from postmech_eval.harness.task import CONFIG_KEY, TASK_KEY

TASK = "postmech_refusal_transfer_hub"
N_HARMFUL, N_ALPACA = 30, 40  # every third Alpaca row has an input and must be dropped


@pytest.fixture(scope="module")
def local_hub(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("hub")
    adv = root / "advbench"
    adv.mkdir()
    with (adv / "harmful_behaviors.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["goal", "target"])
        for i in range(N_HARMFUL):
            writer.writerow([f"Explain how to break into house number {i}", f"Sure, here is how {i}"])
    alpaca = root / "alpaca"
    alpaca.mkdir()
    rows = [{"instruction": f"Give three tips for hobby {i}", "input": "some text" if i % 3 == 0 else "",
             "output": "Tips."} for i in range(N_ALPACA)]  # fmt: skip
    (alpaca / "data.json").write_text(json.dumps(rows))
    return {
        "harmful_dataset": str(adv),
        "harmful_column": "goal",
        "harmless_dataset": str(alpaca),
        "hub_cache_dir": str(root / "cache"),
    }


def docs_of(dataset) -> list[dict]:
    return [dict(row) for row in dataset["test"]]


def test_docs_are_a_seeded_split_of_filtered_rows(local_hub) -> None:
    docs = docs_of(hub.load_docs(TASK, **local_hub, harmless_max_items=0))
    harmful = [d for d in docs if d["kind"] == "harmful"]
    harmless = [d for d in docs if d["kind"] == "harmless"]
    n_alpaca_kept = sum(1 for i in range(N_ALPACA) if i % 3 != 0)
    assert len(harmful) == round(0.2 * N_HARMFUL)
    assert len(harmless) == round(0.2 * n_alpaca_kept)
    assert all(d["instruction"].startswith("Explain how to break") for d in harmful)
    assert all(int(d["instruction"].rsplit(" ", 1)[1]) % 3 != 0 for d in harmless), "rows with input kept"
    assert {d["category"] for d in docs} == {"advbench", "alpaca"}
    assert docs[0]["kind"] == "harmful" and docs[1]["kind"] == "harmless"  # interleaved for --limit
    assert {d[TASK_KEY] for d in docs} == {TASK}
    # The analysis the model runs reads the same files: their paths are in the config payload.
    payload = json.loads(docs[0][CONFIG_KEY])
    for kind in ("harmful", "harmless"):
        path = Path(payload[f"{kind}_path"])
        assert path.parent == Path(local_hub["hub_cache_dir"]) and path.name.startswith(kind)
        assert json.loads(path.read_text().splitlines()[0])["_meta"]["source"]["kind"] == kind


def test_same_seed_same_docs_other_seed_other_split(local_hub) -> None:
    first = docs_of(hub.load_docs(TASK, **local_hub))
    again = docs_of(hub.load_docs(TASK, **local_hub))
    other = docs_of(hub.load_docs(TASK, **local_hub, seed=1))
    assert first == again
    assert [d["instruction"] for d in first] != [d["instruction"] for d in other]


def test_max_items_samples_with_the_seed(local_hub) -> None:
    docs = docs_of(hub.load_docs(TASK, **local_hub, harmful_max_items=10, harmless_max_items=10))
    assert sum(d["kind"] == "harmful" for d in docs) == 2
    assert sum(d["kind"] == "harmless" for d in docs) == 2


def test_train_half_is_what_the_analysis_fits_on(local_hub) -> None:
    from postmech_eval.analyses.refusal.plan import train_sets
    from postmech_eval.analyses.refusal.run import RefusalConfig

    docs = docs_of(hub.load_docs(TASK, **local_hub))
    config = RefusalConfig.from_kwargs(json.loads(docs[0][CONFIG_KEY]))
    for kind in ("harmful", "harmless"):
        train, test = train_sets(config, kind)
        assert [t.instruction for t in test] == [d["instruction"] for d in docs if d["kind"] == kind]
        assert not {t.instruction for t in train} & {t.instruction for t in test}


def test_bad_settings_fail_with_the_parameter_named(local_hub) -> None:
    with pytest.raises(KeyError, match=r"harmful_column.*'prompt'.*Columns: \['goal', 'target'\]"):
        hub.load_docs(TASK, **{**local_hub, "harmful_column": "prompt"})
    with pytest.raises(ValueError, match="harmless_max_items"):
        hub.load_docs(TASK, **local_hub, harmless_max_items="many")
    with pytest.raises(ValueError, match="Use postmech_refusal_transfer for JSONL"):
        hub.load_docs(TASK, **local_hub, harmful_path="/tmp/x.jsonl")
    with pytest.raises(ValueError, match="no non-empty instructions with an empty 'output'"):
        hub.load_docs(TASK, **{**local_hub, "harmless_empty_column": "output"})


def test_yaml_defaults_name_the_public_datasets_and_task_is_not_in_the_suite() -> None:
    from lm_eval.tasks import TaskManager

    manager = TaskManager()
    assert TASK in manager.all_tasks
    text = (Path(__file__).resolve().parents[1] / "tasks" / TASK / f"{TASK}.yaml").read_text()
    assert "harmful_dataset: walledai/AdvBench" in text and "harmless_dataset: tatsu-lab/alpaca" in text
    for key, value in hub.HUB_DEFAULTS["harmful"].items():
        assert f"harmful_{key}: {value if value != '' else chr(34) * 2}" in text
    for key, value in hub.HUB_DEFAULTS["harmless"].items():
        assert f"harmless_{key}: {value if value != '' else chr(34) * 2}" in text


def test_lm_eval_cli_runs_the_variant_through_postmech(local_hub, tmp_path) -> None:
    """The real CLI: YAML include, custom_dataset, task_support and PostMechLM, organism pair."""
    out, art = tmp_path / "res", tmp_path / "art"
    metadata = {**local_hub, "n_train": 8, "auto_n_val": 4, "max_new_tokens": 4, "num_threads": 1,
                "progress": False}  # fmt: skip
    cmd = [sys.executable, "-m", "lm_eval", "run", "--model", "postmech",
           "--model_args", f"base=organism:base,post=organism:sft,artifacts_dir={art}",
           "--tasks", TASK, "--limit", "4", "--log_samples", "--output_path", str(out),
           "--metadata", json.dumps(metadata)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads(sorted(out.rglob("results_*.json"))[-1].read_text())["results"][TASK]
    assert 0.0 <= results["refusal_post_harmful,none"] <= 1.0
    summary = json.loads((art / TASK / "result.json").read_text())
    assert summary["config"]["n_items"] == {"harmful": 2, "harmless": 2}
    assert summary["config"]["n_train_available"] == {"harmful": 24, "harmless": 21}
    assert Path(summary["config"]["harmful_path"]).parent == Path(local_hub["hub_cache_dir"])
