"""Model specs -> loaded models: local directory, ``organism:NAME``, ``gguf:...`` or hub id.

Why apart from the pair: a spec is resolved (and a bad one refused) before any weights
load, by the CLI, the lm-eval model and the pair alike. A hub id is read from the local
Hugging Face cache first; the hub is asked only with a short timeout so a bad id fails fast.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from postmech_eval.config import UserError
from postmech_eval.models.gguf import hf_dir as gguf_hf_dir
from postmech_eval.models.gguf import is_gguf_spec

BASE_REFUSAL_TEMPLATE = "User: {instruction}\nAssistant:"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
#: dtype names -> torch attribute ("auto" is HF's); resolved at load time, so resolving a spec
#: (the CLI's check before lm_eval starts) imports no torch
_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16", "auto": "auto"}


def resolve_spec(spec: str) -> str:
    """Local directory path or hub id for ``spec``; raises ValueError when impossible."""
    if not isinstance(spec, str) or not spec.strip():
        raise UserError(
            f"a model spec must be a non-empty string (hub id, directory, organism:NAME or gguf:...). Got {spec!r} instead."
        )
    spec = spec.strip()
    if is_gguf_spec(spec):  # gguf:/path/x.gguf | gguf:gemma3-270m | bare *.gguf
        return str(gguf_hf_dir(spec))  # converted once into a cached HF directory
    if spec.startswith("organism:"):
        name = spec.split(":", 1)[1]
        try:
            from postmech_eval.organisms import organism_path
        except ImportError as e:
            raise UserError(
                f"Cannot resolve model spec {spec!r}: postmech_eval.organisms.organism_path "
                f"is not available ({e})"
            ) from None
        try:
            path = Path(organism_path(name))
        except (KeyError, FileNotFoundError, ValueError) as e:
            msg = e.args[0] if e.args else str(e)
            raise UserError(f"Cannot resolve model spec {spec!r}: {msg}") from None
        if not (path / "config.json").is_file():
            raise UserError(f"Organism {name!r} has no weights at {path} (config.json missing)")
        return str(path)
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"Local model directory {path} has no config.json")
        return str(path)
    if path.is_file():
        raise UserError(
            f"Model spec {spec!r} is a file; give the model's directory (the folder holding config.json)"
        )
    looks_local = spec.startswith(("/", ".", "~")) or "\\" in spec or spec.count("/") > 1
    if looks_local or path.exists():
        raise UserError(f"Model spec {spec!r}: local directory {path} does not exist")
    if not _HUB_ID.match(spec):
        raise UserError(
            f"Model spec {spec!r} is neither a local directory, 'organism:NAME' nor a hub id like 'org/name'"
        )
    return spec


def _hub_fetchable(spec: str, trust_remote_code: bool) -> Any:
    """AutoConfig for a hub id: local HF cache first, then the hub with a 5 s timeout."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(spec, local_files_only=True, trust_remote_code=trust_remote_code)
    except (OSError, ValueError):
        pass
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        raise UserError(
            f"Model {spec!r} is not a local directory and is not in the local Hugging Face "
            f"cache (HF_HUB_OFFLINE is set, so the hub was not asked)"
        )
    try:
        from huggingface_hub import model_info

        model_info(spec, timeout=5)
    except Exception as e:  # network errors, 404s, gated repos: one clear message
        raise UserError(
            f"Model {spec!r} is not a local directory, not in the local Hugging Face cache, "
            f"and the hub could not provide it ({type(e).__name__}: {str(e)[:200]})"
        ) from None
    return AutoConfig.from_pretrained(spec, trust_remote_code=trust_remote_code)


def load_config(spec: str, trust_remote_code: bool = False) -> Any:
    """The HF config of ``spec`` without loading weights; checks the family is supported."""
    from transformers import AutoConfig

    where = resolve_spec(spec)
    if Path(where).is_dir():
        try:
            cfg = AutoConfig.from_pretrained(where, trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as e:
            raise UserError(f"Cannot read the config of {spec!r} at {where}: {e}") from None
    else:
        cfg = _hub_fetchable(where, trust_remote_code)
    from postmech_eval.engine.arch import spec_for_config

    spec_for_config(cfg)
    return cfg


def load_model(
    spec: str,
    dtype: str = "float32",
    device: str = "cpu",
    trust_remote_code: bool = False,
    attn_implementation: str | None = None,
) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer with left padding and a pad token).

    ``device="auto"`` uses ``device_map="auto"`` (accelerate) for models
    larger than one device.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if dtype not in _DTYPES:
        raise UserError(f"dtype must be one of {sorted(_DTYPES)}; got {dtype!r}")
    load_config(spec, trust_remote_code)  # fails fast: bad spec or unsupported family
    where = resolve_spec(spec)
    torch_dtype = _DTYPES[dtype] if dtype == "auto" else getattr(torch, _DTYPES[dtype])
    kwargs: dict[str, Any] = {"dtype": torch_dtype, "trust_remote_code": trust_remote_code}
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    if device == "auto":
        kwargs["device_map"] = "auto"
    model = AutoModelForCausalLM.from_pretrained(where, **kwargs)
    if device != "auto":
        model = model.to(device)
    model.eval()
    tok = AutoTokenizer.from_pretrained(where, trust_remote_code=trust_remote_code)
    prepare_tokenizer(tok)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tok.pad_token_id
    return model, tok


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Left padding; pad token = EOS when the tokenizer has none (Llama-3, GPT-2)."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def format_prompt(
    tokenizer: Any,
    text: str,
    use_chat_template: bool,
    base_template: str = "{text}",
) -> str:
    """The prompt string for ``text``.

    With ``use_chat_template`` the tokenizer's chat template is applied to one
    user message with ``add_generation_prompt=True``; otherwise
    ``base_template`` is filled (placeholders ``{text}`` or ``{instruction}``,
    e.g. :data:`BASE_REFUSAL_TEMPLATE`).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    if use_chat_template:
        if not getattr(tokenizer, "chat_template", None):
            name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
            raise UserError(
                f"use_chat_template=True but tokenizer {name!r} has no chat template; "
                f"use a plain base_template for this model"
            )
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
        )
    return base_template.format(text=text, instruction=text)
