"""Bad input, table-driven, through the real CLIs where the failure is a CLI concern.

Each case asserts the exit code, ONE line naming the problem (``postmech: error: ...``), no
traceback, and that nothing already on disk was damaged. The ``lm_eval`` cases run the real
lm-eval CLI; most fail before any weights load, so each costs about lm-eval's start-up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.results_fixtures import sft_metrics, write_results

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Bad and good inputs on disk, and a finished run that no bad command may touch."""
    root = tmp_path_factory.mktemp("bad")
    out = {"root": root}
    (root / "latin1.jsonl").write_bytes(
        '{"statement": "Caf\xe9 is in Paris.", "label": 1}\n'.encode("latin-1")
    )
    (root / "broken.jsonl").write_text('{"statement": "Lyon is in France.", "label": 1}\n{"statement": \n')
    (root / "nolabel.jsonl").write_text('{"statement": "Lyon is in France."}\n')
    (root / "a_file").write_text("not a directory\n")
    (root / "gates_ok.yaml").write_text(
        "gates:\n  - {task: postmech_truth_probe, metric: probe_acc_post, min: 0.5}\n"
    )
    good = root / "done"
    write_results(good, sft_metrics())
    out["done"] = good
    limited = root / "limited"
    path = write_results(limited, sft_metrics())
    data = json.loads(path.read_text())
    data["config"]["limit"] = 4
    data["n-samples"] = {"postmech_truth_probe": {"original": 80, "effective": 4}}
    path.write_text(json.dumps(data))
    out["limited"] = limited
    inf = root / "inf"
    metrics = sft_metrics()
    metrics["postmech_truth_probe"]["probe_acc_post"] = float("inf")
    write_results(inf, metrics)
    out["inf"] = inf
    for name in ("latin1.jsonl", "broken.jsonl", "nolabel.jsonl", "a_file", "gates_ok.yaml"):
        out[name] = root / name
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _gates(root: Path, text: str) -> str:
    path = root / f"gates_{abs(hash(text))}.yaml"
    path.write_text(text)
    return str(path)


G = "gates:\n  - {task: postmech_truth_probe, metric: probe_acc_post, "

# (id, argv builder, exit code, text the one line must contain)
POSTMECH_CASES = [
    (
        "run-unknown-organism",
        lambda f: ["run", "--base", "organism:bsae", "--output-dir", str(f["root"] / "o")],
        2,
        "unknown organism 'bsae'. Did you mean 'base'?",
    ),
    (
        "run-missing-dir",
        lambda f: ["run", "--post", "/no/such/dir", "--output-dir", str(f["root"] / "o")],
        2,
        "bad --post '/no/such/dir'",
    ),
    (
        "run-file-as-model-dir",
        lambda f: ["run", "--base", str(f["a_file"]), "--output-dir", str(f["root"] / "o")],
        2,
        "is a file; give the model's directory",
    ),
    (
        "run-empty-base",
        lambda f: ["run", "--base", "", "--output-dir", str(f["root"] / "o")],
        2,
        "bad --base '': a model spec must be a non-empty string",
    ),
    (
        "run-bad-hub-id",
        lambda f: ["run", "--base", "not a hub id!", "--output-dir", str(f["root"] / "o")],
        2,
        "bad --base 'not a hub id!'",
    ),
    (
        "run-unknown-task",
        lambda f: ["run", "--tasks", "postmech_truth_prob", "--output-dir", str(f["root"] / "o")],
        2,
        "Did you mean 'postmech_truth_probe'?",
    ),
    (
        "run-unknown-metadata-key",
        lambda f: [
            "run",
            "--tasks",
            "postmech_truth_probe",
            "--metadata",
            '{"layr": 4}',
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "unknown key 'layr'. Did you mean 'layer'?",
    ),
    (
        "run-key-of-another-task",
        lambda f: [
            "run",
            "--tasks",
            "postmech_entropy_neurons",
            "--metadata",
            '{"layer": 4}',
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "unknown key 'layer'",
    ),
    (
        "run-float-layer",
        lambda f: [
            "run",
            "--tasks",
            "postmech_truth_probe",
            "--metadata",
            '{"layer": 2.7}',
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "'layer' parameter of TruthProbeConfig must be an int",
    ),
    (
        "run-bool-layer",
        lambda f: [
            "run",
            "--tasks",
            "postmech_truth_probe",
            "--metadata",
            '{"layer": true}',
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "Got True instead",
    ),
    (
        "run-metadata-not-json",
        lambda f: ["run", "--metadata", "{layer: 4}", "--output-dir", str(f["root"] / "o")],
        2,
        "--metadata must be JSON",
    ),
    (
        "run-metadata-not-object",
        lambda f: ["run", "--metadata", "[4]", "--output-dir", str(f["root"] / "o")],
        2,
        "--metadata must be a JSON object",
    ),
    (
        "run-output-under-file",
        lambda f: ["run", "--output-dir", str(f["a_file"] / "x")],
        2,
        "is (under) a file",
    ),
    (
        "run-non-utf8-statements",
        lambda f: [
            "run",
            "--tasks",
            "postmech_truth_probe",
            "--metadata",
            json.dumps({"heldout": str(f["latin1.jsonl"])}),
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "latin1.jsonl: not UTF-8",
    ),
    (
        "run-malformed-jsonl",
        lambda f: [
            "run",
            "--tasks",
            "postmech_truth_probe",
            "--metadata",
            json.dumps({"heldout": str(f["broken.jsonl"])}),
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "broken.jsonl:2: malformed JSON",
    ),
    (
        "run-missing-label",
        lambda f: [
            "run",
            "--tasks",
            "postmech_truth_probe",
            "--metadata",
            json.dumps({"heldout": str(f["nolabel.jsonl"])}),
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "nolabel.jsonl:1: field 'label' is missing",
    ),
    (
        "run-missing-instructions",
        lambda f: [
            "run",
            "--tasks",
            "postmech_refusal_transfer",
            "--metadata",
            json.dumps({"harmful_path": "/no/harmful.jsonl"}),
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "/no/harmful.jsonl",
    ),
    (
        "run-zero-neurons",
        lambda f: [
            "run",
            "--tasks",
            "postmech_entropy_neurons",
            "--metadata",
            '{"n_neurons": 0}',
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "'n_neurons' parameter of ConfidenceConfig must be an int in the range [1, inf)",
    ),
    (
        "run-refusal-fraction",
        lambda f: [
            "run",
            "--tasks",
            "postmech_refusal_transfer",
            "--metadata",
            '{"layer": 1.5}',
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "'layer' parameter of RefusalConfig",
    ),
    (
        "run-bad-template",
        lambda f: [
            "run",
            "--tasks",
            "postmech_refusal_transfer",
            "--metadata",
            '{"base_template": "User: hi"}',
            "--output-dir",
            str(f["root"] / "o"),
        ],
        2,
        "'base_template' parameter",
    ),
    (
        "check-unknown-metric-skip",
        lambda f: [
            "check",
            str(f["done"]),
            "--thresholds",
            _gates(
                f["root"],
                "gates:\n  - {task: postmech_truth_probe, metric: probe_acc_psot, min: 0.5, missing: skip}\n",
            ),
        ],
        2,
        "Did you mean 'probe_acc_post'?",
    ),
    (
        "check-unknown-task",
        lambda f: [
            "check",
            str(f["done"]),
            "--thresholds",
            _gates(f["root"], "gates:\n  - {task: postmech_truth_prob, metric: x, min: 0.5}\n"),
        ],
        2,
        "unknown task 'postmech_truth_prob'",
    ),
    (
        "check-min-above-max",
        lambda f: ["check", str(f["done"]), "--thresholds", _gates(f["root"], G + "min: 0.9, max: 0.1}\n")],
        2,
        "must be <= its 'max'",
    ),
    (
        "check-min-not-number",
        lambda f: ["check", str(f["done"]), "--thresholds", _gates(f["root"], G + "min: high}\n")],
        2,
        "'min' parameter of a gate must be a number",
    ),
    (
        "check-unknown-gate-key",
        lambda f: ["check", str(f["done"]), "--thresholds", _gates(f["root"], G + "mn: 1}\n")],
        2,
        "unknown key 'mn'. Did you mean 'min'?",
    ),
    (
        "check-unknown-top-key",
        lambda f: ["check", str(f["done"]), "--thresholds", _gates(f["root"], "gate: []\n")],
        2,
        "'gates' list",
    ),
    (
        "check-malformed-yaml",
        lambda f: ["check", str(f["done"]), "--thresholds", _gates(f["root"], "gates: [ {task: x")],
        2,
        "malformed YAML",
    ),
    (
        "check-missing-thresholds",
        lambda f: ["check", str(f["done"]), "--thresholds", "/no/gates.yaml"],
        2,
        "no such thresholds file",
    ),
    (
        "check-missing-results",
        lambda f: ["check", "/no/results", "--thresholds", str(f["gates_ok.yaml"])],
        2,
        "/no/results: no such file or directory",
    ),
    (
        "check-limit-run",
        lambda f: ["check", str(f["limited"]), "--thresholds", str(f["gates_ok.yaml"])],
        2,
        "postmech_truth_probe (4 of 80 items) come from --limit runs",
    ),
    (
        "check-infinite-value",
        lambda f: ["check", str(f["inf"]), "--thresholds", str(f["gates_ok.yaml"])],
        1,
        None,
    ),
    (
        "leaderboard-missing-path",
        lambda f: ["leaderboard", "/no/runs"],
        2,
        "/no/runs: no such file or directory",
    ),
    (
        "leaderboard-no-results",
        lambda f: ["leaderboard", str(f["root"] / "empty")],
        2,
        "no readable postmech results",
    ),
    (
        "organisms-unknown-name",
        lambda f: ["organisms", "path", "bsae"],
        2,
        "unknown organism 'bsae'. Did you mean 'base'?",
    ),
]


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-2000:]
    errors = [line for line in lines if line.startswith("postmech: error:")]
    assert len(errors) == 1, stderr[-2000:]
    return errors[0]


@pytest.mark.parametrize(
    ("argv", "code", "text"), [c[1:] for c in POSTMECH_CASES], ids=[c[0] for c in POSTMECH_CASES]
)
def test_postmech_eval_cli(files, argv, code, text):
    (files["root"] / "empty").mkdir(exist_ok=True)
    before = _snapshot(files["root"])
    proc = subprocess.run(
        [sys.executable, "-m", "postmech_eval.cli", *argv(files)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == code, proc.stderr[-2000:]
    if text is None:  # a failed gate is not bad input: exit 1 and the gate's line says why
        assert "non-finite value" in proc.stdout and "Traceback" not in proc.stderr
    else:
        assert text in _one_error_line(proc.stderr)
    after = _snapshot(files["root"])
    assert {k: v for k, v in after.items() if k in before} == before  # nothing already there changed
    assert not (files["root"] / "o").exists()  # refused before any output was made


def _organism_dir(name: str) -> str:
    from postmech_eval.organisms import organism_path

    return str(organism_path(name))


LM_EVAL_CASES = [
    (
        "lm-eval-unknown-base",
        ["--model", "postmech", "--model_args", "base=organism:nope", "--tasks", "postmech_truth_probe"],
        "bad base='organism:nope'",
    ),
    (
        "lm-eval-bad-trust",
        ["--model", "postmech", "--model_args", "trust_remote_code=maybe", "--tasks", "postmech_truth_probe"],
        "'trust_remote_code' parameter of postmech must be true or false",
    ),
    (
        "lm-eval-unknown-metadata",
        ["--model", "postmech", "--tasks", "postmech_truth_probe", "--metadata", '{"layr": 4}'],
        "unknown key 'layr'. Did you mean 'layer'?",
    ),
    (
        "lm-eval-float-layer",
        ["--model", "postmech", "--tasks", "postmech_truth_probe", "--metadata", '{"layer": 2.7}'],
        "'layer' parameter of TruthProbeConfig",
    ),
    (
        "lm-eval-offline-hub-id",
        ["--model", "postmech", "--model_args", "base=someorg/somemodel", "--tasks", "postmech_truth_probe"],
        "bad base='someorg/somemodel': Model 'someorg/somemodel' is not a local directory",
    ),
    (
        "lm-eval-model-hf",
        [
            "--model",
            "hf",
            "--model_args",
            f"pretrained={_organism_dir('sft')}",
            "--tasks",
            "postmech_truth_probe",
        ],
        "runs only with --model postmech",
    ),
]


@pytest.mark.parametrize(("argv", "text"), [c[1:] for c in LM_EVAL_CASES], ids=[c[0] for c in LM_EVAL_CASES])
def test_lm_eval_cli(tmp_path, argv, text):
    out = tmp_path / "res"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # the hub is never asked here
    proc = subprocess.run(
        [sys.executable, "-m", "lm_eval", "run", *argv, "--limit", "2", "--output_path", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode != 0
    assert text in _one_error_line(proc.stderr)
    assert not out.exists()  # no results written for a refused run


# ----------------------------------------------------------------------------- Python level
def test_tokenizers_that_split_differently_are_refused_before_weights(tmp_path):
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    from postmech_eval.config import UserError
    from postmech_eval.models.pair import ModelPair
    from tests.tiny_models import save_tiny

    a, b = save_tiny(tmp_path / "a"), save_tiny(tmp_path / "b")
    # b: same vocabulary size, two words swapped -> the probe text gets other ids
    raw = json.loads((b / "tokenizer.json").read_text())
    vocab = raw["model"]["vocab"]
    vocab["the"], vocab["city"] = vocab["city"], vocab["the"]
    (b / "tokenizer.json").write_text(json.dumps(raw))
    tok_b = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_file(str(b / "tokenizer.json")))
    assert len(tok_b) == len(PreTrainedTokenizerFast.from_pretrained(str(a)))
    with pytest.raises(UserError, match=r"tokenize differently \(the probe text gets different token ids\)"):
        ModelPair(str(a), str(b))
    pair = ModelPair(str(a), str(b), allow_tokenizer_mismatch=True)
    assert pair.report["tokenizer_mismatch"] == ["the probe text gets different token ids"]
    assert not pair.is_loaded("base") and not pair.is_loaded("post")  # refused / checked from files only


@pytest.mark.parametrize(
    ("build", "error", "text"),
    [
        (
            lambda: __import__("postmech_eval.config", fromlist=["x"]).parse_bool(
                "maybe", "trust_remote_code", "postmech"
            ),
            "InvalidParameterError",
            "must be true or false",
        ),
        (
            lambda: __import__("postmech_eval.engine.sites", fromlist=["x"]).make_site(3, "resid_psot"),
            "UnknownNameError",
            "Did you mean 'resid_post'?",
        ),
        (
            lambda: __import__("postmech_eval.engine.sites", fromlist=["x"]).parse_site(
                "blocks.9.resid_pre", 6
            ),
            "InvalidParameterError",
            "must be in [0, 5]",
        ),
        (
            lambda: __import__("postmech_eval.analyses.knowledge.config", fromlist=["x"]).KnowledgeConfig(
                top_fraction=0.0
            ),
            "InvalidParameterError",
            "'top_fraction' parameter of KnowledgeConfig must be a float in the range (0, 1]",
        ),
        (
            lambda: __import__(
                "postmech_eval.analyses.confidence.run", fromlist=["x"]
            ).ConfidenceConfig.from_kwargs({"n_neuron": "3"}),
            "UnknownNameError",
            "Did you mean 'n_neurons'?",
        ),
        (
            lambda: __import__(
                "postmech_eval.analyses.truth.run", fromlist=["x"]
            ).TruthProbeConfig.from_kwargs({"layer": "2.7"}),
            "InvalidParameterError",
            "'layer' parameter of TruthProbeConfig",
        ),
        (
            lambda: __import__("postmech_eval.harness.task", fromlist=["x"]).check_metadata_keys(
                {"n_shot": 4}
            ),
            "UnknownNameError",
            "Did you mean 'n_shots'?",
        ),
        (
            lambda: __import__("postmech_eval.data", fromlist=["x"]).load_statements("citys"),
            "UnknownNameError",
            "Did you mean 'cities'?",
        ),
    ],
    ids=[
        "bool-spelling",
        "stream-typo",
        "site-layer-range",
        "fraction-range",
        "config-key-typo",
        "string-float-layer",
        "metadata-key-typo",
        "dataset-typo",
    ],
)
def test_python_api_errors_are_user_errors_with_one_line(build, error, text):
    from postmech_eval import config

    with pytest.raises(config.UserError) as info:
        build()
    assert type(info.value).__name__ == error
    assert text in str(info.value) and "\n" not in str(info.value)


def test_an_over_long_instruction_is_cut_with_a_warning_naming_it():
    from transformers import AutoTokenizer

    from postmech_eval.analyses.refusal.plan import format_prompts

    tok = AutoTokenizer.from_pretrained(_organism_dir("sft"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prompts = format_prompts(tok, ["hello", "word " * 5000], "chat", max_new_tokens=32)
    assert len(tok(prompts[1])["input_ids"]) <= tok.model_max_length - 32
    assert prompts[0] == format_prompts(tok, ["hello"], "chat")[0]
    assert any("refusal item 1" in str(w.message) for w in caught)


def test_a_limit_run_never_replaces_the_full_one(tmp_path, caplog):
    from postmech_eval.suite.runs import load_runs

    full = sft_metrics()
    write_results(tmp_path, full, date=1.0)
    limited = sft_metrics()
    limited["postmech_truth_probe"]["probe_acc_post"] = 1.0
    path = write_results(tmp_path, limited, date=2.0)  # newer, but --limit 4
    data = json.loads(path.read_text())
    data["config"]["limit"] = 4
    data["n-samples"] = {"postmech_truth_probe": {"original": 80, "effective": 4}}
    path.write_text(json.dumps(data))
    (run,) = load_runs([tmp_path]).runs
    assert (
        run.value("postmech_truth_probe", "probe_acc_post") == full["postmech_truth_probe"]["probe_acc_post"]
    )
    assert not run.partial
    assert "--limit run(s) ignored" in caplog.text


def test_postmech_model_refuses_an_artifacts_dir_under_a_file(tmp_path):
    from postmech_eval.config import UserError
    from postmech_eval.harness.lm import PostMechLM

    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="'artifacts_dir' parameter of postmech must be a directory"):
        PostMechLM(artifacts_dir=str(tmp_path / "f" / "art"))


def test_an_interrupted_task_leaves_its_marker_and_a_rerun_clears_it(tmp_path):
    """Ctrl-C (SIGINT to the process group) while an analysis runs: its folder keeps
    ``.incomplete`` and no result.json; the rerun recomputes the task and clears the marker."""
    cmd = [sys.executable, "-m", "postmech_eval.cli", "run", "--tasks", "postmech_knowledge_patching"]
    cmd += ["--output-dir", "res"]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a shell's background job (e.g. `.ci/run &`) inherits SIGINT ignored, and Python keeps an
        # ignored SIGINT ignored: restore the default so Ctrl-C behaves as at a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in proc.stderr:  # the child writes the marker before it prints this line
        if "[postmech] postmech_knowledge_patching:" in line:
            break
    os.killpg(proc.pid, signal.SIGINT)
    rest = proc.stderr.read()
    proc.wait(timeout=120)
    folder = tmp_path / "res" / "organism_base__organism_sft" / "artifacts" / "postmech_knowledge_patching"
    assert proc.returncode == 130, rest[-2000:]
    assert "postmech: error: interrupted" in rest
    assert (folder / ".incomplete").exists() and not (folder / "result.json").exists()
    assert not list(tmp_path.rglob(".*.tmp*"))  # no half-written artifact left behind
    rerun = subprocess.run(cmd + ["--limit", "40"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert not (folder / ".incomplete").exists() and (folder / "result.json").is_file()


def test_declared_model_and_hub_keys_match_the_code():
    """The metadata key lists the task layer keeps (to refuse typos) equal the model's
    arguments and the hub variant's settings."""
    import inspect

    from postmech_eval.harness import hub_docs
    from postmech_eval.harness.lm import PostMechLM
    from postmech_eval.harness.task import HUB_METADATA_KEYS, POSTMECH_MODEL_ARGS

    own = set(inspect.signature(PostMechLM.__init__).parameters) - {"self", "kwargs"}
    assert set(POSTMECH_MODEL_ARGS) == own
    hub = {f"{k}_{f}" for k in hub_docs.KINDS for f in hub_docs.HUB_DEFAULTS[k]} | {"hub_cache_dir"}
    assert set(HUB_METADATA_KEYS) == hub


def test_settings_of_the_requested_tasks_are_checked_before_the_model(tmp_path):
    """What lm-eval's CLI does before it builds the model: a TaskManager with the metadata,
    then the task names matched; the postmech model then refuses a bad value at once."""
    from lm_eval.tasks import TaskManager

    from postmech_eval.config import InvalidParameterError
    from postmech_eval.harness.lm import PostMechLM

    tm = TaskManager(metadata={"n_neurons": 0})
    tm.match_tasks(["postmech_entropy_neurons"])
    with pytest.raises(InvalidParameterError, match="'n_neurons' parameter of ConfidenceConfig"):
        PostMechLM(artifacts_dir=str(tmp_path / "art"))
    TaskManager(metadata={"dataset": "neg_cities"}).match_tasks(["postmech_statements_mc"])
    PostMechLM(artifacts_dir=str(tmp_path / "art"))  # the stock task's own setting is accepted
