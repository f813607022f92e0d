"""Build the derived pairs of one model, run the affected analyses, compare with theory.

Why: a user about to compare a base and a post-trained model can first learn whether the
engine is exact on that architecture: on (M, rewrite of M) every affected metric has a value
known from theory (:mod:`postmech_eval.selftest.expected`). Everything runs in memory on
copies of M; nothing is written but temporary artifacts.
"""

from __future__ import annotations

import importlib
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postmech_eval.analyses.catalogue import SUITE_TASKS, build_config, spec_for
from postmech_eval.config import UserError, suggestion
from postmech_eval.selftest.checks import Check

#: The derived pairs, in the order they run.
PAIRS: tuple[str, ...] = ("identity", "permutation", "rotation", "abliteration", "planted_neuron")
#: Analyses each pair runs (the others cannot move on it or have no known answer there).
AFFECTED: dict[str, tuple[str, ...]] = {
    "identity": SUITE_TASKS,
    "permutation": ("postmech_entropy_neurons",),
    "rotation": SUITE_TASKS,
    "abliteration": ("postmech_refusal_transfer",),
    "planted_neuron": (),
}

#: Each pair's builder, "module:function" (resolved when a selftest runs: they import torch,
#: and ``postmech-eval``'s parser, which lists PAIRS, should not).
BUILDERS: dict[str, str] = {
    "identity": "expected:identity_pair",
    "permutation": "expected:permutation_pair",
    "rotation": "expected:rotation_pair",
    "abliteration": "known:abliteration_pair",
    "planted_neuron": "known:planted_pair",
}


def _builder(pair: str) -> Any:
    module, _, name = BUILDERS[pair].partition(":")
    return getattr(importlib.import_module(f"postmech_eval.selftest.{module}"), name)


@dataclass
class PairReport:
    """The checks of one derived pair, its wall time and why it was skipped (if it was)."""

    pair: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None


@dataclass
class Report:
    """Everything ``postmech-eval selftest`` prints; ``ok`` decides the exit code."""

    model: str
    family: str
    pairs: list[PairReport]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.passed is not False for p in self.pairs for c in p.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "family": self.family,
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "pairs": [
                {
                    "pair": p.pair,
                    "seconds": round(p.seconds, 2),
                    "skipped": p.skipped,
                    "checks": [c.to_dict() for c in p.checks],
                }
                for p in self.pairs
            ],  # fmt: skip
        }


def _settings(task: str, tokenizer: Any) -> dict[str, Any]:
    """Analysis settings: defaults, but both models prompted alike (they are one model) and fast."""
    out: dict[str, Any] = {"n_bootstrap": 0}
    if task == "postmech_knowledge_patching":
        out.update(progress=False, figures=False)
    if task == "postmech_refusal_transfer":
        out["progress"] = False
        if getattr(tokenizer, "chat_template", None):
            out.update(base_template="chat", post_template="chat")
        else:
            out["post_template"] = "User: {instruction}\nAssistant:"
    return out


class Analyses:
    """Runs analysis tasks on in-memory pairs with the selftest's settings and item limit."""

    def __init__(self, tokenizer: Any, limit: int | None, workdir: Path) -> None:
        self.tokenizer, self.limit, self.workdir = tokenizer, limit, workdir
        self._done: dict[tuple[str, str], tuple[Any, Path]] = {}

    def __call__(self, task: str, base: Any, post: Any, tag: str) -> tuple[Any, Path]:
        """(result, artifact folder) of ``task`` on (base, post); one run per (tag, task)."""
        from postmech_eval.models.pair import ModelPair

        if (tag, task) in self._done:
            return self._done[(tag, task)]

        run, _, items_fn = spec_for(task).load()
        config = build_config(task, _settings(task, self.tokenizer))
        items = items_fn(config)
        if self.limit is not None:
            items = items[: self.limit]
        out = self.workdir / f"{tag}_{task}"
        pair = ModelPair((base, self.tokenizer), (post, self.tokenizer))
        with warnings.catch_warnings():  # e.g. "no confidence gap": expected on these pairs
            warnings.simplefilter("ignore", UserWarning)
            self._done[(tag, task)] = run(pair, config, items=items, output_dir=out), out
        return self._done[(tag, task)]


def check_tasks(tasks: Sequence[str] | None) -> tuple[str, ...]:
    """The analysis tasks asked for (default all); a typo is one line naming close matches."""
    if not tasks:
        return SUITE_TASKS
    for t in tasks:
        if t not in SUITE_TASKS:
            raise UserError(suggestion("task", t, SUITE_TASKS))
    return tuple(tasks)


def selftest(
    model: Any,
    tokenizer: Any,
    *,
    name: str = "<in-memory>",
    tasks: Sequence[str] | None = None,
    pairs: Sequence[str] | None = None,
    limit: int | None = 32,
    seed: int = 0,
) -> Report:
    """Run the derived pairs of ``model`` and return every check (see :class:`Report`).

    ``limit``: items per analysis (the checks are identities, so a few dozen suffice).
    ``pairs``: a subset of :data:`PAIRS`. ``seed`` picks the permutation and the rotation.
    """
    from postmech_eval.engine.arch import get_adapter
    from postmech_eval.selftest.expected import NotApplicable

    tasks = check_tasks(tasks)
    for p in pairs or ():
        if p not in PAIRS:
            raise UserError(suggestion("derived pair", p, PAIRS))
    t0 = time.perf_counter()
    reports = []
    with tempfile.TemporaryDirectory(prefix="postmech-selftest-") as tmp:
        analyses = Analyses(tokenizer, limit, Path(tmp))
        for pair in pairs or PAIRS:
            t = time.perf_counter()
            rep = PairReport(pair=pair)
            wanted = tuple(x for x in AFFECTED[pair] if x in tasks)
            try:
                rep.checks = _builder(pair)(model, tokenizer, analyses, wanted, seed)
            except NotApplicable as why:
                rep.skipped = str(why)
            rep.seconds = time.perf_counter() - t
            reports.append(rep)
    return Report(
        model=name, family=get_adapter(model).family, pairs=reports, seconds=time.perf_counter() - t0
    )


def selftest_spec(spec: str, **kwargs: Any) -> Report:
    """:func:`selftest` on a model spec (hub id, directory, ``organism:NAME``, ``gguf:...``)."""
    from postmech_eval.models.specs import load_model

    model, tokenizer = load_model(spec, "float32", "cpu", False, None)
    return selftest(model, tokenizer, name=spec, **kwargs)
