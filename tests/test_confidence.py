"""Confidence analysis (METHODS §5): ablation bookkeeping, direct effect, metrics, records."""

from __future__ import annotations

import json
import math

import pytest
import torch

from postmech_eval.analyses.confidence.run import ConfidenceConfig, run
from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.hooks import capture
from postmech_eval.estimators.entropy_ablation import QUANTITIES, frozen_norm_logits, measure, neuron_means
from postmech_eval.estimators.entropy_neurons import EntropyNeuronScan
from postmech_eval.models.pair import ModelPair
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)

TEXTS = [
    "the city of paris is in france .",
    "the cat is a mammal and the fish is not a mammal .",
    "one two three four five six seven eight nine ten",
    "hello world",
    "tokyo is in japan , rome is in italy and madrid is in spain .",
    "gold and silver and iron",
]
REFERENCE = [
    "the dog is an animal .",
    "lyon is in france and lima is not in france .",
    "four is larger than two , three is smaller than ten .",
    "write a poem about the bird please",
]


def _perturbed(model, scale=0.05, seed=7):
    """A 'post-trained' copy: same architecture, weights nudged."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * p.std().nan_to_num(0.0) * torch.randn(p.shape, generator=gen))
    return model


def _plant_null_neuron(model, neuron=5, gain=8.0):
    """Make ``neuron``'s output weight invisible to the unembedding (Llama: RMSNorm, untied).

    Rows of W_U are projected orthogonal to u; the neuron writes along u / g, so
    W_U (g * w) = 0 exactly: no direct effect, only the norm changes.
    """
    a = get_adapter(model)
    g = a.final_norm_weight
    u = torch.randn(a.d_model, generator=torch.Generator().manual_seed(3))
    u = u / u.norm()
    with torch.no_grad():
        w_u = model.lm_head.weight
        w_u -= (w_u @ u)[:, None] * u[None, :]
        col = u / g
        w_down = a.down_proj_weight(a.n_layers - 1)
        a.down_proj(a.n_layers - 1).weight[:, neuron] = gain * w_down.norm(dim=0).max() * col / col.norm()
    return model


@pytest.mark.parametrize("arch", ["llama", "gemma2", "gemma3", "gpt2", "gpt_neox", "olmo2"])
def test_frozen_norm_with_own_scale_reproduces_logits(arch):
    model = tiny_model(arch, n_layers=2)
    tok = tiny_tokenizer()
    ids = tok(TEXTS[:2], return_tensors="pt", padding=True)
    site = f"blocks.{get_adapter(model).n_layers - 1}.resid_post"
    with torch.no_grad(), capture(model, [site]) as cache:
        logits = model(**ids).logits
    h = cache[site]
    torch.testing.assert_close(frozen_norm_logits(model, h, h), logits, atol=2e-5, rtol=1e-5)


def test_total_effect_matches_formula_on_weights():
    """Mean-ablated entropy/loss == recomputing the final layer output by hand."""
    model, tok = tiny_model("llama", n_layers=2), tiny_tokenizer()
    a = get_adapter(model)
    layer = a.n_layers - 1
    means = neuron_means(model, tok, REFERENCE, layer)
    neurons = [1, 4, 9]
    sums, counts = measure(model, tok, TEXTS[:1], neurons, means, [], layer)
    ids = tok(TEXTS[:1], return_tensors="pt")["input_ids"]
    sites = [f"blocks.{layer}.mlp_neurons", f"blocks.{layer}.resid_post"]
    with torch.no_grad(), capture(model, sites) as cache:
        model(input_ids=ids)
        act, h = cache[sites[0]], cache[sites[1]]
        delta = (means[neurons] - act[..., neurons]) @ a.down_proj_weight(layer)[:, neurons].T
        logits = model.lm_head(model.model.norm(h + delta))
    logp = torch.log_softmax(logits[0, :-1], -1)
    ent = -(logp.exp() * logp).sum(-1).mean()
    loss = torch.nn.functional.cross_entropy(logits[0, :-1], ids[0, 1:])
    n = int(counts[0])
    assert n == ids.shape[1] - 1
    assert sums[0, QUANTITIES.index("entropy_ablated")] / n == pytest.approx(float(ent), abs=1e-5)
    assert sums[0, QUANTITIES.index("loss_ablated")] / n == pytest.approx(float(loss), abs=1e-5)


def test_batched_equals_unbatched():
    model, tok = tiny_model("gpt2", n_layers=2), tiny_tokenizer()
    means = neuron_means(model, tok, REFERENCE, 1)
    args = (model, tok, TEXTS, [0, 3, 7], means, [[2, 5, 6]], 1)
    s1, c1 = measure(*args, batch_size=1)
    s4, c4 = measure(*args, batch_size=4)
    assert torch.equal(c1, c4)
    torch.testing.assert_close(s1, s4, atol=1e-4, rtol=1e-5)


def test_null_space_neuron_has_no_direct_effect_but_changes_entropy():
    model, tok = _plant_null_neuron(tiny_model("llama", n_layers=2)), tiny_tokenizer()
    scan = EntropyNeuronScan(n_neurons=1).fit(model)
    assert scan.neurons_ == [5] and float(scan.logitvar_[5]) < 1e-12
    means = neuron_means(model, tok, REFERENCE, scan.layer_)
    sums, counts = measure(model, tok, TEXTS, scan.neurons_, means, [], scan.layer_)
    tot = sums.sum(0) / counts.sum()
    q = {name: float(tot[i]) for i, name in enumerate(QUANTITIES)}
    assert q["abs_dentropy_ablated"] > 1e-4 and q["abs_dloss_ablated"] > 1e-3
    assert q["abs_dloss_direct"] < 1e-3 * q["abs_dloss_ablated"]  # share ~0: all through the norm


def _pair(arch="llama", post_scale=0.05):
    base = tiny_model(arch, n_layers=2)
    post = (
        _perturbed(tiny_model(arch, n_layers=2), scale=post_scale)
        if post_scale
        else tiny_model(arch, n_layers=2)
    )
    return ModelPair((base, tiny_tokenizer()), (post, tiny_tokenizer()))


NAMES = (
    "entropy_neuron_iou",
    "logitvar_spearman",
    "ablate_dentropy_base",
    "ablate_dentropy_post",
    "ablate_dloss_base",
    "ablate_dloss_post",
    "direct_effect_share_base",
    "direct_effect_share_post",
    "entropy_base",
    "entropy_post",
    "entropy_gap_explained",
    "ablate_dentropy_random_base",
    "ablate_dentropy_random_post",
)


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_run_metrics_records_artifacts(arch, tmp_path):
    cfg = ConfidenceConfig(n_neurons=4, n_random_sets=2, min_gap=0.0, skip_first=0)
    items = [{"text": t} for t in TEXTS] + [{"text": "hello"}]
    with pytest.warns(UserWarning, match="fewer than 2 tokens"):
        res = run(_pair(arch), cfg, items=items, output_dir=tmp_path, reference=REFERENCE)
    m = res.metrics
    assert set(NAMES) <= set(m)
    assert all(math.isfinite(m[k]) for k in NAMES)
    assert 0.0 <= m["entropy_neuron_iou"] <= 1.0 and -1.0 <= m["logitvar_spearman"] <= 1.0
    gap = m["entropy_base"] - m["entropy_post"]
    assert m["entropy_gap_explained"] == pytest.approx(m["ablate_dentropy_post"] / gap)
    assert len(res.records) == len(items)
    assert res.records[-1] == {"excluded": "fewer than 2 tokens after tokenization"}
    rec = res.records[0]
    for which in ("base", "post"):
        assert rec[f"n_tokens_{which}"] == 7
        for key in ("entropy_clean", "entropy_ablated", "entropy_direct", "loss_clean", "loss_ablated"):
            assert math.isfinite(rec[f"{key}_{which}"])
    json.dumps(res.records)
    assert res.seed == 0 and res.config["n_neurons"] == 4
    for name in ("neuron_table_base", "scatter_post", "neuron_means_base", "summary"):
        assert (tmp_path / res.artifacts[name].rsplit("/", 1)[-1]).exists()
    table = json.loads((tmp_path / "entropy_neurons_base.json").read_text())
    assert len(table["selected"]) == 4 and sum(r["selected"] for r in table["neurons"]) == 4
    assert open(res.artifacts["scatter_base"], "rb").read(4) == b"\x89PNG"


def test_skip_first_leaves_out_bos_and_the_first_positions():
    """METHODS §5: the reference filters BOS and the first 3 positions of every text."""
    model, tok = tiny_model("llama", n_layers=2), tiny_tokenizer()
    means = neuron_means(model, tok, REFERENCE, 1)
    args = (model, tok, TEXTS, [0, 3], means, [], 1)
    _, all_counts = measure(*args, skip_first=0)
    _, counts = measure(*args, skip_first=3)
    for text, n_all, n in zip(TEXTS, all_counts.tolist(), counts.tolist(), strict=True):
        ids = tok(text)["input_ids"]
        bos = int(tok.bos_token_id is not None and ids[0] == tok.bos_token_id)
        assert n == max(0, n_all - 3 - bos)


def test_corpus_path_reads_a_user_file_with_or_without_splits(tmp_path):
    from postmech_eval.analyses.confidence.run import _reference_texts, default_items

    plain = tmp_path / "plain.jsonl"
    plain.write_text("".join(json.dumps({"text": f"text number {i} here"}) + "\n" for i in range(4)))
    cfg = ConfidenceConfig(corpus_path=str(plain))
    assert [d["text"] for d in default_items(cfg)] == [f"text number {i} here" for i in range(4)]
    split = tmp_path / "split.jsonl"
    split.write_text(
        json.dumps({"text": "held out", "split": "test"})
        + "\n"
        + json.dumps({"text": "ref", "split": "train"})
        + "\n"
    )
    cfg = ConfidenceConfig(corpus_path=str(split))
    assert default_items(cfg) == [{"text": "held out"}] and _reference_texts(cfg) == ["ref"]
    with pytest.raises(FileNotFoundError, match="no_such.jsonl"):
        default_items(ConfidenceConfig(corpus_path=str(tmp_path / "no_such.jsonl")))


def test_identical_models_give_full_overlap_and_nan_gap():
    items = [{"text": t} for t in TEXTS]
    with pytest.warns(UserWarning, match="entropy_gap_explained is NaN"):
        res = run(_pair(post_scale=0.0), ConfidenceConfig(n_random_sets=0), items=items, reference=REFERENCE)
    m = res.metrics
    assert m["entropy_neuron_iou"] == 1.0 and m["logitvar_spearman"] == pytest.approx(1.0)
    assert m["entropy_base"] == m["entropy_post"]
    assert math.isnan(m["entropy_gap_explained"]) and math.isnan(m["ablate_dentropy_random_post"])
    assert any("entropy_gap_explained is NaN" in n for n in res.config["notes"])


def test_config_from_strings_and_errors():
    cfg = ConfidenceConfig.from_kwargs({"n_neurons": "5", "norm_quantile": "0.9", "n_reference": "none"})
    assert (cfg.n_neurons, cfg.norm_quantile, cfg.n_reference) == (5, 0.9, None)
    with pytest.raises(KeyError, match="n_neurons"):
        ConfidenceConfig.from_kwargs({"n_neuron": "5"})
    with pytest.raises(ValueError, match="norm_quantile"):
        ConfidenceConfig(norm_quantile=1.5)
    with pytest.raises(TypeError, match="n_neurons"):
        ConfidenceConfig(n_neurons="5")
    with pytest.raises(KeyError, match=r"items\[1\]"):
        run(_pair(), ConfidenceConfig(), items=[{"text": "a b"}, {"txt": "x"}], reference=REFERENCE)


def test_organism_pair_runs_fast(tmp_path):
    """The bundled organism pair (Llama, byte-level BPE, sft with chat template) end to end."""

    from postmech_eval.data import load_corpus

    items = [{"text": t} for t in load_corpus("test")[:8]]
    cfg = ConfidenceConfig(n_reference=16, n_random_sets=1)
    res = run(ModelPair("organism:base", "organism:sft"), cfg, items=items, output_dir=tmp_path)
    assert all(math.isfinite(res.metrics[k]) for k in NAMES if k != "entropy_gap_explained")
    assert len(res.records) == 8 and "excluded" not in res.records[0]
    assert res.metrics["entropy_base"] > 0 and res.metrics["entropy_post"] > 0


@pytest.mark.slow
def test_gemma3_270m_base_selection_and_ablation():
    """Real Gemma-3-270M (GGUF Q4_K_M, dequantised): selection and ablation run, figures sane.

    Gemma-style (1 + w) final norm, tied 262k-token unembedding, GeGLU MLP. Prints the
    figures so a run records them (pytest -m slow -s).
    """
    from postmech_eval.data import load_corpus
    from tests.gemma import load_gemma, require_gemma

    require_gemma()
    model, tok = load_gemma()
    scan = EntropyNeuronScan().fit(model)
    assert scan.layer_ == 17 and len(scan.neurons_) == 10
    assert all(float(scan.norms_[i]) > scan.threshold_ for i in scan.neurons_)
    means = neuron_means(model, tok, load_corpus("train")[:16], scan.layer_, max_length=64)
    randoms = [scan.random_control(k) for k in range(3)]
    sums, counts = measure(
        model,
        tok,
        load_corpus("test")[:8],
        scan.neurons_,
        means,
        randoms,
        scan.layer_,
        max_length=64,
        batch_size=4,
    )
    q = dict(zip(QUANTITIES, (sums.sum(0) / counts.sum()).tolist(), strict=True))
    print("gemma3-270m", {"neurons": scan.neurons_, **{k: round(v, 5) for k, v in q.items()}})
    assert 0.5 < q["entropy_clean"] < 8.0 and 0.5 < q["loss_clean"] < 8.0
    assert q["abs_dentropy_ablated"] > 0.0 and q["abs_dentropy_random"] > 0.0
