"""Benchmark: capturing resid_post at every layer vs a plain forward, in one run.

Why: issue 4 requires that recording the residual stream at all layers
(``postmech_eval.engine.hooks.capture``, used by every analysis) costs <= 15% over a
plain forward on Gemma-3-270M, batch 8 x 128 tokens. Both sides run on the
same model and the same inputs, interleaved repeat by repeat (with the order
alternating) so the noise of a shared machine falls on both alike; the script
reports the median of each side, the median of the per-repeat ratios (the
robust figure under noise) and the load average at start and end.

Usage::

    python benchmarks/bench_capture.py                    # organism:base, else tiny Llama
    python benchmarks/bench_capture.py --gemma            # gguf:gemma3-270m (pip package)
    python benchmarks/bench_capture.py --model gguf:/path/to/model.gguf --repeats 7
    python benchmarks/bench_capture.py --gemma --hidden-states --max-overhead 15 --json out.json

Inputs are seeded random token ids (no padding, attention mask all ones): the
cost of a forward and of the hooks does not depend on which tokens they are.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from postmech_eval.engine.arch import get_adapter  # noqa: E402
from postmech_eval.engine.hooks import capture  # noqa: E402


def load(args: argparse.Namespace) -> tuple[torch.nn.Module, str]:
    """The model to benchmark and a name for it (tokenizers are not needed here)."""
    from postmech_eval.models.specs import load_model

    spec = "gguf:gemma3-270m" if args.gemma else args.model
    if spec is None:
        try:
            return load_model("organism:base", dtype=args.dtype, device=args.device)[0], "organism:base"
        except ValueError as e:
            print(f"[organism:base unavailable: {e}] -> tiny random Llama", file=sys.stderr)
            from tests.tiny_models import tiny_model

            model = tiny_model("llama", n_layers=4, d_model=256, max_position_embeddings=1024)
            return model.to(args.device), "tiny random Llama (4 layers, d=256)"
    return load_model(spec, dtype=args.dtype, device=args.device)[0], spec


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _time(fn: Callable[[], Any], device: str) -> float:
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t0


@torch.no_grad()
def bench(model: torch.nn.Module, args: argparse.Namespace) -> dict[str, Any]:
    """Seconds per forward for each side, interleaved; per-repeat ratios to the plain forward."""
    ad = get_adapter(model)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(10, ad.vocab_size, (args.batch, args.tokens), generator=g).to(args.device)
    mask = torch.ones_like(ids)
    sites = [f"blocks.{i}.resid_post" for i in range(ad.n_layers)]

    def plain() -> Any:
        return model(input_ids=ids, attention_mask=mask, use_cache=False).logits

    def captured() -> Any:
        with capture(model, sites) as cache:
            model(input_ids=ids, attention_mask=mask, use_cache=False)
        return cache

    def hidden() -> Any:
        return model(input_ids=ids, attention_mask=mask, use_cache=False, output_hidden_states=True)

    sides: dict[str, Callable[[], Any]] = {"plain": plain, "capture": captured}
    if args.hidden_states:
        sides["output_hidden_states"] = hidden
    with capture(model, sites) as cache:  # sanity: the captured shape is what was asked for
        model(input_ids=ids, attention_mask=mask, use_cache=False)
    shape = tuple(cache[sites[-1]].shape)
    for fn in sides.values():  # warm-up (allocator, kernels)
        fn()
    times: dict[str, list[float]] = {k: [] for k in sides}
    order = list(sides)
    for r in range(args.repeats):
        for name in order if r % 2 == 0 else reversed(order):
            times[name].append(_time(sides[name], args.device))
    out: dict[str, Any] = {
        "layers": ad.n_layers,
        "input_shape": list(ids.shape),
        "captured_shape_per_site": list(shape),
        "repeats": args.repeats,
        "times_s": times,
        "median_s": {k: statistics.median(v) for k, v in times.items()},
    }
    for name in sides:
        if name == "plain":
            continue
        ratios = [c / p for c, p in zip(times[name], times["plain"], strict=True)]
        out[f"overhead_pct_{name}"] = 100 * (out["median_s"][name] / out["median_s"]["plain"] - 1)
        out[f"overhead_pct_{name}_paired"] = 100 * (statistics.median(ratios) - 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", help="model spec (hub id, local dir, organism:NAME, gguf:...)")
    ap.add_argument("--gemma", action="store_true", help="Gemma-3-270M (spec gguf:gemma3-270m)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hidden-states", action="store_true", help="also time output_hidden_states=True")
    ap.add_argument("--max-overhead", type=float, help="exit 1 when the paired overhead exceeds this %%")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.batch < 1 or args.tokens < 1:
        ap.error("--repeats, --batch and --tokens must be positive")
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model, name = load(args)
    model.eval()
    load_start = os.getloadavg()
    res = bench(model, args)
    res.update(
        model=name,
        device=args.device,
        dtype=args.dtype,
        threads=args.threads,
        loadavg_start=list(load_start),
        loadavg_end=list(os.getloadavg()),
    )
    print(
        f"model: {name} | device: {args.device} | dtype: {args.dtype} | threads: {args.threads} | "
        f"load avg (1/5/15 min) start {load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f}, "
        f"end {res['loadavg_end'][0]:.2f}"
    )
    print(
        f"capture resid_post at all {res['layers']} layers, input {tuple(res['input_shape'])}, "
        f"median of {args.repeats} interleaved repeats"
    )
    print(f"  {'side':<24}{'median s':>10}{'min s':>10}{'overhead':>11}{'paired':>10}")
    for side, ts in res["times_s"].items():
        over = "" if side == "plain" else f"{res[f'overhead_pct_{side}']:+10.1f}%"
        paired = "" if side == "plain" else f"{res[f'overhead_pct_{side}_paired']:+9.1f}%"
        print(f"  {side:<24}{statistics.median(ts):>10.4f}{min(ts):>10.4f}{over:>11}{paired:>10}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    if args.max_overhead is not None and res["overhead_pct_capture_paired"] > args.max_overhead:
        print(f"FAIL: capture overhead above {args.max_overhead}%")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
