"""The known-effect pairs: refusal abliteration and a planted entropy neuron.

Why apart from :mod:`postmech_eval.selftest.expected`: these pairs change what the model
computes, in a way theory predicts. Abliteration (Arditi et al. 2024): a model whose residual
writes have r projected out must behave exactly as the original under directional ablation
of r, same prompts, same greedy generation. A planted neuron writing along the unembedding's
least-variance direction must be selected first by the entropy-neuron scan, and ablating it
must lower next-token entropy (it only inflates the final norm's denominator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from postmech_eval.selftest.checks import Check, exact
from postmech_eval.selftest.expected import REFUSAL, TOL_FP, NotApplicable, read_tensors, residuals


def abliteration_pair(model: Any, tok: Any, analyses: Any, tasks: Sequence[str], seed: int) -> list[Check]:
    """(M, M with r_M projected out): M' plain == M under ablation of r_M, item by item."""
    from postmech_eval.derived import abliterate, identity, why_not

    if REFUSAL not in tasks:
        raise NotApplicable(f"needs {REFUSAL} in --tasks")
    if why_not(model):
        raise NotApplicable(why_not(model))
    if not getattr(tok, "chat_template", None):
        raise NotApplicable("not a chat model (no chat template): refusal is measured on chat models")
    pair = "abliteration"
    _, out = analyses(REFUSAL, model, identity(model), "identity")  # r_M, fitted by the analysis
    r = read_tensors(out / "refusal_directions.safetensors")["direction_base"].double()
    post = abliterate(model, r)
    hs = residuals(post, tok)
    along = max(float((h @ (r / r.norm())).abs().max() / h.abs().max()) for h in hs)
    checks = [
        exact(pair, "weights", "residual_along_r_rel", 0.0, along, TOL_FP, "no write has an r component")
    ]
    res, out2 = analyses(REFUSAL, model, post, pair)
    m = res.metrics
    r2 = read_tensors(out2 / "refusal_directions.safetensors")["direction_base"].double()
    checks.append(exact(pair, REFUSAL, "direction_base_rel_diff", 0.0, float((r2 - r).norm() / r.norm()), TOL_FP,
                        "the base direction is fitted on the same model and prompts"))  # fmt: skip
    for judge in ("", "_loose"):
        checks.append(exact(pair, REFUSAL, f"refusal_post_harmful{judge}", m[f"refusal_base_harmful_ablate_base{judge}"],
                            m[f"refusal_post_harmful{judge}"], 1e-9,
                            "abliterated M = M under directional ablation of r (same prompts, greedy)"))  # fmt: skip
    harmful = [rec for rec in res.records if rec.get("kind") == "harmful"]
    same = [
        rec["completions"]["post"]["none"] == rec["completions"]["base"]["ablate_base"] for rec in harmful
    ]
    checks.append(exact(pair, REFUSAL, "harmful_completions_identical", 1.0, sum(same) / max(len(same), 1), 0,
                        "every generated text equals the ablated original's"))  # fmt: skip
    return checks


def _entropy_effect(model: Any, tok: Any, neuron: int, layer: int) -> dict[str, float]:
    """Token means of clean entropy and of the total / direct change when ``neuron`` is mean-ablated."""
    from postmech_eval.data import load_corpus
    from postmech_eval.estimators.entropy_ablation import QUANTITIES, measure, neuron_means

    ref, test = load_corpus(split="train")[:64], load_corpus(split="test")[:48]
    means = neuron_means(model, tok, ref, layer)
    sums, counts = measure(model, tok, test, [neuron], means, [], layer, skip_first=3)
    col = {q: float(sums[:, i].sum() / counts.sum()) for i, q in enumerate(QUANTITIES)}
    return {
        "clean": col["entropy_clean"],
        "total": col["entropy_ablated"] - col["entropy_clean"],
        "direct": col["entropy_direct"] - col["entropy_clean"],
    }


def planted_pair(model: Any, tok: Any, analyses: Any, tasks: Sequence[str], seed: int) -> list[Check]:
    """Plant an entropy neuron in the last MLP; it must be selected first and lower entropy when ablated."""
    from postmech_eval.data import load_corpus
    from postmech_eval.derived import plant_entropy_neuron, why_not
    from postmech_eval.engine.arch import get_adapter
    from postmech_eval.estimators.entropy_neurons import EntropyNeuronScan

    pair = "planted_neuron"
    adapter = get_adapter(model)
    neuron = (7 + seed) % adapter.d_mlp
    with torch.no_grad():
        post, info = plant_entropy_neuron(model, neuron, tokenizer=tok, texts=load_corpus(split="train")[:16])
    scan = EntropyNeuronScan().fit(post)
    checks = [
        exact(pair, "weights", "planted_is_selected", 1.0, float(neuron in scan.neurons_), 0,
              "largest norm and the least logit variance of any direction"),
        exact(pair, "weights", "planted_selection_rank", 0.0, float(scan.neurons_.index(neuron))
              if neuron in scan.neurons_ else math.nan, 0, "its logit variance is the minimum over all directions"),
    ]  # fmt: skip
    eff = _entropy_effect(post, tok, neuron, info.layer)
    flat = eff["clean"] > 0.9 * math.log(adapter.vocab_size)
    post_norm = why_not(model)
    applies, why = True, "ablation removes var(a)|w|^2 of null-space norm: logits sharpen"
    if post_norm:
        applies, why = (
            False,
            "the MLP output passes a post-feedforward norm, which rescales the planted write",
        )
    elif flat:
        applies, why = False, "near-uniform predictions (entropy > 0.9 log V): no confidence to regulate"
    checks.append(Check(pair=pair, task="weights", metric="ablate_dentropy_planted", expected=-1.0,
                        observed=eff["total"], kind="sign", tol=1e-4, why=why, applies=applies))  # fmt: skip
    checks.append(Check(pair=pair, task="weights", metric="|ablate_dentropy_direct_planted|",
                        expected=0.25 * abs(eff["total"]), observed=abs(eff["direct"]), kind="bound", tol=0.0,
                        why="it acts through the final norm, not the logits (direct <= 1/4 total)",
                        applies=applies))  # fmt: skip
    return checks
