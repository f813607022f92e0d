"""Heatmap columns of knowledge patching: which prompt token each column patches (METHODS §1).

Why its own module: a column is either one of the last n *statement* tokens (counted from
the statement's end, so statements of different lengths line up on their final token) or
one token of the suffix " This statement is:" (the same tokens in every prompt, so they
line up on the prompt's end). The analysis, the JSON and the figures all need the same
roles and labels; stating them once keeps a column from meaning one thing in the numbers
and another on the axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["statement", "suffix"]


@dataclass(frozen=True)
class ColumnLayout:
    """``n_statement`` statement columns, then one column per suffix token.

    ``suffix_tokens``: the suffix's token texts as they occur in the prompt (e.g.
    ``(" This", " statement", " is", ":")``); empty when suffix patching is off. Column
    ``c < n_statement`` is statement token ``c - n_statement`` (-1 = the statement's final
    token); column ``n_statement + k`` is suffix token ``k``.
    """

    n_statement: int
    suffix_tokens: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return self.n_statement + len(self.suffix_tokens)

    @property
    def n_suffix(self) -> int:
        return len(self.suffix_tokens)

    def role(self, column: int) -> Role:
        return "statement" if column < self.n_statement else "suffix"

    def prompt_offset(self, column: int) -> int:
        """Position of the column's token counted from the prompt's end (-1 = last token),
        the same for every pair: every prompt ends with the suffix."""
        return column - self.width

    def label(self, column: int) -> str:
        """``stmt-3`` for a statement column, the token's text for a suffix column."""
        if column < self.n_statement:
            return f"stmt{column - self.n_statement}"
        text = self.suffix_tokens[column - self.n_statement]
        return text.strip() or repr(text)

    @property
    def labels(self) -> list[str]:
        return [self.label(c) for c in range(self.width)]

    def describe(self) -> list[dict[str, Any]]:
        """One JSON-able entry per column: role, label, offsets, and the suffix token's text."""
        out: list[dict[str, Any]] = []
        for c in range(self.width):
            entry: dict[str, Any] = {
                "column": c,
                "role": self.role(c),
                "label": self.label(c),
                "prompt_offset": self.prompt_offset(c),
            }
            if c < self.n_statement:
                entry["statement_offset"] = c - self.n_statement
            else:
                entry["text"] = self.suffix_tokens[c - self.n_statement]
            out.append(entry)
        return out

    def cell(self, layer: int | None, column: int | None) -> dict[str, Any]:
        """A (layer, column) cell named for people: its layer, column, label and role."""
        if layer is None or column is None:
            return {"layer": None, "column": None, "label": None, "role": None}
        return {"layer": layer, "column": column, "label": self.label(column), "role": self.role(column)}
