"""The shared per-item map and its cache (postmech_eval.engine.shard, engine.item_cache).

Single-process behaviour here; the data-parallel path (2 CPU processes under torchrun,
through the real lm_eval CLI) is tested in test_data_parallel.py.
"""

from __future__ import annotations

import logging
import time

import pytest
import torch

from postmech_eval.engine.item_cache import ItemCache, item_key
from postmech_eval.engine.shard import Runtime, current, map_items, running


def _squares(calls: list[list[int]]):
    def fn(part: list[int]) -> list[dict]:
        calls.append(list(part))
        return [{"x": torch.tensor([float(i)] * 3), "sq": i * i, "tag": f"n{i}"} for i in part]

    return fn


def test_cache_round_trips_tensors_dicts_and_json(tmp_path):
    cache = ItemCache(tmp_path)
    values = {
        "tensor": torch.arange(6, dtype=torch.float64).reshape(2, 3),
        "dict": {"t": torch.ones(2, dtype=torch.int64), "f": 0.25, "s": "text", "l": [1, 2]},
        "json": ["a", 1.5, None],
    }
    for name, value in values.items():
        key = item_key("step", name, {"model": "x"})
        cache.store("step", key, value)
        hit, back = cache.load("step", key)
        assert hit
        if name == "tensor":
            assert torch.equal(back, value) and back.dtype == value.dtype
        elif name == "dict":
            assert torch.equal(back["t"], value["t"]) and back["f"] == 0.25 and back["s"] == "text"
            assert back["l"] == [1, 2]
        else:
            assert back == value


def test_key_changes_with_item_context_and_step():
    base = item_key("s", {"prompt": "a"}, {"model": "m1"})
    assert base == item_key("s", {"prompt": "a"}, {"model": "m1"})
    assert base != item_key("s", {"prompt": "b"}, {"model": "m1"})
    assert base != item_key("s", {"prompt": "a"}, {"model": "m2"})
    assert base != item_key("t", {"prompt": "a"}, {"model": "m1"})


def test_map_without_runtime_is_a_plain_ordered_map():
    calls: list[list[int]] = []
    out = map_items("sq", list(range(7)), _squares(calls), context={"m": 1}, chunk=3)
    assert [r["sq"] for r in out] == [i * i for i in range(7)]
    assert calls == [list(range(7))]  # no cache: one call, no chunking
    assert current().world_size == 1


def test_second_run_reads_every_item_from_the_cache(tmp_path):
    first_calls: list[list[int]] = []
    with running(Runtime(cache_dir=tmp_path)) as rt:
        first = map_items("sq", list(range(10)), _squares(first_calls), context={"m": 1}, chunk=4)
    assert first_calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert rt.stats["sq"] == {"computed": 10, "cached": 0, "total": 10}
    again: list[list[int]] = []
    with running(Runtime(cache_dir=tmp_path)) as rt2:
        second = map_items("sq", list(range(10)), _squares(again), context={"m": 1}, chunk=4)
    assert again == [] and rt2.stats["sq"] == {"computed": 0, "cached": 10, "total": 10}
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a["x"], b["x"]) and a["sq"] == b["sq"] and a["tag"] == b["tag"]
    # another context (e.g. another model) shares nothing
    other: list[list[int]] = []
    with running(Runtime(cache_dir=tmp_path)):
        map_items("sq", list(range(10)), _squares(other), context={"m": 2}, chunk=4)
    assert sum(map(len, other)) == 10


def test_without_context_nothing_is_cached(tmp_path):
    with running(Runtime(cache_dir=tmp_path)):
        map_items("sq", [1, 2], _squares([]), context=None)
    assert not any(tmp_path.rglob("*.safetensors"))


def test_only_missing_items_are_recomputed(tmp_path):
    with running(Runtime(cache_dir=tmp_path)):
        map_items("sq", list(range(6)), _squares([]), context={"m": 1}, chunk=2)
    entries = sorted(tmp_path.rglob("*.safetensors"))
    lost = item_key("sq", 3, {"m": 1})
    (next(p for p in entries if p.stem == lost)).unlink()
    calls: list[list[int]] = []
    with running(Runtime(cache_dir=tmp_path)) as rt:
        out = map_items("sq", list(range(6)), _squares(calls), context={"m": 1}, chunk=2)
    assert calls == [[3]] and rt.stats["sq"]["computed"] == 1
    assert [r["sq"] for r in out] == [0, 1, 4, 9, 16, 25]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other_key"])
def test_a_corrupt_entry_is_recomputed_with_a_warning(tmp_path, caplog, damage):
    with running(Runtime(cache_dir=tmp_path)):
        map_items("sq", [5], _squares([]), context={"m": 1})
    cache = ItemCache(tmp_path)
    path = cache.path("sq", item_key("sq", 5, {"m": 1}))
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:20])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 64)
    else:  # a sound file filed under the wrong key is not this item's result
        cache.store("sq", "0" * 64, {"sq": 99})
        path.write_bytes(cache.path("sq", "0" * 64).read_bytes())
    calls: list[list[int]] = []
    with caplog.at_level(logging.WARNING), running(Runtime(cache_dir=tmp_path)):
        out = map_items("sq", [5], _squares(calls), context={"m": 1})
    assert calls == [[5]] and out[0]["sq"] == 25
    assert "corrupt entry" in caplog.text
    assert ItemCache(tmp_path).load("sq", item_key("sq", 5, {"m": 1}))[1]["sq"] == 25  # rewritten


def test_fn_must_answer_every_item():
    with pytest.raises(RuntimeError, match="2 results for 3 items"):
        map_items("bad", [1, 2, 3], lambda part: part[:2])


def test_rank_outside_world_is_refused():
    with pytest.raises(ValueError, match="rank must be in"):
        Runtime(rank=2, world_size=2)


def _rank_main(rank: int, port: int, out_dir: str) -> None:
    """One gloo process of a 2-rank map in which rank 1's step raises on its first item."""
    import os
    from pathlib import Path

    import torch.distributed as dist

    from postmech_eval.engine.shard import PeerFailed

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)

    def fn(part: list[int]) -> list[int]:
        if rank == 1:
            raise ValueError("item 1 is malformed")
        return [i * i for i in part]

    outcome = "returned"
    try:
        with running(Runtime(rank=rank, world_size=2)):
            map_items("step", [0, 1, 2, 3], fn)
            map_items("after", [0, 1], lambda part: part)  # not reached: both ranks stopped together
    except PeerFailed as err:
        outcome = f"PeerFailed: {err}"
    except ValueError as err:
        outcome = f"ValueError: {err}"
    Path(out_dir, f"rank{rank}").write_text(outcome)
    dist.destroy_process_group()


def test_a_failing_rank_stops_its_peer_instead_of_hanging_it(tmp_path):
    """Under data parallel a step that raises on one rank raises on every rank (the peer
    names the failed rank and its error) rather than leaving the peer in all_gather."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.start_processes(
        _rank_main, args=(port, str(tmp_path)), nprocs=2, join=False, start_method="spawn"
    )
    t0 = time.time()
    while not ctx.join(timeout=5):
        assert time.time() - t0 < 120, "a rank hung"
    assert (tmp_path / "rank1").read_text() == "ValueError: item 1 is malformed"
    assert (tmp_path / "rank0").read_text() == (
        "PeerFailed: step: rank 1 of 2 failed (ValueError: item 1 is malformed); stopping here too"
    )


def test_pace_runs_before_every_chunk_a_map_computes(tmp_path):
    """``Runtime.pace`` (the suite's thread budget while it draws) gets a say before each chunk
    that is computed, none for items read back from the cache."""
    paced: list[int] = []
    calls: list[list[int]] = []
    rt = Runtime(cache_dir=tmp_path)
    rt.pace = lambda: paced.append(len(calls))
    with running(rt):
        map_items("sq", list(range(7)), _squares(calls), context={"m": 1}, chunk=3)
    assert paced == [0, 1, 2] and len(calls) == 3
    with running(rt):
        map_items("sq", list(range(7)), _squares(calls), context={"m": 1}, chunk=3)
    assert paced == [0, 1, 2]  # every item cached: nothing computed, no pacing
