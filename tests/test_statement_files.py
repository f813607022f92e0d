"""Users' own statement files (issue 16): CSV in the paper's geometry-of-truth format, JSONL,
a directory of them, and ``data_dir`` for the truth tasks — with one error naming file:line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from postmech_eval.data import load_statements

DATASETS = ("cities", "sp_en_trans", "animal_class", "inventors", "element_symb", "facts")


def write_paper_csvs(folder: Path, with_split: bool) -> Path:
    """The bundled datasets as one CSV per dataset, paper style (extra columns, 1/0 labels)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in DATASETS:
        rows = load_statements(name)
        cols = ["statement", "label", "subject", "correct_object"] + (["split"] if with_split else [])
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for s in rows:
                w.writerow([s.statement, s.label, s.subject, s.object] + ([s.split] if with_split else []))
    return folder


def test_csv_file_and_directory_read_like_the_bundled_jsonl(tmp_path):
    folder = write_paper_csvs(tmp_path / "csv", with_split=True)
    bundled = load_statements("cities", "test")
    from_csv = load_statements(folder / "cities.csv", "test")
    assert [(s.statement, s.label, s.dataset) for s in from_csv] == [
        (s.statement, s.label, s.dataset) for s in bundled
    ]
    everything = load_statements(folder)  # a directory: one dataset per file
    assert {s.dataset for s in everything} == set(DATASETS)
    assert load_statements("cities", "test", data_dir=folder) == from_csv


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\na,1\n", r"bad\.csv:1: the header must name the columns 'statement' and 'label'"),
        ("statement,label\nParis is in France.,1\nRome is in Peru.,maybe\n", r"bad\.csv:3: field 'label'"),
        ("statement,label\nParis is in France.,1,extra\n", r"bad\.csv:2: more fields than the header"),
        ("statement,label\nParis is in France.,1\nRome is in Italy.,1\n", "all 2 statements have label 1"),
    ],
)
def test_a_bad_csv_is_one_line_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_statements(path)


def test_data_dir_names_a_missing_dataset_with_what_is_there(tmp_path):
    (tmp_path / "cities.jsonl").write_text(json.dumps({"statement": "a", "label": 1}) + "\n")
    with pytest.raises(
        FileNotFoundError, match=r"no statement file for dataset 'citys' \(found: \['cities'\]\)"
    ):
        load_statements("citys", data_dir=tmp_path)


def test_truth_probe_on_a_directory_of_paper_csvs(tmp_path):
    """The same statements as CSV files give the very same metrics as the bundled data; paper
    files without a split column are read whole."""
    from postmech_eval.analyses.truth.run import TruthProbeConfig, default_probe_items, run_probe
    from postmech_eval.models.pair import ModelPair

    pair = ModelPair("organism:base", "organism:sft")
    bundled = run_probe(pair, TruthProbeConfig(n_bootstrap=50))
    with_split = write_paper_csvs(tmp_path / "split", with_split=True)
    mine = run_probe(pair, TruthProbeConfig(n_bootstrap=50, data_dir=str(with_split)))
    assert mine.metrics == pytest.approx(bundled.metrics)
    paper = write_paper_csvs(tmp_path / "paper", with_split=False)
    config = TruthProbeConfig(n_bootstrap=50, data_dir=str(paper))
    items = default_probe_items(config)
    assert len(items) == len(load_statements("cities"))  # no split column: every line is held out
    result = run_probe(pair, config, items=items)
    assert 0.5 < result.metrics["probe_acc_base"] <= 1.0


def test_knowledge_reads_a_data_dir_and_needs_subject_and_object(tmp_path):
    from postmech_eval.analyses.knowledge.config import KnowledgeConfig
    from postmech_eval.analyses.knowledge.run import default_items

    folder = tmp_path / "kn"
    folder.mkdir()
    for name in ("cities", "facts"):
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["statement", "label", "subject", "object", "split"])
            for s in load_statements(name):
                w.writerow([s.statement, s.label, s.subject, s.object, s.split])
    bundled = default_items(KnowledgeConfig(datasets=("cities", "facts")))
    mine = default_items(KnowledgeConfig(datasets=("cities", "facts"), data_dir=str(folder)))
    assert mine == bundled
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "cities.csv").write_text(
        "statement,label\nParis is in France.,1\nParis is in Peru.,0\n"
    )
    with pytest.raises(ValueError, match="'subject' and 'object' columns"):
        default_items(KnowledgeConfig(datasets=("cities",), data_dir=str(tmp_path / "bare")))
