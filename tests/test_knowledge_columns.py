"""Knowledge heatmap columns (statement tokens, then the suffix), per-dataset maps and figures.

Tiny random-init models with the word-level tokenizer. Identities checked: at the last
layer, patching any token but the final one cannot change the final logits (E = 0) and
patching the final one copies the true run's state (E = 1); a dataset's map within a
pooled run equals the pooled map of a run on that dataset alone.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch

from postmech_eval.analyses.knowledge import figures
from postmech_eval.analyses.knowledge.columns import ColumnLayout
from postmech_eval.analyses.knowledge.pairs import _same_suffix, build_pairs, column_layout
from postmech_eval.analyses.knowledge.run import KnowledgeConfig, run
from postmech_eval.models.pair import ModelPair
from tests.test_knowledge import toy_items
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def two_datasets() -> list[dict]:
    """The toy cities and their negations ("... is not in ..."), labels flipped."""
    toy = [it for it in toy_items() if it["dataset"] == "toy"]
    neg = [
        {**it, "statement": it["statement"].replace(" is in ", " is not in "), "label": 1 - it["label"],
         "dataset": "neg_toy"}
        for it in toy
    ]  # fmt: skip
    return toy + neg


def test_layout_labels_roles_and_offsets() -> None:
    layout = ColumnLayout(3, (" This", " statement", " is", ":"))
    assert layout.width == 7 and layout.n_suffix == 4
    assert layout.labels == ["stmt-3", "stmt-2", "stmt-1", "This", "statement", "is", ":"]
    assert [layout.role(c) for c in range(7)] == ["statement"] * 3 + ["suffix"] * 4
    assert [layout.prompt_offset(c) for c in range(7)] == list(range(-7, 0))
    desc = layout.describe()
    assert desc[2] == {"column": 2, "role": "statement", "label": "stmt-1", "prompt_offset": -5,
                       "statement_offset": -1}  # fmt: skip
    assert desc[3]["text"] == " This" and "statement_offset" not in desc[3]
    assert ColumnLayout(2).labels == ["stmt-2", "stmt-1"] and ColumnLayout(1, (" ",)).labels[-1] == "' '"
    assert layout.cell(None, None)["label"] is None
    assert layout.cell(5, 6) == {"layer": 5, "column": 6, "label": ":", "role": "suffix"}


def test_pairs_with_another_suffix_tokenization_are_dropped(tok) -> None:
    cfg = KnowledgeConfig(n_positions=3)
    pairs, excluded, survived = build_pairs(two_datasets(), tok, cfg)
    assert len({p.suffix_ids for p in pairs}) == 1 and len(pairs) == sum(survived.values()) == 10
    odd = dataclasses.replace(pairs[0], suffix_ids=pairs[0].suffix_ids[:-1])
    kept = _same_suffix([odd, *pairs[1:]], excluded, survived)
    assert odd not in kept and len(kept) == 9 and survived[odd.dataset] == 4
    assert excluded[odd.true_index] == excluded[odd.false_index] == "suffix_token_mismatch"
    assert column_layout(pairs, tok, cfg).labels[3:] == ["this", "statement", "is", ":"]
    assert column_layout([], tok, cfg).width == 3  # nothing paired: statement columns only


def _run_json(model, tok, cfg, out: Path) -> tuple[object, dict, torch.Tensor]:
    """A within-model run, its JSON and its pooled base heatmap."""
    res = run(ModelPair((model, tok), (model, tok)), cfg, two_datasets(), output_dir=out)
    payload = json.loads(Path(res.artifacts["heatmaps"]).read_text())
    return res, payload, torch.tensor(payload["heatmaps"]["base"], dtype=torch.float32)


def test_last_layer_suffix_cells_are_the_identities(tok, tmp_path: Path) -> None:
    """Within a model, the last layer's final column recovers everything, the others nothing."""
    model = tiny_model("llama", n_layers=3, seed=11)
    cfg = KnowledgeConfig(n_positions=3, attribution=False, figures=False, progress=False, n_bootstrap=0)
    res, payload, heat = _run_json(model, tok, cfg, tmp_path)
    assert heat.shape == (3, 3 + 4)
    assert torch.allclose(heat[-1, -1], torch.tensor(1.0), atol=1e-5)
    assert torch.allclose(heat[-1, :-1], torch.zeros(6), atol=1e-5)
    assert res.config["columns"] == payload["labels"]
    assert payload["labels"][-4:] == ["this", "statement", "is", ":"]
    assert payload["positions"] == list(range(-7, 0))
    peak = payload["peaks"]["base"]
    assert peak["label"] == payload["labels"][peak["column"]] and peak["role"] in ("statement", "suffix")
    assert (peak["layer"], peak["column"]) != (2, 6)  # the E = 1 identity cell is not a peak
    others = torch.nan_to_num(heat, nan=-torch.inf)
    others[2, 6] = -torch.inf
    assert peak["effect"] == pytest.approx(others.max().item(), abs=1e-6)


def test_per_dataset_maps_equal_a_run_on_that_dataset_alone(tok, tmp_path: Path) -> None:
    base, post = tiny_model("llama", n_layers=2, seed=5), tiny_model("llama", n_layers=2, seed=6)
    pair = ModelPair((base, tok), (post, tok))
    cfg = KnowledgeConfig(n_positions=3, attribution=False, progress=False, n_bootstrap=50)
    items = two_datasets()
    res = run(pair, cfg, items, output_dir=tmp_path)
    payload = json.loads(Path(res.artifacts["heatmaps"]).read_text())
    per = payload["per_dataset"]
    assert set(per) == {"toy", "neg_toy"} == set(res.config["per_dataset"])
    n_used = res.metrics["pairs_used"]
    assert sum(d["pairs_used"] for d in per.values()) == n_used >= 8
    for ds in ("toy", "neg_toy"):
        alone = run(pair, dataclasses.replace(cfg, figures=False), [it for it in items if it["dataset"] == ds],
                    output_dir=tmp_path / ds)  # fmt: skip
        solo = json.loads(Path(alone.artifacts["heatmaps"]).read_text())
        for name in ("base", "post", "base_to_post", "post_to_base", "difference"):
            assert torch.allclose(
                torch.tensor(per[ds]["heatmaps"][name]), torch.tensor(solo["heatmaps"][name]), atol=1e-6
            )
        for k, v in per[ds]["metrics"].items():  # JSON null = NaN (attribution is off)
            assert math.isnan(alone.metrics[k]) if v is None else math.isclose(v, alone.metrics[k]), k
        for k, (lo, hi) in per[ds]["intervals"].items():  # same pairs, same seed: same resamples
            assert [lo, hi] == [None if math.isnan(x) else pytest.approx(x) for x in alone.intervals[k]], k
        assert Path(res.artifacts[f"figure_dataset_{ds}"]).exists()
    # the pooled map is the pair-weighted mean of the datasets' maps (every cell is covered)
    pooled = torch.tensor(payload["heatmaps"]["base"])
    weighted = sum(torch.tensor(per[d]["heatmaps"]["base"]) * per[d]["pairs_used"] for d in per) / n_used
    assert torch.allclose(pooled, weighted, atol=1e-5)
    # the per-pair maps keep every column, labelled
    from safetensors import safe_open

    with safe_open(res.artifacts["pair_maps"], "pt") as f:
        assert f.get_tensor("base").shape == (n_used, 2, 7)
        assert [c["label"] for c in json.loads(f.metadata()["columns"])] == payload["labels"]


def test_suffix_off_gives_statement_columns_only(tok, tmp_path: Path) -> None:
    model = tiny_model("llama", n_layers=2, seed=3)
    cfg = KnowledgeConfig(n_positions=3, patch_suffix=False, attribution=False, figures=False,
                          progress=False, n_bootstrap=0)  # fmt: skip
    _, payload, heat = _run_json(model, tok, cfg, tmp_path / "off")
    assert heat.shape == (2, 3) and payload["labels"] == ["stmt-3", "stmt-2", "stmt-1"]
    _, _, heat_s = _run_json(model, tok, dataclasses.replace(cfg, patch_suffix=True), tmp_path / "on")
    # the statement columns do not change (up to float summation order: the patched rows run
    # in batches of 3 + 3 vs 7 + 7 cells; the engine's exactness bound is 2e-5)
    assert torch.allclose(heat, heat_s[:, :3], atol=2e-5)


def test_figure_panels_share_one_scale_centred_at_zero(tmp_path: Path) -> None:
    layout = ColumnLayout(2, (" This", ":"))
    heat = {"base": torch.tensor([[0.0, 0.2, 0.1, 0.9], [float("nan"), 0.5, 0.3, 1.0]])}
    heat["post"] = heat["base"] * 0.5
    heat["difference"] = heat["post"] - heat["base"]
    fig = figures.build_figure(heat, figures.WITHIN, layout, "t")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3
    assert {im.get_clim() for ax in panels for im in ax.images} == {(-1.0, 1.0)}  # max |E| = 1
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["stmt-2", "stmt-1", "This", ":"]
    assert [ax.get_title() for ax in panels] == [t for _, t in figures.WITHIN]
    assert panels[0].get_ylabel().startswith("layer")
    bars = [ax for ax in fig.axes if not ax.images]
    assert len(bars) == 1 and bars[0].get_ylabel() == figures.COLOURBAR
    path = figures.panel_figure(heat, figures.WITHIN, layout, "t", tmp_path / "h.png")
    from PIL import Image

    with Image.open(path) as im:
        assert min(im.info["dpi"]) >= 149.9
