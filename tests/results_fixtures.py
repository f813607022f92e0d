"""Write lm-eval results files for leaderboard/check tests, with lm-eval's own writer.

The files go through ``lm_eval.loggers.EvaluationTracker.save_results_aggregated`` (the
code ``lm_eval --output_path DIR`` runs), so layout (``DIR/<sanitized model>/results_<ts>
.json``), extra keys and NaN encoding are exactly what users' runs contain.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

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
            "p_diff_base_true": 0.945,
            "p_diff_base_false": -0.906,
            "p_diff_post_true": 0.973,
            "p_diff_post_false": -0.988,
        },
        RT: {
            "refusal_base_harmful": 0.05,
            "refusal_base_harmless": 0.0,
            "refusal_post_harmful": 0.95,
            "refusal_post_harmless": 0.03,
            "refusal_base_harmful_ablate_base": 0.02,
            "refusal_base_harmful_ablate_post": 0.03,
            "refusal_post_harmful_ablate_base": 0.80,
            "refusal_post_harmful_ablate_post": 0.10,
            "refusal_base_harmless_add_base": 0.40,
            "refusal_base_harmless_add_post": 0.75,
            "refusal_post_harmless_add_base": 0.30,
            "refusal_post_harmless_add_post": 0.90,
            "transfer_forward": 0.18,
            "transfer_backward": 1.9,
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
            "entropy_gap_explained": 0.08,
        },
    }


def cpt_metrics() -> dict[str, dict[str, float]]:
    """A continued-pretraining pair: no refusal behaviour, so refusal metrics are NaN."""
    metrics = sft_metrics()
    metrics[KP]["patch_corr"] = 0.97
    metrics[RT] = {name: NAN for name in metrics[RT]}
    return metrics


def write_results(
    out_dir: Path,
    metrics: dict[str, dict[str, float]],
    *,
    base: str | None = "organism:base",
    post: str | None = "organism:sft",
    date: float | None = None,
    model_args_as_dict: bool = False,
    extra_model_args: dict[str, str] | None = None,
) -> Path:
    """Write one results file like ``lm_eval --model postmech --output_path out_dir``."""
    from lm_eval.loggers import EvaluationTracker

    args: dict[str, str] = {}
    if base is not None:
        args["base"] = base
    if post is not None:
        args["post"] = post
    args.update(extra_model_args or {})
    model_args: Any = args if model_args_as_dict else ",".join(f"{k}={v}" for k, v in args.items())
    results: dict[str, Any] = {"results": {}, "group_subtasks": {}, "configs": {}, "versions": {}}
    for task, values in metrics.items():
        # Shape of a real 0.4.13 postmech entry: name/alias/sample_len beside "metric,filter".
        entry: dict[str, Any] = {"name": task, "alias": task, "sample_len": 10}
        for name, value in values.items():
            entry[f"{name},none"] = value
            entry[f"{name}_stderr,none"] = "N/A"
        results["results"][task] = entry
        results["group_subtasks"][task] = []
        results["configs"][task] = {"task": task, "metadata": {"version": 1.0}}
        results["versions"][task] = 1.0
        results.setdefault("n-samples", {})[task] = {"original": 10, "effective": 10}
    results["config"] = {
        "model": "postmech",
        "model_args": model_args,
        "batch_size": 1,
        "device": None,
        "limit": None,
        "random_seed": 0,
    }
    results["git_hash"] = None
    results["date"] = time.time() if date is None else date
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
