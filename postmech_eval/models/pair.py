"""Load models and tokenizers; hold a base/post pair; fingerprint; format prompts.

Why: every analysis compares a base model B with its post-trained child P.
They must be comparable (same family, depth, width, vocabulary) and that is
checked from configs alone, before any weights load, so a wrong pair fails in
seconds with one message naming both values. Big pairs can be held one model at
a time. Fingerprints (config + a cheap strided weight digest) key the on-disk
activation caches, so a changed checkpoint never reads stale results.

Model specs: a local directory, ``organism:NAME`` (the bundled organisms) or a
Hugging Face hub id (loaded from the local HF cache first; the hub is asked
only with a short timeout so a bad id fails fast).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from postmech_eval.engine.arch import spec_for_config
from postmech_eval.models.gguf import hf_dir as gguf_hf_dir
from postmech_eval.models.gguf import is_gguf_spec

log = logging.getLogger(__name__)

BASE_REFUSAL_TEMPLATE = "User: {instruction}\nAssistant:"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "auto": "auto",
}
Which = Literal["base", "post"]
ModelLike = str | tuple[nn.Module, Any]


def resolve_spec(spec: str) -> str:
    """Local directory path or hub id for ``spec``; raises ValueError when impossible."""
    if not isinstance(spec, str) or not spec.strip():
        raise TypeError(f"model spec must be a non-empty str; got {spec!r}")
    spec = spec.strip()
    if is_gguf_spec(spec):  # gguf:/path/x.gguf | gguf:gemma3-270m | bare *.gguf
        return str(gguf_hf_dir(spec))  # converted once into a cached HF directory
    if spec.startswith("organism:"):
        name = spec.split(":", 1)[1]
        try:
            from postmech_eval.organisms import organism_path
        except ImportError as e:
            raise ValueError(
                f"Cannot resolve model spec {spec!r}: postmech_eval.organisms.organism_path "
                f"is not available ({e})"
            ) from None
        try:
            path = Path(organism_path(name))
        except (KeyError, FileNotFoundError, ValueError) as e:
            msg = e.args[0] if e.args else str(e)
            raise ValueError(f"Cannot resolve model spec {spec!r}: {msg}") from None
        if not (path / "config.json").is_file():
            raise ValueError(f"Organism {name!r} has no weights at {path} (config.json missing)")
        return str(path)
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"Local model directory {path} has no config.json")
        return str(path)
    looks_local = spec.startswith(("/", ".", "~")) or "\\" in spec or spec.count("/") > 1
    if looks_local or path.exists():
        raise ValueError(f"Model spec {spec!r}: local directory {path} does not exist")
    if not _HUB_ID.match(spec):
        raise ValueError(
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
        raise ValueError(
            f"Model {spec!r} is not a local directory and is not in the local Hugging Face "
            f"cache (HF_HUB_OFFLINE is set, so the hub was not asked)"
        )
    try:
        from huggingface_hub import model_info

        model_info(spec, timeout=5)
    except Exception as e:  # network errors, 404s, gated repos: one clear message
        raise ValueError(
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
            raise ValueError(f"Cannot read the config of {spec!r} at {where}: {e}") from None
    else:
        cfg = _hub_fetchable(where, trust_remote_code)
    spec_for_config(cfg)
    return cfg


def load_model(
    spec: str,
    dtype: str = "float32",
    device: str = "cpu",
    trust_remote_code: bool = False,
    attn_implementation: str | None = None,
) -> tuple[nn.Module, Any]:
    """(model in eval mode, tokenizer with left padding and a pad token).

    ``device="auto"`` uses ``device_map="auto"`` (accelerate) for models
    larger than one device.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}; got {dtype!r}")
    load_config(spec, trust_remote_code)  # fails fast: bad spec or unsupported family
    where = resolve_spec(spec)
    kwargs: dict[str, Any] = {"dtype": _DTYPES[dtype], "trust_remote_code": trust_remote_code}
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
            raise ValueError(
                f"use_chat_template=True but tokenizer {name!r} has no chat template; "
                f"use a plain base_template for this model"
            )
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
        )
    return base_template.format(text=text, instruction=text)


# config keys that describe where/how a model was loaded, not what it computes
# (parameter dtypes enter the digest directly; the family is implied by the module names)
_VOLATILE = (
    "_name_or_path",
    "transformers_version",
    "_commit_hash",
    "_attn_implementation",
    "dtype",
    "torch_dtype",
    "architectures",
)


def model_fingerprint(model: nn.Module, samples: int = 4096) -> str:
    """sha256 over the config and a cheap digest of every parameter.

    The digest takes name, shape, dtype and ``samples`` evenly strided values of
    each tensor (plus the sum of 1-D tensors such as norms), so it costs
    milliseconds even for 8B models yet changes when a checkpoint changes.
    """
    cfg = {
        k: v
        for k, v in model.config.to_dict().items()
        if k not in _VOLATILE and not k.startswith("_attn_implementation")
    }
    h = hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            h.update(f"{name}|{tuple(p.shape)}|{p.dtype}".encode())
            if p.device.type == "meta":
                continue
            flat = p.detach().reshape(-1)
            idx = torch.linspace(0, flat.numel() - 1, min(samples, flat.numel())).long()
            vals = flat[idx.to(flat.device)].float().cpu()
            if p.dim() == 1:
                vals = torch.cat([vals, flat.double().sum().float().cpu().reshape(1)])
            h.update(vals.numpy().tobytes())
    return h.hexdigest()


def _shape_of(cfg: Any) -> dict[str, Any]:
    return {
        "family": spec_for_config(cfg).family,
        "n_layers": getattr(cfg, "num_hidden_layers", None),
        "d_model": getattr(cfg, "hidden_size", None),
        "vocab_size": getattr(cfg, "vocab_size", None),
    }


def _special_tokens(tok: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("bos", "eos", "pad", "unk"):
        out[f"{name}_token"] = getattr(tok, f"{name}_token", None)
        out[f"{name}_token_id"] = getattr(tok, f"{name}_token_id", None)
    out["has_chat_template"] = bool(getattr(tok, "chat_template", None))
    out["additional_special_tokens"] = sorted(map(str, tok.all_special_tokens))
    return out


class ModelPair:
    """A base model B and its post-trained model P, loaded lazily.

    ``base``/``post`` are specs (see module doc) or already-loaded
    ``(model, tokenizer)`` tuples (tests, notebooks). Comparability is checked
    at construction from configs (no weights loaded). With
    ``one_at_a_time=True``, ``get(which)`` frees the other model first (only
    spec-loaded models are freed: in-memory ones cannot be reloaded).
    """

    def __init__(
        self,
        base: ModelLike,
        post: ModelLike,
        *,
        dtype: str = "float32",
        device: str = "cpu",
        trust_remote_code: bool = False,
        one_at_a_time: bool = False,
        attn_implementation: str | None = None,
    ) -> None:
        self.dtype = dtype
        self.device = device
        self.trust_remote_code = trust_remote_code
        self.one_at_a_time = one_at_a_time
        self.attn_implementation = attn_implementation
        self._specs: dict[str, str | None] = {}
        self._loaded: dict[str, tuple[nn.Module, Any]] = {}
        self._configs: dict[str, Any] = {}
        self._fingerprints: dict[str, str] = {}
        for which, m in (("base", base), ("post", post)):
            if isinstance(m, tuple) and len(m) == 2:
                self._specs[which] = None
                self._loaded[which] = (m[0], prepare_tokenizer(m[1]))
                self._configs[which] = m[0].config
            elif isinstance(m, str):
                self._specs[which] = m
                self._configs[which] = load_config(m, trust_remote_code)
            else:
                raise TypeError(
                    f"{which} must be a model spec str or a (model, tokenizer) tuple; got {type(m).__name__}"
                )
        self.report = self.check_compatible()

    def spec(self, which: Which) -> str:
        """The spec string (or '<in-memory>') of ``which``."""
        return self._specs[_check_which(which)] or "<in-memory>"

    @property
    def base(self) -> tuple[nn.Module, Any]:
        return self.get("base")

    @property
    def post(self) -> tuple[nn.Module, Any]:
        return self.get("post")

    def config(self, which: Which) -> Any:
        """HF config of ``which`` (available without loading weights)."""
        return self._configs[_check_which(which)]

    def is_loaded(self, which: Which) -> bool:
        return _check_which(which) in self._loaded

    def get(self, which: Which) -> tuple[nn.Module, Any]:
        """(model, tokenizer) for ``which``, loading it (and freeing the other if asked)."""
        which = _check_which(which)
        if self.one_at_a_time:
            self.unload("post" if which == "base" else "base")
        if which not in self._loaded:
            self._loaded[which] = load_model(
                self.spec(which), self.dtype, self.device, self.trust_remote_code, self.attn_implementation
            )
        return self._loaded[which]

    def adopt(self, which: Which, model: nn.Module, tokenizer: Any | None = None) -> None:
        """Use an already-loaded ``model`` (e.g. the one lm-eval's HFLM holds) for ``which``.

        It must have the shape of the configured spec; the tokenizer is read
        from the spec when not given. The spec stays known, so ``unload`` and a
        later ``get`` still work.
        """
        which = _check_which(which)
        want, got = _shape_of(self._configs[which]), _shape_of(model.config)
        if want != got:
            raise ValueError(f"adopt({which!r}): model has shape {got}; the spec has {want}")
        tok = tokenizer if tokenizer is not None else self.tokenizer(which)
        if self.one_at_a_time:
            self.unload("post" if which == "base" else "base")
        self._loaded[which] = (model, prepare_tokenizer(tok))
        self._fingerprints.pop(which, None)

    def tokenizer(self, which: Which) -> Any:
        """The tokenizer of ``which`` without loading model weights."""
        which = _check_which(which)
        if which in self._loaded:
            return self._loaded[which][1]
        return prepare_tokenizer(self._tokenizer(which))

    def unload(self, which: Which) -> None:
        """Drop ``which`` from memory (no-op for in-memory models or when not loaded)."""
        which = _check_which(which)
        if self._specs[which] is None or which not in self._loaded:
            return
        del self._loaded[which]
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def check_compatible(self) -> dict[str, Any]:
        """Raise one ValueError listing every mismatch of family/depth/width/vocab.

        Returns a report: the shared shape plus ``tokenizer_differences``
        (special tokens and chat-template presence that differ: allowed, reported).
        """
        b, p = _shape_of(self._configs["base"]), _shape_of(self._configs["post"])
        diffs = [f"{k}: base={b[k]!r} vs post={p[k]!r}" for k in b if b[k] != p[k]]
        if diffs:
            raise ValueError(
                f"Models are not comparable (base {self.spec('base')!r}, post "
                f"{self.spec('post')!r}): " + "; ".join(diffs)
            )
        tok_diff: dict[str, Any] = {}
        try:
            tb, tp = (_special_tokens(self._tokenizer(w)) for w in ("base", "post"))
            tok_diff = {k: {"base": tb[k], "post": tp[k]} for k in tb if tb[k] != tp[k]}
        except (OSError, ValueError) as e:
            log.warning("could not compare tokenizers: %s", e)
        if tok_diff:
            log.info("tokenizer differences between base and post: %s", tok_diff)
        return {**b, "tokenizer_differences": tok_diff}

    def _tokenizer(self, which: str) -> Any:
        if which in self._loaded:
            return self._loaded[which][1]
        from transformers import AutoTokenizer

        where = resolve_spec(self._specs[which])  # type: ignore[arg-type]
        return AutoTokenizer.from_pretrained(where, trust_remote_code=self.trust_remote_code)

    def fingerprint(self, which: Which) -> str:
        """sha256 of config + weight digest of ``which`` (loads it once if needed)."""
        which = _check_which(which)
        if which not in self._fingerprints:
            self._fingerprints[which] = model_fingerprint(self.get(which)[0])
        return self._fingerprints[which]


def _check_which(which: str) -> str:
    if which not in ("base", "post"):
        raise ValueError(f"which must be 'base' or 'post'; got {which!r}")
    return which
