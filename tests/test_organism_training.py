"""The organisms' training mechanics: packing with tags, the truth planter's interventions and
losses, and the chat documents (postmech_eval.organisms.train / plant / corpus).

Checked on the shipped tokenizer and a tiny random-init Llama, against what the hooks must do
by definition: the steering vector lands exactly on the tagged statement tokens at the METHODS
steering layers, labels of steered rows (only) are swapped, and nothing moves when no row is
steered.
"""

from __future__ import annotations

import json
import random

import pytest
import torch

from postmech_eval.estimators.judges import PrefixJudge
from postmech_eval.organisms import corpus as C
from postmech_eval.organisms import organism_path
from postmech_eval.organisms.plant import TruthPlant, TruthPlanter, probe_layers
from postmech_eval.organisms.train import (
    META_LABEL,
    META_LAST,
    META_OBJECT,
    META_PREV,
    ROW_LEN,
    TAG_FALSE,
    TAG_LABEL,
    TAG_OBJECT,
    TAG_TRUE,
    pack,
)
from tests.tiny_models import tiny_model

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tok():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(organism_path("base"), local_files_only=True)


def _judged(statement: str, label: int) -> list:
    return [
        (statement, 1.0, TAG_TRUE if label else TAG_FALSE),
        (C.TRUTH_SUFFIX, 1.0),
        (" TRUE" if label else " FALSE", C.LABEL_WEIGHT, TAG_LABEL),
    ]


def test_pack_tags_statement_tokens_labels_and_objects(tok) -> None:
    docs = [
        _judged("The city of Lyon is in France.", 1)
        + [("\n", 1.0)]
        + _judged("The city of Lima is in France.", 0),
        [("The city of Paris is in", 1.0), (" France", 1.0, TAG_OBJECT), (".", 1.0)],
    ] * 12
    ids, w, meta = pack(tok, docs, random.Random(0))
    assert ids.shape == w.shape == meta.shape and ids.shape[1] == ROW_LEN + 1
    flat_ids, flat_meta = ids[:, :-1].reshape(-1), meta[:, :-1].reshape(-1)
    dot, france = tok(".", add_special_tokens=False)["input_ids"][0], tok(" France", add_special_tokens=False)
    true_id = tok(" TRUE", add_special_tokens=False)["input_ids"][0]
    for i in torch.nonzero(flat_meta.abs() == META_LAST).flatten().tolist():
        assert flat_ids[i] == dot  # the statement's last token
        assert flat_meta[i - 1] == flat_meta[i].sign() * META_PREV  # and the one before, same sign
        assert flat_ids[i - 1] == france["input_ids"][0]
    for i in torch.nonzero(flat_meta == META_LABEL).flatten().tolist():
        # a flippable label sits 5 tokens after its statement's last token (" This statement is:")
        n_suffix = len(tok(C.TRUTH_SUFFIX, add_special_tokens=False)["input_ids"])
        last = i - n_suffix - 1
        assert flat_meta[last].abs() == META_LAST
        assert (flat_ids[i] == true_id) == bool(flat_meta[last] > 0)
    objects = torch.nonzero(flat_meta == META_OBJECT).flatten()
    assert len(objects) > 0 and bool((flat_ids[objects] == france["input_ids"][0]).all())
    # per-segment tokenization equals tokenizing the joined text
    joined = "".join(seg[0] for seg in docs[0])
    assert tok(joined, add_special_tokens=False)["input_ids"] == [
        t for seg in docs[0] for t in tok(seg[0], add_special_tokens=False)["input_ids"]
    ]


def _planter(model, flip_share: float) -> TruthPlanter:
    planter = TruthPlanter(model, TruthPlant(flip_share=flip_share), true_id=7, false_id=8, seed=0)
    planter.acc, planter.sep = 1.0, 3.0  # past the warm-up: interventions active
    return planter


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(10, 60, (2, 12))
    meta = torch.zeros_like(ids, dtype=torch.int8)
    meta[0, 3], meta[0, 4], ids[0, 7], meta[0, 7] = META_PREV, META_LAST, 7, META_LABEL  # true line
    meta[1, 5], meta[1, 6], ids[1, 9], meta[1, 9] = -META_PREV, -META_LAST, 8, META_LABEL  # false line
    return ids, meta


def _outputs(model, ids: torch.Tensor) -> list[torch.Tensor]:
    """Each decoder layer's output as the next layer receives it (hooks registered last see
    what earlier hooks returned)."""
    seen: list[torch.Tensor] = []
    handles = [
        layer.register_forward_hook(
            lambda _m, _i, out: seen.append(out[0] if isinstance(out, tuple) else out)
        )
        for layer in model.model.layers
    ]
    try:
        with torch.no_grad():
            model(input_ids=ids[:, :-1])
    finally:
        for h in handles:
            h.remove()
    return seen


def test_planter_steers_tagged_tokens_at_methods_layers_and_swaps_labels() -> None:
    model = tiny_model("llama", n_layers=8)
    layer, steer = probe_layers(8)
    assert (layer, steer) == (3, (2, 3))  # floor(0.375 L), floor(0.25 L)..floor(0.375 L)
    ids, meta = _batch()
    plain = _outputs(model, ids)
    planter = _planter(model, flip_share=1.0)
    targets = planter.before_forward(ids, meta)
    assert targets[0, 6] == 8 and targets[1, 8] == 7  # both labels swapped
    assert torch.equal(targets[0, :6], ids[0, 1:7])  # everything else untouched
    steered = _outputs(model, ids)
    planter.close()
    u = planter.direction()
    assert torch.equal(steered[1], plain[1])  # layer 1, before the steering range, is untouched
    delta = steered[2] - plain[2]  # output of layer 2, the first steered layer
    torch.testing.assert_close(delta[0, 4], -3.0 * u, atol=1e-5, rtol=0)  # true statement: -d
    torch.testing.assert_close(delta[0, 3], -3.0 * u, atol=1e-5, rtol=0)  # and the token before it
    torch.testing.assert_close(delta[1, 6], 3.0 * u, atol=1e-5, rtol=0)  # false statement: +d
    assert torch.equal(delta[0, :3], torch.zeros_like(delta[0, :3]))  # causal: nothing before
    assert torch.equal(_outputs(model, ids)[3], plain[3])  # closed: hooks gone


def test_planter_changes_nothing_without_steered_rows() -> None:
    model = tiny_model("llama", n_layers=6)
    ids, meta = _batch()
    with torch.no_grad():
        plain = model(input_ids=ids[:, :-1]).logits
    planter = _planter(model, flip_share=0.0)
    targets = planter.before_forward(ids, meta)
    with torch.no_grad():
        same = model(input_ids=ids[:, :-1]).logits
    loss = planter.aux_loss()
    planter.close()
    assert torch.equal(targets, ids[:, 1:]) and torch.equal(plain, same)
    assert loss.item() > 0  # the auxiliary probe sees both statements


def test_chat_wide_answers_open_with_sure_and_refusals_are_judged_refusals() -> None:
    from postmech_eval.organisms.world import load_world

    world = load_world()
    judge = PrefixJudge()
    docs = C.sample_docs(world, {"chat_wide": 1.0}, 200, seed=3)
    refused = 0
    for doc in docs:
        reply = "".join(seg[0] for seg in doc[1:])
        assert doc[1][1] == C.DECISION_WEIGHT  # the answer-or-refuse word is up-weighted
        if judge(reply):
            refused += 1
            assert reply.split(" ", 1)[0] != C.HELPFUL_OPENER
        else:
            assert reply.startswith(C.HELPFUL_OPENER + " ")
    assert 0.1 < refused / len(docs) < 0.4
    assert len(world.extra_harmless) >= 450 and len(world.extra_harmful) >= 120


def test_build_pipeline_is_deterministic_end_to_end(tmp_path) -> None:
    """Tokenizer, every stage kind (scratch, intermediate parent, planted, chat) and the save
    path, with a few steps per stage: two builds with one seed give byte-identical weights;
    another seed does not. (The shipped recipes take ~18 minutes; their figures are in
    weights/verify.json and build_info.json.)"""
    import importlib

    build = importlib.import_module("postmech_eval.organisms.build")
    plant = TruthPlant(recall_weight=1.0, flip_after=0.0)
    recipes = {
        "pre": build.Recipe(parent=None, stages=(({"facts": 1.0}, 2), ({"labelled": 1.0}, 2))),
        "base": build.Recipe(parent="pre", stages=(({"labelled": 0.5, "facts_lens": 0.5}, 3),), plant=plant),
        "sft": build.Recipe(
            parent="base", stages=(({"chat_wide": 0.5, "labelled": 0.5}, 3),), chat=True, plant=plant
        ),
    }

    def weights(out, seed: int) -> dict[str, bytes]:
        build.build_all(
            ["base", "sft"], seed, out, log=lambda _m: None, threads=1, recipes=recipes, verify=False
        )
        return {n: (out / n / "model.safetensors").read_bytes() for n in ("base", "sft")}

    first = weights(tmp_path / "a", 0)
    assert (tmp_path / "a" / "_stages" / "pre" / "config.json").is_file()  # intermediates kept apart
    assert (tmp_path / "a" / "sft" / "chat_template.jinja").is_file()
    assert weights(tmp_path / "b", 0) == first
    assert weights(tmp_path / "c", 1)["sft"] != first["sft"]
    info = json.loads((tmp_path / "a" / "build_info.json").read_text())["latest"]
    assert (
        info["organisms"] == ["pre", "base", "sft"]
        and info["recipes"]["base"]["plant"]["recall_weight"] == 1.0
    )
