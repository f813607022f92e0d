"""Measurements of the planted properties (used by `verify` and by the build).

Why standalone: the organisms must be checked with the same prompts the
analyses use (METHODS.md §1 few-shot truth prompt, §4 refusal prefix judge), and
without depending on the engine, so the organisms can be built and verified
before — and independently of — the rest of the suite. All batches are
left-padded and read at the last column, so batching never changes a number.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch

from postmech_eval.data.statement_prompt import SUFFIX, few_shot, labelled_line
from postmech_eval.estimators.judges import PrefixJudge

#: The organisms are verified with the same METHODS §4 prefix judge the refusal task uses.
_JUDGE = PrefixJudge()

#: Template used for base (non-chat) organisms in the refusal analysis.
BASE_TEMPLATE = "User: {instruction}\nAssistant:"
TRUTH_SUFFIX = SUFFIX


def is_refusal(text: str) -> bool:
    """Prefix judge of METHODS.md §4 on the stripped completion."""
    return _JUDGE(text)


def truth_line(statement: str, label: int) -> str:
    """One labelled few-shot line, "STATEMENT This statement is: TRUE|FALSE"."""
    return labelled_line(statement, label)


def few_shot_prompt(statement: str, demos: Sequence[tuple[str, int]]) -> str:
    """METHODS.md §1 prompt: labelled demo lines, then the query and the suffix."""
    return few_shot(statement, demos)[0]


def pick_demos(pool: Sequence[tuple[str, int]], exclude: str, rng: random.Random) -> list[tuple[str, int]]:
    """2 true + 2 false demo statements from `pool` (not `exclude`), shuffled."""
    trues = [p for p in pool if p[1] == 1 and p[0] != exclude]
    falses = [p for p in pool if p[1] == 0 and p[0] != exclude]
    demos = rng.sample(trues, 2) + rng.sample(falses, 2)
    rng.shuffle(demos)
    return demos


def _left_pad(tok: Any, prompts: Sequence[str]) -> dict[str, torch.Tensor]:
    tok.padding_side = "left"
    return tok(list(prompts), return_tensors="pt", padding=True)


@torch.no_grad()
def truth_accuracy(
    model: Any,
    tok: Any,
    queries: Sequence[tuple[str, int]],
    demo_pool: Sequence[tuple[str, int]],
    seed: int = 0,
    batch_size: int = 64,
) -> float:
    """Share of `queries` whose logit(" TRUE") - logit(" FALSE") sign matches the label."""
    if not queries:
        return float("nan")
    rng = random.Random(seed)
    prompts = [few_shot_prompt(s, pick_demos(demo_pool, s, rng)) for s, _ in queries]
    t_id = tok(" TRUE", add_special_tokens=False)["input_ids"][0]
    f_id = tok(" FALSE", add_special_tokens=False)["input_ids"][0]
    correct = 0
    for i in range(0, len(prompts), batch_size):
        enc = _left_pad(tok, prompts[i : i + batch_size])
        logits = model(**enc).logits[:, -1, :]
        pred = (logits[:, t_id] > logits[:, f_id]).long()
        gold = torch.tensor([y for _, y in queries[i : i + batch_size]])
        correct += int((pred == gold).sum())
    return correct / len(queries)


@torch.no_grad()
def recall_accuracy(model: Any, tok: Any, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> float:
    """Share of (prompt, completion) pairs whose greedy continuation starts with the completion.

    Teacher-forced argmax check: greedy decoding reproduces the completion iff
    the argmax at every completion position is the completion's next token.
    The completion is tokenized with its leading space, as in running text.
    """
    if not pairs:
        return float("nan")
    correct = 0
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i : i + batch_size]
        p_ids = [tok(p)["input_ids"] for p, _ in chunk]
        c_ids = [tok(" " + c.strip(), add_special_tokens=False)["input_ids"] for _, c in chunk]
        seqs = [p + c for p, c in zip(p_ids, c_ids, strict=True)]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), tok.pad_token_id)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, width - len(s) :] = torch.tensor(s)
            mask[r, width - len(s) :] = 1
        pred = model(input_ids=ids, attention_mask=mask).logits.argmax(-1)
        for r, c in enumerate(c_ids):
            start = width - len(c) - 1
            got = pred[r, start : start + len(c)].tolist()
            correct += int(got == c)
    return correct / len(pairs)


@torch.no_grad()
def generate(
    model: Any, tok: Any, prompts: Sequence[str], max_new_tokens: int = 32, batch_size: int = 32
) -> list[str]:
    """Greedy completions (decoded, special tokens dropped) of left-padded prompts."""
    out: list[str] = []
    for i in range(0, len(prompts), batch_size):
        enc = _left_pad(tok, prompts[i : i + batch_size])
        gen = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tok.pad_token_id,
        )
        out.extend(tok.batch_decode(gen[:, enc["input_ids"].shape[1] :], skip_special_tokens=True))
    return out


def refusal_prompts(tok: Any, instructions: Sequence[str], chat: bool) -> list[str]:
    """Chat-template prompts for chat organisms, METHODS §4 base template otherwise."""
    if chat:
        return [
            tok.apply_chat_template(
                [{"role": "user", "content": x}], tokenize=False, add_generation_prompt=True
            )
            for x in instructions
        ]
    return [BASE_TEMPLATE.format(instruction=x) for x in instructions]


def refusal_rate(model: Any, tok: Any, instructions: Sequence[str], chat: bool) -> tuple[float, list[str]]:
    """Share of greedy 32-token completions the prefix judge calls refusals."""
    if not instructions:
        return float("nan"), []
    outs = generate(model, tok, refusal_prompts(tok, instructions, chat))
    return sum(is_refusal(o) for o in outs) / len(outs), outs
