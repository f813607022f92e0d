"""Steering primitives of METHODS.md §3: the few-shot prompt, the intervention positions,
the p_diff readout, the NIF formula and the steered forward.

Kept apart from `truth.py` (which wires them into `run_steering`) so each piece can be
checked on its own against a by-hand number or a plain-hook reference.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from postmech_eval.config import UserError
from postmech_eval.data import Statement
from postmech_eval.data.statement_prompt import ANSWERS, SUFFIX, continuation_ids, few_shot  # noqa: F401
from postmech_eval.engine.capture import logits_last
from postmech_eval.engine.hooks import AddVector
from postmech_eval.engine.sites import make_site


def few_shot_prompt(statement: Statement, pool: Sequence[Statement], n_shots: int, seed: int) -> str:
    """METHODS §1 prompt: n_shots labelled lines (half true, half false, shuffled), the
    query and the suffix. Seeded by (seed, statement) so it is the same in any batch."""
    rng = random.Random(f"{seed}:{statement.statement}")
    trues = [s for s in pool if s.label == 1 and s.statement != statement.statement]
    falses = [s for s in pool if s.label == 0 and s.statement != statement.statement]
    half = n_shots // 2
    if len(trues) < half or len(falses) < half:
        raise UserError(
            f"The few-shot pool of {statement.dataset!r} must hold {half} true and {half} false statements "
            f"besides the query. Got {len(trues)} true and {len(falses)} false."
        )
    demos = rng.sample(trues, half) + rng.sample(falses, half)
    rng.shuffle(demos)
    return few_shot(statement.statement, [(d.statement, d.label) for d in demos])[0]


def statement_positions(tokenizer: Any, prompt: str, suffix: str = SUFFIX) -> tuple[int, int]:
    """Negative offsets of the last two statement tokens before `suffix` in `prompt`.

    Counted per prompt from the tokenizer's character offsets, because BPE may merge
    across the statement/suffix boundary in some contexts: the token that holds the
    boundary counts as the statement's last token.
    """
    if not prompt.endswith(suffix):
        raise UserError(f"The 'prompt' parameter must end with {suffix!r}. Got {prompt[-40:]!r} instead.")
    boundary = len(prompt) - len(suffix)
    add_special = not (tokenizer.bos_token and prompt.startswith(tokenizer.bos_token))
    enc = tokenizer(prompt, add_special_tokens=add_special, return_offsets_mapping=True)
    starts = [a for a, b in enc["offset_mapping"] if b > a]  # special tokens have empty spans
    n_after = sum(1 for a in starts if a >= boundary)
    if len(starts) - n_after < 2:
        raise UserError(f"The statement before {suffix!r} must be at least 2 tokens long. Got {prompt!r}.")
    return (-(n_after + 2), -(n_after + 1))


#: " TRUE" / " FALSE" as continuations of the prompt (the steering readout).
answer_ids = continuation_ids


def p_diff(logits: torch.Tensor, ids: tuple[int, int]) -> torch.Tensor:
    """P(" TRUE") - P(" FALSE") from last-position logits [n, vocab] -> [n]."""
    probs = torch.softmax(logits.double(), dim=-1)
    return probs[:, ids[0]] - probs[:, ids[1]]


def nif(
    p_true: Sequence[float],
    p_int_true: Sequence[float],
    p_false: Sequence[float],
    p_int_false: Sequence[float],
) -> tuple[float, float, float]:
    """Normalised intervention effect (METHODS §3): (NIF, NIF_true->false, NIF_false->true).

    Each part is the shift of the class mean p_diff as a share of the way to the other
    class's extreme (-1 for true statements, +1 for false ones). A part whose class is
    absent is NaN, and so is their average.
    """

    def mean(x: Sequence[float]) -> float:
        return float(np.mean(x)) if len(x) else math.nan

    t2f = (mean(p_int_true) - mean(p_true)) / (-1.0 - mean(p_true))
    f2t = (mean(p_int_false) - mean(p_false)) / (1.0 - mean(p_false))
    return 0.5 * (t2f + f2t), t2f, f2t


def steer_logits(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    labels: Sequence[int],
    positions: Sequence[tuple[int, int]],
    vector: torch.Tensor,
    layers: Sequence[int],
    coeff: float,
    batch_size: int,
) -> torch.Tensor:
    """Last-position logits [n, vocab] with +coeff*vector added for label 0 and -coeff*vector
    for label 1, at `positions` of each prompt and the residual output of every layer."""
    out = torch.empty(0)
    keys = sorted({(int(y), tuple(p)) for y, p in zip(labels, positions, strict=True)})
    for label, pos in keys:
        rows = [
            i for i, (y, p) in enumerate(zip(labels, positions, strict=True)) if (y, tuple(p)) == (label, pos)
        ]
        sign = -1.0 if label == 1 else 1.0
        ivs = [
            AddVector(site=make_site(lay, "resid_post"), vector=vector, coeff=sign * coeff, positions=pos)
            for lay in layers
        ]
        logits = logits_last(
            model, tokenizer, [prompts[i] for i in rows], batch_size=batch_size, interventions=ivs
        )
        if out.numel() == 0:
            out = torch.empty(len(prompts), logits.shape[1])
        out[rows] = logits
    return out
