"""What an analysis' per-item step depends on, for the shared map and its cache key.

Why one helper: every analysis shards and caches its expensive per-item steps through
``postmech_eval.engine.shard.map_items``, whose cache key must change whenever a result
could — the models (by content fingerprint, not by name) and the analysis settings — and
must not change for settings that only decide how results are summarised or batched
(``n_bootstrap``, ``progress``, ``batch_size``, ``figures``), so a rerun with more resamples reuses
every cached item.
"""

from __future__ import annotations

import dataclasses
from typing import Any

#: Settings that never change a per-item result (they summarise, report or batch).
NOT_IN_KEY = frozenset({"n_bootstrap", "progress", "batch_size", "max_rows", "leave_one_out", "figures"})


def step_context(pair: Any, models: tuple[str, ...], config: Any, **extra: Any) -> dict[str, Any]:
    """{models: fingerprint per model, config: the settings that matter, **extra}.

    Only call it while ``models`` are the ones in use: fingerprinting loads a model.
    """
    settings = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    return {
        "models": {w: pair.fingerprint(w) for w in models},
        "config": {k: v for k, v in settings.items() if k not in NOT_IN_KEY},
        "analysis": type(config).__name__,
        **extra,
    }
