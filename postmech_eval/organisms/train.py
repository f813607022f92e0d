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
from typing import Any, Protocol

import torch


class Planter(Protocol):
    """What the loop needs of a truth planter (``plant.TruthPlanter``): extra trainable
    parameters, targets rewritten before the forward, an auxiliary loss and cleanup."""

    def parameters(self) -> Any: ...
    def before_forward(self, ids: torch.Tensor, meta: torch.Tensor) -> torch.Tensor: ...
    def aux_loss(self) -> torch.Tensor: ...
    def status(self) -> str: ...
    def close(self) -> None: ...


#: A document is a list of (text, loss weight) or (text, loss weight, tag) segments.
#: Segment boundaries must fall where the byte-level pre-tokenizer splits anyway
#: (before a space or a newline, or at a special token), so tokenizing per segment
#: equals tokenizing the joined text. Tags mark what the truth planting needs
#: (see plant.py): TAG_TRUE / TAG_FALSE on a judged statement, TAG_LABEL on its label.
Document = list[tuple[str, float] | tuple[str, float, int]]

TAG_TRUE, TAG_FALSE, TAG_LABEL, TAG_OBJECT = 1, -1, 3, 4
#: Values of the per-token meta tensor of `pack`: +-1 on a judged statement's last
#: token (sign = truth), +-2 on the token before it, 3 on a label token whose
#: statement ends in the same row, 4 on the first token of a plain fact's object.
META_LAST, META_PREV, META_LABEL, META_OBJECT = 1, 2, 3, 4

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


def pack(
    tokenizer: Any, docs: Sequence[Document], rng: random.Random
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tokenize `docs` and pack them (shuffled with `rng`) into [n, ROW_LEN+1] rows.

    Returns (ids, weights, meta): weights[r, j] is the loss weight of predicting
    ids[r, j] from the tokens before it; meta[r, j] marks judged statements and
    their labels (META_* above, 0 elsewhere). Each document is <|bos|> ... <|eos|>.
    """
    order = list(range(len(docs)))
    rng.shuffle(order)
    flat_texts: list[str] = []
    for i in order:
        flat_texts.extend(seg[0] for seg in docs[i])
    enc = tokenizer(flat_texts, add_special_tokens=False)["input_ids"]
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    ids: list[int] = []
    wts: list[float] = []
    meta: list[int] = []
    pairs: list[tuple[int, int]] = []  # (statement's last token, its label token), global indices
    k = 0
    for i in order:
        ids.append(bos)
        wts.append(0.0)
        meta.append(0)
        last_stmt = -1
        for seg in docs[i]:
            tok_ids = enc[k]
            k += 1
            start = len(ids)
            ids.extend(tok_ids)
            wts.extend([seg[1]] * len(tok_ids))
            meta.extend([0] * len(tok_ids))
            tag = seg[2] if len(seg) > 2 else 0
            if tag in (TAG_TRUE, TAG_FALSE) and len(tok_ids) >= 2:
                meta[-1], meta[-2] = tag * META_LAST, tag * META_PREV
                last_stmt = len(ids) - 1
            elif tag == TAG_OBJECT and tok_ids:
                meta[start] = META_OBJECT
            elif tag == TAG_LABEL and last_stmt >= 0 and tok_ids:
                pairs.append((last_stmt, start))
                last_stmt = -1
        ids.append(eos)
        wts.append(1.0)
        meta.append(0)
    n_rows = (len(ids) - 1) // ROW_LEN
    for stmt, label in pairs:  # a label is flippable only when its statement is in the same row
        if label < n_rows * ROW_LEN + 1 and stmt // ROW_LEN == (label - 1) // ROW_LEN:
            meta[label] = META_LABEL
    t_ids = torch.tensor(ids[: n_rows * ROW_LEN + 1], dtype=torch.long)
    t_w = torch.tensor(wts[: n_rows * ROW_LEN + 1], dtype=torch.float32)
    t_m = torch.tensor(meta[: n_rows * ROW_LEN + 1], dtype=torch.int8)
    idx = torch.arange(n_rows)[:, None] * ROW_LEN + torch.arange(ROW_LEN + 1)[None, :]
    return t_ids[idx], t_w[idx], t_m[idx]


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


Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def train(
    model: Any,
    rows: Callable[[int], Batch],
    schedule: Schedule,
    seed: int,
    log: Callable[[str], None] = print,
    on_step: Callable[[int], None] | None = None,
    planter: Planter | None = None,
) -> list[float]:
    """Train `model` in place; `rows(step)` returns that step's (ids, weights, meta) batch.

    Why a callable: stages change their data mix over time (facts-only
    warm-up, then labelled lines) without the loop knowing about corpora.
    planter (a plant.TruthPlanter or None) adds the truth-planting loss and
    interventions. Returns the per-step weighted loss.
    """
    torch.manual_seed(seed)
    model.train()
    params = list(model.parameters()) + (list(planter.parameters()) if planter is not None else [])
    opt = torch.optim.AdamW(params, lr=schedule.lr, betas=(0.9, 0.98), weight_decay=schedule.weight_decay)

    def lr_at(step: int) -> float:
        if step < schedule.warmup:
            return schedule.lr * (step + 1) / schedule.warmup
        frac = (step - schedule.warmup) / max(1, schedule.steps - schedule.warmup)
        cos = 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
        return schedule.lr * (schedule.min_lr_ratio + (1 - schedule.min_lr_ratio) * cos)

    losses: list[float] = []
    label_losses: list[float] = []
    t0 = time.time()
    try:  # the planter's hooks come off even when a step fails
        for step in range(schedule.steps):
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            ids, w, meta = rows(step)
            targets = ids[:, 1:]
            if planter is not None:
                targets = planter.before_forward(ids, meta)
            logits = model(input_ids=ids[:, :-1]).logits
            ce = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none"
            )
            tw = w[:, 1:].reshape(-1)
            loss = (ce * tw).sum() / (tw > 0).sum().clamp(min=1)
            if planter is not None:
                loss = loss + planter.aux_loss()
            heavy = (meta[:, 1:] == META_LABEL).reshape(-1)  # TRUE/FALSE targets, logged on their own
            label_losses.append(float(ce[heavy].detach().mean()) if bool(heavy.any()) else float("nan"))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, schedule.clip)
            opt.step()
            losses.append(float(loss.detach()))
            if step % 50 == 0 or step == schedule.steps - 1:
                recent = sum(losses[-50:]) / len(losses[-50:])
                lab = [x for x in label_losses[-50:] if x == x]
                lab_txt = f" label {sum(lab) / len(lab):.3f}" if lab else ""
                lab_txt += planter.status() if planter is not None else ""
                log(
                    f"  step {step:4d}/{schedule.steps} loss {recent:.3f}{lab_txt} lr {lr_at(step):.2e} ({time.time() - t0:.0f}s)"
                )
            if on_step is not None:
                on_step(step)
                model.train()
    finally:
        if planter is not None:
            planter.close()
    model.eval()
    return losses


def batches(
    ids: torch.Tensor, w: torch.Tensor, meta: torch.Tensor, batch_size: int, seed: int
) -> Callable[[int], Batch]:
    """Step -> batch over rows in a seeded order, reshuffled each epoch."""
    n = ids.shape[0]
    if n < batch_size:
        raise ValueError(f"need at least batch_size={batch_size} packed rows; got {n}")
    per_epoch = n // batch_size
    perms: dict[int, torch.Tensor] = {}

    def get(step: int) -> Batch:
        epoch, k = divmod(step, per_epoch)
        if epoch not in perms:
            g = torch.Generator().manual_seed(seed * 1000 + epoch)
            perms.clear()
            perms[epoch] = torch.randperm(n, generator=g)
        sel = perms[epoch][k * batch_size : (k + 1) * batch_size]
        return ids[sel], w[sel], meta[sel]

    return get
