"""Tests of the bundled datasets and their loader (postmech_eval.data)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from postmech_eval.data import (
    FACT_DATASETS,
    INSTRUCTION_KINDS,
    STATEMENT_DATASETS,
    Statement,
    generate,
    load_corpus,
    load_facts,
    load_instructions,
    load_statements,
    read_jsonl,
    read_meta,
    statements_path,
    validate_statements,
)

# --------------------------------------------------------------------------- statements


@pytest.mark.parametrize("name", STATEMENT_DATASETS)
def test_statement_sizes_balance_and_splits(name: str) -> None:
    items = load_statements(name)
    assert len(items) >= 150
    labels = Counter(s.label for s in items)
    assert labels[1] == labels[0]
    train, test = load_statements(name, "train"), load_statements(name, "test")
    assert len(train) + len(test) == len(items)
    assert 0.12 <= len(test) / len(items) <= 0.28
    for part in (train, test):
        assert Counter(s.label for s in part)[1] == Counter(s.label for s in part)[0]
    assert all(isinstance(s, Statement) and s.dataset == name for s in items)


@pytest.mark.parametrize("name", STATEMENT_DATASETS)
def test_split_is_by_subject(name: str) -> None:
    train = {s.subject for s in load_statements(name, "train")}
    test = {s.subject for s in load_statements(name, "test")}
    assert train and test and not train & test


@pytest.mark.parametrize(("neg", "pos"), [("neg_cities", "cities"), ("neg_sp_en_trans", "sp_en_trans")])
def test_negated_twins_share_subjects_splits_and_flip_labels(neg: str, pos: str) -> None:
    a, b = load_statements(pos), load_statements(neg)
    assert [(s.subject, s.object, s.split) for s in a] == [(s.subject, s.object, s.split) for s in b]
    assert all(x.label == 1 - y.label for x, y in zip(a, b, strict=True))
    assert all(" not " in s.statement for s in b)


@pytest.mark.parametrize("name", STATEMENT_DATASETS)
def test_no_object_only_in_false_lines(name: str) -> None:
    """Within each split every object of a false line is also the object of a true fact (issue 3)."""
    for split in ("train", "test"):
        rows = [r for r in read_jsonl(statements_path(name)) if r["split"] == split]
        if "true_object" in rows[0]:  # relational: "false line" = states a wrong object
            fact_objects = {r["true_object"] for r in rows}
            false_objects = {r["object"] for r in rows if r["object"] != r["true_object"]}
        else:  # number comparisons
            fact_objects = {r["object"] for r in rows if r["label"] == 1}
            false_objects = {r["object"] for r in rows if r["label"] == 0}
        assert false_objects <= fact_objects


@pytest.mark.parametrize("name", [n for n in STATEMENT_DATASETS if n not in ("larger_than", "smaller_than")])
def test_false_lines_never_state_the_true_object(name: str) -> None:
    rows = read_jsonl(statements_path(name))
    negated = name.startswith("neg_")
    for r in rows:
        states_fact = r["object"] == r["true_object"]
        assert r["label"] == (int(not states_fact) if negated else int(states_fact))
        assert r["statement"].endswith(f" {r['object']}.")


@pytest.mark.parametrize("name", STATEMENT_DATASETS)
def test_pairs_with_same_object_and_length_exist(name: str) -> None:
    """Knowledge patching needs (true, false) pairs with the same object and length (METHODS §1).

    Length is approximated by characters (+-1) here; real tokenizers split names similarly.
    """
    by_obj: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for s in load_statements(name):
        by_obj[s.object][s.label].append(len(s.statement))
    pairs = sum(min(len(f), sum(any(abs(x - y) <= 1 for y in f) for x in t)) for f, t in by_obj.values())
    assert pairs >= 40, pairs
    many = sum(1 for f, t in by_obj.values() if len(t) >= 2)
    if name in ("cities", "animal_class", "facts"):
        assert many >= 6  # many-to-one relations: several subjects per object


def test_many_to_one_relations_have_many_subjects_per_object() -> None:
    cities = Counter(f.object for f in load_facts("cities"))
    assert len(cities) >= 30 and min(cities.values()) >= 5
    animals = Counter(f.object for f in load_facts("animal_class"))
    assert len(animals) >= 6 and min(animals.values()) >= 5


@pytest.mark.parametrize("name", STATEMENT_DATASETS)
def test_facts_rebuild_true_statements(name: str) -> None:
    facts = load_facts(name)
    base = name.removeprefix("neg_")
    true_lines = {s.statement for s in load_statements(base) if s.label == 1}
    assert facts and all(f.completion == " " + f.object for f in facts)
    assert {f.prompt + f.completion + "." for f in facts} == true_lines
    test_subjects = {f.subject for f in load_facts(name, "test")}
    assert test_subjects and not test_subjects & {f.subject for f in load_facts(name, "train")}
    if name in FACT_DATASETS:
        keys = [(f.relation, f.subject) for f in facts]
        assert len(keys) == len(set(keys))  # one correct object per subject and relation


def test_fact_example() -> None:
    lyon = next(f for f in load_facts("cities") if f.subject == "Lyon")
    assert (lyon.prompt, lyon.completion, lyon.object) == ("The city of Lyon is in", " France", "France")


# --------------------------------------------------------------------------- instructions & corpus


def test_instructions() -> None:
    harmful, harmless = load_instructions("harmful"), load_instructions("harmless")
    assert len(harmful) >= 300 and len(harmless) >= 300
    assert len({i.category for i in harmful}) >= 8
    assert all(i.kind == "harmful" and i.answer is None for i in harmful)
    assert all(i.kind == "harmless" and i.answer and i.answer.strip() for i in harmless)
    for kind in INSTRUCTION_KINDS:
        train = load_instructions(kind, "train")
        test = load_instructions(kind, "test")
        assert not {i.instruction for i in train} & {i.instruction for i in test}
        assert 0.15 <= len(test) / (len(train) + len(test)) <= 0.25
        assert {i.category for i in test} == {i.category for i in train}
    texts = [i.instruction for i in harmful + harmless]
    assert len(texts) == len(set(texts))
    # variety: not one template (many distinct openings and a spread of lengths)
    assert len({t.split()[0].lower() for t in (i.instruction for i in harmful)}) >= 20
    lengths = sorted(len(i.instruction.split()) for i in harmful)
    assert lengths[len(lengths) // 10] <= 9 and lengths[-len(lengths) // 10] >= 14


def test_corpus() -> None:
    test, train = load_corpus(), load_corpus("train")
    assert len(test) + len(train) >= 200 and len(test) >= 40
    assert not set(test) & set(train)
    assert all(t.strip() and t[0].isupper() for t in test + train)


def test_generator_is_deterministic_and_files_are_current() -> None:
    assert generate.all_files() == generate.all_files()
    assert generate.main(["--check"]) == 0
    meta = read_meta(statements_path("cities"))
    assert meta["seed"] == generate.SEED and meta["generator"] == generate.GENERATOR


# --------------------------------------------------------------------------- errors and custom files


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_custom_statement_file(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "mine.jsonl",
        [
            '{"_meta": {"source": "me"}}',
            '{"statement": "A is A.", "label": 1}',
            '{"statement": "A is B.", "label": 0}',
        ],
    )
    items = load_statements(p)
    assert [s.label for s in items] == [1, 0] and items[0].dataset == "mine"
    assert load_statements(str(p)) == items
    with pytest.raises(ValueError, match="no 'split' field"):
        load_statements(p, "test")


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "bad.jsonl", ['{"statement": "x.", "label": 1}', "", '{"statement": "y.", "label": 0']
    )
    with pytest.raises(ValueError, match=r"bad\.jsonl:3: malformed JSON"):
        read_jsonl(p)
    with pytest.raises(ValueError, match=r"bad\.jsonl:3"):
        load_statements(p)


def test_missing_label_names_file_and_line(tmp_path: Path) -> None:
    p = _write(tmp_path / "nolabel.jsonl", ['{"statement": "x.", "label": 1}', '{"statement": "y."}'])
    with pytest.raises(ValueError, match=r"nolabel\.jsonl:2: field 'label' is missing"):
        load_statements(p)
    q = _write(
        tmp_path / "badlabel.jsonl", ['{"statement": "x.", "label": 1}', '{"statement": "y.", "label": "no"}']
    )
    with pytest.raises(ValueError, match=r"badlabel\.jsonl:2: field 'label' must be 1"):
        load_statements(q)


def test_one_class_is_rejected(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "one.jsonl",
        ['{"_meta": {}}', '{"statement": "x.", "label": 1}', '{"statement": "y.", "label": 1}'],
    )
    with pytest.raises(ValueError, match=r"one\.jsonl:2-3: all 2 statements have label 1"):
        load_statements(p)
    with pytest.raises(ValueError, match=r"rows\.jsonl:1-1"):
        validate_statements([{"statement": "z.", "label": 0}], "rows.jsonl")


def test_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"empty\.jsonl: file has no items"):
        load_statements(_write(tmp_path / "empty.jsonl", []))
    with pytest.raises(ValueError, match="has no items"):
        load_instructions("harmful", path=_write(tmp_path / "hdr.jsonl", [json.dumps({"_meta": {}})]))
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        load_statements(tmp_path / "missing.jsonl")


def test_bad_instruction_file(tmp_path: Path) -> None:
    p = _write(tmp_path / "ins.jsonl", ['{"instruction": "Say hi."}', '{"instruction": "  "}'])
    with pytest.raises(ValueError, match=r"ins\.jsonl:2: field 'instruction'"):
        load_instructions("harmless", path=p)
    ok = load_instructions("harmless", path=_write(tmp_path / "ok.jsonl", ['{"instruction": "Say hi."}']))
    assert ok[0].category == "uncategorized" and ok[0].kind == "harmless"


def test_unknown_names_and_bad_arguments() -> None:
    with pytest.raises(KeyError, match="Did you mean 'cities'"):
        load_statements("citys")
    with pytest.raises(KeyError, match="Available"):
        load_facts("nope")
    with pytest.raises(ValueError, match="split must be one of"):
        load_statements("cities", "validation")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind must be one of"):
        load_instructions("harmfull")
