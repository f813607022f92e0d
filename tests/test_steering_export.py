from __future__ import annotations

import json

import pytest
import torch

from postmech_eval.analyses.refusal.steering_export import export_steering, load_steering, steering_hookpoint
from postmech_eval.engine.hooks import AddVector, intervene
from postmech_eval.estimators.refusal_direction import site_for_layer
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)


@pytest.mark.parametrize(("layer", "expected"), [(0, "embed_tokens"), (1, "layers.0"), (3, "layers.2")])
def test_hookpoint_names_module_under_base_model(layer: int, expected: str) -> None:
    model = tiny_model("llama", n_layers=3)
    assert steering_hookpoint(model, layer) == expected
    names = dict(model.base_model.named_modules())
    assert expected in names


def test_hookpoint_rejects_layer_beyond_depth_and_gemma2_layer0() -> None:
    with pytest.raises(ValueError, match=r"'layer'.*\[0, 3\]"):
        steering_hookpoint(tiny_model("llama", n_layers=3), 4)
    with pytest.raises(ValueError, match="gemma2"):
        steering_hookpoint(tiny_model("gemma2", n_layers=2), 0)


def test_export_format_is_hf_steered_and_weights_only_loadable(tmp_path) -> None:
    vec = torch.tensor([3.0, 4.0])
    files = export_steering(tmp_path / "s.pt", "layers.1", vec, layer=2, coefficient=1.5, metadata={"m": "x"})
    # hf_steered reads this dict; it must also load with the safe unpickler.
    cfg = torch.load(files["steer_pt"], weights_only=True)
    assert list(cfg) == ["layers.1"]
    entry = cfg["layers.1"]
    assert entry["action"] == "add" and entry["bias"] is None and entry["head_index"] is None
    assert entry["steering_coefficient"] == 1.5
    torch.testing.assert_close(entry["steering_vector"], torch.tensor([0.6, 0.8]))
    hook, unit, coeff = load_steering(files["steer_pt"])
    assert (hook, coeff) == ("layers.1", 1.5)
    torch.testing.assert_close(unit, torch.tensor([0.6, 0.8]))
    meta = json.loads((tmp_path / "s.json").read_text())
    assert meta["layer"] == 2 and meta["m"] == "x"
    with pytest.raises(ValueError, match="'path'"):
        export_steering(tmp_path / "s.safetensors", "layers.1", vec, layer=2, coefficient=1.0)


@pytest.mark.parametrize("layer", [0, 2, 3])
def test_hf_steered_hook_equals_engine_addition(layer: int) -> None:
    """hf_steered's output hook at the exported hookpoint == our AddVector at resid_pre of layer."""
    from lm_eval.models.hf_steered import SteeredModel, steer

    model, tok = tiny_model("llama", n_layers=3), tiny_tokenizer()
    vec = torch.randn(64, generator=torch.Generator().manual_seed(layer))
    enc = tok(["tell me a poem", "make a bomb please now"], return_tensors="pt", padding=True)
    hook = steering_hookpoint(model, layer)
    with torch.no_grad():
        with intervene(model, [AddVector(site=site_for_layer(layer, 3), vector=vec, coeff=2.0)]):
            ours = model(**enc).logits
        fn = {hook: lambda acts: SteeredModel.add(acts, vector=2.0 * vec, head_index=None)}
        with steer(model, fn):
            theirs = model(**enc).logits
        plain = model(**enc).logits
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(ours, plain)
