"""`verify`: measure the planted properties of a saved organism.

Why from disk: what users get is the saved float16 checkpoint loaded as
float32, so the figures (and the acceptance tests) are measured on exactly
that, with the same prompts the analyses use.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from . import measure as M

#: Datasets for which held-out truth judgement is an acceptance figure.
HELD_OUT_GATED: tuple[str, ...] = ("cities", "animal_class")
#: Datasets with recallable facts (one object per subject).
_ROUND = 4


def _mean(values: list[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else float("nan")


def _subsample(items: list, limit: int | None) -> list:
    if limit is None or len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def probe_accuracy(model: Any, tok: Any, heldout: str = "cities") -> float:
    """METHODS §2 mass-mean probe at floor(0.375 L), trained on the default training
    datasets (each centred), tested on `heldout`'s test split (held-out entities).

    Why in verify: the truth planting (plant.py) exists so that this number, which the
    truth tasks report, reflects a mechanism the organism really has.
    """
    import numpy as np

    from postmech_eval.data import TRUTH_TRAIN_DATASETS, load_statements
    from postmech_eval.estimators.probes import fit_probe, statement_activations

    layer = math.floor(0.375 * model.config.num_hidden_layers)
    train = [s for name in TRUTH_TRAIN_DATASETS for s in load_statements(name, "all")]
    test = load_statements(heldout, "test")
    acts = statement_activations(model, tok, [s.statement for s in train + test], [layer], 32)[0]
    probe = fit_probe(acts[: len(train)], train, "mm")
    held = acts[len(train) :] - acts[len(train) :].mean(dim=0, keepdim=True)
    return float(probe.score(held, np.array([s.label for s in test])))


def verify_dir(
    path: Path, chat: bool, limit: int | None = None, seed: int = 0, labelled_limit: int | None = 100
) -> dict[str, Any]:
    """Metrics of the organism saved at `path` (see module docstring).

    limit caps the items per dataset and instruction kind (evenly spaced),
    for quick checks; the shipped figures use limit=None. labelled_limit caps
    the (larger, memorised) train-split statements per dataset, evenly spaced.
    Keys: recall/<dataset>, truth_labelled/<dataset>, truth_heldout/<dataset>,
    truth_probe_cities (METHODS §2 probe at its default layer), and the summaries recall_mean, truth_labelled_mean, truth_heldout_<gated>,
    refusal_harmful, refusal_harmless, plus a few sample completions.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .world import eval_sets

    t0 = time.time()
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()
    sets = eval_sets()
    out: dict[str, Any] = {}
    for name, pairs in sets.facts.items():
        out[f"recall/{name}"] = M.recall_accuracy(model, tok, _subsample(pairs, limit))
    for name, splits in sets.statements.items():
        pool = splits["train"]
        lab = _subsample(pool, min(x for x in (limit, labelled_limit, len(pool)) if x is not None))
        out[f"truth_labelled/{name}"] = M.truth_accuracy(model, tok, lab, pool, seed=seed)
        out[f"truth_heldout/{name}"] = M.truth_accuracy(
            model, tok, _subsample(splits["test"], limit), pool, seed=seed
        )
    out["truth_probe_cities"] = probe_accuracy(model, tok)
    harmful, outs_h = M.refusal_rate(model, tok, _subsample(sets.harmful_test, limit), chat)
    harmless, outs_b = M.refusal_rate(model, tok, _subsample(sets.harmless_test, limit), chat)
    out = {k: round(v, _ROUND) for k, v in out.items()}
    out["recall_mean"] = round(_mean([v for k, v in out.items() if k.startswith("recall/")]), _ROUND)
    out["truth_labelled_mean"] = round(
        _mean([v for k, v in out.items() if k.startswith("truth_labelled/")]), _ROUND
    )
    out["truth_labelled_min"] = round(
        min(v for k, v in out.items() if k.startswith("truth_labelled/")), _ROUND
    )
    for name in HELD_OUT_GATED:
        out[f"truth_heldout_{name}"] = out[f"truth_heldout/{name}"]
    out["refusal_harmful"] = round(harmful, _ROUND)
    out["refusal_harmless"] = round(harmless, _ROUND)
    out["template"] = "chat" if chat else "User: {instruction}\\nAssistant:"
    out["samples"] = {"harmful": outs_h[:3], "harmless": outs_b[:3]}
    out["n_layers"] = model.config.num_hidden_layers
    out["seconds"] = round(time.time() - t0, 1)
    return out
