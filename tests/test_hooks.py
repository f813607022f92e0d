"""Hook primitives: capture, add, ablate-direction, patch, neuron ablation.

Identities on tiny random-init models of every supported family: capture ==
HF hidden states, ablation leaves no projection, self-patching is a no-op,
batched == one-by-one under every intervention kind, hooks always removed.
"""

from __future__ import annotations

import pytest
import torch

from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.capture import collect, encode, logits_last
from postmech_eval.engine.generation import generate_ids
from postmech_eval.engine.hooks import (
    AblateDirection,
    AblateNeurons,
    AddVector,
    Patch,
    ablate_direction,
    ablate_neurons,
    add_vector,
    capture,
    check_positions,
    intervene,
    patch,
)
from tests.tiny_models import ARCHITECTURES, tiny_model, tiny_tokenizer

torch.set_num_threads(1)
PROMPTS = [
    "the city of paris is in france .",
    "hello world !",
    "tell me how to make a cake please",
    "is lyon in spain ?",
]


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def models() -> dict:
    return {a: tiny_model(a) for a in ARCHITECTURES}


def _n_hooks(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_capture_resid_post_equals_output_hidden_states(models, tok, arch) -> None:
    """HF's hidden_states[L+1] == resid_post of layer L, except the last entry,
    which HF returns after the final norm: there we compare final_norm(resid_post)."""
    model = models[arch]
    ad = get_adapter(model)
    enc = encode(tok, PROMPTS)
    sites = [f"blocks.{i}.resid_post" for i in range(ad.n_layers)]
    with torch.no_grad(), capture(model, sites) as cache:
        hs = model(**enc, output_hidden_states=True).hidden_states
    for layer in range(ad.n_layers):
        got = cache[sites[layer]]
        if layer == ad.n_layers - 1:
            with torch.no_grad():
                got = ad.final_norm(got)
        assert (got - hs[layer + 1]).abs().max() < 1e-5
    with torch.no_grad(), capture(model, ["blocks.0.resid_pre"]) as cache:
        model(**enc)
    assert (cache["blocks.0.resid_pre"] - hs[0]).abs().max() < 1e-5


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_ablate_direction_removes_projection_in_prompt_and_generation(models, tok, arch) -> None:
    model = models[arch]
    ad = get_adapter(model)
    r = torch.randn(ad.d_model, generator=torch.Generator().manual_seed(3))
    u = r / r.norm()
    sites = ad.sites(("resid_pre", "attn_out", "mlp_out"))
    enc = encode(tok, PROMPTS)
    with torch.no_grad(), capture(model, sites) as plain:
        model(**enc)
    assert max((plain[s] @ u).abs().max() for s in sites) > 1e-2  # there is something to remove
    with ablate_direction(model, r), capture(model, sites, positions="all") as cache:
        out = generate_ids(model, tok, PROMPTS, max_new_tokens=5, batch_size=4)
    n_prompt = enc["input_ids"].shape[1]
    for s in sites:
        acts = cache[s]
        assert acts.shape[1] == n_prompt + 4  # prefill + 4 decode steps
        assert (acts @ u).abs().max() < 1e-5, s
    assert all(len(o) == 5 for o in out)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_patch_with_own_cache_is_a_no_op(models, tok, arch) -> None:
    model = models[arch]
    ad = get_adapter(model)
    pos = (-3, -2, -1)
    sites = ad.sites(("resid_pre", "resid_post", "attn_out", "mlp_out", "mlp_neurons"))
    acts = collect(model, tok, PROMPTS, sites, positions=pos, progress=False)
    base = logits_last(model, tok, PROMPTS)
    ivs = [Patch(site=s, values=acts[s], positions=pos) for s in sites]
    patched = logits_last(model, tok, PROMPTS, interventions=ivs)
    assert (patched - base).abs().max() < 1e-6
    enc = encode(tok, PROMPTS[:1])
    with torch.no_grad(), patch(model, sites[4], acts[sites[4]][:1], pos):
        one = model(**enc).logits[:, -1]
    assert (one - base[:1]).abs().max() < 1e-6


def _intervention_kinds(ad, acts: torch.Tensor) -> dict[str, list]:
    g = torch.Generator().manual_seed(7)
    v = torch.randn(ad.d_model, generator=g)
    return {
        "add_all": [AddVector(site="blocks.1.resid_pre", vector=v, coeff=2.0)],
        "add_last": [AddVector(site="blocks.0.resid_post", vector=v, positions=(-2, -1))],
        "ablate_dir": [AblateDirection(direction=v)],
        "patch": [Patch(site="blocks.1.resid_post", values=acts, positions=(-2, -1))],
        "neurons_zero": [AblateNeurons(layer=2, neurons=[0, 3, 5])],
        "neurons_mean": [
            AblateNeurons(layer=1, neurons=[1, 2], mode="mean", means=torch.tensor([0.5, -1.0]))
        ],
    }


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_batched_equals_one_by_one_under_every_intervention(models, tok, arch) -> None:
    model = models[arch]
    ad = get_adapter(model)
    # values to patch in: another prompt set's activations (a real cross-prompt patch)
    other = collect(model, tok, PROMPTS[::-1], ["blocks.1.resid_post"], (-2, -1), progress=False)
    acts = other["blocks.1.resid_post"]
    for name, ivs in _intervention_kinds(ad, acts).items():
        batched = logits_last(model, tok, PROMPTS, batch_size=4, interventions=ivs)
        single = torch.cat(
            [logits_last(model, tok, [p], interventions=_row(ivs, i)) for i, p in enumerate(PROMPTS)]
        )
        assert (batched - single).abs().max() < 1e-5, name
        if name != "add_last":
            assert (batched - logits_last(model, tok, PROMPTS)).abs().max() > 1e-4, name


def _row(ivs: list, i: int) -> list:
    return [
        Patch(site=iv.site, values=iv.values[i : i + 1], positions=iv.positions)
        if isinstance(iv, Patch)
        else iv
        for iv in ivs
    ]


def test_batched_capture_under_interventions(models, tok) -> None:
    model = models["llama"]
    ad = get_adapter(model)
    ivs = [AblateDirection(direction=torch.ones(ad.d_model))]
    sites = ad.sites(("resid_post", "mlp_neurons"))
    batched = collect(model, tok, PROMPTS, sites, (-3, -1), batch_size=3, interventions=ivs)
    for i, p in enumerate(PROMPTS):
        one = collect(model, tok, [p], sites, (-3, -1), interventions=ivs, progress=False)
        for s in sites:
            assert (batched[s][i] - one[s][0]).abs().max() < 1e-5


@pytest.mark.parametrize("arch", ["llama", "gemma3", "gpt2"])
def test_per_row_directions_equal_one_condition_at_a_time(models, tok, arch) -> None:
    """[batch, d] directions / vectors: each row is ablated or steered exactly as its own
    condition alone would be, and a zero row is exactly the unintervened run."""
    model = models[arch]
    ad = get_adapter(model)
    g = torch.Generator().manual_seed(1)
    r1, r2 = torch.randn(ad.d_model, generator=g), torch.randn(ad.d_model, generator=g)
    site = "blocks.1.resid_pre"
    conds = [None, ("ablate", r1), ("add", r2), ("ablate", r2)]
    prompts = PROMPTS  # one prompt per row, all four conditions in one batch
    ablate = torch.stack([c[1] if c and c[0] == "ablate" else torch.zeros(ad.d_model) for c in conds])
    add = torch.stack([c[1] if c and c[0] == "add" else torch.zeros(ad.d_model) for c in conds])
    rows = [AblateDirection(direction=ablate), AddVector(site=site, vector=add, coeff=3.0)]
    together = logits_last(model, tok, prompts, batch_size=4, interventions=rows)
    for i, c in enumerate(conds):
        if c is None:
            ivs = []
        elif c[0] == "ablate":
            ivs = [AblateDirection(direction=c[1])]
        else:
            ivs = [AddVector(site=site, vector=c[1], coeff=3.0)]
        alone = logits_last(model, tok, prompts, batch_size=4, interventions=ivs)[i]
        assert (together[i] - alone).abs().max() < 1e-5, (arch, i)
        if c is None:  # not merely close: the zero row is the plain forward
            assert torch.equal(together[i], logits_last(model, tok, prompts, batch_size=4)[i])
    # sliced per batch like Patch values: batch 1 and batch 3 give the same rows
    small = logits_last(model, tok, prompts, batch_size=3, interventions=rows)
    assert (small - together).abs().max() < 1e-5
    with pytest.raises(ValueError, match="per-row"):
        with intervene(model, [AddVector(site=site, vector=add[:2])]):
            model(**encode(tok, prompts))


def test_zero_coefficient_and_untouched_layers(models, tok) -> None:
    model = models["llama"]
    enc = encode(tok, PROMPTS)
    sites = ["blocks.0.resid_post", "blocks.1.resid_pre", "blocks.2.resid_post"]
    with torch.no_grad(), capture(model, sites) as base:
        model(**enc)
    v = torch.randn(64)
    with torch.no_grad(), add_vector(model, "blocks.1.resid_pre", v, coeff=0.0):
        with capture(model, sites) as zero:
            model(**enc)
    with torch.no_grad(), add_vector(model, "blocks.1.resid_pre", v):
        with capture(model, sites) as added:
            model(**enc)
    for s in sites:
        assert torch.equal(zero[s], base[s])
    assert torch.equal(added["blocks.0.resid_post"], base["blocks.0.resid_post"])
    torch.testing.assert_close(added["blocks.1.resid_pre"], base["blocks.1.resid_pre"] + v, atol=1e-6, rtol=0)


def test_ablate_neurons_matches_zeroed_down_proj_columns(models, tok) -> None:
    """Formula reference: zeroing neurons == zeroing the down projection's input columns."""
    model = models["llama"]
    ad = get_adapter(model)
    neurons = [0, 7, 42]
    with ablate_neurons(model, 2, neurons):
        got = logits_last(model, tok, PROMPTS)
    w = ad.down_proj(2).weight
    saved = w.detach().clone()
    try:
        with torch.no_grad():
            w[:, neurons] = 0.0
        ref = logits_last(model, tok, PROMPTS)
    finally:
        with torch.no_grad():
            w.copy_(saved)
    assert (got - ref).abs().max() < 1e-5
    means_full = torch.linspace(-1, 1, ad.d_mlp)
    with ablate_neurons(model, 2, neurons, mode="mean", means=means_full):
        a = logits_last(model, tok, PROMPTS)
    with ablate_neurons(model, 2, neurons, mode="mean", means=means_full[neurons]):
        b = logits_last(model, tok, PROMPTS)
    assert torch.equal(a, b)


def test_generated_positions_only_touch_decode_steps(models, tok) -> None:
    model = models["llama"]
    v = torch.randn(64) * 5
    base = logits_last(model, tok, PROMPTS)
    with add_vector(model, "blocks.1.resid_pre", v, positions="generated"):
        assert torch.equal(logits_last(model, tok, PROMPTS), base)
        with capture(model, ["blocks.1.resid_pre"], positions="generated") as cache:
            ids = generate_ids(model, tok, PROMPTS, max_new_tokens=4)
    assert cache["blocks.1.resid_pre"].shape == (len(PROMPTS), 3, 64)
    plain = generate_ids(model, tok, PROMPTS, max_new_tokens=4)
    assert [i[0] for i in ids] == [i[0] for i in plain]  # first token comes from the prefill


def test_capture_during_kv_generation_equals_full_recompute(models, tok) -> None:
    model = models["gemma2"]
    site = "blocks.2.resid_post"
    with capture(model, [site]) as cache:
        new = generate_ids(model, tok, PROMPTS, max_new_tokens=6)
    full = [torch.cat([encode(tok, [p])["input_ids"][0], n[:-1]]) for p, n in zip(PROMPTS, new, strict=True)]
    for i, ids in enumerate(full):
        with torch.no_grad(), capture(model, [site]) as ref:
            model(input_ids=ids[None])
        n = ids.shape[0]
        assert (cache[site][i, -n:] - ref[site][0]).abs().max() < 1e-5


def test_hooks_removed_even_when_forward_fails(models, tok) -> None:
    model = models["llama"]
    before = _n_hooks(model)
    with pytest.raises(RuntimeError, match="boom"):
        with intervene(model, [AddVector(site="blocks.0.resid_pre", vector=torch.ones(64))]):
            with capture(model, ["blocks.1.mlp_out"]):
                assert _n_hooks(model) > before
                raise RuntimeError("boom")
    assert _n_hooks(model) == before
    with pytest.raises(ValueError, match="size 64"):  # bad vector: error at registration
        with add_vector(model, "blocks.0.resid_pre", torch.ones(5)):
            pass
    with pytest.raises(ValueError, match="before the start"):
        with capture(model, ["blocks.0.resid_pre"], positions=(-30,)):
            model(**encode(tok, ["hello world"]))
    assert _n_hooks(model) == before


def test_validation_messages() -> None:
    assert check_positions([-2, -1]) == (-2, -1)
    with pytest.raises(ValueError, match="negative"):
        check_positions([0, -1])
    with pytest.raises(ValueError, match="'all', 'generated'"):
        check_positions("last")
    with pytest.raises(ValueError, match="means must be given"):
        AblateNeurons(layer=0, neurons=[1], mode="mean")
    with pytest.raises(ValueError, match="one slice per position"):
        Patch(site="blocks.0.resid_pre", values=torch.zeros(1, 2, 4), positions=(-1,))
    with pytest.raises(KeyError, match="mlp_out"):
        AddVector(site="blocks.0.mlp_ot", vector=torch.zeros(4))
    with pytest.raises(ValueError, match="non-zero"):
        AblateDirection(direction=torch.zeros(4))


def test_last_k_positions() -> None:
    from postmech_eval.engine.hooks import last

    assert last(3) == (-3, -2, -1)
    with pytest.raises(ValueError, match="positive"):
        last(0)
