"""Refusal generation: every condition in one batched ``generate`` vs one condition at a time.

Why: issue 20. The refusal task completes each test prompt under every condition (none,
ablation of either model's direction on harmful prompts, addition on harmless ones). The
analysis now runs all conditions of a model in one batched generation with per-row
directions and vectors (``refusal.run.row_interventions``); before, it ran one ``generate``
per condition. Both paths run here on the same prompts, directions and settings, side by
side: wall time of each, the ratio, and whether every completion is identical.

    python benchmarks/bench_refusal_conditions.py                       # organism pair
    python benchmarks/bench_refusal_conditions.py --batch-size 64
    python benchmarks/bench_refusal_conditions.py --base gguf:gemma3-270m \\
        --post organism:gemma3-270m-sft --prompts 16                    # Gemma pair (slow)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from postmech_eval.analyses.refusal.plan import (
    DEFAULT_BATCH,
    KINDS,
    format_prompts,
    preflight,
    resolve_site,
    train_sets,
)  # noqa: E402
from postmech_eval.analyses.refusal.report import CONDITIONS  # noqa: E402
from postmech_eval.analyses.refusal.run import RefusalConfig, _interventions, hook_kind, row_interventions  # noqa: E402
from postmech_eval.engine.generation import generate  # noqa: E402
from postmech_eval.models.pair import ModelPair  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="organism:base")
    ap.add_argument("--post", default="organism:sft")
    ap.add_argument("--prompts", type=int, default=None, help="test prompts per kind (default: all)")
    ap.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="both paths' rows per batch (default: 32 one condition at a time, as before; "
        "the analysis' default for the batched path, 128 on the tiny organisms)",
    )
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    pair = ModelPair(args.base, args.post, one_at_a_time=True)
    config = RefusalConfig(progress=False, batch_size=args.batch_size)
    plan = preflight(pair, config)
    train = {k: train_sets(config, k)[0] for k in KINDS}
    sites = {w: resolve_site(pair.get(w), plan[w], train, config) for w in ("base", "post")}
    tests = {k: [r.instruction for r in train_sets(config, k)[1][: args.prompts]] for k in KINDS}
    kw = {"max_new_tokens": config.max_new_tokens, "batch_size": args.batch_size or DEFAULT_BATCH}
    total = {"one condition at a time": 0.0, "conditions batched": 0.0}
    same = True
    for target in ("post", "base"):
        model, tok = pair.get(target)
        n_layers = plan[target].n_layers
        rows, reference = [], []
        t0 = time.perf_counter()
        for kind in KINDS:
            prompts = format_prompts(
                tok, tests[kind], plan[target].template, max_new_tokens=config.max_new_tokens
            )
            for c in CONDITIONS[kind]:
                ivs = _interventions(c, target, sites, n_layers, config.alpha)
                reference += generate(model, tok, prompts, interventions=ivs, **kw)
                rows += [(c, p) for p in prompts]
        total["one condition at a time"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        # as the analysis does (refusal.run): rows grouped by hook kind, then by prompt length
        order = sorted(range(len(rows)), key=lambda i: (hook_kind(rows[i][0]), len(rows[i][1])))
        ivs = row_interventions([rows[i][0] for i in order], target, sites, n_layers, config.alpha)
        done = generate(
            model,
            tok,
            [rows[i][1] for i in order],
            interventions=ivs,
            max_new_tokens=config.max_new_tokens,
            batch_size=plan[target].batch_size,
        )
        batched = [""] * len(rows)
        for i, text in zip(order, done, strict=True):
            batched[i] = text
        total["conditions batched"] += time.perf_counter() - t0
        same &= batched == reference
        print(f"{target}: {len(rows)} completions, identical: {batched == reference}")
    before, after = total.values()
    sizes = f"{kw['batch_size']} one at a time, {plan['post'].batch_size} / {plan['base'].batch_size} batched (post / base)"
    print(f"{args.base} -> {args.post}, batch size {sizes}, {torch.get_num_threads()} threads")
    for name, secs in total.items():
        print(f"  {name:<24} {secs:7.1f} s")
    print(f"  ratio (before / after)   {before / after:7.2f}x   every completion identical: {same}")


if __name__ == "__main__":
    main()
