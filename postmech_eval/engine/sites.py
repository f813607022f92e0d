"""The one site vocabulary: ``blocks.{l}.resid_pre|resid_post|attn_out|mlp_out|mlp_neurons``.

Why one module: every analysis, hook and cache key names a place in the model the same
way, built by :func:`make_site` and read back by :func:`parse_site`, so "layer" means one thing
per stream and a typo is refused with close matches instead of silently hooking nothing.
Blocks count from 0; the embeddings are not a block (they are ``blocks.0.resid_pre``).

Streams, for block l (shapes are [batch, pos, d_model] unless said otherwise):

- ``resid_pre``: the residual stream entering block l (``blocks.0.resid_pre`` = embeddings);
- ``resid_post``: the residual stream leaving block l (== ``resid_pre`` of block l + 1);
- ``attn_out`` / ``mlp_out``: exactly what block l adds to the residual stream;
- ``mlp_neurons``: the input of block l's MLP down-projection, [batch, pos, d_mlp].
"""

from __future__ import annotations

import re
from typing import Literal

from postmech_eval.config import InvalidParameterError, UnknownNameError, suggestion

STREAMS: tuple[str, ...] = ("resid_pre", "resid_post", "attn_out", "mlp_out", "mlp_neurons")
Stream = Literal["resid_pre", "resid_post", "attn_out", "mlp_out", "mlp_neurons"]
_SITE_RE = re.compile(r"^blocks\.(\d+)\.([a-z_]+)$")


def make_site(layer: int, stream: Stream) -> str:
    """The site name of ``stream`` at block ``layer``: ``make_site(3, "resid_pre") == "blocks.3.resid_pre"``."""
    if isinstance(layer, bool) or not isinstance(layer, int) or layer < 0:
        raise InvalidParameterError(
            f"The 'layer' parameter of make_site must be an int >= 0. Got {layer!r} instead."
        )
    if stream not in STREAMS:
        raise UnknownNameError(suggestion("stream", stream, STREAMS))
    return f"blocks.{layer}.{stream}"


def parse_site(site: str, n_layers: int | None = None) -> tuple[int, str]:
    """Split ``"blocks.{L}.{stream}"`` into (L, stream), validating both.

    Unknown names raise with close matches (never silently accepted).
    """
    if not isinstance(site, str):
        raise TypeError(f"site must be a str like 'blocks.3.resid_pre'; got {type(site).__name__}")
    m = _SITE_RE.match(site)
    if m is None or m.group(2) not in STREAMS:
        stream = site.rsplit(".", 1)[-1]
        raise UnknownNameError(
            f"site {site!r} is not 'blocks.{{l}}.{{stream}}': " + suggestion("stream", stream, STREAMS)
        )
    layer, stream = int(m.group(1)), m.group(2)
    if n_layers is not None and not 0 <= layer < n_layers:
        raise InvalidParameterError(
            f"The layer of site {site!r} must be in [0, {n_layers - 1}]. Got {layer} instead."
        )
    return layer, stream
