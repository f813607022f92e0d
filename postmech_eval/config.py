"""One validator and one suggestion helper for every config, file and name lookup.

Why: values reach the suite as strings (lm-eval ``--model_args`` / ``--metadata``), YAML
files and JSON, and a user should read the same two message shapes wherever they erred:

- "The 'x' parameter of Y must be <constraint>. Got <value> instead." (:func:`validate`,
  :func:`from_kwargs`), with constraints kept as data beside each config class, as
  scikit-learn's ``_parameter_constraints`` are;
- "unknown <kind> 'y'. Did you mean 'z'? Available: a, b, c" (:func:`suggestion`).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


#: Set (to "1") by ``postmech-eval run`` for the lm_eval process it starts, which runs only
#: postmech tasks: the plugin's task index then skips lm-eval's ~15k built-in task files (7 s
#: of start-up on 2 cores). A plain ``lm_eval`` command never sees it and indexes everything.
SUITE_ONLY_ENV = "POSTMECH_SUITE_TASKS_ONLY"

#: Set by ``postmech-eval run`` to a file that exists while it draws finished tasks' figures on
#: one core: an analysis starting then runs on one torch thread (the other core is taken; two
#: spinning OpenMP threads sharing it with the drawing ran 2-3x slower).
DRAWING_ENV = "POSTMECH_SUITE_DRAWING"


class UserError(ValueError):
    """Bad input from a user (a config value, a file, a model spec, a name): the message is
    one line naming what is wrong and what was expected. Every entry point prints it as
    ``postmech: error: <message>`` without a traceback (set ``POSTMECH_DEBUG=1`` to see it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidParameterError(UserError, TypeError):
    """A parameter outside its constraints (also a TypeError, as scikit-learn's is, so
    callers catching either see it)."""


class UnknownNameError(UserError, KeyError):
    """A name (task, metric, organism, key, stream) that is not in its vocabulary."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class MissingFileError(UserError, FileNotFoundError):
    """A file or folder the user named that does not exist."""


def debug_enabled() -> bool:
    import os

    return os.environ.get("POSTMECH_DEBUG", "").lower() not in ("", "0", "false", "no")


def one_line(err: BaseException) -> str:
    """The printed form of a user error: ``postmech: error: <message>`` on a single line."""
    text = " ".join(str(err).split())
    return f"postmech: error: {text}"


def suggestion(kind: str, name: Any, valid: Iterable[Any]) -> str:
    """The one "unknown X" message: ``unknown organism 'bsae'. Did you mean 'base'? Available: ...``."""
    valid = [str(v) for v in valid]
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}.{hint} Available: {', '.join(valid)}"


def reject_unknown_keys(keys, valid, where: str, error: type[Exception] | None = None) -> None:
    """Refuse a misspelt key anywhere (configs, thresholds, the pairs registry)."""
    valid = list(valid)
    for key in keys:
        if key not in valid:
            raise (error or UnknownNameError)(f"{where}: " + suggestion("key", key, valid))


# ----------------------------------------------------------------------------- constraints
@dataclass(frozen=True)
class Interval:
    """A number in [low, high] (``closed`` says which ends are included); None = unbounded."""

    kind: type
    low: float | None
    high: float | None
    closed: typing.Literal["both", "left", "right", "neither"] = "both"

    def holds(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is Integral and not isinstance(value, Integral):
            return False
        if not isinstance(value, Real) or math.isnan(value):
            return False
        lo_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        hi_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return lo_ok and hi_ok

    def describe(self) -> str:
        what = "an int" if self.kind is Integral else "a float"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{what} in the range {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def holds(self, value: Any) -> bool:
        return value in self.values

    def describe(self) -> str:
        return f"one of {list(self.values)}"


@dataclass(frozen=True)
class NonEmpty:
    """A non-empty tuple / list / str."""

    def holds(self, value: Any) -> bool:
        return isinstance(value, (tuple, list, str)) and len(value) > 0

    def describe(self) -> str:
        return "non-empty"


@dataclass(frozen=True)
class Satisfies:
    """Any other rule, with the words that describe it (e.g. a template holding a placeholder)."""

    predicate: typing.Callable[[Any], bool]
    description: str

    def holds(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return self.description


Constraint = Interval | Options | NonEmpty | Satisfies | None


def _describe(constraints: list[Constraint]) -> str:
    parts = ["None" if c is None else c.describe() for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _fmt(value: Any) -> str:
    return repr(value) if not isinstance(value, float) else f"{value!r}"


def validate(obj: Any) -> None:
    """Check each field of a config dataclass against its class' ``_constraints``."""
    owner = type(obj).__name__
    for name, constraints in getattr(type(obj), "_constraints", {}).items():
        value = getattr(obj, name)
        if any((c is None and value is None) or (c is not None and c.holds(value)) for c in constraints):
            continue
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {_describe(constraints)}. Got {_fmt(value)} instead."
        )


class Config:
    """Mixin of every analysis config (frozen dataclasses): constraints checked on
    construction, and :meth:`from_kwargs` for string values with unknown keys refused."""

    _constraints: ClassVar[dict[str, list[Constraint]]] = {}

    def __post_init__(self) -> None:
        validate(self)

    @classmethod
    def from_kwargs(cls: type[T], kwargs: dict[str, Any] | None) -> T:
        return from_kwargs(cls, kwargs)


# ----------------------------------------------------------------------------- string parsing
def _parse(value: Any, annotation: Any, name: str, owner: str) -> Any:
    if not isinstance(value, str):
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value.lower() in ("none", "null") and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _parse(value, arg, name, owner)
            except ValueError:
                continue
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {annotation}. Got {value!r} instead."
        )
    if origin is typing.Literal:
        if value in args:
            return value
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be one of {list(args)}. Got {value!r} instead."
        )
    if origin in (tuple, list):
        inner = args[0] if args else str
        parts = [p for p in value.replace(";", "|").split("|") if p != ""]
        return tuple(_parse(p, inner, name, owner) for p in parts)
    try:
        if annotation is bool:
            return parse_bool(value, name, owner)
        if annotation in (int, float, str):
            return annotation(value)
    except ValueError:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {annotation.__name__}. Got {value!r} instead."
        ) from None
    return value


def parse_bool(value: Any, name: str, owner: str) -> bool:
    """true/false spellings only (``maybe`` is an error, not False)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise InvalidParameterError(
        f"The {name!r} parameter of {owner} must be true or false. Got {value!r} instead."
    )


def from_kwargs(cls: type[T], kwargs: dict[str, Any] | None) -> T:
    """Build a frozen config dataclass from (possibly string) keyword values.

    Unknown keys raise ``KeyError`` with the close match and the valid list, so a typo in
    ``--model_args`` never silently falls back to a default.
    """
    kwargs = dict(kwargs or {})
    hints = typing.get_type_hints(cls)
    fields = sorted(f.name for f in dataclasses.fields(cls) if f.init)
    for key in kwargs:
        if key not in fields:
            raise UnknownNameError(suggestion(f"parameter of {cls.__name__}", key, fields))
    values = {k: _parse(v, hints[k], k, cls.__name__) for k, v in kwargs.items()}
    return cls(**values)
