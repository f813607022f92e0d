"""Map per-item work over the processes of a data-parallel run, then give every process all of it.

Why: under ``accelerate launch`` / ``torchrun`` lm-eval hands each rank every k-th request and
keeps rank 0's copy of a ``first``-aggregated metric. Pair-level metrics (a correlation of
heatmaps, a refusal rate's transfer ratio) need every item, so an analysis that ran on its
own shard would report rank 0's shard silently. Instead each analysis states its expensive
per-item steps (capture, patched cells, generations, ablations) as ``map_items(step, items,
fn)``: every rank computes its strided share, the results are all-gathered with
``torch.distributed`` (no home-made transport), and every rank holds the full, identically
ordered list — so everything after the map (fitting, bootstrap, metrics) is the same on every
rank. The same call consults the per-item cache (``postmech_eval.engine.item_cache``), which is
what makes a killed run resumable. Outside a distributed run (or with one process) the map
is a plain loop.

The active :class:`Runtime` is a context variable set by the harness for the duration of one
analysis (``with running(Runtime(...))``); library users get the single-process default.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from postmech_eval.engine.item_cache import ItemCache, item_key

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Where this process stands in the run: rank, world size, the per-item cache.

    ``stats[step]`` counts this rank's items: ``computed``, ``cached`` (read back from the
    cache), and ``total`` (all ranks' items of the step).
    """

    rank: int = 0
    world_size: int = 1
    cache_dir: Path | None = None
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    #: called before each chunk a map computes: the caller's chance to adjust resources
    #: between chunks (the suite's thread budget while it draws figures, ``harness.pacing``)
    pace: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.rank < self.world_size:
            raise ValueError(
                f"rank must be in [0, world_size); got rank={self.rank}, world_size={self.world_size}"
            )
        self.cache = ItemCache(self.cache_dir) if self.cache_dir is not None else None

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


_CURRENT: contextvars.ContextVar[Runtime | None] = contextvars.ContextVar("postmech_runtime", default=None)


def current() -> Runtime:
    """The active runtime (a single-process, cache-less one when none is set)."""
    return _CURRENT.get() or Runtime()


@contextlib.contextmanager
def running(runtime: Runtime) -> Iterator[Runtime]:
    token = _CURRENT.set(runtime)
    try:
        yield runtime
    finally:
        _CURRENT.reset(token)


def world() -> tuple[int, int]:
    """(rank, world size) of the initialised ``torch.distributed`` group, (0, 1) without one."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_gather(obj: Any, runtime: Runtime | None = None) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank (``[obj]`` in one process)."""
    rt = runtime or current()
    if not rt.distributed:
        return [obj]
    out: list[Any] = [None] * rt.world_size
    torch.distributed.all_gather_object(out, obj)
    return out


class PeerFailed(RuntimeError):
    """Another rank's per-item step raised: this rank stops too (same task, same point), so
    the run fails (or, with ``on_task_error=continue``, moves on) on every rank together."""


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value


def map_items(
    step: str,
    items: Sequence[Any],
    fn: Callable[[list[Any]], Sequence[Any]],
    *,
    context: Any = None,
    chunk: int = 32,
    gather: bool = True,
) -> list[Any]:
    """``fn`` over ``items`` (in chunks), shared across ranks and cached; all results, in order.

    ``items`` are JSON-able descriptions of the work (texts, prompt dicts) and must be the same
    list on every rank; ``fn(list_of_items) -> results`` (one per item: a tensor, a dict of
    tensors and JSON values, or a JSON value). ``context`` is everything else the results
    depend on (model fingerprints, settings) and enters the cache key with ``step`` and the
    item; without it nothing is cached (a result that depends on something unnamed must not
    be reused). Rank r computes items r, r + k, r + 2k, ...; a chunk's results are cached as
    soon as it finishes, so a kill loses at most one chunk. With ``gather=False`` only this
    rank's results come back (None elsewhere): for steps whose results feed a later step on
    the same items (which lands on the same rank) and are too big to send around.
    """
    rt = current()
    items = list(items)
    mine = list(range(rt.rank, len(items), rt.world_size))
    out: dict[int, Any] = {}
    cache = rt.cache if context is not None else None
    keys = {i: item_key(step, items[i], context) for i in mine} if cache is not None else {}
    todo: list[int] = []
    for i in mine:
        hit, value = cache.load(step, keys[i]) if cache is not None else (False, None)
        if hit:
            out[i] = value
        else:
            todo.append(i)
    size = max(1, chunk) if cache is not None else max(1, len(todo))
    try:
        for start in range(0, len(todo), size):
            part = todo[start : start + size]
            if rt.pace is not None:
                rt.pace()
            results = list(fn([items[i] for i in part]))
            if len(results) != len(part):
                raise RuntimeError(f"{step}: fn returned {len(results)} results for {len(part)} items")
            for i, value in zip(part, results, strict=True):
                value = _to_cpu(value)
                out[i] = value
                if cache is not None:
                    cache.store(step, keys[i], value)
    except Exception as err:
        if rt.distributed:  # tell the peers, which would otherwise wait in all_gather for ever
            all_gather(f"{type(err).__name__}: {err}", rt)
        raise
    if rt.distributed:
        failed = [(r, e) for r, e in enumerate(all_gather(None, rt)) if e is not None]
        if failed:
            rank, error = failed[0]
            raise PeerFailed(f"{step}: rank {rank} of {rt.world_size} failed ({error}); stopping here too")
    stats = rt.stats.setdefault(step, {"computed": 0, "cached": 0, "total": 0})
    stats["computed"] += len(todo)
    stats["cached"] += len(mine) - len(todo)
    stats["total"] += len(items)
    if rt.distributed:
        log.info(
            "postmech rank %d/%d: %s: %d of %d items here (%d cached)",
            rt.rank, rt.world_size, step, len(mine), len(items), len(mine) - len(todo),
        )  # fmt: skip
    if not rt.distributed or not gather:
        return [out.get(i) for i in range(len(items))]
    shards = all_gather([out[i] for i in mine], rt)
    return [shards[i % rt.world_size][i // rt.world_size] for i in range(len(items))]
