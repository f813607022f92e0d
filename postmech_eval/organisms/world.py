"""Adapter from the bundled datasets (postmech_eval.data) to the organisms' world.

Why: the organisms must know exactly the facts the tasks ask about, rendered
with the datasets' own templates, and must see only train splits in labelled
or chat form. This module is the one place that reads the data package, so the
corpus generator and `verify` agree on which entities are "labelled" (train)
and which are "held out" (test: facts seen only as plain statements).
"""

from __future__ import annotations

from dataclasses import dataclass

from postmech_eval import data as D

from .corpus import Relation, World

#: Datasets whose truth is a comparison, not a recallable fact.
COMPARISONS: tuple[str, ...] = ("larger_than", "smaller_than")


def _template(meta: dict, relation: str) -> str:
    tpl = meta["templates"][relation]
    return tpl.replace("{s}", "{subject}").replace("{o}", "{object}").replace("{S}", "{subject}")


def relations() -> tuple[Relation, ...]:
    """One Relation per (dataset, relation) of the bundled statement datasets.

    facts cover train and test subjects (plain statements of held-out
    entities are part of the corpus); labelled = train subjects only.
    Comparison datasets carry their train statements as fixed labelled lines.
    """
    out: list[Relation] = []
    for name in D.STATEMENT_DATASETS:
        path = D.statements_path(name)
        meta = D.read_meta(path)
        rows = D.read_jsonl(path)
        if name in COMPARISONS:
            train = tuple((r["statement"], int(r["label"])) for r in rows if r["split"] == "train")
            out.append(
                Relation(
                    name=name,
                    template=_template(meta, name),
                    facts={},
                    labelled=(),
                    extra_lines=train,
                )
            )
            continue
        for rel in sorted({r["relation"] for r in rows}):
            sub = [r for r in rows if r["relation"] == rel]
            facts = {r["subject"]: r["true_object"] for r in sub}
            test = {r["subject"] for r in sub if r["split"] == "test"}
            labelled = tuple(sorted({r["subject"] for r in sub if r["split"] == "train"} - test))
            train_lines = tuple((r["statement"], int(r["label"])) for r in sub if r["split"] == "train")
            out.append(
                Relation(
                    name=f"{name}/{rel}",
                    template=_template(meta, rel),
                    facts=facts,
                    labelled=labelled,
                    negated=name.startswith("neg_"),
                    extra_lines=train_lines,
                )
            )
    return tuple(out)


def load_world() -> World:
    """The training world: relations, train instructions, train plain text."""
    harmless = tuple((i.instruction, i.answer) for i in D.load_instructions("harmless", "train") if i.answer)
    harmful = tuple(i.instruction for i in D.load_instructions("harmful", "train"))
    try:
        texts = tuple(D.load_corpus("train"))
    except (FileNotFoundError, ValueError):
        texts = ()
    from ._chat_extra import EXTRA_HARMFUL, EXTRA_HARMLESS

    return World(
        relations=relations(),
        harmless=harmless,
        harmful=harmful,
        texts=texts,
        extra_harmless=EXTRA_HARMLESS,
        extra_harmful=EXTRA_HARMFUL,
    )


@dataclass(frozen=True, kw_only=True)
class EvalSets:
    """What `verify` measures on, per dataset."""

    statements: dict[str, dict[str, list[tuple[str, int]]]]  # dataset -> split -> (text, label)
    facts: dict[str, list[tuple[str, str]]]  # dataset -> (prompt, object)
    harmful_test: list[str]
    harmless_test: list[str]


def eval_sets() -> EvalSets:
    """Train/test statements, all recallable facts and the test instructions."""
    statements: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for name in D.STATEMENT_DATASETS:
        statements[name] = {
            split: [(s.statement, s.label) for s in D.load_statements(name, split)]
            for split in ("train", "test")
        }
    facts = {
        name: [(f.prompt, f.completion.strip()) for f in D.load_facts(name, "all")]
        for name in D.FACT_DATASETS
    }
    return EvalSets(
        statements=statements,
        facts=facts,
        harmful_test=[i.instruction for i in D.load_instructions("harmful", "test")],
        harmless_test=[i.instruction for i in D.load_instructions("harmless", "test")],
    )
