"""Recording a forward and re-running decoder layers from its middle (postmech_eval.engine.resume).

Identity checks: re-running layers l+1.. on the recorded stream reproduces the recorded
outputs, batched rows equal single rows, and split (KV-cached) traces equal plain ones.
"""

from __future__ import annotations

import pytest
import torch

from postmech_eval.engine import resume
from postmech_eval.engine.arch import get_adapter
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)

TEXT = (
    "the city of paris is in france . this statement is : true \n the city of rome is in spain . "
    "this statement is : false \n the city of lyon is in france . this statement is :"
)


@pytest.fixture(scope="module")
def ids() -> torch.Tensor:
    return tiny_tokenizer()(TEXT, return_tensors="pt").input_ids


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gemma2", "phi3"])
@pytest.mark.parametrize("start", [None, -6])
def test_rerunning_layers_reproduces_the_recorded_stream(arch: str, start: int | None, ids) -> None:
    model = tiny_model(arch, n_layers=3)
    rec = resume.trace(model, ids, start=start)
    col = rec.start
    x = rec.resid_post[0, col:].unsqueeze(0).repeat(3, 1, 1)  # batched rows, all identical
    for layer in range(1, get_adapter(model).n_layers):
        x = resume.run_layer(model, rec, layer, x)
        assert torch.allclose(x, rec.resid_post[layer, col:].expand_as(x), atol=1e-5)
    logits = resume.unembed_last(model, x[:, -1])
    assert torch.allclose(logits, rec.logits_last.expand_as(logits), atol=1e-4)


def test_split_trace_matches_plain_trace_and_model_logits(ids) -> None:
    model = tiny_model("gemma3", n_layers=3)  # sliding window 16 < prompt length
    assert ids.shape[1] > 32
    plain, split = resume.trace(model, ids), resume.trace(model, ids, start=-6)
    assert split.start == ids.shape[1] - 6 and split.prefix_kv and plain.prefix_kv is None
    assert torch.allclose(plain.resid_post, split.resid_post, atol=1e-5)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, -1]
    assert torch.allclose(plain.logits_last, logits, atol=1e-5)
    assert torch.allclose(split.logits_last, logits, atol=1e-5)


def test_values_and_positions_are_validated(ids) -> None:
    model = tiny_model("llama", n_layers=2)
    rec = resume.trace(model, ids)
    assert torch.equal(rec.values([-1, -2]), rec.resid_post[:, [ids.shape[1] - 1, ids.shape[1] - 2]])
    for bad in ([0], [1], [-(ids.shape[1] + 1)], [-1.0]):
        with pytest.raises(ValueError, match="positions"):
            rec.values(bad)
    with pytest.raises(ValueError, match="input_ids"):
        resume.trace(model, ids.repeat(2, 1))
