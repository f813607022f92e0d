#!/usr/bin/env bash
# On a machine with a GPU: the suite on the organism pair (cuda vs cpu) and the Gemma pair in
# bf16 (vs the committed CPU run), with wall times. See benchmarks/gpu_suite.py.
set -euo pipefail
cd "$(dirname "$0")/.."
python benchmarks/gpu_suite.py --out "${1:-gpu_suite_out}" "${@:2}"
