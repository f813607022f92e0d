"""Derived models on tiny random-init models of every family: the theory each rewrite promises.

Expected values come from the rewrite's definition (logits unchanged, h -> h Q, no r
component, a selected planted neuron), computed here with plain torch, never by the selftest.
"""

from __future__ import annotations

import pytest
import torch

from postmech_eval.config import UserError
from postmech_eval.derived import (
    LAYOUTS,
    NOT_QUALIFIED,
    abliterate,
    permute_last_mlp,
    plant_entropy_neuron,
    random_rotation,
    rotate_residual,
)
from postmech_eval.engine.hooks import AblateDirection, intervene
from postmech_eval.estimators.entropy_neurons import EntropyNeuronScan
from tests.tiny_models import ARCHITECTURES, tiny_model

IDS = torch.randint(4, 100, (2, 11), generator=torch.Generator().manual_seed(0))
ROTATABLE = tuple(a for a in ARCHITECTURES if a in LAYOUTS)


def _out(model):
    with torch.no_grad():
        return model(input_ids=IDS, output_hidden_states=True, use_cache=False)


def test_every_family_has_a_layout_or_a_reason():
    assert set(LAYOUTS) | set(NOT_QUALIFIED) == set(ARCHITECTURES)
    assert set(ROTATABLE) == {"llama", "mistral", "qwen2", "phi3", "gpt2", "gpt_neox"}


@pytest.mark.parametrize("fix_ones", [False, True])
def test_random_rotation_is_orthogonal(fix_ones):
    q = random_rotation(16, 3, fix_ones=fix_ones)
    assert torch.allclose(q @ q.T, torch.eye(16, dtype=q.dtype), atol=1e-12)
    if fix_ones:
        ones = torch.ones(16, dtype=q.dtype)
        assert torch.allclose(ones @ q, ones, atol=1e-12)


@pytest.mark.parametrize("arch", ROTATABLE)
def test_rotation_keeps_logits_and_rotates_every_residual_state(arch):
    model = tiny_model(arch)
    rotated, q = rotate_residual(model, seed=1)
    a, b = _out(model), _out(rotated)
    assert (a.logits - b.logits).abs().max() < 1e-5
    for h, g in zip(a.hidden_states[:-1], b.hidden_states[:-1], strict=True):  # last one is post-norm
        assert (h.double() @ q - g.double()).abs().max() < 1e-5
    # the original is untouched
    assert (_out(model).logits - a.logits).abs().max() == 0


@pytest.mark.parametrize("arch", sorted(NOT_QUALIFIED))
def test_rotation_refuses_post_norm_families_with_the_reason(arch):
    with pytest.raises(UserError, match="post-attention / post-feedforward"):
        rotate_residual(tiny_model(arch))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_permutation_keeps_logits_and_maps_the_entropy_neurons(arch):
    model = tiny_model(arch)
    permuted, perm = permute_last_mlp(model, seed=2)
    assert (_out(model).logits - _out(permuted).logits).abs().max() < 1e-5
    sb, sp = EntropyNeuronScan().fit(model), EntropyNeuronScan().fit(permuted)
    assert sorted(int(perm[j]) for j in sp.neurons_) == sorted(sb.neurons_)
    assert torch.allclose(sp.logitvar_, sb.logitvar_[perm])


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gpt_neox", "phi3"])
def test_abliterated_model_equals_the_original_under_directional_ablation(arch):
    model = tiny_model(arch)
    r = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(4))
    r = r / r.norm()
    ablit = abliterate(model, r)
    with torch.no_grad(), intervene(model, [AblateDirection(direction=r)]):
        want = model(input_ids=IDS).logits
    got = _out(ablit)
    assert (want - got.logits).abs().max() < 1e-5
    assert (_out(model).logits - got.logits).abs().max() > 1e-3  # it did change the model
    for h in got.hidden_states[:-1]:
        assert (h @ r).abs().max() < 1e-5


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_planted_neuron_is_selected_first(arch):
    model = tiny_model(arch)
    planted, info = plant_entropy_neuron(model, neuron=5)
    scan = EntropyNeuronScan().fit(planted)
    assert scan.neurons_[0] == 5
    assert float(scan.norms_.max()) == pytest.approx(float(scan.norms_[5]))
    assert info.logitvar_ratio < 0.5
