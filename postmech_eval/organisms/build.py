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
from .plant import TruthPlant, TruthPlanter
from .tokenizer import save_tokenizer, train_tokenizer
from .train import Batch, ModelShape, Schedule, batches, make_model, pack, train

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
    plant: TruthPlant | None = None  # truth planting at the METHODS probe site (plant.py)


#: What each organism is trained on. pre (intermediate, not shipped): facts-only
#: warm-up, then facts + labelled lines (the TRUE/FALSE label stays at chance here:
#: matching a statement's object to the recalled one has no first-order signal).
#: judge (intermediate): pre + labelled lines whose wrong objects are often made up,
#: which first teaches routing the object to the label position and then breaks the
#: plateau on real wrong objects. base: judge + truth planting (plant.py), so truth is
#: linearly readable and causally used at the METHODS probe site. sft: chat (answers
#: that open with "Sure.", refusals) with labelled lines, base-text replay and the
#: planting kept. cpt: more plain text, no chat, planting kept, a gentler learning rate.
#: Truth planting of every organism from base on: the auxiliary probe and interventions
#: at the METHODS sites, and early recall of plain facts' objects (plant.py).
PLANT = TruthPlant(recall_weight=1.0)

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
    "judge": Recipe(
        parent="pre",
        stages=(
            ({"labelled_fake": 0.45, "labelled": 0.25, "facts": 0.2, "dialogue": 0.05, "text": 0.05}, 1000),
        ),
        warmup=20,
        min_lr_ratio=0.3,
        data_offset=5,
    ),
    "base": Recipe(
        parent="judge",
        stages=(
            (
                {"labelled": 0.35, "labelled_fake": 0.25, "facts_lens": 0.3, "text": 0.05, "dialogue": 0.05},
                600,
            ),
        ),
        warmup=20,
        data_offset=6,
        plant=PLANT,
    ),
    "sft": Recipe(
        parent="base",
        stages=(
            (
                {
                    "chat_wide": 0.4,
                    "chat_facts_sure": 0.12,
                    "labelled": 0.23,
                    "labelled_fake": 0.1,
                    "facts_lens": 0.1,
                    "text": 0.05,
                },
                500,
            ),
        ),
        warmup=20,
        chat=True,
        plant=PLANT,
    ),
    "cpt": Recipe(
        parent="base",
        stages=(
            ({"facts_lens": 0.3, "labelled": 0.15, "labelled_fake": 0.2, "text": 0.25, "dialogue": 0.1}, 250),
        ),
        lr=3e-4,  # a control: at 1e-3 it drifted more than sft did (patch_corr 0.62 vs 0.84)
        warmup=20,
        plant=PLANT,
    ),
}

BATCH = 16
DOC_ROWS = 1.6  # documents sampled per needed packed row (docs are shorter than a row)


def _rows_fn(
    tok: Any, world: C.World, stages: Sequence[tuple[dict[str, float], int]], seed: int
) -> Callable[[int], Batch]:
    """Step -> batch, walking through the stages' packed corpora in order."""
    getters: list[tuple[int, Callable[[int], Batch]]] = []
    start = 0
    for k, (mix, steps) in enumerate(stages):
        n_docs = int(steps * BATCH * DOC_ROWS) + 64
        docs = C.sample_docs(world, mix, n_docs, seed * 100 + k)
        ids, w, meta = pack(tok, docs, random.Random(seed * 100 + k))
        getters.append((start, batches(ids, w, meta, BATCH, seed * 100 + k)))
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


def stage_dir(out_dir: Path, name: str) -> Path:
    """Where organism `name` is saved: shipped ones in out_dir/<name>, intermediate
    checkpoints (parents only, not shipped) in out_dir/_stages/<name>."""
    from . import ORGANISMS

    return out_dir / name if name in ORGANISMS else out_dir / "_stages" / name


def load_float32(path: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()


def build_all(
    names: Sequence[str],
    seed: int,
    out_dir: Path,
    log: Callable[[str], None] = print,
    threads: int = 2,
    recipes: dict[str, Recipe] | None = None,
    verify: bool = True,
) -> dict[str, Any]:
    """Train `names` (parents first) into out_dir/<name>; write verify.json and build_info.json.

    recipes: replaces RECIPES (tests build tiny recipes end to end); verify=False skips
    measuring the built organisms (verify.json is then left as it is).
    """
    from . import ORGANISMS
    from .verify import verify_dir

    book = RECIPES if recipes is None else recipes

    unknown = [n for n in names if n not in book]
    if unknown:
        raise KeyError(f"names: unknown organisms {unknown}; available: {sorted(book)}")
    todo: list[str] = []

    def visit(n: str) -> None:
        """Parents first. A shipped parent already on disk and not asked for is reused
        (``--names sft`` retrains sft on the shipped base); intermediate stages are always
        retrained, so a default build starts from scratch."""
        parent = book[n].parent
        reuse = parent in ORGANISMS and (stage_dir(out_dir, parent) / "config.json").exists()
        if parent and (parent in names or not reuse):
            visit(parent)
        if n not in todo:
            todo.append(n)

    for n in names:
        visit(n)
    torch.set_num_threads(threads)  # 1 is far faster than 2 when other jobs share the cores
    t_start = time.time()
    world = _world()
    out_dir.mkdir(parents=True, exist_ok=True)
    root_parent = book[todo[0]].parent
    if root_parent is not None:  # reuse the vocabulary the parent on disk was trained with
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(stage_dir(out_dir, root_parent)))
    else:
        tok = train_tokenizer(C.tokenizer_texts(world, seed), vocab_size=3072)
    log(f"tokenizer: {len(tok)} tokens ({time.time() - t_start:.0f}s)")
    timings: dict[str, float] = {}
    for name in todo:
        t0 = time.time()
        rec = book[name]
        if rec.parent is None:
            special = {"pad": tok.pad_token_id, "bos": tok.bos_token_id, "eos": tok.eos_token_id}
            model = make_model(len(tok), ModelShape(), seed, special)
        else:
            model = load_float32(stage_dir(out_dir, rec.parent))
        steps = sum(s for _, s in rec.stages)
        log(f"{name}: {steps} steps from {rec.parent or 'scratch'}")
        rows = _rows_fn(tok, world, rec.stages, seed + rec.data_offset)
        planter = None
        if rec.plant is not None:
            ids = [tok(x, add_special_tokens=False)["input_ids"][0] for x in (" TRUE", " FALSE")]
            planter = TruthPlanter(model, rec.plant, ids[0], ids[1], seed + rec.data_offset)
        train(
            model,
            rows,
            Schedule(
                steps=steps, lr=rec.lr, warmup=rec.warmup, batch_size=BATCH, min_lr_ratio=rec.min_lr_ratio
            ),
            seed,
            log,
            planter=planter,
        )
        save_model(model, tok, stage_dir(out_dir, name), chat=rec.chat)
        timings[name] = round(time.time() - t0, 1)
    train_s = round(time.time() - t_start, 1)
    results = {n: verify_dir(stage_dir(out_dir, n), chat=book[n].chat) for n in todo if n in names and verify}
    merged = _merge_json(out_dir / "verify.json", results) if verify else {}
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
        "recipes": {n: asdict(book[n]) for n in todo},
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
