"""One validator for every analysis config.

Values reach analyses as strings from lm-eval's ``--model_args``; parsing them in one
place keeps one error shape ("The 'x' parameter of Y must be ... Got ... instead.").
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def _parse(value: Any, annotation: Any, name: str, owner: str) -> Any:
    if not isinstance(value, str):
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        errors = []
        if value.lower() in ("none", "null") and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _parse(value, arg, name, owner)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError(f"The {name!r} parameter of {owner} must be {annotation}. Got {value!r} instead.")
    if origin is typing.Literal:
        if value in args:
            return value
        raise ValueError(
            f"The {name!r} parameter of {owner} must be one of {list(args)}. Got {value!r} instead."
        )
    if origin in (tuple, list):
        inner = args[0] if args else str
        parts = [p for p in value.replace(";", "|").split("|") if p != ""]
        return tuple(_parse(p, inner, name, owner) for p in parts)
    try:
        if annotation is bool:
            if value.lower() in ("true", "1", "yes"):
                return True
            if value.lower() in ("false", "0", "no"):
                return False
            raise ValueError
        if annotation in (int, float, str):
            return annotation(value)
    except ValueError:
        raise ValueError(
            f"The {name!r} parameter of {owner} must be {annotation.__name__}. Got {value!r} instead."
        ) from None
    return value


def reject_unknown_keys(keys, valid, where: str, error: type[Exception] = KeyError) -> None:
    """One message shape for a misspelt key anywhere (configs, thresholds, the pairs registry)."""
    valid = list(valid)
    for key in keys:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Allowed: {valid}."
            raise error(f"{where} has unknown key {key!r}.{hint}")


def from_kwargs(cls: type[T], kwargs: dict[str, Any] | None) -> T:
    """Build a frozen config dataclass from (possibly string) keyword values.

    Unknown keys raise ``KeyError`` with close matches and the valid list, so a typo in
    ``--model_args`` never silently falls back to a default.
    """
    kwargs = dict(kwargs or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    for key in kwargs:
        if key not in fields:
            close = difflib.get_close_matches(key, sorted(fields), n=3)
            hint = f" Did you mean {close}?" if close else ""
            raise KeyError(f"Unknown parameter {key!r} for {cls.__name__}.{hint} Valid: {sorted(fields)}")
    values = {k: _parse(v, hints[k], k, cls.__name__) for k, v in kwargs.items()}
    return cls(**values)
