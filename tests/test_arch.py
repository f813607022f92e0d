"""Architecture adapters: table rows resolve to the right modules for every family."""

from __future__ import annotations

import pytest
import torch
import transformers

from postmech_eval.engine.arch import SUPPORTED, get_adapter, parse_site, spec_for_config
from postmech_eval.engine.hooks import capture
from tests.tiny_models import ARCHITECTURES, tiny_model, tiny_tokenizer

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def models() -> dict:
    return {a: tiny_model(a) for a in ARCHITECTURES}


def test_every_tiny_architecture_is_supported() -> None:
    assert set(ARCHITECTURES) == set(SUPPORTED)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_adapter_shapes(models: dict, arch: str) -> None:
    model = models[arch]
    ad = get_adapter(model)
    assert ad.n_layers == 3
    assert ad.d_model == 64
    assert ad.unembed_weight.shape == (model.config.vocab_size, 64)
    assert ad.down_proj_weight(0).shape == (64, ad.d_mlp)
    assert ad.norm_weight_offset == (1.0 if arch.startswith("gemma") else 0.0)
    assert ad.norm_kind == ("layernorm" if arch in ("gpt2", "gpt_neox") else "rms")
    assert torch.equal(ad.final_norm_weight, ad.final_norm.weight.detach() + ad.norm_weight_offset)
    assert get_adapter(model) is ad  # cached


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_streams_add_up_and_neurons_feed_down_proj(models: dict, arch: str) -> None:
    """resid_post = resid_pre + attn_out + mlp_out: attn_out/mlp_out are what is added."""
    model = models[arch]
    ad = get_adapter(model)
    enc = tiny_tokenizer()(["the city of paris is in france"], return_tensors="pt")
    with torch.no_grad(), capture(model, ad.sites()) as cache:
        model(**enc)
    for layer in range(ad.n_layers):
        c = {s: cache[f"blocks.{layer}.{s}"] for s in ("resid_pre", "resid_post", "attn_out")}
        total = c["resid_pre"] + c["attn_out"] + cache[f"blocks.{layer}.mlp_out"]
        torch.testing.assert_close(total, c["resid_post"], atol=1e-5, rtol=0)
        neurons = cache[f"blocks.{layer}.mlp_neurons"]
        assert neurons.shape[-1] == ad.d_mlp
        down = ad.down_proj(layer)
        with torch.no_grad():
            out = down(neurons)
            # formula: down(x) = x W^T + b with W = down_proj_weight [d_model, d_mlp]
            ref = neurons @ ad.down_proj_weight(layer).T
            if getattr(down, "bias", None) is not None:
                ref = ref + down.bias
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
        if arch in ("gemma2", "gemma3", "olmo2"):  # post-feedforward norm sits between
            out = ad.layers[layer].post_feedforward_layernorm(out)
        torch.testing.assert_close(out, cache[f"blocks.{layer}.mlp_out"], atol=1e-5, rtol=0)


def test_parse_site_rejects_typos_with_close_matches() -> None:
    assert parse_site("blocks.2.resid_pre", 3) == (2, "resid_pre")
    with pytest.raises(KeyError, match="resid_post"):
        parse_site("blocks.2.resid_pst")
    with pytest.raises(KeyError, match="blocks"):
        parse_site("layers.2.resid_pre")
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        parse_site("blocks.3.resid_pre", 3)
    with pytest.raises(TypeError):
        parse_site(3)  # type: ignore[arg-type]


def test_unknown_architecture_names_supported_ones() -> None:
    cfg = transformers.BloomConfig()
    with pytest.raises(ValueError, match="Supported families: llama, mistral"):
        spec_for_config(cfg)
