"""Model config, document packing and the training loop for the organisms.

Why this shape: CPU training of a ~2M-parameter Llama must finish in minutes,
so documents are packed into fixed 128-token rows (no padding compute), each
target token carries a loss weight (0 for chat prompts we do not want learnt,
>1 for the TRUE/FALSE label token that is otherwise a tiny share of the loss),
and the loop is plain AdamW with warm-up, cosine decay and gradient clipping.
Everything is seeded and single-process, so a rebuild gives the same weights.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

#: A document is a list of (text, loss weight) segments. Segment boundaries must
#: fall where the byte-level pre-tokenizer splits anyway (before a space or a
#: newline, or at a special token), so tokenizing per segment equals tokenizing
#: the joined text.
Document = list[tuple[str, float]]

ROW_LEN = 128


@dataclass(frozen=True, kw_only=True)
class ModelShape:
    """Width and depth of every organism (same for all: pairs must match)."""

    d_model: int = 128
    n_layers: int = 6
    n_heads: int = 4
    d_mlp: int = 384
    max_positions: int = 512
    tie_embeddings: bool = True


def make_model(vocab_size: int, shape: ModelShape, seed: int, special: dict[str, int]) -> Any:
    """A fresh seeded LlamaForCausalLM (RMSNorm, SwiGLU, RoPE) in float32."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=shape.d_model,
        intermediate_size=shape.d_mlp,
        num_hidden_layers=shape.n_layers,
        num_attention_heads=shape.n_heads,
        num_key_value_heads=shape.n_heads,
        head_dim=shape.d_model // shape.n_heads,
        max_position_embeddings=shape.max_positions,
        rms_norm_eps=1e-5,
        tie_word_embeddings=shape.tie_embeddings,
        pad_token_id=special["pad"],
        bos_token_id=special["bos"],
        eos_token_id=special["eos"],
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(cfg).float()


def pack(tokenizer: Any, docs: Sequence[Document], rng: random.Random) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenize `docs` and pack them (shuffled with `rng`) into [n, ROW_LEN+1] rows.

    Returns (ids, weights): weights[r, j] is the loss weight of predicting
    ids[r, j] from the tokens before it. Each document is <|bos|> ... <|eos|>.
    """
    order = list(range(len(docs)))
    rng.shuffle(order)
    flat_texts: list[str] = []
    for i in order:
        flat_texts.extend(text for text, _ in docs[i])
    enc = tokenizer(flat_texts, add_special_tokens=False)["input_ids"]
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    ids: list[int] = []
    wts: list[float] = []
    k = 0
    for i in order:
        ids.append(bos)
        wts.append(0.0)
        for _, w in docs[i]:
            seg = enc[k]
            k += 1
            ids.extend(seg)
            wts.extend([w] * len(seg))
        ids.append(eos)
        wts.append(1.0)
    n_rows = (len(ids) - 1) // ROW_LEN
    t_ids = torch.tensor(ids[: n_rows * ROW_LEN + 1], dtype=torch.long)
    t_w = torch.tensor(wts[: n_rows * ROW_LEN + 1], dtype=torch.float32)
    idx = torch.arange(n_rows)[:, None] * ROW_LEN + torch.arange(ROW_LEN + 1)[None, :]
    return t_ids[idx], t_w[idx]


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """Optimiser settings of one training stage."""

    steps: int
    lr: float = 1e-3
    warmup: int = 30
    batch_size: int = 32
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    clip: float = 1.0


def train(
    model: Any,
    rows: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    schedule: Schedule,
    seed: int,
    log: Callable[[str], None] = print,
    on_step: Callable[[int], None] | None = None,
) -> list[float]:
    """Train `model` in place; `rows(step)` returns that step's (ids, weights) batch.

    Why a callable: stages change their data mix over time (facts-only
    warm-up, then labelled lines) without the loop knowing about corpora.
    Returns the per-step weighted loss.
    """
    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.AdamW(
        model.parameters(), lr=schedule.lr, betas=(0.9, 0.98), weight_decay=schedule.weight_decay
    )

    def lr_at(step: int) -> float:
        if step < schedule.warmup:
            return schedule.lr * (step + 1) / schedule.warmup
        frac = (step - schedule.warmup) / max(1, schedule.steps - schedule.warmup)
        cos = 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
        return schedule.lr * (schedule.min_lr_ratio + (1 - schedule.min_lr_ratio) * cos)

    losses: list[float] = []
    label_losses: list[float] = []
    t0 = time.time()
    for step in range(schedule.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        ids, w = rows(step)
        logits = model(input_ids=ids[:, :-1]).logits
        ce = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none"
        )
        tw = w[:, 1:].reshape(-1)
        loss = (ce * tw).sum() / (tw > 0).sum().clamp(min=1)
        heavy = tw > 1.0  # up-weighted targets (the TRUE/FALSE label): logged on their own
        label_losses.append(float(ce[heavy].detach().mean()) if bool(heavy.any()) else float("nan"))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), schedule.clip)
        opt.step()
        losses.append(float(loss.detach()))
        if step % 50 == 0 or step == schedule.steps - 1:
            recent = sum(losses[-50:]) / len(losses[-50:])
            lab = [x for x in label_losses[-50:] if x == x]
            lab_txt = f" label {sum(lab) / len(lab):.3f}" if lab else ""
            log(
                f"  step {step:4d}/{schedule.steps} loss {recent:.3f}{lab_txt} lr {lr_at(step):.2e} ({time.time() - t0:.0f}s)"
            )
        if on_step is not None:
            on_step(step)
            model.train()
    model.eval()
    return losses


def batches(
    ids: torch.Tensor, w: torch.Tensor, batch_size: int, seed: int
) -> Callable[[int], tuple[torch.Tensor, torch.Tensor]]:
    """Step -> batch over rows in a seeded order, reshuffled each epoch."""
    n = ids.shape[0]
    if n < batch_size:
        raise ValueError(f"need at least batch_size={batch_size} packed rows; got {n}")
    per_epoch = n // batch_size
    perms: dict[int, torch.Tensor] = {}

    def get(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, k = divmod(step, per_epoch)
        if epoch not in perms:
            g = torch.Generator().manual_seed(seed * 1000 + epoch)
            perms.clear()
            perms[epoch] = torch.randperm(n, generator=g)
        sel = perms[epoch][k * batch_size : (k + 1) * batch_size]
        return ids[sel], w[sel]

    return get
