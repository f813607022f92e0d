"""Byte-level BPE tokenizer shared by every organism.

Why: base and post-trained organisms must have the *same* vocabulary (a pair is
only comparable token for token), and any text a user types — including words
the organisms never saw — must tokenize without error. A byte-level BPE trained
with the `tokenizers` library gives both: merges come from the organism corpus,
and the 256-byte alphabet covers every string.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Special tokens in id order (ids 0..5). pad and eos are separate so that
#: left-padding never looks like an end of document.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|pad|>",
    "<|bos|>",
    "<|eos|>",
    "<|user|>",
    "<|assistant|>",
    "<|end|>",
)
PAD, BOS, EOS, USER, ASSISTANT, END = SPECIAL_TOKENS

#: Chat template of post-trained organisms. No bos in the template: the
#: tokenizer's post-processor adds it when the formatted text is tokenized.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def format_chat(user: str, assistant: str | None = None) -> str:
    """Render one user turn (and optionally the reply) exactly as CHAT_TEMPLATE does.

    Why: training text must match what `apply_chat_template` produces at run
    time, byte for byte, or the post-trained organism sees an unfamiliar prompt.
    """
    text = f"{USER}\n{user}{END}\n{ASSISTANT}\n"
    if assistant is not None:
        text += f"{assistant}{END}\n"
    return text


def train_tokenizer(texts: Iterable[str], vocab_size: int = 3072) -> Any:
    """Train a byte-level BPE on `texts`; return a `PreTrainedTokenizerFast`.

    The tokenizer left-pads (the engine reads negative positions as columns)
    and prepends <|bos|> to every encoded sequence, like Llama tokenizers.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 512:
        raise ValueError(f"vocab_size must be >= 512 (256 bytes + merges); got {vocab_size}")
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tk.train_from_iterator(texts, trainer)
    tk.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A",
        pair=f"{BOS} $A {BOS} $B",
        special_tokens=[(BOS, SPECIAL_TOKENS.index(BOS))],
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=[USER, ASSISTANT, END],
        padding_side="left",
    )
    tok.model_max_length = 512
    return tok


def save_tokenizer(tok: Any, path: Path, chat: bool) -> None:
    """Save `tok` to `path`, with the chat template only for chat organisms."""
    tok.chat_template = CHAT_TEMPLATE if chat else None
    tok.save_pretrained(str(path))
