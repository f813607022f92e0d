#!/usr/bin/env bash
# Run lm-eval 0.4.13's own offline test suite with or without the postmech-eval plugin installed.
#   usage: /tmp/lmeval_suite/run.sh with|without
# Needs setup.sh to have been run once. Writes results_<mode>.xml (junit) and results_<mode>.log.
# Never writes into /work/main (PYTHONDONTWRITEBYTECODE=1, editable install built out of tree).
set -uo pipefail
MODE=${1:-}
case "$MODE" in with|without) ;; *) echo "usage: $0 with|without" >&2; exit 2;; esac
BASE=${WORK:-/tmp/lmeval_suite}
PLUGIN_SRC=${PLUGIN_SRC:-/work/main}
RETRIES=${RETRIES:-3}          # start-up import retries for 'with' (the tree may be mid-edit)
RETRY_WAIT=${RETRY_WAIT:-180}  # seconds between retries
PY="$BASE/venv/bin/python"
PIP="nice -n 10 $BASE/venv/bin/pip"
export PYTHONDONTWRITEBYTECODE=1
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
T0=$(date +%s)

# ---- 1. put the venv into the requested state -------------------------------------------------
$PIP uninstall -y -q postmech-eval >/dev/null 2>&1 || true
if [ "$MODE" = with ]; then
  # deps were pre-installed by setup.sh (identical in both modes); hatchling is in the venv.
  $PIP install -q --no-deps --no-build-isolation -e "$PLUGIN_SRC" || { echo "pip install -e $PLUGIN_SRC failed" >&2; exit 3; }
  ok=0
  for i in $(seq 1 "$RETRIES"); do
    # The .pth hook runs at interpreter start-up; a broken import shows up as "Error processing line".
    err=$(cd "$BASE" && "$PY" -c 'import sys, lm_eval.tasks.manager, lm_eval.models
assert "postmech_eval.harness.plugin" in sys.modules, "start-up hook not loaded"' 2>&1)
    if [ $? -eq 0 ] && ! grep -q "Error processing line" <<<"$err"; then ok=1; break; fi
    echo "[run.sh] plugin start-up import failed (try $i/$RETRIES):" >&2; echo "$err" | tail -15 >&2
    [ "$i" -lt "$RETRIES" ] && { echo "[run.sh] retrying in ${RETRY_WAIT}s" >&2; sleep "$RETRY_WAIT"; }
  done
  [ $ok = 1 ] || { echo "[run.sh] giving up: plugin does not import" >&2; exit 4; }
fi
# sanity: state of the venv
if [ "$MODE" = without ]; then
  if (cd "$BASE" && "$PY" -c 'import postmech_eval' 2>/dev/null) || ls "$BASE"/venv/lib/python3.11/site-packages/ | grep -qi postmech; then
    echo "[run.sh] postmech-eval still present after uninstall" >&2; exit 5; fi
fi
echo "[run.sh] mode=$MODE  postmech-eval: $($BASE/venv/bin/pip show postmech-eval 2>/dev/null | grep -E '^(Version|Editable project location)' | tr '\n' ' ' || echo absent)"
(cd "$BASE/src" && "$PY" -c 'import lm_eval; print("[run.sh] lm_eval", lm_eval.__version__, lm_eval.__file__)')

# ---- 2. selection (identical in both modes) ------------------------------------------------------
# Whole test modules left out because they cannot even be collected offline (they load a model /
# dataset from the Hub, or an optional dep, at import time) and would otherwise abort the run:
IGNORE=(
  tests/models/test_huggingface.py    # module-level HFLM(pretrained=EleutherAI/pythia-70m) + arc_easy dataset: Hub
  tests/models/test_vllm.py           # module-level tokenizer download from the Hub (and vllm not installed)
  tests/models/test_openvino.py       # needs optimum[openvino] (not installed) + Hub models
  tests/test_tasks.py                 # parametrised over datasets loaded at collection time: Hub
  tests/test_requests_caching.py      # imports repo scripts/requests_caching.py; runs lambada/sciq with a Hub model
)
# Individual deselects: none needed. Every remaining test finishes in < 10 s offline (whole run ~2 min
# on 2 cores); Hub-dependent tests fail fast with OfflineModeIsEnabled / LocalEntryNotFoundError and
# fail identically in both modes.
DESELECT=()
ARGS=(-p no:cacheprovider -q -rfE --continue-on-collection-errors
      --junitxml="$BASE/results_$MODE.xml" -o junit_family=xunit1)
for m in "${IGNORE[@]}"; do ARGS+=(--ignore="$m"); done
for d in "${DESELECT[@]}"; do ARGS+=(--deselect="$d"); done

# ---- 3. run ------------------------------------------------------------------------------------
T1=$(date +%s)
(cd "$BASE/src" && nice -n 10 "$PY" -m pytest "${ARGS[@]}" tests) > "$BASE/results_$MODE.log" 2>&1
RC=$?
T2=$(date +%s)
tail -1 "$BASE/results_$MODE.log"
echo "[run.sh] mode=$MODE pytest_rc=$RC pytest_wall=$((T2-T1))s total_wall=$((T2-T0))s"
"$PY" - "$BASE/results_$MODE.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
c = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
for tc in ET.parse(sys.argv[1]).iter("testcase"):
    tags = {ch.tag for ch in tc}
    c["error" if "error" in tags else "failed" if "failure" in tags else "skipped" if "skipped" in tags else "passed"] += 1
print("[run.sh] junit counts:", sum(c.values()), "testcases;", ", ".join(f"{k}={v}" for k, v in c.items()))
EOF
exit 0
