"""Confidence: entropy neurons of base and post, and the confidence gap (METHODS §5).

Why: post-trained models are more confident (lower next-token entropy) than their
base. Entropy neurons (Stolfo et al. 2024, "Confidence regulation neurons in
language models") are the known mechanism that sets a model's confidence, so the
paper asks whether post-training changed them. This analysis

1. selects entropy neurons of each model from its weights
   (:class:`~postmech_eval.estimators.entropy_neurons.EntropyNeuronScan`) and compares the sets
   (IoU) and the per-neuron logit variances (Spearman);
2. mean-ablates them (activation <- its mean over the corpus' train split) on the
   held-out corpus and measures the change in next-token entropy and loss, as a
   *total* effect and as a *direct* effect;
3. measures the confidence gap ``H_base - H_post`` and the share of it that
   ablating the post model's entropy neurons removes:
   ``entropy_gap_explained = (H_post_ablated - H_post) / (H_base - H_post)``;
4. ablates same-size random draws of neurons from the same norm range (the
   candidates above the norm quantile, selected ones excluded) as a control.

Definitions. Entropy and loss are in nats, per predicted token (position t
predicts token t+1), averaged over every token of every item (token-weighted).
*Total effect*: the ablated forward pass. *Direct effect* (Stolfo et al.'s
"direct effect", the path that bypasses the final-norm rescaling): the final
residual of the ablated pass, pushed through the final norm with its scale (RMS,
or LayerNorm standard deviation) frozen at the clean pass' value, then the
unembedding. The neurons live in the last layer, so nothing else lies between
them and the final norm; the mean subtraction of LayerNorm is linear and kept.
``direct_effect_share = sum|dloss_direct| / sum|dloss_total|`` over tokens: near 1
for a neuron that acts through the logits, near 0 for one that acts only through
the norm (the entropy-neuron signature).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from postmech_eval.analyses import AnalysisResult
from postmech_eval.analyses.confidence import stats
from postmech_eval.analyses.confidence.config import (  # noqa: F401
    ConfidenceConfig,
    _corpus,
    _reference_texts,
    default_items,
)
from postmech_eval.atomic import atomic_path, write_text
from postmech_eval.config import UserError
from postmech_eval.engine.shard import map_items
from postmech_eval.estimators.entropy_ablation import QUANTITIES, means_from_sums, measure, neuron_token_sums
from postmech_eval.estimators.entropy_neurons import EntropyNeuronScan

__all__ = ["ConfidenceConfig", "default_items", "run"]

MODELS = ("base", "post")


# ----------------------------------------------------------------------------- the analysis
def _plot(scan: EntropyNeuronScan, which: str, path: Path) -> None:
    """Norm vs logit variance scatter; a bare Figure (Agg canvas) leaves pyplot state alone."""
    from matplotlib.figure import Figure

    norms, lv = scan.norms_.numpy(), scan.logitvar_.clamp_min(1e-30).numpy()
    cand, sel = scan.candidates_, scan.neurons_
    fig = Figure(figsize=(5.5, 4.0))
    ax = fig.subplots()
    ax.scatter(norms, lv, s=8, c="0.65", label="all neurons")
    ax.scatter(norms[cand], lv[cand], s=10, c="tab:blue", label=f"norm > q{scan.norm_quantile:g}")
    ax.scatter(norms[sel], lv[sel], s=28, c="tab:red", marker="x", label="selected")
    ax.axvline(scan.threshold_, color="0.4", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("output-weight norm |w_i|")
    ax.set_ylabel("logit variance var(w_i/|w_i| . W_U)")
    ax.set_title(f"{which}: layer {scan.layer_} MLP neurons")
    ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)


def _check_items(items: Sequence[dict]) -> list[str]:
    texts = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise KeyError(f"items[{i}] must be a dict with a str 'text' field; got {item!r:.80}")
        texts.append(item["text"])
    if not texts:
        raise UserError("items must be non-empty; got 0 items")
    return texts


def run(
    pair: Any,
    config: ConfidenceConfig,
    items: Sequence[dict] | None = None,
    output_dir: Path | None = None,
    *,
    limit: int | None = None,
    reference: Sequence[str] | None = None,
) -> AnalysisResult:
    """Entropy neurons of ``pair`` (a ModelPair) on ``items`` (default: the held-out corpus).

    Models are used one after the other (base, then post), so ``one_at_a_time`` pairs
    never hold both. ``reference`` overrides the texts the neuron means are taken over
    (default: the corpus' train split, first ``config.n_reference``). Returns metrics named
    as in issue 8 plus controls, per-item records (entropies and losses clean / ablated /
    direct / random for base and post, aligned with ``items``) and artifacts.
    """
    if not isinstance(config, ConfidenceConfig):
        raise TypeError(f"config must be a ConfidenceConfig; got {type(config).__name__}")
    t0 = time.perf_counter()
    items = list(default_items(config) if items is None else items)
    if limit is not None:
        items = items[:limit]
    texts = _check_items(items)
    reference = _reference_texts(config) if reference is None else list(reference)
    scans: dict[str, EntropyNeuronScan] = {}
    per: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    extra: dict[str, dict[str, Any]] = {}
    metrics: dict[str, float] = {}
    for which in MODELS:
        model, tokenizer = pair.get(which)
        scan = EntropyNeuronScan(norm_quantile=config.norm_quantile, n_neurons=config.n_neurons).fit(model)
        del model, tokenizer
        means, per[which] = _ablations(pair, which, scan, reference, texts, config)
        randoms = [scan.random_control(config.seed + k) for k in range(config.n_random_sets)]
        metrics[f"n_tokens_{which}"] = float(per[which][1].sum())
        scans[which] = scan
        extra[which] = {"means": means, "random_sets": randoms}
    used, values, sums = stats.per_text(per, config.n_random_sets)
    metrics.update(stats.metrics(values, sums, config.min_gap))
    exact = _weight_metrics(scans)
    metrics.update(exact)
    ci = stats.intervals(values, sums, exact, config)
    notes = _notes(scans, metrics, config, per)
    for note in notes:
        warnings.warn(f"postmech_entropy_neurons: {note}", stacklevel=2)
    records = _records(per)
    runtime = time.perf_counter() - t0
    cfg = {**dataclasses.asdict(config), "notes": notes}
    artifacts = _write_artifacts(output_dir, scans, extra, metrics, cfg, runtime) if output_dir else {}
    return AnalysisResult(
        metrics=metrics,
        records=records,
        config=cfg,
        seed=config.seed,
        artifacts=artifacts,
        item_metrics=stats.item_rows(len(items), used, values),
        intervals=ci.bounds,
        uncertainty={
            **ci.settings,
            "notes": ci.notes,
            "refitted": "nothing (neuron sets are fixed by the weights; means are per text)",
        },
    )


def _ablations(
    pair: Any,
    which: str,
    scan: EntropyNeuronScan,
    reference: list[str],
    texts: list[str],
    config: ConfidenceConfig,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The neuron means over ``reference`` and the per-text ablation sums over ``texts``: two
    per-item steps of the shared map (sharded across ranks, cached per text)."""
    model, tokenizer = pair.get(which)
    kw = {"max_length": config.max_length, "batch_size": config.batch_size}
    context = {"model": pair.fingerprint(which), "layer": scan.layer_, "max_length": config.max_length}

    def sums(part: list[str]) -> list[dict[str, Any]]:
        s, c = neuron_token_sums(model, tokenizer, part, scan.layer_, **kw)
        return [{"sum": s[i], "count": int(c[i])} for i in range(len(part))]

    rows = map_items("confidence_means", reference, sums, context=context, chunk=4 * config.batch_size)
    means = means_from_sums(torch.stack([r["sum"] for r in rows]), torch.tensor([r["count"] for r in rows]))
    randoms = [scan.random_control(config.seed + k) for k in range(config.n_random_sets)]

    def ablate(part: list[str]) -> list[dict[str, Any]]:
        s, c = measure(model, tokenizer, part, scan.neurons_, means, randoms, scan.layer_,
                       skip_first=config.skip_first, **kw)  # fmt: skip
        return [{"sums": s[i], "count": int(c[i])} for i in range(len(part))]

    neurons = {"neurons": [int(n) for n in scan.neurons_], "random": [[int(n) for n in r] for r in randoms]}
    digest = hashlib.sha256(means.numpy().tobytes()).hexdigest()
    context = {**context, **neurons, "means": digest, "skip_first": config.skip_first}
    rows = map_items("confidence_ablate", texts, ablate, context=context, chunk=4 * config.batch_size)
    per = (torch.stack([r["sums"] for r in rows]), torch.tensor([r["count"] for r in rows], dtype=torch.long))
    return means, per


def _weight_metrics(scans: dict[str, EntropyNeuronScan]) -> dict[str, float]:
    """Overlap of the selected sets and rank correlation of logitvar: functions of the
    weights alone (exact, no sampling error)."""
    from scipy.stats import spearmanr

    sb, sp = set(scans["base"].neurons_), set(scans["post"].neurons_)
    lb, lp = scans["base"].logitvar_, scans["post"].logitvar_
    rho = float(spearmanr(lb.numpy(), lp.numpy()).statistic) if lb.shape == lp.shape else math.nan
    return {
        "entropy_neuron_iou": len(sb & sp) / len(sb | sp) if sb | sp else math.nan,
        "logitvar_spearman": rho,
    }


def _notes(
    scans: dict[str, EntropyNeuronScan],
    m: dict[str, float],
    config: ConfidenceConfig,
    per: dict[str, tuple[torch.Tensor, torch.Tensor]],
) -> list[str]:
    notes = []
    gap = m.get("entropy_gap", math.nan)
    if not abs(gap) > config.min_gap:
        notes.append(
            f"entropy_gap_explained is NaN: |H_base - H_post| = {abs(gap):.3g} <= min_gap={config.min_gap:g}"
        )
    for which, scan in scans.items():
        if len(scan.neurons_) < config.n_neurons:
            notes.append(f"{which}: only {len(scan.neurons_)} neurons above the norm quantile (< n_neurons)")
        if math.isnan(m.get(f"direct_effect_share_{which}", math.nan)):
            notes.append(f"direct_effect_share_{which} is NaN: ablation changed no token's loss")
        skipped = int((per[which][1] == 0).sum())
        if skipped:
            notes.append(f"{which}: {skipped} items have fewer than 2 tokens and contribute nothing")
    return notes


def _records(per: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> list[dict[str, Any]]:
    n_items = len(next(iter(per.values()))[1])
    records: list[dict[str, Any]] = []
    shown = QUANTITIES  # per-text token means (|deltas| included: the per-text entropy changes)
    for i in range(n_items):
        if any(int(counts[i]) == 0 for _, counts in per.values()):
            records.append({"excluded": "fewer than 2 tokens after tokenization"})
            continue
        rec: dict[str, Any] = {}
        for which, (sums, counts) in per.items():
            n = int(counts[i])
            rec[f"n_tokens_{which}"] = n
            for q in shown:
                rec[f"{q}_{which}"] = float(sums[i, QUANTITIES.index(q)]) / n
        records.append(rec)
    return records


def _write_artifacts(
    out: Path,
    scans: dict[str, EntropyNeuronScan],
    extra: dict[str, dict[str, Any]],
    metrics: dict[str, float],
    cfg: dict[str, Any],
    runtime: float,
) -> dict[str, str]:
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, str] = {}
    for which, scan in scans.items():
        table = {
            "model": which,
            "layer": scan.layer_,
            "norm_quantile": scan.norm_quantile,
            "norm_threshold": scan.threshold_,
            "selected": scan.neurons_,
            "random_sets": extra[which]["random_sets"],
            "neurons": scan.table(),
        }
        p = out / f"entropy_neurons_{which}.json"
        write_text(p, json.dumps(table, indent=1))
        artifacts[f"neuron_table_{which}"] = str(p)
        if cfg.get("figures", True):
            p = out / f"entropy_neurons_{which}.png"
            _plot(scan, which, p)
            artifacts[f"scatter_{which}"] = str(p)
        p = out / f"neuron_means_{which}.safetensors"
        save_file(
            {"means": extra[which]["means"].contiguous()},
            str(p),
            metadata={"layer": str(scan.layer_), "what": "mean mlp_neurons activation, corpus train split"},
        )
        artifacts[f"neuron_means_{which}"] = str(p)
    p = out / "entropy_neurons_summary.json"
    write_text(
        p, json.dumps({"metrics": metrics, "config": cfg, "runtime_s": runtime}, indent=1, default=str)
    )
    artifacts["summary"] = str(p)
    return artifacts
