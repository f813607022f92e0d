"""Directional ablation edits the residual stream itself, on every family (Gemma-3's extra norms included).

Why: on the real Gemma-3-270M, ablating any direction (the refusal candidates and random
ones alike) moves the first-token distribution by several nats. Gemma-2/3 add the output of
``post_attention_layernorm`` / ``post_feedforward_layernorm`` to the residual, not the
attention / MLP output, so a hook on the wrong module would ablate something that is then
re-normed and leave the stream with a component along r. These tests pin what the engine
does: under ``AblateDirection`` the residual stream HF itself reports (``hidden_states``,
all layers but the final-normed last) has no component along r, and the engine's hooks give
the same logits as a hand-written ablation on the modules the block really adds. The slow
test shows, on the real model, that the large KL comes from the model (massive residual
dimensions, README "A real pair") and not from the hooks.
"""

from __future__ import annotations

import pytest
import torch

from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.capture import encode
from postmech_eval.engine.hooks import ablate_direction
from tests.gemma import load_gemma, require_gemma
from tests.tiny_models import ARCHITECTURES, tiny_model, tiny_tokenizer

PROMPTS = ["the city of paris is in france .", "hello world !", "tell me how to make a cake please"]


def _manual_ablation(model: torch.nn.Module, u: torch.Tensor) -> list:
    """Hooks written out by hand for the llama-like and post-norm layouts: layer input, and
    the output of the module whose result the decoder layer adds to the residual."""

    def proj(x: torch.Tensor) -> torch.Tensor:
        return x - (x @ u).unsqueeze(-1) * u

    def pre(mod, args, kwargs):
        if args:
            return (proj(args[0]), *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": proj(kwargs["hidden_states"])}

    def post(mod, args, out):
        return (proj(out[0]), *out[1:]) if isinstance(out, tuple) else proj(out)

    handles = []
    for layer in model.model.layers:
        handles.append(layer.register_forward_pre_hook(pre, with_kwargs=True))
        if hasattr(layer, "post_feedforward_layernorm"):  # Gemma-2/3: the post norms are added
            handles += [layer.post_attention_layernorm.register_forward_hook(post),
                        layer.post_feedforward_layernorm.register_forward_hook(post)]  # fmt: skip
        else:
            handles += [layer.self_attn.register_forward_hook(post), layer.mlp.register_forward_hook(post)]
    return handles


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_ablated_residual_stream_has_no_component_along_r(arch: str) -> None:
    model, tok = tiny_model(arch), tiny_tokenizer()
    ad = get_adapter(model)
    u = torch.randn(ad.d_model, generator=torch.Generator().manual_seed(5))
    u = u / u.norm()
    enc = encode(tok, PROMPTS)
    with torch.no_grad():
        plain = model(**enc, output_hidden_states=True).hidden_states
        with ablate_direction(model, u):
            hs = model(**enc, output_hidden_states=True).hidden_states
    # hidden_states[0] is the embedding (before layer 0's input hook), [L] the final-normed output
    assert max(float((h @ u).abs().max()) for h in plain[1:-1]) > 1e-2
    for i, h in enumerate(hs[1:-1], start=1):
        assert float((h @ u).abs().max()) < 1e-4 * max(1.0, float(h.abs().max())), (
            f"{arch}: hidden_states[{i}]"
        )


@pytest.mark.parametrize("arch", ["gemma2", "gemma3", "llama", "olmo2"])
def test_engine_ablation_equals_a_hand_written_one(arch: str) -> None:
    model, tok = tiny_model(arch), tiny_tokenizer()
    u = torch.randn(get_adapter(model).d_model, generator=torch.Generator().manual_seed(6))
    u = u / u.norm()
    enc = encode(tok, PROMPTS)
    with torch.no_grad():
        with ablate_direction(model, u):
            ours = model(**enc).logits
        handles = _manual_ablation(model, u)
        try:
            ref = model(**enc).logits
        finally:
            for h in handles:
                h.remove()
    assert (ours - ref).abs().max() < 1e-5


@pytest.mark.slow
def test_real_gemma_random_direction_ablation_kl_comes_from_the_model() -> None:
    """On Gemma-3-270M a random unit direction's ablation already costs nats of first-token
    KL, the engine and the hand-written hooks agree, and the residual has entries of 1e3+
    (massive dimensions) that any direction with a component on them disturbs."""
    require_gemma()
    model, tok = load_gemma()
    enc = encode(tok, ["User: Write a one-sentence summary of why sleep is important.\nAssistant:"])
    u = torch.randn(640, generator=torch.Generator().manual_seed(0))
    u = u / u.norm()
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
        with ablate_direction(model, u):
            ours = model(**enc).logits[0, -1]
        handles = _manual_ablation(model, u)
        try:
            ref = model(**enc).logits[0, -1]
        finally:
            for h in handles:
                h.remove()
    p = torch.log_softmax(out.logits[0, -1].double(), -1)
    kl = float((p.exp() * (p - torch.log_softmax(ours.double(), -1))).sum())
    kl_ref = float((p.exp() * (p - torch.log_softmax(ref.double(), -1))).sum())
    assert abs(kl - kl_ref) < 1e-3 * max(1.0, kl_ref)
    assert kl > 1.0, kl  # a random direction: not function-preserving on this model
    assert max(float(h.abs().max()) for h in out.hidden_states[2:-1]) > 1e3
