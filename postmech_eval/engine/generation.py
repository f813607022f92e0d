"""Greedy generation with interventions active on prompt and generated tokens.

Why: refusal steering (METHODS §4) needs completions under directional
ablation / activation addition. The paper's reference code recomputed the full
sequence at every step; we go through ``model.generate`` with the KV cache,
which is much faster and, because hooks know prefill vs decode steps (see
:mod:`postmech_eval.engine.hooks`), gives the same tokens. The slow
recompute-everything loop it is checked against lives in ``tests/references.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from postmech_eval.engine.capture import (
    _batches,
    _device,
    _progress,
    encode,
    slice_interventions,
)
from postmech_eval.engine.hooks import Intervention, intervene


def _check_max_new(max_new_tokens: int) -> None:
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a positive int; got {max_new_tokens!r}")


def _eos_ids(model: nn.Module) -> set[int]:
    eos = model.generation_config.eos_token_id
    if eos is None:
        return set()
    return {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos])}


@torch.no_grad()
def generate_ids(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    max_new_tokens: int = 32,
    batch_size: int = 16,
    interventions: Sequence[Intervention] = (),
    progress: bool = False,
) -> list[torch.Tensor]:
    """New token ids per prompt (greedy, KV cache); rows stopped at EOS end with pads."""
    _check_max_new(max_new_tokens)
    dev = _device(model)
    n = len(prompts)
    out: list[torch.Tensor] = []
    spans = list(_batches(n, batch_size))
    for start, stop in _progress(spans, len(spans), progress, "generate"):
        enc = encode(tokenizer, prompts[start:stop], dev)
        width = enc["input_ids"].shape[1]
        with intervene(model, slice_interventions(interventions, start, stop, n)):
            seq = model.generate(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                temperature=None,
                top_p=None,
                top_k=None,
                use_cache=True,
                pad_token_id=tokenizer.pad_token_id,
            )
        out.extend(seq[:, width:].cpu())
    return out


def generate(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    max_new_tokens: int = 32,
    batch_size: int = 16,
    interventions: Sequence[Intervention] = (),
    progress: bool = False,
) -> list[str]:
    """Greedy completions (new text only, special tokens stripped) under ``interventions``."""
    ids = generate_ids(model, tokenizer, prompts, max_new_tokens, batch_size, interventions, progress)
    return [tokenizer.decode(t, skip_special_tokens=True) for t in ids]
