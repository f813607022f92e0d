"""Hold a base/post pair of models, checked for comparability before any weights load.

Why: every analysis compares a base model B with its post-trained child P.
They must be comparable (same family, depth, width, vocabulary) and that is
checked from configs alone, before any weights load, so a wrong pair fails in
seconds with one message naming both values. Big pairs can be held one model at
a time. Fingerprints (:mod:`postmech_eval.engine.fingerprint`) key the on-disk
activation caches, so a changed checkpoint never reads stale results.
"""

from __future__ import annotations

import gc
import logging
from typing import Any, Literal

import torch
from torch import nn

from postmech_eval.config import UserError
from postmech_eval.engine.arch import spec_for_config
from postmech_eval.engine.fingerprint import model_fingerprint
from postmech_eval.models.specs import (
    load_config,
    load_model,
    prepare_tokenizer,
    resolve_spec,
)

log = logging.getLogger(__name__)

Which = Literal["base", "post"]
ModelLike = str | tuple[nn.Module, Any]


def _shape_of(cfg: Any) -> dict[str, Any]:
    return {
        "family": spec_for_config(cfg).family,
        "n_layers": getattr(cfg, "num_hidden_layers", None),
        "d_model": getattr(cfg, "hidden_size", None),
        "vocab_size": getattr(cfg, "vocab_size", None),
    }


#: Fixed text both tokenizers must split identically (words, digits, punctuation, accents, CJK).
PROBE_TEXT = 'The city of Lyon is in France. 1234 + 5678 = 6912; "naïve café", 東京 — done!'


def tokenizer_mismatch(base_tok: Any, post_tok: Any) -> list[str]:
    """What differs between two tokenizers in a way that changes token positions or ids."""
    out = []
    if len(base_tok) != len(post_tok):
        out.append(f"{len(base_tok)} vs {len(post_tok)} tokens")
    for name in ("bos_token_id", "eos_token_id", "unk_token_id"):
        a, b = getattr(base_tok, name, None), getattr(post_tok, name, None)
        if a != b:
            out.append(f"{name} {a} vs {b}")
    ids_b = base_tok(PROBE_TEXT, add_special_tokens=False)["input_ids"]
    ids_p = post_tok(PROBE_TEXT, add_special_tokens=False)["input_ids"]
    if ids_b != ids_p:
        out.append("the probe text gets different token ids")
    return out


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
        allow_tokenizer_mismatch: bool = False,
    ) -> None:
        self.dtype = dtype
        self.device = device
        self.trust_remote_code = trust_remote_code
        self.one_at_a_time = one_at_a_time
        self.attn_implementation = attn_implementation
        self.allow_tokenizer_mismatch = allow_tokenizer_mismatch
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
                try:
                    self._configs[which] = load_config(m, trust_remote_code)
                except UserError as err:
                    raise UserError(f"bad {which}={m!r}: {err}") from None
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
        """Refuse a pair whose configs or tokenizers differ where it matters, before any weights.

        Configs: family, depth, width and vocabulary size must match. Tokenizers: the number of
        tokens, the BOS/EOS/UNK ids and the ids of a fixed probe text must match, or every
        cross-model number (transfer, cosines of directions read at the same positions) would
        compare different tokens; ``allow_tokenizer_mismatch=True`` runs anyway, with a warning.
        Differences that post-training legitimately brings (a chat template, extra special
        tokens) are reported in ``tokenizer_differences``, not refused.
        """
        b, p = _shape_of(self._configs["base"]), _shape_of(self._configs["post"])
        diffs = [f"{k}: base={b[k]!r} vs post={p[k]!r}" for k in b if b[k] != p[k]]
        if diffs:
            raise UserError(
                f"Models are not comparable (base {self.spec('base')!r}, post "
                f"{self.spec('post')!r}): " + "; ".join(diffs)
            )
        tb, tp = (self._tokenizer(w) for w in ("base", "post"))
        sb, sp = _special_tokens(tb), _special_tokens(tp)
        tok_diff = {k: {"base": sb[k], "post": sp[k]} for k in sb if sb[k] != sp[k]}
        mismatch = tokenizer_mismatch(tb, tp)
        if mismatch and not self.allow_tokenizer_mismatch:
            raise UserError(
                f"base {self.spec('base')!r} and post {self.spec('post')!r} tokenize differently ("
                + "; ".join(mismatch)
                + "); pass allow_tokenizer_mismatch=true to compare them anyway"
            )
        if mismatch:
            log.warning("tokenizers of base and post differ (allowed): %s", "; ".join(mismatch))
        if tok_diff:
            log.info("tokenizer differences between base and post: %s", tok_diff)
        return {**b, "tokenizer_differences": tok_diff, "tokenizer_mismatch": mismatch}

    def _tokenizer(self, which: str) -> Any:
        if which in self._loaded:
            return self._loaded[which][1]
        from transformers import AutoTokenizer

        where = resolve_spec(self._specs[which])  # type: ignore[arg-type]
        return AutoTokenizer.from_pretrained(where, trust_remote_code=self.trust_remote_code)

    @property
    def fingerprints(self) -> dict[str, str]:
        """The fingerprints computed so far (the analyses compute them to key their caches)."""
        return dict(self._fingerprints)

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
