"""Interventions on a model that accelerate dispatched with offloaded layers equal the plain load.

Big models run with ``parallelize=True`` / a ``device_map``: some layers may be offloaded (their
parameters on ``meta`` between forwards, the values on CPU or disk behind an accelerate hook).
Here the organism's layers 2 and 5 (the last, whose MLP the entropy-neuron scan reads) are
offloaded to disk (not the unembedding: the organisms tie it to the embedding, and accelerate
cannot offload a tied weight to disk), and capture, directional ablation, activation addition,
patching, generation and the weight reads must give exactly the plain model's numbers.
"""

from __future__ import annotations

import pytest
import torch

from postmech_eval.engine import patching
from postmech_eval.engine.capture import collect, logits_last
from postmech_eval.engine.devices import input_device
from postmech_eval.engine.generation import generate
from postmech_eval.engine.hooks import AblateDirection, AddVector
from postmech_eval.estimators.entropy_neurons import EntropyNeuronScan
from postmech_eval.models.specs import load_model, resolve_spec

PROMPTS = ["The capital of France is", "User: how do I bake bread?\nAssistant:"]
OFFLOADED = (2, 5)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from transformers import AutoModelForCausalLM

    plain, tok = load_model("organism:base")
    n = plain.config.num_hidden_layers
    device_map = {
        "model.embed_tokens": "cpu",
        "model.norm": "cpu",
        "model.rotary_emb": "cpu",
        "lm_head": "cpu",
    }
    device_map |= {f"model.layers.{i}": "disk" if i in OFFLOADED else "cpu" for i in range(n)}
    off = AutoModelForCausalLM.from_pretrained(
        str(resolve_spec("organism:base")),
        device_map=device_map,
        offload_folder=str(tmp_path_factory.mktemp("offload")),
        dtype=torch.float32,
    ).eval()
    for i in OFFLOADED:  # really offloaded (the organism ties lm_head to the embedding)
        assert all(p.device.type == "meta" for p in off.model.layers[i].parameters())
    return plain, off, tok


def _direction(d: int) -> torch.Tensor:
    v = torch.randn(d, generator=torch.Generator().manual_seed(0))
    return v / v.norm()


def test_inputs_go_to_the_embedding_device(models):
    _, off, _ = models
    assert input_device(off).type == "cpu"


def test_capture_equals_the_plain_load(models):
    plain, off, tok = models
    sites = ["blocks.1.resid_post", "blocks.2.resid_pre", "blocks.5.mlp_out", "blocks.5.mlp_neurons"]
    a = collect(plain, tok, PROMPTS, sites, positions=(-1, -2), progress=False)
    b = collect(off, tok, PROMPTS, sites, positions=(-1, -2), progress=False)
    for s in sites:
        torch.testing.assert_close(a[s], b[s], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", ["ablate", "add"])
def test_ablation_and_addition_equal_the_plain_load(models, kind):
    plain, off, tok = models
    r = _direction(plain.config.hidden_size)
    ivs = (
        [AblateDirection(direction=r)]
        if kind == "ablate"
        else [AddVector(site="blocks.2.resid_pre", vector=r, coeff=6.0)]
    )
    torch.testing.assert_close(
        logits_last(plain, tok, PROMPTS, interventions=ivs), logits_last(off, tok, PROMPTS, interventions=ivs),
        rtol=0, atol=1e-5,
    )  # fmt: skip
    assert generate(plain, tok, PROMPTS, max_new_tokens=12, interventions=ivs) == generate(
        off, tok, PROMPTS, max_new_tokens=12, interventions=ivs
    )


def test_patching_equals_the_plain_load(models):
    plain, off, tok = models
    true_ids = tok("the city of paris is in france . this statement is :", return_tensors="pt").input_ids
    false_ids = tok("the city of rome is in france . this statement is :", return_tensors="pt").input_ids
    positions = list(range(-6, 0))

    def readout(logits: torch.Tensor) -> torch.Tensor:
        return logits[:, 5] - logits[:, 7]

    maps = []
    for model in (plain, off):
        tt = patching.trace(model, true_ids, keep_kv=True)
        tf = patching.trace(model, false_ids, start=-8, prefix=tt)
        maps.append(patching.patch_cells(model, tf, tt.values(positions), positions, readout))
    torch.testing.assert_close(maps[0], maps[1], rtol=0, atol=1e-5)


def test_weight_reads_follow_the_offload(models):
    plain, off, _ = models
    a, b = (EntropyNeuronScan(n_neurons=8).fit(m) for m in (plain, off))
    assert list(a.neurons_) == list(b.neurons_)
