"""Hook bookkeeping shared by all primitives: positions and prefill/decode steps.

Why: one place decides which token columns a hook touches in each forward,
so capture, interventions and generation agree (see :mod:`postmech_eval.engine.hooks`
for the public API). A ``_HookSet`` owns every handle it registers and removes
them all in ``close()``.

Positions (``Positions``) are resolved per forward pass. A *step tracker*
(a pre-hook on the base model) records, for every forward, how many tokens are
already in the KV cache (``past``) and the current length ``T``. The prompt
length ``P`` is the length of the first (prefill) forward, unless
:func:`prompt_length` pins it (the no-cache reference generation does). Column
``c`` of the current forward is absolute token ``past + c``:

- ``"all"``: every column of every forward (prompt and generated tokens);
- ``"generated"``: columns with ``past + c >= P`` (decode steps);
- negative ints ``k``: absolute token ``P + k`` (``-1`` = last prompt token);
  left padding makes these the same columns for every row of a batch. They
  only ever hit the prefill pass. A ``k`` reaching before the padded prompt
  raises; in a batch, a row shorter than ``|k|`` tokens reads a pad column,
  so callers keep ``|k|`` within their shortest prompt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from postmech_eval.engine.arch import get_adapter

Positions = Literal["all", "generated"] | Sequence[int]


def check_positions(positions: Any, name: str = "positions") -> Positions:
    """Validate a position selector; returns it with int sequences as a tuple."""
    if isinstance(positions, str):
        if positions not in ("all", "generated"):
            raise ValueError(
                f"{name} must be 'all', 'generated' or a sequence of negative ints; got {positions!r}"
            )
        return positions
    if isinstance(positions, torch.Tensor):
        positions = positions.tolist()
    if not isinstance(positions, Sequence) or isinstance(positions, bytes):
        raise TypeError(
            f"{name} must be 'all', 'generated' or a sequence of negative ints; "
            f"got {type(positions).__name__}"
        )
    out = tuple(positions)
    bad = [p for p in out if isinstance(p, bool) or not isinstance(p, int) or p >= 0]
    if bad or not out:
        raise ValueError(
            f"{name} must be a non-empty sequence of negative ints counted from the end "
            f"of the prompt (-1 = last prompt token); got {list(out)!r}"
        )
    return out


def last(k: int) -> tuple[int, ...]:
    """The last ``k`` prompt positions, oldest first: ``last(3) == (-3, -2, -1)``."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int; got {k!r}")
    return tuple(range(-k, 0))


# --------------------------------------------------------------------------- step tracking
@dataclass
class _Step:
    past: int = 0
    length: int = 0
    prompt_len: int = 0


def _past_length(kwargs: dict[str, Any], length: int) -> int:
    cache = kwargs.get("past_key_values")
    if cache is not None and hasattr(cache, "get_seq_length"):
        return int(cache.get_seq_length())
    mask = kwargs.get("attention_mask")
    if isinstance(mask, torch.Tensor) and mask.dim() == 2:
        return max(int(mask.shape[1]) - length, 0)
    return 0


def _base_module(model: nn.Module) -> nn.Module:
    """The module that owns the decoder layers (model.model, transformer, gpt_neox)."""
    path = get_adapter(model).spec.layers.rsplit(".", 1)[0]
    mod = model
    for part in path.split("."):
        mod = getattr(mod, part)
    return mod


@contextlib.contextmanager
def prompt_length(model: nn.Module, n: int) -> Iterator[None]:
    """Pin the prompt length ``P`` for forwards without KV cache (reference generation)."""
    old = getattr(model, "_postmech_prompt_len", None)
    model._postmech_prompt_len = int(n)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        model._postmech_prompt_len = old  # type: ignore[attr-defined]


class _HookSet:
    """Handles of one context: a step tracker plus site hooks; removes all on close."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.adapter = get_adapter(model)
        self.step = _Step()
        self.handles: list[Any] = []
        self.new_run = True
        self.handles.append(_base_module(model).register_forward_pre_hook(self._track, with_kwargs=True))

    def _track(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        x = kwargs.get("input_ids")
        if x is None:
            x = kwargs.get("inputs_embeds")
        if x is None and args:
            x = args[0]
        length = int(x.shape[1])
        past = _past_length(kwargs, length)
        pinned = getattr(self.model, "_postmech_prompt_len", None)
        prompt = pinned if pinned is not None else (length if past == 0 else self.step.prompt_len)
        self.step = _Step(past=past, length=length, prompt_len=prompt)
        self.new_run = past == 0

    def columns(self, positions: Positions) -> slice | torch.Tensor:
        """Columns of the current forward selected by ``positions``."""
        s = self.step
        if positions == "all":
            return slice(None)
        if positions == "generated":
            start = max(s.prompt_len - s.past, 0)
            return slice(min(start, s.length), None)
        if s.past == 0 and -min(positions) > s.prompt_len:  # type: ignore[type-var]
            raise ValueError(
                f"positions {list(positions)} reach before the start of the prompt "
                f"(prompt length {s.prompt_len} incl. padding)"
            )
        cols = [s.prompt_len + p - s.past for p in positions]  # type: ignore[union-attr]
        return torch.tensor([c for c in cols if 0 <= c < s.length], dtype=torch.long)

    def add(self, site: str, fn: Any) -> None:
        """Attach ``fn(x, cols) -> x_new | None`` (x: [batch, T, d]) at ``site``."""
        module, where = self.adapter.module_for(site)
        if where == "input":

            def pre(mod: nn.Module, args: tuple, kwargs: dict) -> Any:
                if args:
                    new = fn(args[0])
                    return None if new is None else ((new, *args[1:]), kwargs)
                key = "hidden_states" if "hidden_states" in kwargs else next(iter(kwargs))
                new = fn(kwargs[key])
                return None if new is None else (args, {**kwargs, key: new})

            self.handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
        else:

            def post(mod: nn.Module, args: tuple, out: Any) -> Any:
                if isinstance(out, tuple):
                    new = fn(out[0])
                    return None if new is None else (new, *out[1:])
                return fn(out)

            self.handles.append(module.register_forward_hook(post))

    def edit(self, site: str, positions: Positions, f: Any) -> None:
        """Attach an editor ``f(x_selected, cols) -> x_selected`` applied out of place."""

        def fn(x: torch.Tensor) -> torch.Tensor | None:
            cols = self.columns(positions)
            if isinstance(cols, slice):
                if cols == slice(None):
                    return f(x, cols)
                if x[:, cols].shape[1] == 0:
                    return None
            elif cols.numel() == 0:
                return None
            x = x.clone()
            x[:, cols] = f(x[:, cols], cols)
            return x

        self.add(site, fn)

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()
