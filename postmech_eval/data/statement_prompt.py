"""The one statement prompt of METHODS §1-§3: labelled "STATEMENT This statement is: TRUE|FALSE"
lines, then the query statement and the suffix; the readout is " TRUE" vs " FALSE".

Why one module: knowledge patching, truth steering and the organisms' training and
verification all build this prompt; if one of them drifted (a newline, a space before the
label), their numbers would stop being comparable. It lives beside the data, which
everything may read, so the organisms can use it without importing an analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SUFFIX = " This statement is:"
ANSWERS = (" TRUE", " FALSE")


def labelled_line(statement: str, label: int) -> str:
    """One few-shot line: ``"STATEMENT This statement is: TRUE"`` (or FALSE)."""
    return f"{statement}{SUFFIX} {'TRUE' if int(label) else 'FALSE'}"


def few_shot(query: str, shots: Sequence[tuple[str, int]]) -> tuple[str, int]:
    """(prompt, character offset of ``query`` in it): the labelled lines, the query, the suffix."""
    prefix = "".join(labelled_line(s, y) + "\n" for s, y in shots)
    return prefix + query + SUFFIX, len(prefix)


def answer_token_ids(tokenizer: Any) -> tuple[int, int]:
    """First token of " TRUE" and of " FALSE" tokenized on their own; they must differ."""
    t = tokenizer(ANSWERS[0], add_special_tokens=False)["input_ids"]
    f = tokenizer(ANSWERS[1], add_special_tokens=False)["input_ids"]
    if not t or not f or t[0] == f[0]:
        raise ValueError(f"tokenizer must give ' TRUE' and ' FALSE' different first tokens; got {t} and {f}")
    return t[0], f[0]


def continuation_ids(tokenizer: Any, prompt: str) -> tuple[int, int]:
    """Token ids of " TRUE" and " FALSE" as continuations of ``prompt`` (first token of each)."""
    base = tokenizer(prompt)["input_ids"]
    ids = []
    for answer in ANSWERS:
        full = tokenizer(prompt + answer)["input_ids"]
        if full[: len(base)] != base or len(full) == len(base):
            raise ValueError(
                f"{answer!r} does not tokenize as a continuation of the prompt {prompt[-40:]!r}."
            )
        ids.append(full[len(base)])
    if ids[0] == ids[1]:
        raise ValueError(f"' TRUE' and ' FALSE' start with the same token id {ids[0]}; p_diff is undefined.")
    return ids[0], ids[1]
