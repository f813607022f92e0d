"""Knowledge patching analysis (METHODS §1): pairs, prompts, normalisation, metrics, run().

Tiny random-init models with the tiny word-level tokenizer; toy statements use words it
knows so true and false prompts really differ. The run's heatmap is compared with a
from-the-formula reference built on the engine's per-cell ``hooks.patch``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from postmech_eval.analyses.catalogue import metric_names
from postmech_eval.analyses.knowledge import report
from postmech_eval.analyses.knowledge.pairs import column_layout
from postmech_eval.analyses.knowledge.run import (
    SUFFIX,
    KnowledgeConfig,
    build_pairs,
    default_items,
    label_token_ids,
    run,
)
from postmech_eval.engine import patching
from postmech_eval.models.pair import ModelPair
from tests.references import patch_cells_naive
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)

CAPITALS = {"paris": "france", "lyon": "france", "madrid": "spain", "rome": "italy", "tokyo": "japan"}


def toy_items() -> list[dict]:
    """Every (city, country) combination; label 1 iff the country is the city's."""
    items = []
    for city, true_country in CAPITALS.items():
        for country in sorted(set(CAPITALS.values())):
            items.append(
                {
                    "statement": f"The city of {city} is in {country}.",
                    "label": int(country == true_country),
                    "subject": city,
                    "object": country,
                    "dataset": "toy",
                }
            )
    # unknown words -> identical <unk> prompts -> LD gap exactly 0 -> must be excluded
    for label, city in ((1, "aalborg"), (0, "zwolle")):
        items.append(
            {
                "statement": f"The city of {city} is in spain.",
                "label": label,
                "subject": city,
                "object": "spain",
                "dataset": "unk",
            }
        )
    extra = [("paris", "france", 1), ("madrid", "spain", 1), ("rome", "japan", 0), ("tokyo", "italy", 0)]
    for city, country, label in extra:  # few-shot pool for the "unk" dataset
        items.append(
            {
                "statement": f"The city of {city} is in {country} .",
                "label": label,
                "subject": city + "_demo",
                "object": country + "_demo",
                "dataset": "unk",
            }
        )
    return items


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def test_pairs_share_object_and_length_and_differ_in_subject(tok) -> None:
    items = toy_items()
    cfg = KnowledgeConfig(max_pairs_per_dataset=10)
    pairs, excluded, survived = build_pairs(items, tok, cfg)
    assert survived == {"toy": 5, "unk": 1}
    seen = set()
    for p in pairs:
        t, f = items[p.true_index], items[p.false_index]
        assert (t["label"], f["label"]) == (1, 0)
        assert t["object"] == f["object"] and t["subject"] != f["subject"]
        assert p.true_ids.shape == p.false_ids.shape
        assert p.true_prompt.endswith(t["statement"] + SUFFIX)
        assert (
            p.true_prompt[: -len(t["statement"] + SUFFIX)] == p.false_prompt[: -len(f["statement"] + SUFFIX)]
        )
        seen |= {p.true_index, p.false_index}
    assert len(seen) == 2 * len(pairs)
    assert set(excluded) == set(range(len(items))) - seen
    assert set(excluded.values()) <= {"no_partner", "pair_cap"}
    again = build_pairs(items, tok, cfg)[0]
    assert [(p.true_index, p.false_index, p.true_prompt) for p in again] == [
        (p.true_index, p.false_index, p.true_prompt) for p in pairs
    ]
    capped, excluded, survived = build_pairs(items, tok, KnowledgeConfig(max_pairs_per_dataset=2))
    assert survived["toy"] == 2 and "pair_cap" in excluded.values()


def test_prompt_has_two_true_two_false_shots_and_positions_end_the_statement(tok) -> None:
    items = toy_items()
    pairs, _, _ = build_pairs(items, tok, KnowledgeConfig(n_positions=3))
    p = pairs[0]
    lines = p.true_prompt.split("\n")
    assert len(lines) == 5
    assert sorted(line.rsplit(" ", 1)[1] for line in lines[:4]) == ["FALSE", "FALSE", "TRUE", "TRUE"]
    assert all(SUFFIX + " " in line for line in lines[:4]) and lines[4].endswith(SUFFIX)
    n_suffix = len(tok(SUFFIX, add_special_tokens=False)["input_ids"])
    assert n_suffix == 4  # this statement is :
    # the last 3 statement tokens, then every suffix token up to the prompt's end
    assert p.positions == (-n_suffix - 3, -n_suffix - 2, -n_suffix - 1, -4, -3, -2, -1)
    ids = p.true_ids[0]
    assert tok.decode([int(ids[len(ids) + p.positions[2]])]) == "."
    assert [tok.decode([int(ids[len(ids) + j])]) for j in p.positions[3:]] == ["this", "statement", "is", ":"]
    assert p.columns == (0, 1, 2, 3, 4, 5, 6)
    assert p.suffix_ids == tuple(int(ids[len(ids) + j]) for j in p.positions[3:])
    long = build_pairs(items, tok, KnowledgeConfig(n_positions=20))[0][0]
    n_stmt = len(tok(items[long.true_index]["statement"], add_special_tokens=False)["input_ids"])
    assert len(long.positions) == n_stmt + n_suffix
    assert long.columns == tuple(range(20 - n_stmt, 20)) + (20, 21, 22, 23)
    off = build_pairs(items, tok, KnowledgeConfig(n_positions=3, patch_suffix=False))[0][0]
    assert off.positions == p.positions[:3] and off.columns == (0, 1, 2) and off.suffix_ids == ()


def test_report_formulas_match_numpy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    ta, tb = torch.tensor(a), torch.tensor(b)
    assert math.isclose(report.pearson(ta, tb), np.corrcoef(a.ravel(), b.ravel())[0, 1], rel_tol=1e-9)
    mask = report.top_mask(ta, 0.1)
    assert int(mask.sum()) == 3 and set(np.flatnonzero(mask.numpy())) == set(np.argsort(-a.ravel())[:3])
    assert report.iou(mask, mask) == 1.0 and report.iou(mask, ~mask) == 0.0
    pk = report.peak(ta)
    layer, col = np.unravel_index(np.argmax(a), a.shape)
    assert (pk["layer"], pk["position"]) == (layer, col - 5) and pk["column"] == col
    second = report.peak(ta, exclude=(int(layer), int(col)))  # the runner-up cell
    masked = a.copy()
    masked[layer, col] = -np.inf
    assert (second["layer"], second["column"]) == np.unravel_index(np.argmax(masked), a.shape)
    e = report.normalised(torch.tensor([1.0, 3.0]), ld_true=3.0, ld_false=1.0)
    assert e.tolist() == [0.0, 1.0]
    with_nan = ta.clone()
    with_nan[:, 0] = float("nan")
    assert report.top_mask(with_nan, 0.1)[:, 0].sum() == 0
    assert math.isnan(report.pearson(torch.zeros(3), torch.ones(3)))
    short = torch.ones(2, 3)
    short[:, 0] = float("nan")  # a statement too short to reach the first column
    mean = report._mean([torch.zeros(2, 3), short, short], (2, 3), min_coverage=0.5)
    assert torch.isnan(mean[:, 0]).all() and torch.allclose(mean[:, 1:], torch.full((2, 2), 2 / 3))
    assert torch.equal(report._mean([torch.zeros(2, 3), short, short], (2, 3))[:, 0], torch.zeros(2))


@pytest.mark.parametrize("attribution", [False, True])
def test_resamples_at_once_equal_compare_per_resample(attribution: bool) -> None:
    """The bootstrap's vectorised metrics (knowledge/resampled.py) equal ``report.compare`` on
    each resample: short statements (NaN columns) under the coverage rule, the identity cell
    excluded from peaks, attribution pooled over the drawn pairs."""
    from postmech_eval.analyses.knowledge.resampled import compare_resamples

    rng = np.random.default_rng(3)
    n, layers, width = 9, 4, 13
    cfg = KnowledgeConfig(n_positions=10, min_coverage=0.5, top_fraction=0.1)

    def maps(shift: float) -> torch.Tensor:
        x = torch.tensor(rng.normal(shift, 1.0, size=(n, layers, width)), dtype=torch.float32)
        x[: n // 2, :, :2] = float("nan")  # shorter statements do not reach the first columns
        return x

    stacks = {k: maps(i * 0.1) for i, k in enumerate(report.MAPS)}
    if attribution:
        stacks["exact"] = torch.stack([stacks["base"], stacks["post"]], 1)
        stacks["approx"] = stacks["exact"] + 0.3 * torch.randn(stacks["exact"].shape)
    idx = rng.integers(0, n, size=(40, n))
    idx[0] = 0  # one pair drawn n times: half the columns below coverage
    got = compare_resamples(stacks, idx, layers, cfg, width)
    for b in range(len(idx)):
        picked = {k: v[torch.as_tensor(idx[b])] for k, v in stacks.items()}
        want = report.compare(picked, layers, cfg, width)["metrics"]
        for name in report.CI_METRICS:
            w, g = want[name], float(got[name][b])
            assert (math.isnan(w) and math.isnan(g)) or math.isclose(w, g, rel_tol=1e-5, abs_tol=1e-6), (
                name,
                b,
            )
    full = compare_resamples(stacks, np.arange(n), layers, cfg, width)
    assert math.isclose(
        float(full["patch_corr"]),
        report.compare(stacks, layers, cfg, width)["metrics"]["patch_corr"],
        rel_tol=1e-6,
    )


def test_config_parses_strings_and_rejects_typos() -> None:
    cfg = KnowledgeConfig.from_kwargs(
        {"datasets": "cities|facts", "n_positions": "3", "cross_model": "false", "patch_suffix": "false"}
    )
    assert cfg.datasets == ("cities", "facts") and cfg.n_positions == 3 and cfg.cross_model is False
    assert cfg.patch_suffix is False and KnowledgeConfig().patch_suffix is True
    with pytest.raises(KeyError, match="n_positions"):
        KnowledgeConfig.from_kwargs({"n_position": "3"})
    with pytest.raises(ValueError, match="min_gap"):
        KnowledgeConfig(min_gap=0.0)


def test_default_items_are_the_test_statements() -> None:
    items = default_items(KnowledgeConfig(datasets=("cities", "larger_than")))
    assert {it["dataset"] for it in items} == {"cities", "larger_than"}
    assert all(it["split"] == "test" for it in items) and {it["label"] for it in items} == {0, 1}


def _naive_mean_heatmap(model, tok, items, cfg) -> torch.Tensor:
    """From the formula: one full forward per cell with hooks.patch, E averaged over pairs."""
    t_id, f_id = label_token_ids(tok)

    def readout(logits: torch.Tensor) -> torch.Tensor:
        return logits[:, t_id] - logits[:, f_id]

    heat = []
    built = build_pairs(items, tok, cfg)[0]
    width = column_layout(built, tok, cfg).width
    for p in built:
        with torch.no_grad():
            ld_t, ld_f = (float(readout(model(ids).logits[:, -1])[0]) for ids in (p.true_ids, p.false_ids))
        if abs(ld_t - ld_f) < cfg.min_gap:
            continue
        values = patching.trace(model, p.true_ids).values(p.positions)
        cells = patch_cells_naive(model, p.false_ids, values, p.positions, readout)
        e = torch.full((cells.shape[0], width), float("nan"))
        e[:, list(p.columns)] = (cells - ld_f) / (ld_t - ld_f)
        heat.append(e)
    return torch.nanmean(torch.stack(heat), 0)


def test_run_same_model_twice_is_identical_and_matches_naive(tok, tmp_path: Path) -> None:
    model = tiny_model("llama", n_layers=3, seed=4)
    items = toy_items()
    cfg = KnowledgeConfig(n_positions=4, attribution=True)
    res = run(ModelPair((model, tok), (model, tok)), cfg, items, output_dir=tmp_path)
    m = res.metrics
    assert m["pairs_used"] == 5 and m["pairs_excluded"] == 1  # the <unk> pair has LD gap 0
    assert math.isclose(m["patch_corr"], 1.0, abs_tol=1e-9) and m["patch_top10_iou"] == 1.0
    assert m["patch_peak_layer_shift"] == 0.0
    payload = json.loads(Path(res.artifacts["heatmaps"]).read_text())  # strict JSON (no NaN)
    heat = torch.tensor(payload["heatmaps"]["base"], dtype=torch.float32)
    cross = torch.tensor(payload["heatmaps"]["base_to_post"], dtype=torch.float32)
    assert torch.allclose(heat, cross, atol=1e-5)
    mask = torch.tensor(payload["top_masks"]["post"], dtype=torch.bool)
    assert math.isclose(m["cross_recovery_base_to_post"], float(heat[mask].mean()), abs_tol=1e-5)
    assert torch.allclose(heat, _naive_mean_heatmap(model, tok, items, cfg), atol=1e-4)
    assert m["attribution_corr"] > 0.5
    assert payload["labels"] == ["stmt-4", "stmt-3", "stmt-2", "stmt-1", "this", "statement", "is", ":"]
    assert heat.shape == (3, 4 + 4) and res.config["columns"] == payload["labels"]
    for name in ("figure", "figure_cross", "figure_dataset_toy"):
        assert Path(res.artifacts[name]).stat().st_size > 0
    # records aligned with items; unk statements excluded with the reason
    assert len(res.records) == len(items)
    for item, rec in zip(items, res.records, strict=True):
        assert rec["statement"] == item["statement"]
    unk = [r for r in res.records if r["dataset"] == "unk" and "pair_id" in r]
    assert len(unk) == 2 and all(r["excluded"] == "ld_gap_below_min_gap" for r in unk)
    assert res.seed == cfg.seed and res.config["pairs_per_dataset"] == {"toy": 5, "unk": 1}


def test_run_two_models_cross_uses_receiving_normalisation(tok) -> None:
    base, post = tiny_model("llama", n_layers=3, seed=5), tiny_model("llama", n_layers=3, seed=6)
    items = [it for it in toy_items() if it["dataset"] == "toy"]
    cfg = KnowledgeConfig(n_positions=3, attribution=False, figures=False)
    res = run(ModelPair((base, tok), (post, tok)), cfg, items)
    again = run(ModelPair((base, tok), (post, tok)), cfg, items)
    # deterministic (NaN-aware: attribution is off, so attribution_corr is NaN)
    assert res.metrics.keys() == again.metrics.keys() and res.records == again.records
    assert all(
        v == again.metrics[k] or (math.isnan(v) and math.isnan(again.metrics[k]))
        for k, v in res.metrics.items()
    )
    # every catalogue metric is emitted; the switched-off one is NaN, not absent
    assert set(res.metrics) == set(metric_names("postmech_knowledge_patching"))
    assert math.isnan(res.metrics.pop("attribution_corr"))
    assert all(math.isfinite(v) for v in res.metrics.values())
    assert res.metrics["pairs_used"] == 5


def test_no_surviving_pair_gives_nan_metrics_not_a_crash(tok) -> None:
    model = tiny_model("llama", n_layers=2)
    items = [it for it in toy_items() if it["dataset"] == "unk"]
    res = run(ModelPair((model, tok), (model, tok)), KnowledgeConfig(figures=False), items)
    assert res.metrics["pairs_used"] == 0 and res.metrics["pairs_excluded"] == 1
    assert math.isnan(res.metrics["patch_corr"])


@pytest.fixture(scope="module")
def organism_dirs() -> tuple[Path, Path]:
    """The shipped organism weights; they are part of the package, so no skip."""
    from postmech_eval.organisms import organism_path

    return organism_path("base"), organism_path("sft")


def test_organism_fast_patching_equals_naive(organism_dirs: tuple[Path, Path]) -> None:
    """Acceptance: every cell of one organism pair (within and cross) equals naive within 1e-4."""
    from postmech_eval.models.specs import load_model

    (base, tok), (post, _) = (load_model(str(d)) for d in organism_dirs)
    cfg = KnowledgeConfig(datasets=("cities",), max_pairs_per_dataset=1)
    p = build_pairs(default_items(cfg), tok, cfg)[0][0]
    t_id, f_id = label_token_ids(tok)

    def readout(logits: torch.Tensor) -> torch.Tensor:
        return logits[:, t_id] - logits[:, f_id]

    for donor, receiver in ((base, base), (post, post), (base, post), (post, base)):
        values = patching.trace(donor, p.true_ids).values(p.positions)
        fast = patching.patch_cells(
            receiver, patching.trace(receiver, p.false_ids), values, p.positions, readout
        )
        naive = patch_cells_naive(receiver, p.false_ids, values, p.positions, readout)
        assert (fast - naive).abs().max() < 1e-4


@pytest.mark.slow
def test_organism_full_run_within_budget(organism_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    """Acceptance: default config on (base, sft) finishes in <= 3 min (idle machine)."""
    import time

    t0 = time.perf_counter()
    res = run(ModelPair(str(organism_dirs[0]), str(organism_dirs[1])), KnowledgeConfig(), output_dir=tmp_path)
    print(f"knowledge analysis on the organism pair: {time.perf_counter() - t0:.1f} s")
    assert res.metrics["pairs_used"] >= 20 and math.isfinite(res.metrics["patch_corr"])


def test_statement_span_without_offsets_matches_offsets(tok) -> None:
    from postmech_eval.analyses.knowledge.pairs import _statement_span

    class Slow:  # a tokenizer without offset mappings (is_fast False)
        is_fast = False

        def __call__(self, text: str, **kw):
            return tok(text, **kw)

    items = toy_items()
    p = build_pairs(items, tok, KnowledgeConfig())[0][0]
    query = items[p.true_index]["statement"]
    start = len(p.true_prompt) - len(query + SUFFIX)
    assert _statement_span(Slow(), p.true_prompt, start, start + len(query)) == _statement_span(
        tok, p.true_prompt, start, start + len(query)
    )


def test_correct_only_drops_pairs_judged_the_wrong_way(tok) -> None:
    model = tiny_model("llama", n_layers=2, seed=9)
    items = [it for it in toy_items() if it["dataset"] == "toy"]
    pair = ModelPair((model, tok), (model, tok))
    cfg = KnowledgeConfig(attribution=False, figures=False, progress=False)
    loose = run(pair, cfg, items)
    strict = run(
        pair, KnowledgeConfig(correct_only=True, attribution=False, figures=False, progress=False), items
    )
    gaps = [r["gap_base"] for r in loose.records if r.get("role") == "true"]
    assert strict.metrics["pairs_used"] == sum(g >= cfg.min_gap for g in gaps) < loose.metrics["pairs_used"]
    wrong = [r for r in strict.records if r.get("excluded") == "judged_wrong"]
    assert wrong and all(r["gap_base"] < 0 for r in wrong)
