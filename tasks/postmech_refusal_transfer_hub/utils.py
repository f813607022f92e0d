"""lm-eval hooks for postmech_refusal_transfer_hub: docs from hub datasets, the rest as the bundled task.

Only ``load_docs`` differs from ``postmech_refusal_transfer``; the metric functions come from that
task's YAML through ``include:``. Nothing heavy is imported until lm-eval calls ``load_docs``.
"""

from typing import Any

TASK = "postmech_refusal_transfer_hub"


def load_docs(**metadata: Any):
    from postmech_eval.harness.hub_docs import load_docs as _load

    return _load(TASK, **metadata)
