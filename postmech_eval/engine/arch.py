"""Architecture adapters: one data table maps abstract sites to real modules.

Why: every analysis names sites the same way (``blocks.{L}.resid_pre`` ...) for
every model family, and base and post models must resolve through the same
table. Following pyvene, each family is a row of plain data (module paths
relative to the ``*ForCausalLM`` object or to a decoder layer); one resolver
serves them all, so adding a family means adding a row, not code.

Stream semantics (what a hook on the site sees or edits), for layer L:

- ``resid_pre``: residual stream entering decoder layer L (its input);
  ``resid_pre`` of layer 0 is the embedding output.
- ``resid_post``: residual stream leaving layer L (its output). HF's
  ``output_hidden_states[L + 1]`` equals it, except that for the last layer HF
  returns the final-norm output instead (all supported families here).
- ``attn_out`` / ``mlp_out``: exactly what the block adds to the residual
  stream. For Gemma2/3 and OLMo2 that is the output of the post-attention /
  post-feedforward norm, not of the attention/MLP module itself.
- ``mlp_neurons``: the input of the MLP down-projection (post-activation, and
  after the gate product for gated MLPs, including Phi-3's fused gate_up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from postmech_eval.engine.devices import weight
from postmech_eval.engine.sites import STREAMS, Stream, make_site, parse_site  # noqa: F401  (the table's vocabulary)


@dataclass(frozen=True, kw_only=True)
class ArchSpec:
    """One row of the table. Paths are dotted attribute paths."""

    family: str
    model_types: tuple[str, ...]  # config.model_type values handled by this row
    layers: str  # relative to the *ForCausalLM
    final_norm: str  # relative to the *ForCausalLM
    unembed: str  # relative to the *ForCausalLM (a Linear with weight [vocab, d_model])
    attn_out: str  # relative to a decoder layer; its output is added to the residual
    mlp_out: str  # relative to a decoder layer; its output is added to the residual
    down_proj: str  # relative to a decoder layer; its INPUT is mlp_neurons
    norm_kind: Literal["rms", "layernorm"] = "rms"
    norm_weight_offset: float = 0.0
    down_weight_transposed: bool = False  # GPT-2 Conv1D stores weight as [in, out]
    d_mlp_attr: str = "intermediate_size"


def _llama_like(family: str, *model_types: str) -> ArchSpec:
    return ArchSpec(
        family=family,
        model_types=model_types,
        layers="model.layers",
        final_norm="model.norm",
        unembed="lm_head",
        attn_out="self_attn",
        mlp_out="mlp",
        down_proj="mlp.down_proj",
    )


def _post_norm(family: str, offset: float, *model_types: str) -> ArchSpec:
    return ArchSpec(
        family=family,
        model_types=model_types,
        layers="model.layers",
        final_norm="model.norm",
        unembed="lm_head",
        attn_out="post_attention_layernorm",
        mlp_out="post_feedforward_layernorm",
        down_proj="mlp.down_proj",
        norm_weight_offset=offset,
    )


ARCH_TABLE: dict[str, ArchSpec] = {
    s.family: s
    for s in (
        _llama_like("llama", "llama"),
        _llama_like("mistral", "mistral"),
        _llama_like("qwen2", "qwen2"),
        _llama_like("phi3", "phi3"),
        _post_norm("gemma2", 1.0, "gemma2"),
        _post_norm("gemma3", 1.0, "gemma3_text"),
        _post_norm("olmo2", 0.0, "olmo2"),
        ArchSpec(
            family="gpt2",
            model_types=("gpt2",),
            layers="transformer.h",
            final_norm="transformer.ln_f",
            unembed="lm_head",
            attn_out="attn",
            mlp_out="mlp",
            down_proj="mlp.c_proj",
            norm_kind="layernorm",
            down_weight_transposed=True,
            d_mlp_attr="n_inner",
        ),
        ArchSpec(
            family="gpt_neox",
            model_types=("gpt_neox",),
            layers="gpt_neox.layers",
            final_norm="gpt_neox.final_layer_norm",
            unembed="lm_head",
            attn_out="attention",
            mlp_out="mlp",
            down_proj="mlp.dense_4h_to_h",
            norm_kind="layernorm",
        ),
    )
}
SUPPORTED: tuple[str, ...] = tuple(ARCH_TABLE)
_BY_MODEL_TYPE: dict[str, ArchSpec] = {t: s for s in ARCH_TABLE.values() for t in s.model_types}


def _getpath(root: nn.Module, path: str) -> nn.Module:
    obj = root
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def spec_for_config(config: object) -> ArchSpec:
    """The table row for a HF config; unknown families raise one clear error.

    Works on configs alone so ModelPair can check a pair before loading weights.
    """
    model_type = getattr(config, "model_type", None)
    spec = _BY_MODEL_TYPE.get(str(model_type))
    if spec is None:
        raise ValueError(
            f"Unsupported architecture: config.model_type={model_type!r} "
            f"(architectures={getattr(config, 'architectures', None)}). "
            f"Supported families: {', '.join(SUPPORTED)}."
        )
    return spec


class ArchAdapter:
    """Resolves sites of one loaded model through its family's table row."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.spec = spec_for_config(model.config)
        self.family = self.spec.family
        self.layers: list[nn.Module] = list(_getpath(model, self.spec.layers))
        self.final_norm: nn.Module = _getpath(model, self.spec.final_norm)
        self.norm_weight_offset = self.spec.norm_weight_offset
        self.norm_kind = self.spec.norm_kind
        self.n_layers = len(self.layers)
        self.d_model = int(self.unembed_weight.shape[1])
        cfg = model.config
        d_mlp = getattr(cfg, self.spec.d_mlp_attr, None)
        self.d_mlp = int(d_mlp) if d_mlp is not None else 4 * self.d_model  # GPT-2 n_inner=None
        self.vocab_size = int(self.unembed_weight.shape[0])

    @property
    def unembed_weight(self) -> torch.Tensor:
        """Unembedding matrix [vocab, d_model] (the live parameter, detached; read from the
        accelerate hook when offloaded)."""
        return weight(_getpath(self.model, self.spec.unembed))

    @property
    def final_norm_weight(self) -> torch.Tensor:
        """Effective multiplicative scale of the final norm, offset applied (1 + w for Gemma)."""
        return weight(self.final_norm) + self.norm_weight_offset

    def sites(self, streams: tuple[str, ...] = STREAMS) -> list[str]:
        """All site names of this model, layer-major."""
        return [make_site(layer, s) for layer in range(self.n_layers) for s in streams]

    def site_dim(self, site: str) -> int:
        """Width of the activation at a site (d_mlp for mlp_neurons, else d_model)."""
        _, stream = parse_site(site, self.n_layers)
        return self.d_mlp if stream == "mlp_neurons" else self.d_model

    def module_for(self, site: str) -> tuple[nn.Module, Literal["input", "output"]]:
        """(module, "input"|"output"): where a hook on ``site`` attaches."""
        layer, stream = parse_site(site, self.n_layers)
        block = self.layers[layer]
        if stream == "resid_pre":
            return block, "input"
        if stream == "resid_post":
            return block, "output"
        if stream == "attn_out":
            return _getpath(block, self.spec.attn_out), "output"
        if stream == "mlp_out":
            return _getpath(block, self.spec.mlp_out), "output"
        return _getpath(block, self.spec.down_proj), "input"

    def down_proj(self, layer: int) -> nn.Module:
        """The MLP down-projection of ``layer`` (its input is mlp_neurons)."""
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer must be in [0, {self.n_layers - 1}]; got {layer}")
        return _getpath(self.layers[layer], self.spec.down_proj)

    def down_proj_weight(self, layer: int) -> torch.Tensor:
        """Down-projection weight as [d_model, d_mlp] for every family (column i = w_i)."""
        w = weight(self.down_proj(layer))
        return w.T if self.spec.down_weight_transposed else w


def get_adapter(model: nn.Module) -> ArchAdapter:
    """The adapter for ``model`` (cached on the model object: resolution is pure)."""
    cached = getattr(model, "_postmech_adapter", None)
    if isinstance(cached, ArchAdapter) and cached.model is model:
        return cached
    adapter = ArchAdapter(model)
    try:
        model._postmech_adapter = adapter  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return adapter


def decoder_body(model: nn.Module) -> nn.Module:
    """The decoder stack under the LM head (``get_decoder()``, every supported family), or the
    model itself when it has none (then its head runs too; the layers' activations are the
    same). Running the body skips the unembedding, which on a 262k vocabulary costs as much
    as many tokens through the layers."""
    get = getattr(model, "get_decoder", None)
    body = get() if callable(get) else None
    return body if isinstance(body, nn.Module) and body is not model else model
