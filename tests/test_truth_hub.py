"""postmech_truth_probe_hub / _steering_hub, offline: a local dataset folder stands in for a hub id.

``datasets.load_dataset`` reads a hub id and a local folder of CSV/JSON files through the same
code path, so the variant is tested here exactly as users run it, minus the network.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from postmech_eval.data import load_statements
from postmech_eval.harness import statement_hub
from postmech_eval.harness.task import CONFIG_KEY, STATEMENT_HUB_KEYS

DATASETS = ("cities", "sp_en_trans", "animal_class", "inventors", "element_symb", "facts")


@pytest.fixture(scope="module")
def local_hub(tmp_path_factory) -> dict[str, str]:
    """The bundled statements as one CSV with a dataset column (the way such data sits on the hub)."""
    root = tmp_path_factory.mktemp("hub")
    folder = root / "geometry_of_truth"
    folder.mkdir()
    with (folder / "train.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["statement", "label", "dataset"])
        for name in DATASETS:
            for s in load_statements(name):
                w.writerow([s.statement, s.label, name])
    return {"statements_dataset": str(folder), "hub_cache_dir": str(root / "cache")}


def test_keys_are_the_modules_settings():
    assert set(STATEMENT_HUB_KEYS) == set(statement_hub.DEFAULTS)


def test_docs_are_the_held_out_dataset_and_the_analysis_reads_the_same_folder(local_hub):
    docs = statement_hub.load_docs("postmech_truth_probe_hub", **local_hub)["test"]
    assert len(docs) == len(load_statements("cities"))  # no split column: the whole held-out set
    config = json.loads(docs[0][CONFIG_KEY])
    folder = Path(config["data_dir"])
    assert folder.parent == Path(local_hub["hub_cache_dir"])
    assert sorted(p.stem for p in folder.glob("*.jsonl")) == sorted(DATASETS)
    again = statement_hub.load_docs("postmech_truth_probe_hub", **local_hub)["test"]
    assert json.loads(again[0][CONFIG_KEY])["data_dir"] == str(folder)  # content-addressed: reused


def test_bad_settings_are_one_line(local_hub, tmp_path):
    with pytest.raises(KeyError, match="no column 'truth'"):
        statement_hub.load_docs("postmech_truth_probe_hub", **local_hub, label_column="truth")
    with pytest.raises(ValueError, match="'statements_dataset' parameter"):
        statement_hub.load_docs("postmech_truth_probe_hub", hub_cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="got data_dir"):
        statement_hub.load_docs("postmech_truth_probe_hub", **local_hub, data_dir=str(tmp_path))


def test_truth_probe_hub_through_lm_eval(local_hub, tmp_path):
    """The real lm_eval CLI runs the hub variant on the local folder."""
    import subprocess
    import sys

    meta = json.dumps({**local_hub, "n_bootstrap": 50})
    cmd = [sys.executable, "-m", "lm_eval", "run", "--model", "postmech", "--model_args",
           f"base=organism:base,post=organism:sft,artifacts_dir={tmp_path / 'art'}",
           "--tasks", "postmech_truth_probe_hub", "--metadata", meta, "--limit", "20",
           "--output_path", str(tmp_path / "out")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = (tmp_path / "out").rglob("results_*.json")
    res = json.loads(path.read_text())["results"]["postmech_truth_probe_hub"]
    assert 0.5 <= res["probe_acc_base,none"] <= 1.0 and isinstance(res["probe_acc_base_stderr,none"], float)
