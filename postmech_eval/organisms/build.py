"""Build every organism from scratch: tokenizer, base, then its children.

Why one seeded pipeline: the shipped weights must be reproducible (same
machine, same seed -> metrics within 0.02) and cheap (<= 20 minutes on an idle
2-core CPU). Children (sft, cpt) start from the base *as saved* (float16 round
trip), so the shipped base is exactly the parent of the shipped children.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from . import corpus as C
from .tokenizer import save_tokenizer, train_tokenizer
from .train import ModelShape, Schedule, batches, make_model, pack, train

SAVE_DTYPE = torch.float16


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """Data mix and schedule of one organism (see METHODS-independent notes in DESIGN)."""

    parent: str | None
    stages: tuple[tuple[dict[str, float], int], ...]  # (mix, steps) in order
    lr: float = 1e-3
    warmup: int = 30
    min_lr_ratio: float = 0.1
    chat: bool = False
    data_offset: int = 3  # added to the seed for this organism's data order


#: What each organism is trained on. pre (intermediate, not shipped): facts-only
#: warm-up, then facts + labelled lines (the TRUE/FALSE label stays at chance here:
#: matching a statement's object to the recalled one has no first-order signal).
#: base: pre + labelled lines whose wrong objects are often made up, which first
#: teaches routing the object to the label position and then breaks the plateau
#: on real wrong objects. sft: chat (answers and refusals) with labelled lines and
#: base-text replay. cpt: more plain text, no chat.
RECIPES: dict[str, Recipe] = {
    "pre": Recipe(
        parent=None,
        stages=(
            ({"facts": 0.8, "text": 0.2}, 200),
            ({"facts": 0.25, "labelled": 0.65, "dialogue": 0.05, "text": 0.05}, 1600),
        ),
        min_lr_ratio=0.2,
        data_offset=4,
    ),
    "base": Recipe(
        parent="pre",
        stages=(
            ({"labelled_fake": 0.45, "labelled": 0.25, "facts": 0.2, "dialogue": 0.05, "text": 0.05}, 1000),
        ),
        warmup=20,
        min_lr_ratio=0.3,
        data_offset=5,
    ),
    "sft": Recipe(
        parent="base",
        stages=(({"chat": 0.45, "labelled": 0.15, "labelled_fake": 0.2, "facts": 0.12, "text": 0.08}, 500),),
        warmup=20,
        chat=True,
    ),
    "cpt": Recipe(
        parent="base",
        stages=(
            ({"facts": 0.3, "labelled": 0.15, "labelled_fake": 0.2, "text": 0.25, "dialogue": 0.1}, 250),
        ),
        warmup=20,
    ),
}

BATCH = 16
DOC_ROWS = 1.6  # documents sampled per needed packed row (docs are shorter than a row)


def _rows_fn(
    tok: Any, world: C.World, stages: Sequence[tuple[dict[str, float], int]], seed: int
) -> Callable[[int], tuple[torch.Tensor, torch.Tensor]]:
    """Step -> batch, walking through the stages' packed corpora in order."""
    getters: list[tuple[int, Callable[[int], tuple[torch.Tensor, torch.Tensor]]]] = []
    start = 0
    for k, (mix, steps) in enumerate(stages):
        n_docs = int(steps * BATCH * DOC_ROWS) + 64
        docs = C.sample_docs(world, mix, n_docs, seed * 100 + k)
        ids, w = pack(tok, docs, random.Random(seed * 100 + k))
        getters.append((start, batches(ids, w, BATCH, seed * 100 + k)))
        start += steps

    def rows(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        first, get = next((s, g) for s, g in reversed(getters) if step >= s)
        return get(step - first)

    return rows


def save_model(model: Any, tok: Any, path: Path, chat: bool) -> None:
    """Write `model` (float16 safetensors, float32 compute dtype) and `tok` to `path`."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    model = model.to(SAVE_DTYPE)
    gen = model.generation_config
    gen.pad_token_id = tok.pad_token_id
    gen.bos_token_id = tok.bos_token_id
    gen.eos_token_id = [tok.eos_token_id, tok.convert_tokens_to_ids("<|end|>")] if chat else tok.eos_token_id
    gen.do_sample = False
    model.save_pretrained(str(path), safe_serialization=True)
    cfg_path = path / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["dtype"] = "float32"  # float16 on disk (size), float32 compute when loaded with dtype="auto"
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    save_tokenizer(tok, path, chat=chat)
    model.to(torch.float32)


def load_float32(path: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()


def build_all(
    names: Sequence[str], seed: int, out_dir: Path, log: Callable[[str], None] = print, threads: int = 2
) -> dict[str, Any]:
    """Train `names` (parents first) into out_dir/<name>; write verify.json and build_info.json."""
    from .verify import verify_dir

    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        raise KeyError(f"names: unknown organisms {unknown}; available: {sorted(RECIPES)}")
    todo: list[str] = []

    def visit(n: str) -> None:  # parents first; a parent already on disk is reused
        parent = RECIPES[n].parent
        if parent and (parent in names or not (out_dir / parent / "config.json").exists()):
            visit(parent)
        if n not in todo:
            todo.append(n)

    for n in names:
        visit(n)
    torch.set_num_threads(threads)  # 1 is far faster than 2 when other jobs share the cores
    t_start = time.time()
    world = _world()
    out_dir.mkdir(parents=True, exist_ok=True)
    root_parent = RECIPES[todo[0]].parent
    if root_parent is not None:  # reuse the vocabulary the parent on disk was trained with
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(out_dir / root_parent))
    else:
        tok = train_tokenizer(C.tokenizer_texts(world, seed), vocab_size=3072)
    log(f"tokenizer: {len(tok)} tokens ({time.time() - t_start:.0f}s)")
    timings: dict[str, float] = {}
    for name in todo:
        t0 = time.time()
        rec = RECIPES[name]
        if rec.parent is None:
            special = {"pad": tok.pad_token_id, "bos": tok.bos_token_id, "eos": tok.eos_token_id}
            model = make_model(len(tok), ModelShape(), seed, special)
        else:
            model = load_float32(out_dir / rec.parent)
        steps = sum(s for _, s in rec.stages)
        log(f"{name}: {steps} steps from {rec.parent or 'scratch'}")
        rows = _rows_fn(tok, world, rec.stages, seed + rec.data_offset)
        train(
            model,
            rows,
            Schedule(
                steps=steps, lr=rec.lr, warmup=rec.warmup, batch_size=BATCH, min_lr_ratio=rec.min_lr_ratio
            ),
            seed,
            log,
        )
        save_model(model, tok, out_dir / name, chat=rec.chat)
        timings[name] = round(time.time() - t0, 1)
    train_s = round(time.time() - t_start, 1)
    results = {n: verify_dir(out_dir / n, chat=RECIPES[n].chat) for n in todo if n in names}
    merged = _merge_json(out_dir / "verify.json", results)
    info = {
        "seed": seed,
        "organisms": todo,
        "train_seconds": timings,
        "build_seconds": train_s,
        "verify_seconds": round(time.time() - t_start - train_s, 1),
        "torch_threads": threads,
        "torch": torch.__version__,
        "shape": asdict(ModelShape()),
        "batch_size": BATCH,
        "recipes": {n: asdict(RECIPES[n]) for n in todo},
    }
    _merge_json(out_dir / "build_info.json", {"latest": info})
    log(f"build done in {train_s:.0f}s (+ verify)")
    return merged


def _world() -> C.World:
    from .world import load_world

    return load_world()


def _merge_json(path: Path, update: dict[str, Any]) -> dict[str, Any]:
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(update)
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return current
