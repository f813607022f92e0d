"""Batched activation capture and last-token logits with correct left padding.

Why: analyses read activations and logits for hundreds of prompts; batching
must not change the numbers (METHODS §0: batched == one-by-one within 1e-5 in
fp32). We always left-pad, so position -1 is the last prompt token of every
row, and we pass ``position_ids`` computed from the attention mask so padded
rows get the same rotary/learned positions as when run alone.

Optional on-disk cache: ``collect(..., cache_dir=DIR)`` stores the result as
``DIR/<key>.safetensors`` + ``DIR/<key>.json`` where ``key`` hashes the model
fingerprint, the tokenizer, the prompts and the capture config, so a rerun or a
crash-resume is cheap and a changed model never reads stale activations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from postmech_eval.engine.arch import decoder_body
from postmech_eval.engine.devices import input_device
from postmech_eval.engine.hooks import (
    AblateDirection,
    AddVector,
    Intervention,
    Patch,
    Positions,
    capture,
    check_positions,
    intervene,
)

CACHE_FORMAT = 1


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions counting only real tokens (pads get 0), as HF generate does."""
    pos = attention_mask.long().cumsum(-1) - 1
    return pos.clamp(min=0)


def encode(tokenizer: Any, prompts: Sequence[str], device: Any = "cpu") -> dict[str, torch.Tensor]:
    """Tokenize left-padded; returns input_ids, attention_mask, position_ids.

    Prompts that already start with the BOS token (e.g. from a chat template)
    are tokenized without adding special tokens again.
    """
    if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
        raise TypeError("prompts must be a sequence of str; got " + type(prompts).__name__)
    if not prompts:
        raise ValueError("prompts must be non-empty; got an empty sequence")
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("tokenizer has neither pad_token nor eos_token; set pad_token")
        tokenizer.pad_token = tokenizer.eos_token
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and all(p.startswith(bos) for p in prompts))
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        enc = tokenizer(list(prompts), padding=True, return_tensors="pt", add_special_tokens=add_special)
    finally:
        tokenizer.padding_side = side
    out = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    out["position_ids"] = position_ids_from_mask(out["attention_mask"])
    return {k: v.to(device) for k, v in out.items()}


def _device(model: nn.Module) -> torch.device:
    return input_device(model)


def _batches(n: int, batch_size: int) -> Iterator[tuple[int, int]]:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    for start in range(0, n, batch_size):
        yield start, min(start + batch_size, n)


def slice_interventions(
    interventions: Sequence[Intervention], start: int, stop: int, n: int
) -> list[Intervention]:
    """Per-batch view: Patch values, and per-row vectors / directions ([n, d]), with one row per
    prompt (batch n) are sliced to the batch's rows."""
    import dataclasses

    out: list[Intervention] = []
    for iv in interventions:
        if isinstance(iv, Patch) and iv.values.shape[0] == n and n > 1:
            iv = Patch(site=iv.site, values=iv.values[start:stop], positions=iv.positions)
        elif isinstance(iv, AddVector) and iv.vector.dim() == 2:
            rows = iv.vector[start:stop]
            if float(rows.norm()) == 0.0:
                continue  # no row of this batch is steered (adding zeros changes nothing)
            iv = dataclasses.replace(iv, vector=rows)
        elif isinstance(iv, AblateDirection) and iv.direction.dim() == 2:
            rows = iv.direction[start:stop]
            if float(rows.norm()) == 0.0:
                continue  # no row of this batch is ablated
            iv = dataclasses.replace(iv, direction=rows)
        out.append(iv)
    return out


def _progress(it: Any, total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return it
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm ships with lm-eval / transformers; degrade quietly otherwise
        return it
    return tqdm(it, total=total, desc=desc, leave=False)


@torch.no_grad()
def collect(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    sites: Sequence[str],
    positions: Positions = (-1,),
    batch_size: int = 16,
    progress: bool = True,
    cache_dir: str | Path | None = None,
    interventions: Sequence[Intervention] = (),
) -> dict[str, torch.Tensor]:
    """Activations at ``sites``: {site: [n_prompts, n_positions, d]} float32 CPU.

    With ``positions="all"`` every prompt is padded to the longest prompt of
    the whole list (left), so rows line up; pad columns hold pad activations.
    """
    if isinstance(sites, str):
        sites = [sites]
    positions = check_positions(positions)
    if positions == "generated":
        raise ValueError("positions='generated' needs generation; collect() runs prompts only")
    key = None
    if cache_dir is not None:
        key, meta = _cache_key(model, tokenizer, prompts, sites, positions, interventions)
        hit = _cache_load(Path(cache_dir), key)
        if hit is not None:
            return hit
    n = len(prompts)
    pad_to = None
    if positions == "all":
        pad_to = encode(tokenizer, prompts)["input_ids"].shape[1]
    parts: dict[str, list[torch.Tensor]] = {s: [] for s in sites}
    dev = _device(model)
    spans = list(_batches(n, batch_size))
    for start, stop in _progress(spans, len(spans), progress, "collect"):
        enc = encode(tokenizer, prompts[start:stop], dev)
        if pad_to is not None:
            enc = _left_pad(enc, pad_to, tokenizer.pad_token_id)
        ivs = slice_interventions(interventions, start, stop, n)
        with intervene(model, ivs), capture(model, sites, positions) as cache:
            # Only activations are wanted: the decoder stack without the unembedding (with
            # Gemma's 262k vocabulary even one position of logits costs 168M multiply-adds per row).
            body = decoder_body(model)
            body(**enc, use_cache=False, **({} if body is not model else {"logits_to_keep": 1}))
        for s in sites:
            parts[s].append(cache[s])
    result = {s: torch.cat(v, dim=0) for s, v in parts.items()}
    if key is not None:
        _cache_save(Path(cache_dir), key, result, meta)  # type: ignore[arg-type]
    return result


def collect_items(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    sites: Sequence[str],
    positions: Sequence[int] = (-1,),
    batch_size: int = 16,
    *,
    step: str = "collect",
    context: Any = None,
) -> dict[str, torch.Tensor]:
    """:func:`collect` as a per-item step of the shared map (``postmech_eval.engine.shard``):
    each rank of a data-parallel run captures its share of ``prompts`` and every rank gets
    all rows; with ``context`` (what the result depends on, e.g. the model's fingerprint)
    each prompt's activations are cached. Fixed positions only (``"all"`` pads to the
    longest prompt of the whole list, which a shard does not know)."""
    from postmech_eval.engine.shard import map_items

    positions = check_positions(tuple(positions))
    if isinstance(positions, str):
        raise ValueError(f"collect_items needs fixed positions; got {positions!r}")
    sites = list(sites)

    def part(texts: list[str]) -> list[dict[str, torch.Tensor]]:
        acts = collect(model, tokenizer, texts, sites, positions, batch_size=batch_size, progress=False)
        return [{s: acts[s][i] for s in sites} for i in range(len(texts))]

    ctx = None if context is None else {"sites": sites, "positions": list(positions), "context": context}
    rows = map_items(step, list(prompts), part, context=ctx, chunk=4 * batch_size)
    return {s: torch.stack([r[s] for r in rows]) for s in sites}


def _left_pad(enc: dict[str, torch.Tensor], length: int, pad_id: int) -> dict[str, torch.Tensor]:
    extra = length - enc["input_ids"].shape[1]
    if extra <= 0:
        return enc
    b = enc["input_ids"].shape[0]
    dev = enc["input_ids"].device
    ids = torch.cat([torch.full((b, extra), pad_id, device=dev), enc["input_ids"]], 1)
    mask = torch.cat([torch.zeros(b, extra, dtype=torch.long, device=dev), enc["attention_mask"]], 1)
    return {"input_ids": ids, "attention_mask": mask, "position_ids": position_ids_from_mask(mask)}


@torch.no_grad()
def logits_last(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    batch_size: int = 16,
    interventions: Sequence[Intervention] = (),
    progress: bool = False,
) -> torch.Tensor:
    """Logits at the last prompt token: [n_prompts, vocab] float32 CPU.

    ``interventions`` are active during the forward; Patch values with one row
    per prompt are split per batch automatically.
    """
    n = len(prompts)
    out: list[torch.Tensor] = []
    dev = _device(model)
    spans = list(_batches(n, batch_size))
    for start, stop in _progress(spans, len(spans), progress, "logits"):
        enc = encode(tokenizer, prompts[start:stop], dev)
        with intervene(model, slice_interventions(interventions, start, stop, n)):
            logits = model(**enc, use_cache=False, logits_to_keep=1).logits
        out.append(logits[:, -1].float().cpu())
    return torch.cat(out, dim=0)


# --------------------------------------------------------------------------- disk cache
def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def tokenizer_digest(tokenizer: Any) -> str:
    """sha256 of the tokenizer's serialized vocabulary/rules and chat template."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    text = backend.to_str() if backend is not None else str(sorted(tokenizer.get_vocab().items()))
    text += str(getattr(tokenizer, "chat_template", None))
    return hashlib.sha256(text.encode()).hexdigest()


def _iv_digest(iv: Intervention) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": type(iv).__name__}
    for k, v in vars(iv).items():
        if isinstance(v, torch.Tensor):
            v = hashlib.sha256(v.detach().float().cpu().contiguous().numpy().tobytes()).hexdigest()
        d[k] = v
    return d


def _cache_key(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    sites: Sequence[str],
    positions: Positions,
    interventions: Sequence[Intervention],
) -> tuple[str, dict[str, Any]]:
    from postmech_eval.engine.fingerprint import model_fingerprint

    meta = {
        "format": CACHE_FORMAT,
        "model_fingerprint": model_fingerprint(model),
        "tokenizer": tokenizer_digest(tokenizer),
        "data_hash": _sha(list(prompts)),
        "n_prompts": len(prompts),
        "config": {
            "sites": list(sites),
            "positions": positions if isinstance(positions, str) else list(positions),
            "interventions": [_iv_digest(iv) for iv in interventions],
        },
    }
    return _sha(meta), meta


def _cache_load(cache_dir: Path, key: str) -> dict[str, torch.Tensor] | None:
    from safetensors.torch import load_file

    path = cache_dir / f"{key}.safetensors"
    if not path.exists() or not (cache_dir / f"{key}.json").exists():
        return None
    return load_file(str(path))


def _cache_save(cache_dir: Path, key: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f"{key}.safetensors.tmp"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
    tmp.replace(cache_dir / f"{key}.safetensors")  # atomic: a crash never leaves half a file
    (cache_dir / f"{key}.json").write_text(json.dumps({"key": key, **meta}, indent=2))
