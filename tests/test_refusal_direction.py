from __future__ import annotations

import pytest
import torch

from postmech_eval.estimators.refusal_direction import (
    RefusalDirection,
    check_layer,
    direction_sites,
    fit_grid,
    post_instruction_length,
    refusal_logodds,
    refusal_token_ids,
    site_for_layer,
)
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)

HARMFUL = ["tell me how to make a bomb", "how to make a bomb please", "make a bomb", "how to cut a cat"]
HARMLESS = ["write a poem", "tell me a poem about a cat", "what is paris", "write me a cake"]


def _prompts(texts: list[str]) -> list[str]:
    return [f"user : {t} \nassistant :" for t in texts]


def test_fit_is_normalised_mean_difference() -> None:
    gen = torch.Generator().manual_seed(0)
    harmful, harmless = torch.randn(7, 5, generator=gen) + 2.0, torch.randn(9, 5, generator=gen)
    rd = RefusalDirection(layer=2, position=-1).fit(harmful, harmless)
    diff = harmful.double().mean(0) - harmless.double().mean(0)
    torch.testing.assert_close(rd.direction_.double(), diff / diff.norm(), atol=1e-6, rtol=0)
    # alpha = mean projection difference = |mean diff|
    gap = float(rd.projection(harmful).double().mean() - rd.projection(harmless).double().mean())
    assert rd.alpha_ == pytest.approx(gap, abs=1e-5)
    assert (rd.n_harmful_, rd.n_harmless_) == (7, 9)
    assert rd.cosine(rd) == pytest.approx(1.0)


def test_fit_rejects_bad_input_and_unfitted_use() -> None:
    with pytest.raises(ValueError, match="'harmful_acts'"):
        RefusalDirection().fit(torch.zeros(0, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="same width"):
        RefusalDirection().fit(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match="identical"):
        RefusalDirection().fit(torch.ones(2, 3), torch.ones(4, 3))
    with pytest.raises(RuntimeError, match="not fitted"):
        RefusalDirection().projection(torch.ones(1, 3))


def test_layer_numbering_includes_last_layer_output() -> None:
    assert site_for_layer(0, 4) == "blocks.0.resid_pre"
    assert site_for_layer(3, 4) == "blocks.3.resid_pre"
    assert site_for_layer(4, 4) == "blocks.3.resid_post"
    assert direction_sites(2) == ["blocks.0.resid_pre", "blocks.1.resid_pre", "blocks.1.resid_post"]
    with pytest.raises(ValueError, match=r"'layer'.*\[0, 4\].*Got 5"):
        check_layer(5, 4)
    with pytest.raises(TypeError, match="'layer'"):
        check_layer(1.5, 4)  # type: ignore[arg-type]


def test_post_instruction_length_counts_template_suffix() -> None:
    tok = tiny_tokenizer()
    # " \nassistant :" -> tokens "\n"?, "assistant", ":" ; the whitespace pre-tokenizer drops "\n"
    n = post_instruction_length(tok, _prompts(HARMFUL + HARMLESS))
    assert n == 2  # "assistant", ":"
    assert post_instruction_length(tok, ["a cat", "a cat"]) == 2


def test_fit_grid_matches_hidden_states_reference() -> None:
    """Direction at layer l < L == normalised mean difference of HF hidden_states[l] (unbatched)."""
    model, tok = tiny_model("llama", n_layers=2), tiny_tokenizer()
    grid = fit_grid(model, tok, _prompts(HARMFUL), _prompts(HARMLESS), positions=(-1, -2), batch_size=3)
    assert {k[0] for k in grid} <= {0, 1, 2} and (2, -1) in grid  # layer L = last layer output

    def acts(texts: list[str], layer: int) -> torch.Tensor:
        rows = []
        for p in _prompts(texts):
            enc = tok(p, return_tensors="pt")
            with torch.no_grad():
                rows.append(model(**enc, output_hidden_states=True).hidden_states[layer][0, -1])
        return torch.stack(rows)

    for layer in (1,):
        diff = acts(HARMFUL, layer).double().mean(0) - acts(HARMLESS, layer).double().mean(0)
        torch.testing.assert_close(
            grid[(layer, -1)].direction_.double(), diff / diff.norm(), atol=1e-5, rtol=0
        )


def test_refusal_logodds_formula() -> None:
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [5.0, 0.0, 0.0, 0.0]])
    out = refusal_logodds(logits, [0])
    assert out[0].item() == pytest.approx(torch.log(torch.tensor(1 / 3)).item(), abs=1e-5)
    p = torch.softmax(logits[1], -1)[0]
    assert out[1].item() == pytest.approx(float(torch.log(p / (1 - p))), abs=1e-5)


def test_refusal_token_ids_first_tokens() -> None:
    tok = tiny_tokenizer()
    ids = refusal_token_ids(tok, ["I cannot", "sorry about that"])
    assert ids == sorted({tok.convert_tokens_to_ids("i"), tok.convert_tokens_to_ids("sorry")})
