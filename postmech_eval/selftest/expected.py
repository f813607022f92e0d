"""What theory says each affected metric must be on each derived pair, next to what was measured.

Why: the expected values come from the rewrite alone (a permutation, a rotation Q, a
projected-out direction), never from the analysis under test: "B and P are one model" means
every base metric equals its post twin; "P's residual is h Q" means every direction v of B
reads as v Q in P, so cos(v_B, v_P) = cos(v, v Q); and so on, each check saying why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from postmech_eval.selftest.checks import Check, exact, is_cross, is_own, swap, to_base

KNOWLEDGE, PROBE, STEER, REFUSAL, ENTROPY = (
    "postmech_knowledge_patching",
    "postmech_truth_probe",
    "postmech_truth_steering",
    "postmech_refusal_transfer",
    "postmech_entropy_neurons",
)
#: Pair-level metrics whose "no change" value is known when P computes what B computes.
NO_CHANGE: dict[str, float] = {
    "patch_corr": 1.0,
    "patch_top10_iou": 1.0,
    "patch_peak_layer_shift": 0.0,
    "truth_dir_cosine": 1.0,
    "refusal_dir_cosine": 1.0,
    "entropy_neuron_iou": 1.0,
    "logitvar_spearman": 1.0,
    "entropy_gap": 0.0,
    "nif_transfer_forward": 1.0,
    "nif_transfer_backward": 1.0,
    **{
        f"transfer_{d}{a}{j}": 1.0
        for d in ("forward", "backward")
        for a in ("", "_add")
        for j in ("", "_loose")
    },
    "transfer_gap": 0.0,
    "transfer_gap_add": 0.0,
}
#: Of those, the ones that stay at "no change" under a residual rotation (within-model maps).
ROTATION_SAME = ("patch_corr", "patch_top10_iou", "patch_peak_layer_shift", "entropy_neuron_iou",
                 "logitvar_spearman", "entropy_gap")  # fmt: skip
TOL = 1e-6  # identical computations: only float summation order differs
TOL_FP = 1e-4  # a rewrite changes float rounding (logits agree to ~1e-6 relative)


class NotApplicable(Exception):
    """The derived pair does not exist for this model (the message says why)."""


# ----------------------------------------------------------------------------- weight checks
def _probe_ids(tokenizer: Any) -> torch.Tensor:
    texts = ["The city of Paris is in France.", "Tell me how to make a cake, please."]
    return tokenizer(texts, return_tensors="pt", padding=True)["input_ids"]


def _forward(model: Any, ids: torch.Tensor) -> Any:
    with torch.no_grad():
        return model(
            input_ids=ids.to(next(model.parameters()).device), output_hidden_states=True, use_cache=False
        )


def function_check(pair: str, a: Any, b: Any, tokenizer: Any) -> Check:
    """Max |logits_B - logits_P| relative to max |logits_B|: 0 for a function-preserving rewrite."""
    ids = _probe_ids(tokenizer)
    la, lb = _forward(a, ids).logits.double(), _forward(b, ids).logits.double()
    rel = float((la - lb).abs().max() / la.abs().max().clamp_min(1e-12))
    return exact(pair, "weights", "logits_rel_diff", 0.0, rel, TOL_FP, "the rewrite preserves the function")


def residuals(model: Any, tokenizer: Any) -> list[torch.Tensor]:
    """Residual states entering every layer (HF's last hidden state is post-norm: left out)."""
    return [h.double().cpu() for h in _forward(model, _probe_ids(tokenizer)).hidden_states[:-1]]


# ----------------------------------------------------------------------------- metric rules
def twin_checks(
    pair: str, task: str, metrics: dict[str, float], *, own_only: bool, tol: float
) -> list[Check]:
    """Each base metric equals its post twin (own metrics; cross ones too when ``own_only`` is False)."""
    out = []
    for m in sorted(metrics):
        twin = swap(m)
        if own_only and ("_random" in m or "_excess" in m):
            continue  # random control neurons are drawn by index: a permutation draws others
        if twin in metrics and m < twin and (is_own(m) or (not own_only and is_cross(m))):
            why = "B and P compute the same function" if own_only else "B and P are one model"
            out.append(exact(pair, task, twin, metrics[m], metrics[twin], tol, f"equals {m}: {why}"))
    return out


def _nan_ok(c: Check) -> Check:
    """A transfer ratio is undefined when the own change is below transfer_min_change."""
    if (
        math.isnan(c.observed)
        and not math.isnan(c.expected)
        and c.metric.startswith(("transfer_", "nif_transfer_"))
    ):
        return Check(**{**c.__dict__, "applies": False, "why": "undefined: own change below the minimum"})
    return c


def identity_metric_checks(task: str, metrics: dict[str, float]) -> list[Check]:
    """P = B: twins equal, cross-model values equal the own ones, pair metrics at "no change"."""
    if task == KNOWLEDGE and not metrics.get("pairs_used"):
        return []
    out = twin_checks("identity", task, metrics, own_only=False, tol=TOL)
    for m in sorted(metrics):
        own = to_base(m)
        if is_cross(m) and own in metrics and own != m:
            out.append(
                exact(
                    "identity", task, m, metrics[own], metrics[m], TOL, f"equals {own}: P's direction is B's"
                )
            )
    for m, v in NO_CHANGE.items():
        if m in metrics:
            out.append(_nan_ok(exact("identity", task, m, v, metrics[m], TOL, "no change")))
    if "entropy_gap_explained" in metrics:
        out.append(exact("identity", task, "entropy_gap_explained", math.nan, metrics["entropy_gap_explained"], 0,
                         "undefined: there is no confidence gap to explain"))  # fmt: skip
    return out


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double().flatten(), b.double().flatten()
    return float(a @ b / (a.norm() * b.norm()))


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def rotation_metric_checks(
    task: str, metrics: dict[str, float], out_dir: Path, res: Any, q: torch.Tensor
) -> list[Check]:
    """P's residual is h Q: within-model metrics unchanged, directions rotate, transfer collapses."""
    pair = "rotation"
    if task == KNOWLEDGE and not metrics.get("pairs_used"):
        return []
    out = twin_checks(pair, task, metrics, own_only=True, tol=TOL_FP)
    out += [exact(pair, task, m, NO_CHANGE[m], metrics[m], TOL_FP, "within-model maps unchanged")
            for m in ROTATION_SAME if m in metrics]  # fmt: skip
    if task == PROBE:
        t = read_tensors(out_dir / "truth_probe_directions.safetensors")
        b, p = t["coef_base"].double().flatten(), t["coef_post"].double().flatten()
        why = "theta_P = theta_B Q, so cos = cos(theta_B, theta_B Q)"
        out.append(
            exact(pair, task, "truth_dir_cosine", _cos(b, b @ q), metrics["truth_dir_cosine"], TOL_FP, why)
        )
        out.append(exact(pair, task, "probe_direction_rel_diff", 0.0, float((p - b @ q).norm() / b.norm()), 1e-3,
                         "the post probe is the base probe rotated"))  # fmt: skip
        for c in _collapse(pair, task, metrics, "probe_acc_base_on_post", "probe_acc_base", 0.5) + _collapse(
            pair, task, metrics, "probe_acc_post_on_base", "probe_acc_post", 0.5
        ):  # measured: organism:sft keeps |acc - 0.5| = 0.375 with cos = -0.14
            out.append(Check(**{**c.__dict__, "applies": False, "why": "not a prediction: a random direction "
                                "still separates where truth is linearly coded in many directions"}))  # fmt: skip
    if task == STEER:
        out += _collapse(pair, task, metrics, "nif_base_post", "nif_base_base", 0.0)
        out += _collapse(pair, task, metrics, "nif_post_base", "nif_post_post", 0.0)
    if task == REFUSAL:
        t = read_tensors(out_dir / "refusal_directions.safetensors")
        b = t["direction_base"].double()
        out.append(exact(pair, task, "refusal_dir_cosine", _cos(b, b @ q), metrics["refusal_dir_cosine"], TOL_FP,
                         "r_P = r_B Q, so cos = cos(r_B, r_B Q)"))  # fmt: skip
        per = t["per_layer_base"].double()
        want = [_cos(v, v @ q) if v.norm() > 0 else math.nan for v in per]
        got = res.config["cosine_per_layer"]
        worst = max(
            (abs(w - g) for w, g in zip(want, got, strict=True) if not math.isnan(w)), default=math.nan
        )
        out.append(exact(pair, task, "refusal_cosine_per_layer_max_diff", 0.0, worst, TOL_FP,
                         "every layer's cos(r_B,l, r_P,l) = cos(r_l, r_l Q)"))  # fmt: skip
        none = metrics["refusal_post_harmful"]
        own = abs(metrics["refusal_post_harmful_ablate_post"] - none)
        cross = abs(metrics["refusal_post_harmful_ablate_base"] - none)
        out.append(Check(pair=pair, task=task, metric="|refusal_post_harmful_ablate_base - refusal_post_harmful|",
                         expected=0.5 * own, observed=cross, kind="bound", tol=0.1,
                         why="B's direction reads as a random one in P: at most half the own change (+0.1)"))  # fmt: skip
    return out


def _collapse(
    pair: str, task: str, metrics: dict[str, float], cross: str, own: str, chance: float
) -> list[Check]:
    """|cross - chance| <= |own - chance| / 2 + 0.1: the other model's direction is random there."""
    if cross not in metrics or own not in metrics:
        return []
    return [Check(pair=pair, task=task, metric=f"|{cross} - {chance:g}|", expected=0.5 * abs(metrics[own] - chance),
                  observed=abs(metrics[cross] - chance), kind="bound", tol=0.1,
                  why=f"the other model's direction reads as a random one: at most half of |{own} - {chance:g}| (+0.1)")]  # fmt: skip


# ----------------------------------------------------------------------------- builders
Builder = Callable[[Any, Any, Any, Sequence[str], int], list[Check]]


def identity_pair(model: Any, tok: Any, analyses: Any, tasks: Sequence[str], seed: int) -> list[Check]:
    from postmech_eval.derived import identity

    post = identity(model)
    checks = [function_check("identity", model, post, tok)]
    for task in tasks:
        res, _ = analyses(task, model, post, "identity")
        checks += identity_metric_checks(task, res.metrics)
    return checks


def permutation_pair(model: Any, tok: Any, analyses: Any, tasks: Sequence[str], seed: int) -> list[Check]:
    from scipy.stats import spearmanr

    from postmech_eval.derived import permute_last_mlp
    from postmech_eval.estimators.entropy_neurons import EntropyNeuronScan

    post, perm = permute_last_mlp(model, seed)
    pair = "permutation"
    checks = [function_check(pair, model, post, tok)]
    sb, sp = EntropyNeuronScan().fit(model), EntropyNeuronScan().fit(post)
    mapped = {int(perm[j]) for j in sp.neurons_}
    iou_map = len(mapped & set(sb.neurons_)) / len(mapped | set(sb.neurons_))
    checks.append(
        exact(pair, "weights", "entropy_neuron_iou_under_map", 1.0, iou_map, 0, "selection maps through perm")
    )
    lv = float((sp.logitvar_ - sb.logitvar_[perm]).abs().max() / sb.logitvar_.abs().max())
    checks.append(
        exact(
            pair,
            "weights",
            "logitvar_rel_diff_under_map",
            0.0,
            lv,
            TOL_FP,
            "logitvar_P[j] = logitvar_B[perm[j]]",
        )
    )
    for task in tasks:  # only the entropy-neuron analysis reads neuron indices
        res, _ = analyses(task, model, post, pair)
        m = res.metrics
        checks += twin_checks(pair, task, m, own_only=True, tol=TOL_FP)
        s, s_p = set(sb.neurons_), {j for j in range(len(perm)) if int(perm[j]) in sb.neurons_}
        checks.append(exact(pair, task, "entropy_neuron_iou", len(s & s_p) / len(s | s_p), m["entropy_neuron_iou"], TOL,
                            "raw indices: |S ∩ perm^-1(S)| / |S ∪ perm^-1(S)|"))  # fmt: skip
        rho = float(spearmanr(sb.logitvar_.numpy(), sb.logitvar_[perm].numpy()).statistic)
        checks.append(exact(pair, task, "logitvar_spearman", rho, m["logitvar_spearman"], 1e-3,
                            "raw indices: spearman(logitvar, logitvar[perm])"))  # fmt: skip
    return checks


def rotation_pair(model: Any, tok: Any, analyses: Any, tasks: Sequence[str], seed: int) -> list[Check]:
    from postmech_eval.derived import rotate_residual, why_not

    if why_not(model):
        raise NotApplicable(why_not(model))
    post, q = rotate_residual(model, seed)
    pair = "rotation"
    checks = [function_check(pair, model, post, tok)]
    hb, hp = residuals(model, tok), residuals(post, tok)
    worst = max(float((p - b @ q).abs().max() / b.abs().max()) for b, p in zip(hb, hp, strict=True))
    checks.append(
        exact(pair, "weights", "residual_rel_diff", 0.0, worst, TOL_FP, "every residual state is h Q")
    )
    for task in tasks:
        res, out = analyses(task, model, post, pair)
        checks += rotation_metric_checks(task, res.metrics, out, res, q)
    return checks
