"""Where each family reads and writes its residual stream: a data table, like engine/arch.

Why: a rewrite of the residual basis (rotation, abliteration) must touch every matrix that
reads the stream (after its norm) and every matrix that writes into it, and nothing else.
Listing those per family as data keeps the edits generic and makes the reason a family
does not qualify explicit instead of a silent wrong answer.

Conventions (row vectors, x is a residual-stream state):
- ``embeds``: [vocab or positions, d_model] tables whose rows are residual states;
- ``norms``: (norm module, modules that read its output) per decoder layer; a reader's
  weight is [out, d_model] (``nn.Linear``) or [d_model, out] (GPT-2 ``Conv1D``);
- ``writers``: modules whose output is added to the residual stream as is;
- the final norm is read by the unembedding (``ArchSpec.final_norm`` / ``unembed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from postmech_eval.engine.arch import ARCH_TABLE, get_adapter


@dataclass(frozen=True, kw_only=True)
class ResidualLayout:
    """One family's residual readers and writers (paths relative to a decoder layer)."""

    family: str
    embeds: tuple[str, ...]  # relative to the *ForCausalLM
    norms: tuple[tuple[str, tuple[str, ...]], ...]
    writers: tuple[str, ...]


_LLAMA = (
    ("input_layernorm", ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")),
    ("post_attention_layernorm", ("mlp.gate_proj", "mlp.up_proj")),
)
_WRITERS = ("self_attn.o_proj", "mlp.down_proj")

LAYOUTS: dict[str, ResidualLayout] = {
    f: ResidualLayout(family=f, embeds=("model.embed_tokens",), norms=_LLAMA, writers=_WRITERS)
    for f in ("llama", "mistral", "qwen2")
}
LAYOUTS["phi3"] = ResidualLayout(
    family="phi3",
    embeds=("model.embed_tokens",),
    norms=(("input_layernorm", ("self_attn.qkv_proj",)), ("post_attention_layernorm", ("mlp.gate_up_proj",))),
    writers=_WRITERS,
)
LAYOUTS["gpt2"] = ResidualLayout(
    family="gpt2",
    embeds=("transformer.wte", "transformer.wpe"),
    norms=(("ln_1", ("attn.c_attn",)), ("ln_2", ("mlp.c_fc",))),
    writers=("attn.c_proj", "mlp.c_proj"),
)
LAYOUTS["gpt_neox"] = ResidualLayout(
    family="gpt_neox",
    embeds=("gpt_neox.embed_in",),
    norms=(
        ("input_layernorm", ("attention.query_key_value",)),
        ("post_attention_layernorm", ("mlp.dense_h_to_4h",)),
    ),
    writers=("attention.dense", "mlp.dense_4h_to_h"),
)

_POST_NORM = (
    "its blocks add the output of a post-attention / post-feedforward RMSNorm to the residual "
    "stream; that norm's per-coordinate gain diag(g) does not commute with a rotation "
    "(Q^T diag(g) Q is not diagonal) and no linear layer follows it to absorb the gain, so "
    "neither a rotation nor a weight-level projection of the residual writes is exact"
)
#: Families without a residual layout, and why (rotation and abliteration need one).
NOT_QUALIFIED: dict[str, str] = {f: _POST_NORM for f in ("gemma2", "gemma3", "olmo2")}

assert set(LAYOUTS) | set(NOT_QUALIFIED) == set(ARCH_TABLE), "every family needs a row or a reason"


def layout_for(model: nn.Module) -> ResidualLayout | None:
    """The residual layout of ``model``'s family, or None when the family does not qualify."""
    return LAYOUTS.get(get_adapter(model).family)


def why_not(model: nn.Module) -> str | None:
    """Why ``model``'s family does not qualify for residual rewrites (None when it does)."""
    family = get_adapter(model).family
    return None if family in LAYOUTS else f"{family}: {NOT_QUALIFIED[family]}"


def getpath(root: nn.Module, path: str) -> nn.Module:
    """``root.a.b.0.c`` from ``"a.b.0.c"``."""
    obj = root
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def is_conv1d(module: nn.Module) -> bool:
    """GPT-2's Conv1D stores its weight as [in, out] (the transpose of nn.Linear)."""
    return type(module).__name__ == "Conv1D"
