"""``max_pairs_per_dataset: auto``: 20 pairs per dataset, 5 for a deep model on CPU (config.AUTO_PAIRS)."""

from __future__ import annotations

import pytest

from postmech_eval.analyses.knowledge.config import (
    AUTO_PAIRS,
    DEEP_CPU_PAIRS,
    DEEP_LAYERS,
    KnowledgeConfig,
    resolve_max_pairs,
)
from postmech_eval.config import UserError


def test_auto_is_the_default_and_resolves_on_depth_and_device() -> None:
    assert KnowledgeConfig().max_pairs_per_dataset == "auto"
    assert resolve_max_pairs("auto", 6, "cpu") == (AUTO_PAIRS, "auto: 6 layers on cpu")
    assert resolve_max_pairs("auto", DEEP_LAYERS, "cpu")[0] == AUTO_PAIRS
    assert resolve_max_pairs("auto", 18, "cpu") == (DEEP_CPU_PAIRS, "auto: 18 layers > 12 on cpu")
    assert resolve_max_pairs("auto", 32, "cuda")[0] == AUTO_PAIRS
    assert resolve_max_pairs(7, 18, "cpu") == (7, "given")  # a number is used as given


@pytest.mark.parametrize("bad", [0, "many", 2.5])
def test_bad_settings_are_one_clear_error(bad: object) -> None:
    with pytest.raises((UserError, ValueError, TypeError), match="max_pairs_per_dataset"):
        KnowledgeConfig(max_pairs_per_dataset=bad)  # type: ignore[arg-type]
