"""``postmech-eval selftest``: it passes where theory says the engine is exact, on the organisms
and on tiny random-init models of every family the rotation supports, and says why a pair
does not apply elsewhere.
"""

from __future__ import annotations

import json
import math

import pytest

from postmech_eval.cli import main
from postmech_eval.derived import LAYOUTS
from postmech_eval.selftest import Check, selftest, selftest_spec
from tests.tiny_models import ARCHITECTURES, save_tiny, tiny_model, tiny_tokenizer

ROTATABLE = tuple(a for a in ARCHITECTURES if a in LAYOUTS)
ENTROPY, PROBE, REFUSAL = "postmech_entropy_neurons", "postmech_truth_probe", "postmech_refusal_transfer"


def _failures(report) -> list[str]:
    return [f"{c.pair}/{c.metric}: {c.observed} vs {c.expected}" for p in report.pairs for c in p.checks
            if c.passed is False]  # fmt: skip


def _by_pair(report) -> dict:
    return {p.pair: p for p in report.pairs}


def test_check_semantics():
    assert Check(pair="p", task="t", metric="m", expected=1.0, observed=1.0 + 5e-7).passed
    assert not Check(pair="p", task="t", metric="m", expected=1.0, observed=1.1).passed
    assert Check(pair="p", task="t", metric="m", expected=math.nan, observed=math.nan).passed
    assert not Check(pair="p", task="t", metric="m", expected=1.0, observed=math.nan).passed
    assert Check(pair="p", task="t", metric="m", expected=0.2, observed=0.25, kind="bound", tol=0.1).passed
    assert not Check(
        pair="p", task="t", metric="m", expected=0.2, observed=0.35, kind="bound", tol=0.1
    ).passed
    assert Check(pair="p", task="t", metric="m", expected=-1, observed=-0.5, kind="sign", tol=1e-4).passed
    assert not Check(pair="p", task="t", metric="m", expected=-1, observed=0.5, kind="sign", tol=1e-4).passed
    assert Check(pair="p", task="t", metric="m", expected=0, observed=9, applies=False).passed is None


@pytest.mark.parametrize("arch", ROTATABLE)
def test_selftest_passes_on_a_tiny_model_of_every_rotation_family(arch):
    report = selftest(tiny_model(arch), tiny_tokenizer(), tasks=[ENTROPY], limit=8,
                      pairs=["identity", "permutation", "rotation", "planted_neuron"])  # fmt: skip
    assert report.ok, _failures(report)
    pairs = _by_pair(report)
    assert not pairs["rotation"].skipped
    names = {c.metric for c in pairs["rotation"].checks}
    assert {"logits_rel_diff", "residual_rel_diff", "entropy_neuron_iou", "entropy_post"} <= names
    assert all(c.passed for c in pairs["rotation"].checks)


def test_rotation_cosines_match_theory_on_a_tiny_model():
    report = selftest(tiny_model("llama"), tiny_tokenizer(), tasks=[PROBE], pairs=["rotation"], limit=16)
    assert report.ok, _failures(report)
    cos = [c for c in report.pairs[0].checks if c.metric == "truth_dir_cosine"]
    assert len(cos) == 1 and cos[0].passed
    assert abs(cos[0].expected) < 0.9  # a random Q really moved the direction


@pytest.mark.parametrize("arch", ["gemma3", "olmo2"])
def test_post_norm_families_skip_rotation_with_the_reason_and_pass_the_rest(arch):
    report = selftest(tiny_model(arch), tiny_tokenizer(), tasks=[ENTROPY], limit=8,
                      pairs=["identity", "permutation", "rotation"])  # fmt: skip
    assert report.ok, _failures(report)
    assert "post-feedforward" in _by_pair(report)["rotation"].skipped


def test_cli_refuses_a_task_typo_before_loading_anything(capsys):
    assert main(["selftest", "--tasks", "postmech_entropy_neuron"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("postmech: error:") and "postmech_entropy_neurons" in err


def test_cli_json_on_a_local_model_directory(tmp_path, capsys):
    save_tiny(tmp_path / "m", "gpt2")
    rc = main(["selftest", "--model", str(tmp_path / "m"), "--pairs", "permutation", "rotation",
               "--tasks", ENTROPY, "--limit", "8", "--json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["ok"] is True
    (model,) = out["models"]
    assert model["family"] == "gpt2" and [p["pair"] for p in model["pairs"]] == ["permutation", "rotation"]
    assert all(c["passed"] is not False for p in model["pairs"] for c in p["checks"])


@pytest.mark.slow
def test_selftest_passes_on_organism_sft_with_abliteration():
    report = selftest_spec("organism:sft", tasks=[REFUSAL], pairs=["identity", "abliteration"], limit=16)
    assert report.ok, _failures(report)
    ab = _by_pair(report)["abliteration"]
    assert not ab.skipped
    rates = {c.metric: c for c in ab.checks}
    assert rates["refusal_post_harmful"].passed and rates["harmful_completions_identical"].observed == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("organism", ["organism:base", "organism:sft", "organism:cpt"])
def test_selftest_passes_on_the_organisms(organism):
    report = selftest_spec(organism, limit=16)
    assert report.ok, _failures(report)
    assert not _by_pair(report)["rotation"].skipped


@pytest.mark.slow
@pytest.mark.parametrize("arch", ROTATABLE)
def test_selftest_every_analysis_on_a_tiny_model_of_every_rotation_family(arch):
    report = selftest(tiny_model(arch), tiny_tokenizer(), limit=8)
    assert report.ok, _failures(report)
