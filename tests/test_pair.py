"""Model loading, pair comparability, fingerprints, one-at-a-time memory, prompts."""

from __future__ import annotations

import time

import pytest
import torch

from postmech_eval.engine.fingerprint import model_fingerprint
from postmech_eval.models.pair import ModelPair
from postmech_eval.models.specs import BASE_REFUSAL_TEMPLATE, format_prompt, load_model
from tests.tiny_models import save_tiny, tiny_model, tiny_tokenizer

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def dirs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("models")
    return {
        "base": save_tiny(root / "base", "llama"),
        "post": save_tiny(root / "post", "llama", chat_template=True, seed=1),
        "narrow": save_tiny(root / "narrow", "llama", d_model=32),
        "shallow": save_tiny(root / "shallow", "llama", n_layers=2),
        "gpt2": save_tiny(root / "gpt2", "gpt2"),
    }


def test_load_model_from_local_dir(dirs) -> None:
    model, tok = load_model(str(dirs["base"]))
    assert type(model).__name__ == "LlamaForCausalLM" and not model.training
    assert tok.padding_side == "left" and tok.pad_token is not None
    ref = tiny_model("llama")
    ids = torch.tensor([[4, 5, 6]])
    with torch.no_grad():
        # loaded with HF's default attention (sdpa) vs eager in tiny_model: fp noise only
        torch.testing.assert_close(model(ids).logits, ref(ids).logits, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "spec, match",
    [
        ("/definitely/not/here", "does not exist"),
        ("./relative/missing", "does not exist"),
        ("bad id!", "neither a local directory"),
        ("nosuchorg-xyz/nosuchmodel-xyz", "not in the local Hugging Face cache"),
    ],
)
def test_bad_specs_fail_fast_with_one_message(spec, match) -> None:
    t0 = time.monotonic()
    with pytest.raises(ValueError, match=match):
        load_model(spec)
    assert time.monotonic() - t0 < 10


def test_offline_hub_id_fails_without_network(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="HF_HUB_OFFLINE"):
        load_model("nosuchorg-xyz/nosuchmodel-xyz")


def test_unknown_organism_is_a_clear_error() -> None:
    with pytest.raises((ValueError, KeyError), match="no_such_organism|organism"):
        load_model("organism:no_such_organism")


def test_dir_without_config(tmp_path) -> None:
    with pytest.raises(ValueError, match="no config.json"):
        load_model(str(tmp_path))


@pytest.mark.parametrize(
    "other, match",
    [
        ("narrow", "d_model: base=64 vs post=32"),
        ("shallow", "n_layers: base=3 vs post=2"),
        ("gpt2", "family: base='llama' vs post='gpt2'"),
    ],
)
def test_incomparable_pairs_refused_before_loading(dirs, other, match) -> None:
    with pytest.raises(ValueError, match=match):
        ModelPair(str(dirs["base"]), str(dirs[other]))


def test_pair_lazy_report_fingerprint_and_one_at_a_time(dirs) -> None:
    pair = ModelPair(str(dirs["base"]), str(dirs["post"]), one_at_a_time=True)
    assert not pair.is_loaded("base") and not pair.is_loaded("post")  # lazy
    assert pair.report["n_layers"] == 3 and pair.report["d_model"] == 64
    assert pair.report["tokenizer_differences"]["has_chat_template"] == {
        "base": False,
        "post": True,
    }
    model, _ = pair.base
    fp_base = pair.fingerprint("base")
    assert fp_base == model_fingerprint(model) == model_fingerprint(tiny_model("llama"))
    pair.get("post")
    assert pair.is_loaded("post") and not pair.is_loaded("base")  # base freed
    assert pair.fingerprint("post") != fp_base
    with pytest.raises(ValueError, match="which must be"):
        pair.get("bsae")  # type: ignore[arg-type]


def test_pair_from_in_memory_models() -> None:
    tok = tiny_tokenizer()
    pair = ModelPair((tiny_model("gemma3"), tok), (tiny_model("gemma3", seed=2), tok))
    assert pair.base[0] is not pair.post[0]
    assert pair.spec("base") == "<in-memory>"
    with pytest.raises(ValueError, match="vocab_size"):
        ModelPair((tiny_model("llama"), tok), (tiny_model("llama", vocab_size=100), tok))


def test_fingerprint_changes_with_weights() -> None:
    m = tiny_model("llama")
    fp = model_fingerprint(m)
    with torch.no_grad():
        m.model.norm.weight[3] += 1e-3
    assert model_fingerprint(m) != fp


def test_format_prompt() -> None:
    chat = tiny_tokenizer(chat_template=True)
    assert format_prompt(chat, "hello", True) == "user : hello \nassistant : "
    plain = tiny_tokenizer()
    assert format_prompt(plain, "hi", False) == "hi"
    assert format_prompt(plain, "hi", False, BASE_REFUSAL_TEMPLATE) == "User: hi\nAssistant:"
    with pytest.raises(ValueError, match="no chat template"):
        format_prompt(plain, "hi", True)


def test_adopt_and_tokenizer_without_weights(dirs) -> None:
    pair = ModelPair(str(dirs["base"]), str(dirs["post"]))
    tok = pair.tokenizer("post")
    assert tok.chat_template and tok.padding_side == "left" and not pair.is_loaded("post")
    model, _ = load_model(str(dirs["post"]))
    pair.adopt("post", model)
    assert pair.get("post")[0] is model
    pair.unload("post")
    assert not pair.is_loaded("post")
    assert pair.get("post")[0] is not model  # reloaded from the spec
    with pytest.raises(ValueError, match="adopt"):
        pair.adopt("base", tiny_model("llama", d_model=32))
