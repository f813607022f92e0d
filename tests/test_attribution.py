"""Attribution patching of several prompts in one padded batch (engine.attribution): the
same estimates as one prompt at a time, on every family."""

from __future__ import annotations

import pytest
import torch

from postmech_eval.engine import patching
from postmech_eval.engine.attribution import attribution_batch, attribution_cells
from tests.test_patching import FALSE_TEXT, PACKED_CASES, POSITIONS, TRUE_TEXT, _ids, readout
from tests.tiny_models import tiny_model

LD = patching.LogitDiff(10, 11)  # what ``readout`` computes, recognised as two unembedding rows


@pytest.mark.parametrize(("arch", "attn"), PACKED_CASES)
def test_a_batch_of_prompts_equals_one_at_a_time(arch: str, attn: str) -> None:
    """Prompts of three lengths (so two rows are padded) with their own values and positions:
    every [L, n] map equals ``attribution_cells`` on that prompt alone, and the maps differ
    from each other (the rows did not leak into one another)."""
    model = tiny_model(arch, n_layers=3, **({"sliding_window": 64} if arch.startswith("gemma") else {}))
    model.config._attn_implementation = attn
    t_ids, f_ids = _ids(TRUE_TEXT), _ids(FALSE_TEXT)
    short = f_ids[:, 5:]
    prompts = [f_ids, short, t_ids[:, 2:]]
    positions = [POSITIONS, POSITIONS[:3], [-4, -2]]
    torch.manual_seed(0)
    values = [torch.randn(3, len(c), model.config.hidden_size) for c in positions]
    got = attribution_batch(model, prompts, values, positions, LD)
    for p, v, c, g in zip(prompts, values, positions, got, strict=True):
        want = attribution_cells(model, p, v, c, readout)
        assert g.shape == want.shape == (3, len(c))
        assert (g - want).abs().max() < 1e-4
    assert (got[0][:, :3] - got[1]).abs().max() > 1e-3


def test_other_readouts_and_bad_lengths() -> None:
    """A plain callable readout is computed prompt by prompt (same numbers); mismatched lists
    are one ValueError before any forward."""
    model = tiny_model("llama", n_layers=2)
    f_ids = _ids(FALSE_TEXT)
    values = [torch.randn(2, len(POSITIONS), model.config.hidden_size) for _ in range(2)]
    got = attribution_batch(model, [f_ids, f_ids[:, 1:]], values, [POSITIONS] * 2, readout)
    assert (got[0] - attribution_cells(model, f_ids, values[0], POSITIONS, readout)).abs().max() == 0
    with pytest.raises(ValueError, match="one values tensor and one positions list per prompt"):
        attribution_batch(model, [f_ids], values, [POSITIONS], LD)
