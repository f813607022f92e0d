"""The pairs registry (``leaderboard/pairs.yaml``): named (base, post) pairs and settings.

The registry is what turns ``base=meta-llama/Llama-3.1-8B,post=...`` back into the name a
reader recognises ("Llama-3.1-8B / Instruct"), and it records the per-pair settings
(dtype, one-at-a-time loading, chat-template notes) a run of that pair needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from postmech_eval.config import (
    MissingFileError,
    UnknownNameError,
    UserError,
    reject_unknown_keys,
    suggestion,
)
from postmech_eval.suite.runs import PairKey

_PAIR_KEYS = ("name", "label", "base", "post", "kind", "model_args", "notes", "paper")


@dataclass(frozen=True, kw_only=True)
class PairSpec:
    """One registry entry. ``model_args`` are extra ``--model_args`` for this pair."""

    name: str
    base: str
    post: str
    label: str | None = None
    kind: str | None = None
    model_args: Mapping[str, str] = field(default_factory=dict)
    notes: str | None = None
    paper: bool = False

    @property
    def key(self) -> PairKey:
        return PairKey(self.base, self.post)

    @property
    def display(self) -> str:
        return self.label or self.name

    def model_args_string(self) -> str:
        """The full lm-eval ``--model_args`` value for this pair."""
        items = {"base": self.base, "post": self.post, **self.model_args}
        return ",".join(f"{k}={v}" for k, v in items.items())


def _norm(spec: str) -> str:
    # Hub ids are case-insensitive and users sometimes keep a trailing slash on dirs.
    return spec.strip().rstrip("/").casefold()


@dataclass(frozen=True)
class Registry:
    """All pairs of one registry file, looked up by name or by (base, post)."""

    pairs: tuple[PairSpec, ...] = ()
    path: Path | None = None

    def match(self, key: PairKey) -> PairSpec | None:
        wanted = (_norm(key.base), _norm(key.post))
        for spec in self.pairs:
            if (_norm(spec.base), _norm(spec.post)) == wanted:
                return spec
        return None

    def get(self, name: str) -> PairSpec:
        for spec in self.pairs:
            if spec.name == name:
                return spec
        raise UnknownNameError(suggestion(f"pair of {self.path}", name, [p.name for p in self.pairs]))


def _entry(raw: Any, index: int, path: Path) -> PairSpec:
    where = f"{path}: pairs[{index}]"
    if not isinstance(raw, Mapping):
        raise UserError(f"{where} must be a mapping. Got {type(raw).__name__} instead.")
    reject_unknown_keys(raw, _PAIR_KEYS, where, UserError)
    for key in ("name", "base", "post"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise UserError(f"{where} needs a non-empty string {key!r}. Got {raw.get(key)!r}.")
    model_args = raw.get("model_args") or {}
    if not isinstance(model_args, Mapping):
        raise UserError(f"{where}.model_args must be a mapping. Got {model_args!r} instead.")
    return PairSpec(
        name=raw["name"],
        base=raw["base"],
        post=raw["post"],
        label=raw.get("label"),
        kind=raw.get("kind"),
        model_args={str(k): _arg(v) for k, v in model_args.items()},
        notes=raw.get("notes"),
        paper=bool(raw.get("paper", False)),
    )


def _arg(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def load_registry(path: str | Path) -> Registry:
    """Read and validate a pairs registry; errors name the file and the entry."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingFileError(f"{path}: no such pairs registry") from None
    except yaml.YAMLError as err:
        raise UserError(f"{path}: malformed YAML ({err})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("pairs"), Sequence):
        raise UserError(f"{path}: expected a mapping with a 'pairs' list.")
    pairs = tuple(_entry(raw, i, path) for i, raw in enumerate(data["pairs"]))
    names = [p.name for p in pairs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"{path}: pair names must be unique. Duplicated: {dupes}.")
    return Registry(pairs=pairs, path=path)


def default_registry_path() -> Path | None:
    """``./leaderboard/pairs.yaml`` if present, else the one beside the source checkout."""
    for candidate in (
        Path.cwd() / "leaderboard" / "pairs.yaml",
        Path(__file__).resolve().parents[1] / "leaderboard" / "pairs.yaml",
    ):
        if candidate.is_file():
            return candidate
    return None
