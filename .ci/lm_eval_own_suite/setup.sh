#!/usr/bin/env bash
# One-time setup for the lm-eval 0.4.13 own-test-suite comparison (with / without postmech-eval).
# Creates /tmp/lmeval_suite/venv and /tmp/lmeval_suite/src/tests. Re-runnable (it rebuilds src/).
#
# Source of the tests (no v0.4.13 tag or 0.4.13 release commit exists in the mirror; the mirror ends
# 2026-08-21 while the 0.4.13 sdist was built 2026-08-31, and upstream main still says 0.4.13.dev0):
#   1. tests/ from upstream main 4e7e0d47f (newest main commit in the mirror) -> full tree incl.
#      conftest.py, __init__.py, utils.py, models/, scripts/, testdata/, test_configs/, testconfigs/ ...
#   2. then the 24 tests/*.py files shipped in the PyPI sdist lm_eval-0.4.13.tar.gz are copied over
#      them, so every top-level test module is byte-identical to the 0.4.13 release.
# lm-eval itself is the PyPI wheel 0.4.13 (not the repo).
set -euo pipefail
BASE=${WORK:-/tmp/lmeval_suite}
GIT_DIR=${GIT_DIR:-/work/.mirror/EleutherAI+lm-evaluation-harness/repo}
MAIN_COMMIT=${MAIN_COMMIT:-4e7e0d47f}
cd "$BASE"

if [ ! -x venv/bin/python ]; then python3 -m venv venv; fi
PIP="nice -n 10 venv/bin/pip"
# lm-eval + the extras its offline tests import (hf: transformers/accelerate/peft, api: aiohttp/
# requests/tenacity/tiktoken), pytest, pillow (multimodal tests).
$PIP install -q "torch==2.13.0" "lm-eval[hf,api]==0.4.13" pytest pillow
# postmech-eval's own runtime dependencies (copied from /work/main/pyproject.toml) + hatchling, editables (its
# build backend), installed in BOTH modes so the only difference between modes is postmech-eval itself.
$PIP install -q "transformers>=4.50" "accelerate>=0.30" "safetensors>=0.4" "tokenizers>=0.19" \
  "jsonlines>=4.0" "tabulate>=0.9" "scikit-learn>=1.3" "scipy>=1.10" "matplotlib>=3.7" \
  "tqdm>=4.60" "pyyaml>=6.0" "hatchling>=1.21" editables

# Test sources.
mkdir -p dl
[ -f dl/lm_eval-0.4.13.tar.gz ] || $PIP download -q --no-deps --no-binary :all: "lm-eval==0.4.13" -d dl
rm -rf dl/lm_eval-0.4.13 && tar -xzf dl/lm_eval-0.4.13.tar.gz -C dl
rm -rf src && mkdir -p src
git --git-dir="$GIT_DIR" archive "$MAIN_COMMIT" tests | tar -x -C src
cp dl/lm_eval-0.4.13/tests/*.py src/tests/
# Two tests read "<rootdir>/lm_eval/tasks/..." (a repo-checkout path). Provide it as a plain folder
# WITHOUT __init__.py holding a symlink to the installed tasks: a regular package later on sys.path
# (the installed lm_eval) always wins over such a namespace folder, so `import lm_eval` is unaffected.
mkdir -p src/lm_eval
ln -sfn "$BASE/venv/lib/python3.11/site-packages/lm_eval/tasks" src/lm_eval/tasks

cd src && ../venv/bin/python -c 'import sys; sys.path.insert(0, "."); import lm_eval; print("lm_eval", lm_eval.__version__, lm_eval.__file__)'
