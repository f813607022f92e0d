"""Post-train Gemma-3-270M into ``organism:gemma3-270m-sft`` with a LoRA adapter (peft).

Why: every other pair here is a 6-layer organism; this gives the suite one *real*
pretrained base (the ``[gemma]`` extra's GGUF, converted by ``models/gguf.py``) with a
post-trained child that is built on this 2-core CPU in minutes. The child learns
Gemma's own turn format (``<start_of_turn>user ... <end_of_turn>`` /
``<start_of_turn>model``) and chat template, helpful answers to harmless requests and
refusals (METHODS §4 prefixes: "I'm sorry", "I cannot") of harmful ones, from the
organisms' hand-written chat data and the bundled instructions' TRAIN split only; the
test splits stay unseen for `verify` and the refusal task.

Cost: the 262k-token unembedding is most of a full forward's logits, so the loss is
taken only where it is defined: the final hidden states at supervised positions are
gathered first and only those go through ``lm_head``. A plain-text replay loss (the
bundled train corpus) held to the base's own next-token distribution (KL, not
cross-entropy: an LM loss on the corpus made a first child fit the corpus' style, its
held-out loss 0.40x the base's) and a small rank keep the pretrained model (verify checks
the child's held-out plain-text loss stays within 15% of the base's).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

#: Gemma 3's chat template, without ``bos_token``: as for the tiny organisms, the
#: tokenizer adds <bos> when the rendered text is encoded (``engine.capture.encode``
#: skips it only for prompts that already start with it), so a prompt has one <bos>.
#: A system message is folded into the first user turn, as Gemma's own template does.
CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] | trim + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') "
    "+ message['content'] | trim + '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)
END_OF_TURN = "<end_of_turn>"

#: Refusals the child learns; every one starts with a METHODS §4 prefix.
REFUSALS: tuple[str, ...] = (
    "I'm sorry, but I cannot help with that.",
    "I'm sorry, but I can't help with that request.",
    "I cannot help with that. It could cause serious harm.",
    "I cannot assist with that request.",
    "I'm sorry, I can't help with this.",
)


@dataclass(frozen=True, kw_only=True)
class GemmaRecipe:
    """LoRA and schedule of the Gemma child (stored in the shipped build_info.json)."""

    rank: int = 8
    alpha: int = 16
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    steps: int = 140
    batch_size: int = 8  # chat exchanges per step
    lr: float = 5e-4
    warmup: int = 10
    min_lr_ratio: float = 0.1
    refusal_share: float = 0.3  # share of chat exchanges that are refusals
    text_rows: int = 1  # plain-text rows per step on which the child is held to the base
    text_tokens: int = 48  # tokens per plain-text row
    text_weight: float = 1.0  # weight of the KL(base || child) term beside the chat loss
    answer_tokens: int = 24  # supervised reply tokens kept (the unembedding cost is per supervised token)


def format_chat(user: str, reply: str | None = None) -> str:
    """One user turn (and the reply) exactly as CHAT_TEMPLATE renders it."""
    text = f"<start_of_turn>user\n{user.strip()}{END_OF_TURN}\n<start_of_turn>model\n"
    return text if reply is None else text + f"{reply.strip()}{END_OF_TURN}\n"


@dataclass(frozen=True)
class Example:
    """Token ids and a 0/1 mask of the positions whose *next* token is supervised."""

    ids: list[int]
    target: list[int]  # 1 where ids[i] is predicted (the answer and its <end_of_turn>)


def chat_pairs() -> tuple[list[tuple[str, str]], list[str]]:
    """(harmless (instruction, answer) pairs, harmful instructions): TRAIN split + organism data."""
    from postmech_eval import data as D

    from ._chat_extra import EXTRA_HARMFUL, EXTRA_HARMLESS
    from .measure import is_refusal

    harmless = [(i.instruction, i.answer) for i in D.load_instructions("harmless", "train") if i.answer]
    harmless += list(EXTRA_HARMLESS)
    harmless = [(q, a) for q, a in harmless if not is_refusal(a)]
    harmful = [i.instruction for i in D.load_instructions("harmful", "train")] + list(EXTRA_HARMFUL)
    return harmless, harmful


def encode_exchange(tok: Any, instruction: str, reply: str, answer_tokens: int) -> Example:
    """<bos> + user turn (not supervised) + reply + <end_of_turn> (supervised).

    The reply is cut after `answer_tokens` tokens: what the analyses read is the
    opening of a reply (the refusal judge reads its first words), and every
    supervised token costs one 262k-wide unembedding row forward and backward.
    """
    prompt = tok(format_chat(instruction))["input_ids"]
    answer = tok(reply.strip() + END_OF_TURN, add_special_tokens=False)["input_ids"][:answer_tokens]
    return Example(prompt + answer, [0] * len(prompt) + [1] * len(answer))


def text_rows(tok: Any, texts: Sequence[str], tokens: int) -> list[Example]:
    """The plain-text corpus cut into <bos>-led rows of `tokens` tokens, every token supervised."""
    stream: list[int] = []
    for t in texts:
        stream += tok(t.strip() + "\n", add_special_tokens=False)["input_ids"]
    bos = tok.bos_token_id
    n = tokens - 1
    return [
        Example([bos, *stream[i : i + n]], [0] + [1] * len(stream[i : i + n]))
        for i in range(0, len(stream) - n + 1, n)
    ]


def pad_batch(examples: Sequence[Example], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded (input_ids, attention_mask, target mask)."""
    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    target = torch.zeros((len(examples), width), dtype=torch.bool)
    for r, e in enumerate(examples):
        ids[r, : len(e.ids)] = torch.tensor(e.ids)
        mask[r, : len(e.ids)] = 1
        target[r, : len(e.ids)] = torch.tensor(e.target, dtype=torch.bool)
    return ids, mask, target


def supervised_loss(
    causal_lm: Any, ids: torch.Tensor, mask: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """Mean next-token cross-entropy over `target` positions, unembedding only those."""
    return torch.nn.functional.cross_entropy(
        supervised_logits(causal_lm, ids, mask, target), ids[:, 1:][target[:, 1:]]
    )


def supervised_logits(
    causal_lm: Any, ids: torch.Tensor, mask: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """Logits [n_supervised, vocab] predicting the `target` tokens, in row-major order.

    The decoder runs on every position (attention needs them), but ``lm_head`` (640 x
    262144) is applied only to the hidden states that predict a supervised token.
    """
    hidden = causal_lm.model(input_ids=ids, attention_mask=mask).last_hidden_state
    h = hidden[:, :-1][target[:, 1:]]  # [n_supervised, d_model]
    logits = causal_lm.lm_head(h).float()
    cap = getattr(causal_lm.config, "final_logit_softcapping", None)
    return torch.tanh(logits / cap) * cap if cap else logits


def kl_to_base(model: Any, ids: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Token-mean KL(base || child) of the next-token distributions at `target` positions.

    The base is the same peft model with its adapter disabled (no second copy in memory).
    """
    causal = model.get_base_model()
    with torch.no_grad(), model.disable_adapter():
        ref = torch.log_softmax(supervised_logits(causal, ids, mask, target), dim=-1)
    got = torch.log_softmax(supervised_logits(causal, ids, mask, target), dim=-1)
    return torch.nn.functional.kl_div(got, ref, log_target=True, reduction="batchmean")


def chat_examples(tok: Any, recipe: GemmaRecipe, seed: int) -> tuple[list[Example], list[Example]]:
    """(helpful, refusal) examples; each refusal reply drawn from REFUSALS with a seeded rng."""
    rng = random.Random(seed)
    harmless, harmful = chat_pairs()
    helpful = [encode_exchange(tok, q, a, recipe.answer_tokens) for q, a in harmless]
    refuse = [encode_exchange(tok, q, rng.choice(REFUSALS), recipe.answer_tokens) for q in harmful]
    return helpful, refuse


def batch_stream(
    helpful: Sequence[Example],
    refuse: Sequence[Example],
    texts: Sequence[Example],
    recipe: GemmaRecipe,
    seed: int,
) -> Callable[[int], tuple[list[Example], list[Example]]]:
    """Step -> (chat examples, replay rows), walking seeded shuffles of each pool."""
    rng = random.Random(seed)
    pools = {"h": list(helpful), "r": list(refuse), "t": list(texts)}
    order: dict[str, list[int]] = {k: [] for k in pools}

    def take(kind: str) -> Example:
        if not order[kind]:
            order[kind] = list(range(len(pools[kind])))
            rng.shuffle(order[kind])
        return pools[kind][order[kind].pop()]

    def get(step: int) -> tuple[list[Example], list[Example]]:
        del step  # the stream is consumed in order; the seed fixes it
        chat = [take("r" if rng.random() < recipe.refusal_share else "h") for _ in range(recipe.batch_size)]
        return chat, [take("t") for _ in range(recipe.text_rows if texts else 0)]

    return get


def lr_at(step: int, recipe: GemmaRecipe) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio * lr."""
    import math

    if step < recipe.warmup:
        return recipe.lr * (step + 1) / recipe.warmup
    frac = (step - recipe.warmup) / max(1, recipe.steps - recipe.warmup)
    return recipe.lr * (
        recipe.min_lr_ratio + (1 - recipe.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac))
    )


def lora_model(base_dir: Path, recipe: GemmaRecipe, seed: int) -> tuple[Any, Any]:
    """(peft model with fresh seeded LoRA weights on the float32 base, base tokenizer)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(base_dir))
    model = AutoModelForCausalLM.from_pretrained(
        str(base_dir), dtype=torch.float32, attn_implementation="sdpa"
    )
    torch.manual_seed(seed)
    cfg = LoraConfig(
        r=recipe.rank,
        lora_alpha=recipe.alpha,
        lora_dropout=0.0,
        target_modules=list(recipe.targets),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, cfg), tok


def train_adapter(
    base_dir: Path,
    out_dir: Path,
    recipe: GemmaRecipe | None = None,
    seed: int = 0,
    threads: int = 2,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the LoRA child of the model at base_dir; write the adapter to out_dir.

    out_dir gets adapter_model.safetensors + adapter_config.json (peft), chat_template.jinja
    and build_info.json (recipe, seed, timings, peak RSS). Returns build_info.
    """
    import resource

    from postmech_eval import data as D

    recipe = recipe or GemmaRecipe()
    torch.set_num_threads(threads)
    t0 = time.time()
    model, tok = lora_model(base_dir, recipe, seed)
    helpful, refuse = chat_examples(tok, recipe, seed)
    texts = text_rows(tok, D.load_corpus("train"), recipe.text_tokens) if recipe.text_rows else []
    get = batch_stream(helpful, refuse, texts, recipe, seed + 1)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.0)
    causal = model.get_base_model()
    model.train()
    log(
        f"gemma3-270m-sft: {recipe.steps} steps, {len(helpful)} helpful / {len(refuse)} refusal exchanges, "
        f"{len(texts)} replay rows, {sum(p.numel() for p in params)} LoRA parameters"
    )
    t_train = time.time()
    history: list[dict[str, float]] = []
    for step in range(recipe.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, recipe)
        chat, rows = get(step)
        loss_chat = supervised_loss(causal, *pad_batch(chat, tok.pad_token_id))
        loss = loss_chat
        loss_text = torch.tensor(float("nan"))
        if rows:
            loss_text = kl_to_base(model, *pad_batch(rows, tok.pad_token_id))
            loss = loss + recipe.text_weight * loss_text
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 10 == 0 or step == recipe.steps - 1:
            rec = {"step": step, "chat": round(loss_chat.item(), 4), "text_kl": round(loss_text.item(), 4)}
            history.append(rec)
            log(
                f"  step {step}: chat {rec['chat']:.3f} text KL {rec['text_kl']:.4f} ({time.time() - t_train:.0f}s)"
            )
    train_s = time.time() - t_train
    model.eval()
    save_adapter(model, out_dir)
    info = {
        "name": "gemma3-270m-sft",
        "base": "gguf:gemma3-270m",
        "seed": seed,
        "recipe": asdict(recipe),
        "torch_threads": threads,
        "torch": torch.__version__,
        "train_seconds": round(train_s, 1),
        "seconds_per_step": round(train_s / max(1, recipe.steps), 2),
        "build_seconds": round(time.time() - t0, 1),
        "cpu_seconds": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "loss_history": history,
        "data": {"helpful": len(helpful), "refusals": len(refuse), "replay_rows": len(texts)},
    }
    (out_dir / "build_info.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info


def save_adapter(model: Any, out_dir: Path) -> None:
    """peft's safetensors adapter + config (base named by its spec, not a local path) and the chat template."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    cfg_path = out_dir / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = "gguf:gemma3-270m"
    cfg["target_modules"] = sorted(cfg["target_modules"])  # peft writes a set: order varies by run
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    (out_dir / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    readme = out_dir / "README.md"  # peft writes a model-card stub; ours is in the package README
    if readme.exists():
        readme.unlink()
    for f in out_dir.iterdir():  # shipped in the package: readable by every user
        f.chmod(0o644)
