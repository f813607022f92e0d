"""Tiny random-init models and a tiny tokenizer for tests (no download).

Why: every analysis and the engine must be tested on each supported
architecture family without network access. Models are built from configs with
a fixed seed, 2-3 layers, hidden size 32-64, vocab matching the tiny
word-level tokenizer below, in float32 and eval mode.

Usage::

    from tests.tiny_models import tiny_model, tiny_tokenizer, ARCHITECTURES
    model = tiny_model("llama")            # LlamaForCausalLM, 3 layers, d=64
    tok = tiny_tokenizer()                 # PreTrainedTokenizerFast, left padding
    tok_chat = tiny_tokenizer(chat_template=True)
"""

from __future__ import annotations

import string
from typing import Any

import torch

#: Architecture families that `tiny_model` can build (same keys as postmech_eval.engine.arch).
ARCHITECTURES: tuple[str, ...] = (
    "llama",
    "mistral",
    "qwen2",
    "gemma2",
    "gemma3",
    "gpt2",
    "gpt_neox",
    "olmo2",
    "phi3",
)

_WORDS = (
    "the a an is are was of in on to and or not this that it be true false "
    "city country france paris spain madrid lyon lima rome italy japan tokyo "
    "user assistant statement tell me how make bomb cake write poem please "
    "i am sorry cannot can't help you with what who where why yes no "
    "cat dog bird fish mammal animal element symbol gold silver iron "
    "one two three four five six seven eight nine ten larger smaller than "
    "hello world : . , ? ! ' \n"
).split(" ")

#: Special tokens of the tiny tokenizer, in id order 0..3.
SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<s>", "</s>", "<unk>")

_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} \n{% endfor %}"
    "{% if add_generation_prompt %}assistant : {% endif %}"
)


def _vocab() -> dict[str, int]:
    words: list[str] = list(SPECIAL_TOKENS)
    for w in list(_WORDS) + list(string.ascii_lowercase) + list(string.digits):
        if w and w not in words:
            words.append(w)
    return {w: i for i, w in enumerate(words)}


#: Vocabulary size of `tiny_tokenizer()`; tiny models use exactly this.
VOCAB_SIZE: int = len(_vocab())


def tiny_tokenizer(chat_template: bool = False) -> Any:
    """A word-level `PreTrainedTokenizerFast` (lower-cases, splits on spaces and
    punctuation; unknown words -> <unk>), left padding, pad id 0, bos 1, eos 2.

    With ``chat_template=True`` it carries a minimal chat template so
    `apply_chat_template(..., add_generation_prompt=True)` works.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.WordLevel(vocab=_vocab(), unk_token="<unk>"))
    tk.normalizer = normalizers.Lowercase()
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    tk.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        padding_side="left",
    )
    if chat_template:
        tok.chat_template = _CHAT_TEMPLATE
    return tok


def tiny_config(arch: str = "llama", n_layers: int = 3, d_model: int = 64, **overrides: Any) -> Any:
    """Config for a tiny model of family `arch` (a key of ARCHITECTURES)."""
    import transformers as T

    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}; got {arch!r}")
    common = dict(vocab_size=VOCAB_SIZE, pad_token_id=0, bos_token_id=1, eos_token_id=2)
    heads = 4
    llama_like = dict(
        hidden_size=d_model,
        intermediate_size=2 * d_model,
        num_hidden_layers=n_layers,
        num_attention_heads=heads,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=False,
        **common,
    )
    if arch == "llama":
        cfg = T.LlamaConfig(**llama_like, head_dim=d_model // heads)
    elif arch == "mistral":
        cfg = T.MistralConfig(**llama_like, head_dim=d_model // heads, sliding_window=None)
    elif arch == "qwen2":
        cfg = T.Qwen2Config(**llama_like)
    elif arch == "olmo2":
        cfg = T.Olmo2Config(**llama_like)
    elif arch == "phi3":
        cfg = T.Phi3Config(**llama_like)
    elif arch == "gemma2":
        cfg = T.Gemma2Config(
            **{**llama_like, "tie_word_embeddings": True},
            head_dim=d_model // heads,
            query_pre_attn_scalar=d_model // heads,
            sliding_window=16,
            final_logit_softcapping=30.0,
            attn_logit_softcapping=50.0,
        )
    elif arch == "gemma3":
        cfg = T.Gemma3TextConfig(
            **{**llama_like, "tie_word_embeddings": True},
            head_dim=d_model // heads,
            query_pre_attn_scalar=d_model // heads,
            sliding_window=16,
        )
    elif arch == "gpt2":
        cfg = T.GPT2Config(
            n_embd=d_model,
            n_layer=n_layers,
            n_head=heads,
            n_positions=256,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            **common,
        )
    else:  # gpt_neox
        cfg = T.GPTNeoXConfig(
            hidden_size=d_model,
            intermediate_size=2 * d_model,
            num_hidden_layers=n_layers,
            num_attention_heads=heads,
            max_position_embeddings=256,
            rotary_pct=0.5,
            tie_word_embeddings=False,
            **common,
        )
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


def tiny_model(
    arch: str = "llama", n_layers: int = 3, d_model: int = 64, seed: int = 0, **overrides: Any
) -> Any:
    """A seeded random-init `*ForCausalLM` of family `arch` in float32 eval mode.

    Norm weights are randomised too (N(1, 0.1), or N(0, 0.1) for Gemma's
    (1 + weight) norms) so tests catch a forgotten norm scale or offset.
    """
    from transformers import AutoModelForCausalLM

    cfg = tiny_config(arch, n_layers=n_layers, d_model=d_model, **overrides)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name.lower() or ".ln_" in name or name.startswith("ln_"):
                if p.ndim == 1 and "weight" in name:
                    base = 0.0 if arch.startswith("gemma") else 1.0
                    p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
                elif p.ndim == 1 and "bias" in name:
                    p.copy_(0.05 * torch.randn(p.shape, generator=gen))
    model.generation_config.pad_token_id = 0
    model.generation_config.eos_token_id = None  # never stop early: fixed-length outputs
    model.generation_config.bos_token_id = 1
    return model.float().eval()


def save_tiny(path: Any, arch: str = "llama", chat_template: bool = False, **kwargs: Any) -> Any:
    """Write a tiny model + tokenizer in HF format to `path` (for load_model tests)."""
    model = tiny_model(arch, **kwargs)
    model.save_pretrained(path)
    tiny_tokenizer(chat_template=chat_template).save_pretrained(path)
    return path
