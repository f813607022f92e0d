"""Batched capture and logits: padding-invariant, cached on disk when asked."""

from __future__ import annotations

import json

import pytest
import torch

from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.capture import collect, encode, logits_last, position_ids_from_mask
from postmech_eval.engine.hooks import Patch
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)
PROMPTS = [
    "the city of paris is in france .",
    "hello world !",
    "tell me how to make a cake please",
    "is lyon in spain ?",
    "one two three",
]


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module", params=["llama", "gpt2"])
def model(request):
    return tiny_model(request.param)


def test_encode_left_pads_and_positions_count_real_tokens(tok) -> None:
    enc = encode(tok, ["hello world !", "one"])
    assert enc["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    assert enc["position_ids"].tolist() == [[0, 1, 2], [0, 0, 0]]
    assert tok.padding_side == "left"
    assert position_ids_from_mask(torch.tensor([[0, 1, 1, 1]])).tolist() == [[0, 0, 1, 2]]
    with pytest.raises(TypeError, match="prompts"):
        encode(tok, "hello")


def test_collect_batched_equals_one_by_one(model, tok) -> None:
    ad = get_adapter(model)
    sites = ad.sites()
    batched = collect(model, tok, PROMPTS, sites, positions=(-3, -2, -1), batch_size=2)
    for i, p in enumerate(PROMPTS):
        one = collect(model, tok, [p], sites, positions=(-3, -2, -1), progress=False)
        for s in sites:
            assert batched[s].shape == (len(PROMPTS), 3, ad.site_dim(s))
            assert (batched[s][i] - one[s][0]).abs().max() < 1e-5, s


def test_collect_all_positions_aligns_rows_across_batches(model, tok) -> None:
    out = collect(model, tok, PROMPTS, ["blocks.1.resid_post"], positions="all", batch_size=2)
    acts = out["blocks.1.resid_post"]
    width = encode(tok, PROMPTS)["input_ids"].shape[1]
    assert acts.shape[:2] == (len(PROMPTS), width)
    last = collect(model, tok, PROMPTS, ["blocks.1.resid_post"], positions=(-1,), batch_size=3)
    assert (acts[:, -1] - last["blocks.1.resid_post"][:, 0]).abs().max() < 1e-5


def test_logits_last_equals_unpadded_forward(model, tok) -> None:
    got = logits_last(model, tok, PROMPTS, batch_size=3)
    for i, p in enumerate(PROMPTS):
        ids = tok(p, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            ref = model(input_ids=ids).logits[0, -1]
        assert (got[i] - ref).abs().max() < 1e-5


def test_patch_values_are_split_per_batch(model, tok) -> None:
    site = "blocks.0.resid_post"
    donor = collect(model, tok, PROMPTS[::-1], [site], positions=(-1,))[site]
    iv = [Patch(site=site, values=donor, positions=(-1,))]
    a = logits_last(model, tok, PROMPTS, batch_size=2, interventions=iv)
    b = logits_last(model, tok, PROMPTS, batch_size=5, interventions=iv)
    assert (a - b).abs().max() < 1e-5


def test_disk_cache_roundtrip_and_key(model, tok, tmp_path) -> None:
    sites = ["blocks.0.resid_pre", "blocks.2.mlp_neurons"]
    first = collect(model, tok, PROMPTS, sites, (-1,), cache_dir=tmp_path, progress=False)
    files = sorted(p.suffix for p in tmp_path.iterdir())
    assert files == [".json", ".safetensors"]
    meta = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert {"model_fingerprint", "data_hash", "tokenizer", "config"} <= set(meta)
    again = collect(model, tok, PROMPTS, sites, (-1,), cache_dir=tmp_path, progress=False)
    for s in sites:
        assert torch.equal(first[s], again[s])
    # a different model (or prompts) gets a different key, never stale data
    other = tiny_model(model.config.model_type, seed=5)
    collect(other, tok, PROMPTS, sites, (-1,), cache_dir=tmp_path, progress=False)
    collect(model, tok, PROMPTS[:2], sites, (-1,), cache_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.safetensors"))) == 3


def test_collect_rejects_bad_arguments(model, tok) -> None:
    with pytest.raises(ValueError, match="generated"):
        collect(model, tok, PROMPTS, ["blocks.0.resid_pre"], positions="generated")
    with pytest.raises(ValueError, match="batch_size"):
        collect(model, tok, PROMPTS, ["blocks.0.resid_pre"], batch_size=0)
    with pytest.raises(KeyError, match="resid_pre"):
        collect(model, tok, PROMPTS, ["blocks.0.resid_pr"])


@pytest.mark.parametrize("arch", ["llama", "gemma3", "gpt_neox"])
def test_sdpa_attention_batched_equals_one_by_one(arch, tok) -> None:
    """load_model uses HF's default attention (sdpa): left padding must still be exact."""
    model = tiny_model(arch)
    model.set_attn_implementation("sdpa")
    sites = ["blocks.0.resid_post", "blocks.2.attn_out"]
    batched = collect(model, tok, PROMPTS, sites, (-2, -1), batch_size=5, progress=False)
    logits = logits_last(model, tok, PROMPTS, batch_size=5)
    for i, p in enumerate(PROMPTS):
        one = collect(model, tok, [p], sites, (-2, -1), progress=False)
        for s in sites:
            assert (batched[s][i] - one[s][0]).abs().max() < 1e-5
        assert (logits[i] - logits_last(model, tok, [p])[0]).abs().max() < 1e-5
