"""Fast exact patching (postmech_eval.engine.patching) against one-forward-per-cell patching.

The reference is the engine's own ``hooks.patch`` in a full forward per cell, so the
fast path is checked against an independent implementation, on several architectures.
"""

from __future__ import annotations

import functools

import pytest
import torch

from postmech_eval.engine import patching
from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.attribution import attribution_cells
from postmech_eval.engine.resume import reusable
from tests.references import patch_cells_naive
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)

# a few-shot prefix makes prompts longer than Gemma's tiny sliding window (16 tokens)
SHOTS = "the city of paris is in france . this statement is : true \n the city of rome is in spain . this statement is : false \n "
TRUE_TEXT = SHOTS + "the city of lyon is in france . this statement is :"
FALSE_TEXT = SHOTS + "the city of lima is in france . this statement is :"
POSITIONS = [-9, -8, -7, -6, -5]


def readout(logits: torch.Tensor) -> torch.Tensor:
    return logits[:, 10] - logits[:, 11]


def _ids(text: str) -> torch.Tensor:
    return tiny_tokenizer()(text, return_tensors="pt").input_ids


@pytest.fixture(scope="module")
def prompts() -> tuple[torch.Tensor, torch.Tensor]:
    a, b = _ids(TRUE_TEXT), _ids(FALSE_TEXT)
    assert a.shape == b.shape and not torch.equal(a, b)
    return a, b


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gemma2", "gemma3", "gpt_neox", "phi3"])
def test_two_logit_readout_equals_the_full_vocabulary_one(arch: str, prompts) -> None:
    """LogitDiff reads two unembedding rows (final norm, bias, Gemma-2 soft-capping included);
    its cells equal the full-vocabulary readout's and the naive per-cell reference's."""
    model = tiny_model(arch, n_layers=4)
    t_ids, f_ids = prompts
    donor, receiver = patching.trace(model, t_ids), patching.trace(model, f_ids, start=POSITIONS[0])
    values = donor.values(POSITIONS)
    two = patching.patch_cells(model, receiver, values, POSITIONS, patching.LogitDiff(10, 11))
    full = patching.patch_cells(model, receiver, values, POSITIONS, readout)
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    assert (two - full).abs().max() < 1e-5 and (two - naive).abs().max() < 1e-4
    assert torch.equal(
        patching.LogitDiff(10, 11)(receiver.logits_last.unsqueeze(0)),
        readout(receiver.logits_last.unsqueeze(0)),
    )


def test_two_value_sets_in_one_batch_equal_two_calls(prompts) -> None:
    """Own and cross cells share one call (positions given twice, value sets concatenated);
    each half equals its own call."""
    model, other = tiny_model("llama", n_layers=4), tiny_model("llama", n_layers=4, seed=1)
    t_ids, f_ids = prompts
    receiver = patching.trace(model, f_ids, start=POSITIONS[0])
    own = patching.trace(model, t_ids).values(POSITIONS)
    cross = patching.trace(other, t_ids).values(POSITIONS)
    both = patching.patch_cells(model, receiver, torch.cat([own, cross], 1), POSITIONS * 2, readout)
    n = len(POSITIONS)
    assert (both[:, :n] - patching.patch_cells(model, receiver, own, POSITIONS, readout)).abs().max() < 1e-5
    assert (both[:, n:] - patching.patch_cells(model, receiver, cross, POSITIONS, readout)).abs().max() < 1e-5
    assert (both[:, :n] - both[:, n:]).abs().max() > 1e-3  # the two sets really differ


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gemma2", "gemma3", "gpt_neox"])
def test_fast_equals_naive_per_cell(arch: str, prompts: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = tiny_model(arch, n_layers=4)
    t_ids, f_ids = prompts
    assert f_ids.shape[1] > 32
    donor, receiver = patching.trace(model, t_ids), patching.trace(model, f_ids)
    values = donor.values(POSITIONS)
    fast = patching.patch_cells(model, receiver, values, POSITIONS, readout)
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    assert fast.shape == (4, len(POSITIONS))
    assert (fast - naive).abs().max() < 1e-4
    # resuming from a KV-cached prefix (only columns >= start recomputed) is exact too
    resumed = patching.trace(model, f_ids, start=POSITIONS[0])
    assert resumed.start == f_ids.shape[1] + POSITIONS[0] and resumed.prefix_kv
    assert torch.allclose(resumed.resid_post, receiver.resid_post, atol=1e-5)
    fast_kv = patching.patch_cells(model, resumed, values, POSITIONS, readout)
    assert (fast_kv - naive).abs().max() < 1e-4
    # the patch matters somewhere (otherwise the comparison proves nothing)
    clean = readout(receiver.logits_last.unsqueeze(0))[0]
    assert (naive - clean).abs().max() > 1e-3


def test_sdpa_and_row_groups_give_the_same_cells(prompts: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = tiny_model("qwen2", n_layers=5, seed=3)
    t_ids, f_ids = prompts
    values = patching.trace(model, t_ids).values(POSITIONS)
    receiver = patching.trace(model, f_ids)
    one_group = patching.patch_cells(model, receiver, values, POSITIONS, readout, max_rows=1000)
    many = patching.patch_cells(model, receiver, values, POSITIONS, readout, max_rows=7)
    assert (one_group - many).abs().max() < 1e-5
    model.config._attn_implementation = "sdpa"
    receiver = patching.trace(model, f_ids)
    sdpa = patching.patch_cells(model, receiver, values, POSITIONS, readout, layers=[1, 3])
    assert (sdpa - one_group[[1, 3]]).abs().max() < 1e-4


def test_broken_kv_resume_falls_back_to_full_prompt(prompts, caplog) -> None:
    model = tiny_model("llama", n_layers=3, seed=7)
    values = patching.trace(model, prompts[0]).values(POSITIONS)
    resumed = patching.trace(model, prompts[1], start=POSITIONS[0])
    for layer, (k, v) in resumed.prefix_kv.items():  # simulate a cache the stand-in gets wrong
        resumed.prefix_kv[layer] = (torch.zeros_like(k), v)
    with caplog.at_level("WARNING", logger="postmech_eval.engine.patching"):
        fast = patching.patch_cells(model, resumed, values, POSITIONS, readout)
    naive = patch_cells_naive(model, prompts[1], values, POSITIONS, readout)
    assert (fast - naive).abs().max() < 1e-4
    assert "recomputing full prompts" in caplog.text
    with pytest.raises(ValueError, match="start"):
        patching.patch_cells(model, resumed, values[:, :1], [-20], readout)


def test_patching_own_values_is_identity(prompts: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = tiny_model("llama", n_layers=3)
    receiver = patching.trace(model, prompts[1])
    cells = patching.patch_cells(model, receiver, receiver.values(POSITIONS), POSITIONS, readout)
    clean = readout(receiver.logits_last.unsqueeze(0))[0]
    assert (cells - clean).abs().max() < 1e-5
    # a no-op cell needs no row, so it may lie before the receiver's start; a real one may not
    late = patching.trace(model, prompts[1], start=-2)
    assert torch.allclose(
        patching.patch_cells(model, late, late.values(POSITIONS), POSITIONS, readout), cells, atol=1e-5
    )
    donor = patching.trace(model, prompts[0]).values(POSITIONS)
    with pytest.raises(ValueError, match="start"):
        patching.patch_cells(model, late, donor, POSITIONS, readout)


def test_tokens_before_the_first_difference_are_skipped_exactly(prompts) -> None:
    """Within-model, positions before the subject carry identical states: E = 0 without a row."""
    model = tiny_model("llama", n_layers=4, seed=2)
    positions = [-12, -11, -10, -9, -8]  # "the city of" are identical in both prompts
    donor = patching.trace(model, prompts[0]).values(positions)
    first_diff = int((prompts[0] != prompts[1]).nonzero()[0, 1]) - prompts[0].shape[1]
    receiver = patching.trace(model, prompts[1], start=first_diff)
    fast = patching.patch_cells(model, receiver, donor, positions, readout)
    naive = patch_cells_naive(model, prompts[1], donor, positions, readout)
    assert (fast - naive).abs().max() < 1e-4
    clean = readout(receiver.logits_last.unsqueeze(0))[0]
    assert torch.all(fast[:, :3] == clean) and (fast[:, 3] - clean).abs().max() > 1e-4


def test_cross_model_values_patch_into_other_model(prompts: tuple[torch.Tensor, torch.Tensor]) -> None:
    donor_model, receiver_model = tiny_model("llama", seed=1), tiny_model("llama", seed=2)
    values = patching.trace(donor_model, prompts[0]).values(POSITIONS)
    receiver = patching.trace(receiver_model, prompts[1])
    fast = patching.patch_cells(receiver_model, receiver, values, POSITIONS, readout)
    naive = patch_cells_naive(receiver_model, prompts[1], values, POSITIONS, readout)
    assert (fast - naive).abs().max() < 1e-4


def test_attribution_is_first_order_exact(prompts: tuple[torch.Tensor, torch.Tensor]) -> None:
    """For a small perturbation eps*delta, attribution error shrinks like eps^2."""
    model = tiny_model("llama", n_layers=3)
    receiver = patching.trace(model, prompts[1])
    own = receiver.values(POSITIONS)
    delta = patching.trace(model, prompts[0]).values(POSITIONS) - own
    errors = []
    for eps in (1e-1, 1e-2):
        values = own + eps * delta
        exact = patching.patch_cells(model, receiver, values, POSITIONS, readout)
        approx = attribution_cells(model, prompts[1], values, POSITIONS, readout)
        clean = readout(receiver.logits_last.unsqueeze(0))[0]
        errors.append(((approx - exact).abs().max() / ((exact - clean).abs().max() + 1e-12)).item())
    assert errors[1] < errors[0] / 5


def test_stateful_architecture_is_refused_not_silently_wrong(
    prompts: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = tiny_model("llama", n_layers=3)
    calls = {"n": 0}
    direction = torch.randn(64, generator=torch.Generator().manual_seed(0))

    def drifting(module: torch.nn.Module, args: tuple, out: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1  # state that lives outside the recorded layer arguments
        return out + 0.1 * calls["n"] * direction

    handle = get_adapter(model).layers[1].register_forward_hook(drifting)
    try:
        values = patching.trace(model, prompts[0]).values(POSITIONS)
        receiver = patching.trace(model, prompts[1])
        with pytest.raises(RuntimeError, match="passes state"):
            patching.patch_cells(model, receiver, values, POSITIONS, readout)
    finally:
        handle.remove()


def test_bad_arguments_name_the_parameter(prompts: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = tiny_model("llama", n_layers=3)
    receiver = patching.trace(model, prompts[1])
    with pytest.raises(ValueError, match="positions"):
        receiver.values([0])
    with pytest.raises(ValueError, match="positions"):
        receiver.values([-100])
    with pytest.raises(ValueError, match="values"):
        patching.patch_cells(model, receiver, torch.zeros(2, 5, 64), POSITIONS, readout)
    with pytest.raises(ValueError, match="layers"):
        patching.patch_cells(model, receiver, receiver.values(POSITIONS), POSITIONS, readout, layers=[7])
    with pytest.raises(ValueError, match="input_ids"):
        patching.trace(model, torch.zeros(2, 4, dtype=torch.long))


@pytest.mark.parametrize("arch", ["llama", "gemma3"])
def test_false_run_reuses_the_true_runs_prefix(arch: str, prompts) -> None:
    """keep_kv + prefix: the false trace skips its prefix forward and stays exact."""
    model = tiny_model(arch, n_layers=3, seed=8)
    t_ids, f_ids = prompts
    first_diff = int((t_ids != f_ids).nonzero()[0, 1]) - t_ids.shape[1]
    true_run = patching.trace(model, t_ids, keep_kv=True)
    calls = []
    handle = get_adapter(model).layers[0].register_forward_pre_hook(lambda m, a: calls.append(1))
    try:
        reused = patching.trace(model, f_ids, start=first_diff, prefix=true_run)
        assert len(calls) == 1  # only the suffix forward ran
        other = patching.trace(model, t_ids.flip(1), keep_kv=True)
        patching.trace(model, f_ids, start=first_diff, prefix=other)  # other tokens: not reused
        assert len(calls) == 1 + 1 + 2  # + the full "other" run, then prefix and suffix
    finally:
        handle.remove()
    plain = patching.trace(model, f_ids)
    assert torch.allclose(reused.resid_post, plain.resid_post, atol=1e-5)
    assert torch.allclose(reused.logits_last, plain.logits_last, atol=1e-5)
    values = true_run.values(POSITIONS)
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    assert (patching.patch_cells(model, reused, values, POSITIONS, readout) - naive).abs().max() < 1e-4
    # a kept-KV trace is itself a valid receiver (its recorded cache is swapped out)
    kept = patching.trace(model, f_ids, keep_kv=True)
    assert (patching.patch_cells(model, kept, values, POSITIONS, readout) - naive).abs().max() < 1e-4


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gemma2", "gemma3", "gpt_neox", "phi3", "qwen2"])
def test_receivers_split_by_column_equal_naive(arch: str, prompts) -> None:
    """With a kept-KV receiver, cells run on one receiver per patched column (each starting at
    its column) or on the groups the cost model picks; every way equals naive per-cell
    patching. Gemma's tiny sliding window (16 tokens) cuts the kept keys, so there the split
    is refused and one receiver runs (still exact)."""
    model = tiny_model(arch, n_layers=4)
    t_ids, f_ids = prompts
    true_run = patching.trace(model, t_ids, keep_kv=True)
    receiver = patching.trace(model, f_ids, start=POSITIONS[0], prefix=true_run, keep_kv=True)
    values = true_run.values(POSITIONS)
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    calls = []
    handle = (
        get_adapter(model)
        .layers[-1]
        .register_forward_pre_hook(lambda m, a, k: calls.append(1), with_kwargs=True)
    )
    try:
        for split in ("columns", "auto", "none"):
            calls.clear()
            got = patching.patch_cells(model, receiver, values, POSITIONS, readout, split=split)
            assert (got - naive).abs().max() < 1e-4, split
            if split == "columns":
                n_receivers = len(calls)
    finally:
        handle.remove()
    can_split = reusable(receiver, model, receiver.input_ids, receiver.n_tokens)
    assert can_split == (arch not in ("gemma2", "gemma3"))
    # one last-layer call per receiver's row group, plus (split) each extra receiver's trace
    assert n_receivers == (2 * len(POSITIONS) - 1 if can_split else 1)
    with pytest.raises(ValueError, match="split must be one of"):
        patching.patch_cells(model, receiver, values, POSITIONS, readout, split="rows")


@pytest.mark.parametrize(
    "arch", ["llama", "gpt2", "gemma2", "gemma3", "gpt_neox", "phi3", "qwen2", "mistral", "olmo2"]
)
def test_rows_attend_to_one_shared_copy_of_the_prefix(arch: str, prompts, monkeypatch) -> None:
    """Resumed rows read the receiver's recorded prefix once (engine.prefix_attention), on every
    family, without falling back to per-row concatenation, and equal naive per-cell patching;
    with shared_prefix off (per-row copies) the cells are the same."""
    from postmech_eval.engine import prefix_attention, resume

    seen = {"attention": 0, "fallback": 0}
    real_fallback = prefix_attention._fallback

    def fallback(*a, **k):
        seen["fallback"] += 1
        return real_fallback(*a, **k)

    monkeypatch.setattr(prefix_attention, "_fallback", fallback)
    model = tiny_model(arch, n_layers=4)
    before = model.config._attn_implementation
    t_ids, f_ids = prompts
    receiver = patching.trace(model, f_ids, start=POSITIONS[0])
    values = patching.trace(model, t_ids).values(POSITIONS)
    real_attention = prefix_attention.attention

    def counted(*a, **k):
        seen["attention"] += 1
        return real_attention(*a, **k)

    monkeypatch.setattr(prefix_attention, "attention", counted)
    prefix_attention._registered = False  # re-register the counted function
    try:
        fast = patching.patch_cells(model, receiver, values, POSITIONS, readout)
    finally:
        prefix_attention._registered = False
        monkeypatch.undo()
    assert seen["attention"] >= 3 and seen["fallback"] == 0
    assert model.config._attn_implementation == before  # restored after every layer call
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    assert (fast - naive).abs().max() < 1e-4
    monkeypatch.setattr(resume, "run_layer", functools.partial(resume.run_layer, shared_prefix=False))
    monkeypatch.setattr(patching, "run_layer", functools.partial(resume.run_layer, shared_prefix=False))
    copies = patching.patch_cells(model, receiver, values, POSITIONS, readout)
    assert (copies - fast).abs().max() < 1e-5


# every family with eager and sdpa attention, except Gemma-2 + sdpa: transformers' sdpa has no
# attention soft-capping, so Gemma-2 always runs eager
PACKED_CASES = [
    (arch, attn)
    for arch in ("llama", "gpt2", "gemma2", "gemma3", "gpt_neox", "phi3", "qwen2", "mistral", "olmo2")
    for attn in ("eager", "sdpa")
    if (arch, attn) != ("gemma2", "sdpa")
]


@pytest.mark.parametrize(("arch", "attn"), PACKED_CASES)
def test_packed_rows_equal_naive(arch: str, attn: str, prompts, caplog) -> None:
    """With a kept-KV receiver the rows are packed (engine.packed_rows: each recomputes only its
    own columns) on every family and attention implementation, with no fallback, equal to naive
    per-cell patching and to whole rows. Gemma's tiny models get a sliding window longer than
    the prompt here (with 16 tokens the kept keys are cut and packing is refused, exactly)."""
    from postmech_eval.engine.packed_rows import packable

    model = tiny_model(arch, n_layers=4, **({"sliding_window": 64} if arch.startswith("gemma") else {}))
    model.config._attn_implementation = attn
    t_ids, f_ids = prompts
    true_run = patching.trace(model, t_ids, keep_kv=True)
    receiver = patching.trace(model, f_ids, start=POSITIONS[0] - 2, prefix=true_run, keep_kv=True)
    assert packable(receiver)
    values = true_run.values(POSITIONS)
    with caplog.at_level("WARNING", logger="postmech_eval.engine.patching"):
        packed = patching.patch_cells(model, receiver, values, POSITIONS, readout, split="packed")
        auto = patching.patch_cells(model, receiver, values, POSITIONS, readout)
    assert caplog.text == ""  # no fallback
    assert torch.equal(packed, auto)
    whole = patching.patch_cells(model, receiver, values, POSITIONS, readout, split="none")
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    assert (packed - naive).abs().max() < 1e-4 and (packed - whole).abs().max() < 1e-5
    assert (naive - readout(receiver.logits_last.unsqueeze(0))[0]).abs().max() > 1e-3


def test_packed_tokens_at_the_wrong_column_are_caught(prompts, caplog, monkeypatch) -> None:
    """If per-column layer arguments (rotary embeddings) were not gathered to each packed
    token's column, the width-1 control row (the last column, packed first) would be computed
    at the first column: the control check catches it and whole rows give the exact cells."""
    from postmech_eval.engine import layer_call

    model = tiny_model("llama", n_layers=4)
    t_ids, f_ids = prompts
    true_run = patching.trace(model, t_ids, keep_kv=True)
    receiver = patching.trace(model, f_ids, start=POSITIONS[0], prefix=true_run, keep_kv=True)
    values = true_run.values(POSITIONS)
    real = layer_call._expand

    def ungathered(obj, rows, kv=None, packing=None):
        if packing is not None and isinstance(obj, torch.Tensor) and obj.ndim in (2, 3):
            width, n = packing.width, packing.slot.numel()
            return obj[:, :1].expand(1, n, *obj.shape[2:]) if obj.shape[1] == width else obj
        return real(obj, rows, kv, packing)

    monkeypatch.setattr(layer_call, "_expand", ungathered)
    with caplog.at_level("WARNING", logger="postmech_eval.engine.patching"):
        got = patching.patch_cells(model, receiver, values, POSITIONS, readout, split="packed")
    assert "packed rows unsupported" in caplog.text
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    assert (got - naive).abs().max() < 1e-4
