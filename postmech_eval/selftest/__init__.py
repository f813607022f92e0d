"""``postmech-eval selftest``: exact expected answers on derived pairs of the user's own model.

Why: no peer tool can show that its mechanistic metrics are right on a given model. Rewrites
of that model's weights with a known effect (:mod:`postmech_eval.derived`) give metric values
known from theory; this package runs the affected analyses on (M, rewrite of M) and prints
expected vs observed with pass / fail.
"""

from typing import Any

from postmech_eval.selftest.checks import Check

_FROM_RUN = ("PAIRS", "Report", "selftest", "selftest_spec")


def __getattr__(name: str) -> Any:
    """The runner's names on first use, so importing a submodule (the CLI's table) stays light."""
    if name in _FROM_RUN:
        from postmech_eval.selftest import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PAIRS", "Check", "Report", "selftest", "selftest_spec"]
