"""EntropyNeuronScan == the METHODS §5 formula written out on the raw weight matrices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from postmech_eval.estimators.entropy_neurons import EntropyNeuronScan
from tests.tiny_models import tiny_model

torch.set_num_threads(1)


def _raw_weights(model, arch):
    """(W_out [d_model, d_mlp], g [d_model], W_U [vocab, d_model], layernorm?) read by hand."""
    if arch == "gpt2":
        w_out = model.transformer.h[-1].mlp.c_proj.weight.T  # Conv1D stores [in=d_mlp, out=d_model]
        return w_out, model.transformer.ln_f.weight, model.lm_head.weight, True
    if arch == "gpt_neox":
        w_out = model.gpt_neox.layers[-1].mlp.dense_4h_to_h.weight
        return w_out, model.gpt_neox.final_layer_norm.weight, model.lm_head.weight, True
    g = model.model.norm.weight
    if arch.startswith("gemma"):
        g = 1.0 + g
    return model.model.layers[-1].mlp.down_proj.weight, g, model.lm_head.weight, False


def _reference(model, arch, q=0.75, k=10):
    """The formula with plain numpy ops, independent of the package code."""
    *tensors, layernorm = _raw_weights(model, arch)
    w_out, g, w_u = (t.detach().double().numpy() for t in tensors)
    if layernorm:
        w_out = w_out - w_out.mean(axis=0, keepdims=True)
    u = g[:, None] * w_u.T  # [d_model, vocab]
    u = u - u.mean(axis=1, keepdims=True)
    u = u / np.linalg.norm(u, axis=0, keepdims=True)
    norms = np.linalg.norm(w_out, axis=0)
    c = (w_out / norms).T @ u  # [d_mlp, vocab]
    logitvar = c.var(axis=1, ddof=1)
    thr = np.quantile(norms, q, method="linear")
    cand = np.flatnonzero(norms > thr)
    chosen = cand[np.argsort(logitvar[cand], kind="stable")][:k]
    return norms, logitvar, [int(i) for i in chosen]


def _spread_norms(model, arch, seed=0):
    """Random init gives near-equal norms; rescale columns so the quantile step matters."""
    w_out = _raw_weights(model, arch)[0]
    gen = torch.Generator().manual_seed(seed)
    scale = torch.exp(torch.randn(w_out.shape[1], generator=gen))
    with torch.no_grad():
        if arch == "gpt2":
            model.transformer.h[-1].mlp.c_proj.weight.mul_(scale[:, None])
        else:
            w_out.mul_(scale[None, :])


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gpt_neox", "gemma3"])
def test_selection_equals_direct_formula(arch):
    model = tiny_model(arch, n_layers=2)
    _spread_norms(model, arch)
    scan = EntropyNeuronScan().fit(model)
    norms, logitvar, chosen = _reference(model, arch)
    np.testing.assert_allclose(scan.norms_.numpy(), norms, rtol=1e-10)
    np.testing.assert_allclose(scan.logitvar_.numpy(), logitvar, rtol=1e-8)
    assert scan.neurons_ == chosen
    assert len(scan.neurons_) == 10
    assert all(norms[i] > scan.threshold_ for i in scan.neurons_)
    assert len(scan.candidates_) == int((norms > np.quantile(norms, 0.75)).sum())


def test_config_changes_selection_and_tied_unembedding():
    model = tiny_model("gemma3", n_layers=2)  # tied embeddings
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    _spread_norms(model, "gemma3", seed=3)
    scan = EntropyNeuronScan(norm_quantile=0.5, n_neurons=4).fit(model)
    assert scan.neurons_ == _reference(model, "gemma3", q=0.5, k=4)[2]


def test_entropy_neuron_is_found():
    """A planted neuron in the unembedding's null space with a large norm is ranked first."""
    model = tiny_model("llama", n_layers=2)
    w_out = model.model.layers[-1].mlp.down_proj.weight
    u = (model.model.norm.weight[:, None] * model.lm_head.weight.T).detach()
    u = u - u.mean(dim=1, keepdim=True)
    null_dir = torch.linalg.svd(u.double(), full_matrices=True)[0][:, -1].float()  # least-used direction
    with torch.no_grad():
        w_out[:, 7] = 5.0 * w_out.norm(dim=0).max() * null_dir
    scan = EntropyNeuronScan(n_neurons=3).fit(model)
    assert scan.neurons_[0] == 7
    row = scan.table()[7]
    assert row["selected"] and row["rank"] == 0 and row["candidate"]


def test_random_control_same_norm_range_and_seeded():
    model = tiny_model("llama", n_layers=2)
    _spread_norms(model, "llama")
    scan = EntropyNeuronScan(n_neurons=5).fit(model)
    a, b = scan.random_control(seed=1), scan.random_control(seed=1)
    assert a == b and len(a) == 5
    assert set(a) <= set(scan.candidates_) and not set(a) & set(scan.neurons_)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"norm_quantile": 1.0}, "norm_quantile"),
        ({"n_neurons": 0}, "n_neurons"),
        ({"n_neurons": 2.5}, "n_neurons"),
    ],
)
def test_bad_params_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        EntropyNeuronScan(**kwargs).fit(tiny_model("llama", n_layers=2))


def test_table_before_fit_raises():
    with pytest.raises(RuntimeError, match="not fitted"):
        EntropyNeuronScan().table()


def test_streamed_large_vocab_path_matches(monkeypatch):
    """The float32 vocab-chunk path (used for 262k-token vocabularies) agrees with the formula."""
    import postmech_eval.estimators.entropy_neurons as en

    monkeypatch.setattr(en, "_EXACT_LIMIT", 0)
    monkeypatch.setattr(en, "_CHUNK", 37)  # several chunks, the last one partial
    model = tiny_model("gpt2", n_layers=2)
    _spread_norms(model, "gpt2")
    scan = EntropyNeuronScan().fit(model)
    norms, logitvar, chosen = _reference(model, "gpt2")
    np.testing.assert_allclose(scan.logitvar_.numpy(), logitvar, rtol=1e-4)
    assert scan.neurons_ == chosen
