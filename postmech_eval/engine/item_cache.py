"""Per-item results on disk, content-addressed, so a killed run resumes where it stopped.

Why: an analysis of an 8B pair spends hours on per-item work (a patched heatmap per
statement pair, a generation per prompt and condition). Each item's result is stored under
a key that hashes everything it depends on — the suite version, the step's name, the models'
fingerprints, the analysis settings and the item itself — so a rerun after SIGINT or
SIGKILL recomputes only the items whose entry is missing, and a changed model, setting or
suite version never reads a stale entry. One safetensors file per item: tensors as tensors,
everything else as JSON in the file's metadata (never pickle). Files are written to a
temporary name and renamed whole (``postmech_eval.atomic``); an entry that does not load or
whose recorded key differs is recomputed with a warning, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file

from postmech_eval import __version__
from postmech_eval.atomic import atomic_path

log = logging.getLogger(__name__)

#: Bumped when the entry layout changes (old entries then simply miss).
FORMAT = 1
_TENSOR = "t:"
#: dtypes stored through numpy (same bytes, same safetensors dtype names)
_NUMPY_DTYPES = frozenset({
    torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32, torch.int64,
    torch.uint8, torch.bool,
})  # fmt: skip


def item_key(step: str, item: Any, context: Any) -> str:
    """sha256 of (format, suite version, step, context, item) as canonical JSON."""
    blob = json.dumps(
        {"format": FORMAT, "version": __version__, "step": step, "context": context, "item": item},
        sort_keys=True,
        default=str,
        allow_nan=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _split(value: Any) -> tuple[dict[str, torch.Tensor], Any]:
    """Tensors of a result (a tensor, or a dict holding some) apart from its JSON part."""
    if isinstance(value, torch.Tensor):
        return {f"{_TENSOR}": value.detach().cpu().contiguous()}, None
    if isinstance(value, dict):
        tensors = {
            f"{_TENSOR}{k}": v.detach().cpu().contiguous()
            for k, v in value.items()
            if isinstance(v, torch.Tensor)
        }
        rest = {k: v for k, v in value.items() if not isinstance(v, torch.Tensor)}
        return tensors, rest
    return {}, value


class ItemCache:
    """A folder of per-item entries: ``<root>/<step>/<key[:2]>/<key>.safetensors``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, step: str, key: str) -> Path:
        return self.root / step.replace("/", "_") / key[:2] / f"{key}.safetensors"

    def load(self, step: str, key: str) -> tuple[bool, Any]:
        """(True, value) for a sound entry; (False, None) when missing or corrupt (warned)."""
        path = self.path(step, key)
        if not path.exists():
            return False, None
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
            if meta.get("key") != key:
                raise ValueError(f"entry records key {meta.get('key')!r}")
            kind, rest = meta["kind"], json.loads(meta["json"])
        except Exception as err:  # any unreadable entry is recomputed, never trusted
            log.warning("postmech cache: ignoring corrupt entry %s (%s); recomputing it", path, err)
            return False, None
        if kind == "tensor":
            return True, tensors[_TENSOR]
        if kind == "dict":
            return True, {**rest, **{k[len(_TENSOR) :]: v for k, v in tensors.items()}}
        return True, rest

    def store(self, step: str, key: str, value: Any) -> None:
        tensors, rest = _split(value)
        kind = "tensor" if isinstance(value, torch.Tensor) else "dict" if isinstance(value, dict) else "json"
        meta = {"key": key, "kind": kind, "json": json.dumps(rest, allow_nan=True, default=str)}
        path = self.path(step, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            if all(t.dtype in _NUMPY_DTYPES for t in tensors.values()):
                # the same file, written from numpy views: safetensors' torch path costs
                # ~0.5 ms per entry in per-tensor ctypes conversions (thousands of entries a run)
                save_numpy({k: t.numpy() for k, t in tensors.items()}, str(tmp), metadata=meta)
            else:  # bfloat16 and other dtypes numpy lacks
                save_file(tensors, str(tmp), metadata=meta)
