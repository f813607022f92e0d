"""Refusal conditions share one batched generation: per-row directions and vectors give the
completions of the one-condition-at-a-time path, on the organism pair (base, sft).

The reference is the path the analysis used before: one ``generate`` call per condition with
that condition's single direction or vector (``refusal.run._interventions``).
"""

from __future__ import annotations

import pytest
import torch

from postmech_eval.analyses.refusal.plan import KINDS, format_prompts, preflight, resolve_site, train_sets
from postmech_eval.analyses.refusal.report import CONDITIONS
from postmech_eval.analyses.refusal.run import RefusalConfig, _interventions, hook_kind, row_interventions
from postmech_eval.engine.generation import generate
from postmech_eval.models.pair import ModelPair

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def setup():
    pair = ModelPair("organism:base", "organism:sft")
    config = RefusalConfig(progress=False)
    plan = preflight(pair, config)
    train = {k: train_sets(config, k)[0] for k in KINDS}
    sites = {w: resolve_site(pair.get(w), plan[w], train, config) for w in ("base", "post")}
    tests = {k: [r.instruction for r in train_sets(config, k)[1][:12]] for k in KINDS}
    return pair, config, plan, sites, tests


@pytest.mark.parametrize("target", ["post", "base"])
def test_batched_conditions_give_the_one_condition_completions(setup, target):
    pair, config, plan, sites, tests = setup
    model, tok = pair.get(target)
    n_layers = plan[target].n_layers
    rows: list[tuple[str, str]] = []  # (condition, prompt), conditions interleaved
    reference: list[str] = []
    for kind in KINDS:
        prompts = format_prompts(
            tok, tests[kind], plan[target].template, max_new_tokens=config.max_new_tokens
        )
        alone = {
            c: generate(model, tok, prompts, max_new_tokens=config.max_new_tokens, batch_size=8,
                        interventions=_interventions(c, target, sites, n_layers, config.alpha))
            for c in CONDITIONS[kind]
        }  # fmt: skip
        for j, p in enumerate(prompts):
            for c in CONDITIONS[kind]:
                rows.append((c, p))
                reference.append(alone[c][j])
    ivs = row_interventions([c for c, _ in rows], target, sites, n_layers, config.alpha)
    together = generate(model, tok, [p for _, p in rows], max_new_tokens=config.max_new_tokens,
                        batch_size=24, interventions=ivs)  # fmt: skip
    assert together == reference
    # as the analysis batches them: one hook kind per batch, by length, 128 rows on the organisms
    order = sorted(range(len(rows)), key=lambda i: (hook_kind(rows[i][0]), len(rows[i][1])))
    assert plan[target].batch_size == 128
    grouped = generate(model, tok, [rows[i][1] for i in order], max_new_tokens=config.max_new_tokens,
                       batch_size=plan[target].batch_size,
                       interventions=row_interventions([rows[i][0] for i in order], target, sites, n_layers,
                                                       config.alpha))  # fmt: skip
    assert [grouped[order.index(i)] for i in range(len(rows))] == reference
    # the interventions matter (otherwise equality proves nothing): for many prompts the three
    # conditions complete differently
    groups = [reference[i : i + 3] for i in range(0, len(reference), 3)]
    assert sum(len(set(g)) > 1 for g in groups) >= len(groups) // 4


def test_the_generate_batch_is_128_on_the_tiny_organisms_only(tmp_path):
    """``batch_size=None``: 128 rows per generate batch on the bundled tiny organisms, 32 on any
    other model; a given batch_size is used everywhere."""
    from tests.tiny_models import save_tiny

    organisms = ModelPair("organism:base", "organism:sft")
    assert {p.batch_size for p in preflight(organisms, RefusalConfig()).values()} == {128}
    assert {p.batch_size for p in preflight(organisms, RefusalConfig(batch_size=8)).values()} == {8}
    base, post = save_tiny(tmp_path / "b"), save_tiny(tmp_path / "p")
    other = ModelPair(str(base), str(post))
    plans = preflight(other, RefusalConfig(base_template="{instruction}", post_template="{instruction}"))
    assert {p.batch_size for p in plans.values()} == {32}
