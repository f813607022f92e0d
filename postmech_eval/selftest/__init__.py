"""``postmech-eval selftest``: exact expected answers on derived pairs of the user's own model.

Why: no peer tool can show that its mechanistic metrics are right on a given model. Rewrites
of that model's weights with a known effect (:mod:`postmech_eval.derived`) give metric values
known from theory; this package runs the affected analyses on (M, rewrite of M) and prints
expected vs observed with pass / fail.
"""

from postmech_eval.selftest.checks import Check
from postmech_eval.selftest.run import PAIRS, Report, selftest, selftest_spec

__all__ = ["PAIRS", "Check", "Report", "selftest", "selftest_spec"]
