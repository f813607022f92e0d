"""The receiving prompt as a packed row of its own patched run (engine.prompt_rows): the same
cells and the same receiver trace as tracing the receiver first, on every family."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from postmech_eval.engine import patching
from postmech_eval.engine.prompt_rows import patch_prompt, qualifies
from tests.references import patch_cells_naive
from tests.test_patching import FALSE_TEXT, PACKED_CASES, POSITIONS, TRUE_TEXT, _ids, readout
from tests.tiny_models import tiny_model


@pytest.fixture(scope="module")
def prompts() -> tuple[torch.Tensor, torch.Tensor]:
    return _ids(TRUE_TEXT), _ids(FALSE_TEXT)


@pytest.mark.parametrize(("arch", "attn"), PACKED_CASES)
def test_receiver_row_equals_the_traced_receiver(arch: str, attn: str, prompts, caplog) -> None:
    """Cells equal naive per-cell patching and the traced receiver's; the receiver trace it
    returns (states, kept keys/values, logits) equals ``trace``'s, and resuming from it (more
    layer groups than one run holds) gives the same cells. GPT-2 adds position embeddings before
    its first layer: its receiver is traced, with the same results."""
    model = tiny_model(arch, n_layers=4, **({"sliding_window": 64} if arch.startswith("gemma") else {}))
    model.config._attn_implementation = attn
    t_ids, f_ids = prompts
    true_run = patching.trace(model, t_ids, keep_kv=True)
    values = true_run.values(POSITIONS)
    assert qualifies(model, true_run, f_ids, POSITIONS) == (arch != "gpt2")
    with caplog.at_level("WARNING"):
        cells, got = patch_prompt(model, true_run, f_ids, values, POSITIONS, readout)
        groups, _ = patch_prompt(model, true_run, f_ids, values, POSITIONS, readout, max_rows=len(POSITIONS))
    assert caplog.text == ""  # no fallback
    want = patching.trace(model, f_ids, start=got.start - got.n_tokens, prefix=true_run, keep_kv=True)
    traced = patching.patch_cells(model, want, values, POSITIONS, readout)
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    assert (cells - naive).abs().max() < 1e-4 and (cells - traced).abs().max() < 1e-5
    assert (groups - cells).abs().max() < 1e-5
    assert (got.resid_post - want.resid_post).abs().max() < 1e-5
    assert (got.logits_last - want.logits_last).abs().max() < 1e-5
    assert got.start == want.start and torch.equal(got.input_ids, want.input_ids)
    for layer, (k, v, n) in want.kv.items():
        gk, gv, gn = got.kv[layer]
        assert gn == n and (gk - k).abs().max() < 1e-5 and (gv - v).abs().max() < 1e-5
    assert (naive - readout(got.logits_last.unsqueeze(0))[0]).abs().max() > 1e-3  # the cells do something


def test_a_control_row_that_does_not_reproduce_its_trace_falls_back(prompts, caplog) -> None:
    """The row replaying the true prompt must reproduce that trace's logits: given a trace whose
    logits are off, the receiver is traced instead (one warning) and the cells stay exact."""
    model = tiny_model("llama", n_layers=3)
    t_ids, f_ids = prompts
    true_run = patching.trace(model, t_ids, keep_kv=True)
    off = replace(true_run, logits_last=true_run.logits_last.clone())
    off.logits_last[10] += 0.5  # the score readout reads: logit 10 - logit 11
    values = true_run.values(POSITIONS)
    with caplog.at_level("WARNING", logger="postmech_eval.engine.prompt_rows"):
        cells, got = patch_prompt(model, off, f_ids, values, POSITIONS, readout)
    assert "receiver as a packed row unsupported here" in caplog.text
    traced = patching.trace(model, f_ids, start=got.start - got.n_tokens, prefix=true_run, keep_kv=True)
    assert torch.equal(got.logits_last, traced.logits_last)  # the receiver was traced
    naive = patch_cells_naive(model, f_ids, values, POSITIONS, readout)
    assert (cells - naive).abs().max() < 1e-4


def test_prompts_of_another_length_are_traced(prompts) -> None:
    model = tiny_model("llama", n_layers=3)
    t_ids, f_ids = prompts
    longer = torch.cat([f_ids[:, :-1], f_ids[:, -3:]], 1)
    true_run = patching.trace(model, t_ids, keep_kv=True)
    assert not qualifies(model, true_run, longer, POSITIONS)
    values = true_run.values(POSITIONS)
    cells, got = patch_prompt(model, true_run, longer, values, POSITIONS, readout)
    assert torch.equal(got.input_ids, longer)
    assert (cells - patch_cells_naive(model, longer, values, POSITIONS, readout)).abs().max() < 1e-4
