"""Write lm-eval results files for leaderboard/check tests, with lm-eval's own writer.

The files go through ``lm_eval.loggers.EvaluationTracker.save_results_aggregated`` (the
code ``lm_eval --output_path DIR`` runs), so layout (``DIR/<sanitized model>/results_<ts>
.json``), extra keys and NaN encoding are exactly what users' runs contain. Uncertainty is
written as the analyses state it (METHODS §6): ``<m>_stderr`` for item metrics,
``<m>_ci_lo`` / ``<m>_ci_hi`` for pair statistics with an interval (lo = hi for exact ones).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from postmech_eval.analyses.catalogue import CATALOGUE

KP = "postmech_knowledge_patching"
TP = "postmech_truth_probe"
TS = "postmech_truth_steering"
RT = "postmech_refusal_transfer"
EN = "postmech_entropy_neurons"
NAN = math.nan


def sft_metrics() -> dict[str, dict[str, float]]:
    """A pair on which all four paper findings reproduce (numbers shaped like the paper's)."""
    return {
        KP: {
            "patch_corr": 0.93,
            "patch_top10_iou": 0.71,
            "patch_peak_layer_shift": 0.0,
            "cross_recovery_base_to_post": 0.84,
            "cross_recovery_post_to_base": 0.88,
            "pairs_used": 120.0,
            "pairs_excluded": 4.0,
        },
        TP: {
            "probe_acc_base": 0.91,
            "probe_acc_post": 0.93,
            "probe_acc_base_on_post": 0.90,
            "probe_acc_post_on_base": 0.89,
            "truth_dir_cosine": 0.82,
        },
        TS: {
            "nif_base_base": 0.829,
            "nif_post_base": 0.822,
            "nif_base_post": 0.896,
            "nif_post_post": 0.877,
            "nif_transfer_forward": 0.896 / 0.877,
            "nif_transfer_backward": 0.822 / 0.829,
            "p_diff_base_true": 0.945,
            "p_diff_base_false": -0.906,
            "p_diff_post_true": 0.973,
            "p_diff_post_false": -0.988,
        },
        RT: {
            "refusal_base_harmful": 0.45,
            "refusal_base_harmless": 0.0,
            "refusal_post_harmful": 0.95,
            "refusal_post_harmless": 0.03,
            "refusal_base_harmful_ablate_base": 0.05,
            "refusal_base_harmful_ablate_post": 0.03,
            "refusal_post_harmful_ablate_base": 0.80,
            "refusal_post_harmful_ablate_post": 0.10,
            "refusal_base_harmless_add_base": 0.40,
            "refusal_base_harmless_add_post": 0.75,
            "refusal_post_harmless_add_base": 0.30,
            "refusal_post_harmless_add_post": 0.90,
            # ratios of the rates above (METHODS §4): forward = (0.95-0.80)/(0.95-0.10), ...
            "transfer_forward": 0.15 / 0.85,
            "transfer_backward": 0.42 / 0.40,
            "transfer_forward_add": 0.27 / 0.87,
            "transfer_backward_add": 0.75 / 0.40,
            "transfer_gap": 0.42 / 0.40 - 0.15 / 0.85,
            "transfer_gap_add": 0.75 / 0.40 - 0.27 / 0.87,
            "refusal_dir_cosine": 0.41,
        },
        EN: {
            "entropy_neuron_iou": 0.82,
            "logitvar_spearman": 0.95,
            "ablate_dentropy_base": 0.12,
            "ablate_dentropy_post": 0.10,
            "ablate_dloss_base": 0.01,
            "ablate_dloss_post": 0.01,
            "direct_effect_share_base": 0.2,
            "direct_effect_share_post": 0.25,
            "entropy_base": 3.1,
            "entropy_post": 2.2,
            "ablate_abs_dentropy_excess_base": 0.05,
            "ablate_abs_dentropy_excess_post": 0.04,
            "entropy_gap": 0.9,
            "entropy_gap_explained": 0.08,
        },
    }


def cpt_metrics() -> dict[str, dict[str, float]]:
    """A continued-pretraining pair: no refusal behaviour, so refusal metrics are NaN."""
    metrics = sft_metrics()
    metrics[KP]["patch_corr"] = 0.97
    metrics[RT] = {name: NAN for name in metrics[RT]}
    return metrics


Uncertainty = dict[str, dict[str, float | tuple[float, float]]]


def auto_uncertainty(metrics: dict[str, dict[str, float]], se: float = 0.01, hw: float = 0.02) -> Uncertainty:
    """What the analyses would attach: a stderr ``se`` for item metrics, a CI ``value ± hw``
    for bootstrap statistics, lo = hi = value for exact ones, nothing for counts and layers."""
    out: Uncertainty = {}
    for task, values in metrics.items():
        kinds = {m.name: m.uncertainty for m in CATALOGUE.get(task, ())}
        for name, value in values.items():
            kind = kinds.get(name)
            if kind == "stderr":
                out.setdefault(task, {})[name] = se
            elif kind in ("bootstrap", "exact") and not math.isnan(value):
                width = hw if kind == "bootstrap" else 0.0
                out.setdefault(task, {})[name] = (value - width, value + width)
    return out


def write_results(
    out_dir: Path,
    metrics: dict[str, dict[str, float]],
    *,
    base: str | None = "organism:base",
    post: str | None = "organism:sft",
    date: float | None = None,
    model_args_as_dict: bool = False,
    extra_model_args: dict[str, str] | None = None,
    uncertainty: Uncertainty | str | None = "auto",
    versions: dict[str, Any] | None = None,
    postmech_version: str | None = None,
    limit: int | None = None,
) -> Path:
    """Write one results file like ``lm_eval --model postmech --output_path out_dir``.

    ``uncertainty``: "auto" (:func:`auto_uncertainty`), a task -> metric -> stderr or
    (lo, hi) mapping, or None for a file from before the suite stated uncertainty (every
    ``_stderr`` "N/A", no CIs). ``versions``: task -> lm-eval's task version (default 1.0).
    ``postmech_version`` goes into each task's metadata as ``postmech_eval_version``.
    """
    from lm_eval.loggers import EvaluationTracker

    args: dict[str, str] = {}
    if base is not None:
        args["base"] = base
    if post is not None:
        args["post"] = post
    args.update(extra_model_args or {})
    model_args: Any = args if model_args_as_dict else ",".join(f"{k}={v}" for k, v in args.items())
    results: dict[str, Any] = {"results": {}, "group_subtasks": {}, "configs": {}, "versions": {}}
    given = auto_uncertainty(metrics) if uncertainty == "auto" else (uncertainty or {})
    assert isinstance(given, dict)
    for task, values in metrics.items():
        # Shape of a real 0.4.13 postmech entry: name/alias/sample_len beside "metric,filter".
        entry: dict[str, Any] = {"name": task, "alias": task, "sample_len": 10}
        for name, value in values.items():
            entry[f"{name},none"] = value
            unc = given.get(task, {}).get(name)
            entry[f"{name}_stderr,none"] = unc if isinstance(unc, float) else "N/A"
            if isinstance(unc, tuple):
                entry[f"{name}_ci_lo,none"], entry[f"{name}_ci_hi,none"] = unc
                entry[f"{name}_ci_lo_stderr,none"] = entry[f"{name}_ci_hi_stderr,none"] = "N/A"
        version = (versions or {}).get(task, 1.0)
        metadata: dict[str, Any] = {"version": version}
        if postmech_version is not None:
            metadata["postmech_eval_version"] = postmech_version
        results["results"][task] = entry
        results["group_subtasks"][task] = []
        results["configs"][task] = {"task": task, "metadata": metadata}
        results["versions"][task] = version
        n = 10 if limit is None else min(limit, 10)
        results.setdefault("n-samples", {})[task] = {"original": 10, "effective": n}
    results["config"] = {
        "model": "postmech",
        "model_args": model_args,
        "batch_size": 1,
        "device": None,
        "limit": limit,
        "random_seed": 0,
        "numpy_seed": 1234,
    }
    results["git_hash"] = None
    results["date"] = time.time() if date is None else date
    results["lm_eval_version"] = "0.4.13"
    results["transformers_version"] = "5.24.0"
    tracker = EvaluationTracker(output_path=str(out_dir))
    tracker.general_config_tracker.log_experiment_args(
        model_source="postmech",
        model_args=model_args,
        system_instruction=None,
        chat_template=None,
        fewshot_as_multiturn=False,
    )
    tracker.save_results_aggregated(results=results, samples=None)
    folder = out_dir / tracker.general_config_tracker.model_name_sanitized
    return folder / f"results_{tracker.date_id}.json"
