"""Test references: the slow, obviously-right versions the engine is checked against.

Why here and not in the package: they exist only to be compared with (naive per-cell
patching, recompute-everything generation, a hand-masked held-out probe fit), so users never
call them by mistake; the benchmarks import them too, to print the ratios.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.base import clone
from torch import Tensor, nn

from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.capture import (
    _batches,
    _device,
    encode,
    position_ids_from_mask,
    slice_interventions,
)
from postmech_eval.engine.generation import _check_max_new, _eos_ids
from postmech_eval.engine.hooks import Intervention, intervene, patch, prompt_length
from postmech_eval.engine.patching import Readout
from postmech_eval.engine.resume import last_logits_only
from postmech_eval.engine.sites import make_site
from postmech_eval.estimators.probes import _as_array, _LinearProbe, center_by_group


@torch.no_grad()
def patch_cells_naive(
    model: nn.Module,
    input_ids: Tensor,
    values: Tensor,
    positions: Sequence[int],
    readout: Readout,
    layers: Sequence[int] | None = None,
) -> Tensor:
    """Reference: one full forward per cell with the engine's ``patch`` hook. [len(layers), n]."""
    n_layers = get_adapter(model).n_layers
    layers = list(range(n_layers)) if layers is None else sorted(set(layers))
    ids = (input_ids.reshape(1, -1) if input_ids.ndim == 1 else input_ids).to(values.device)
    ids = ids.to(next(model.parameters()).device)
    out = torch.empty(len(layers), len(positions))
    for i, layer in enumerate(layers):
        for j, pos in enumerate(positions):
            value = values[layer, j].reshape(1, 1, -1)
            with patch(model, make_site(layer, "resid_post"), value, positions=[pos]):
                logits = model(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    use_cache=False,
                    **last_logits_only(model),
                ).logits
            out[i, j] = readout(logits[:, -1].float())[0].float().cpu()
    return out


@torch.no_grad()
def generate_reference_ids(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    max_new_tokens: int = 32,
    batch_size: int = 16,
    interventions: Sequence[Intervention] = (),
    full_logits: bool = False,
) -> list[torch.Tensor]:
    """Slow reference: recompute the whole sequence (no KV cache) at every step.

    The prompt length is pinned so "generated" and negative positions mean
    the same tokens as under ``generate_ids``. ``full_logits=True`` also
    computes the logits of every position, as the paper's TransformerLens code
    did; the default computes only the last row (a stricter speed baseline).
    """
    _check_max_new(max_new_tokens)
    dev = _device(model)
    eos = _eos_ids(model)
    pad = tokenizer.pad_token_id
    n = len(prompts)
    out: list[torch.Tensor] = []
    for start, stop in _batches(n, batch_size):
        enc = encode(tokenizer, prompts[start:stop], dev)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        width = ids.shape[1]
        done = torch.zeros(ids.shape[0], dtype=torch.bool, device=dev)
        ivs = slice_interventions(interventions, start, stop, n)
        with intervene(model, ivs), prompt_length(model, width):
            for _ in range(max_new_tokens):
                logits = model(
                    input_ids=ids,
                    attention_mask=mask,
                    position_ids=position_ids_from_mask(mask),
                    use_cache=False,
                    logits_to_keep=0 if full_logits else 1,
                ).logits[:, -1]
                nxt = logits.argmax(-1)
                nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
                ids = torch.cat([ids, nxt[:, None]], 1)
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
                if eos:
                    done |= torch.isin(nxt, torch.tensor(sorted(eos), device=dev))
                    if bool(done.all()):
                        break
        out.extend(ids[:, width:].cpu())
    return out


def generate_reference(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    max_new_tokens: int = 32,
    batch_size: int = 16,
    interventions: Sequence[Intervention] = (),
) -> list[str]:
    """Text form of :func:`generate_reference_ids` (same decoding as :func:`generate`)."""
    ids = generate_reference_ids(model, tokenizer, prompts, max_new_tokens, batch_size, interventions)
    return [tokenizer.decode(t, skip_special_tokens=True) for t in ids]


def heldout_masks(
    groups: Sequence[Hashable], heldout: Hashable, train: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (train, test) masks: test = rows of `heldout`; train = rows of `train`
    (default: every other group). Unknown names raise with close matches."""
    keys = [str(g) for g in groups]
    known = sorted(set(keys))
    wanted = [str(heldout)] + ([str(t) for t in train] if train is not None else [])
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            hint = f" Did you mean {close}?" if close else ""
            raise KeyError(f"Dataset {name!r} is not among the groups.{hint} Available: {known}")
    if train is not None and str(heldout) in {str(t) for t in train}:
        raise ValueError(
            f"The held-out dataset {heldout!r} must not also be a training dataset. Got train={list(train)}."
        )
    arr = np.array(keys)
    test = arr == str(heldout)
    trn = np.isin(arr, [str(t) for t in train]) if train is not None else ~test
    return trn, test


@dataclass(frozen=True)
class HeldoutFit:
    """A probe fitted on the training groups and its accuracy on the held-out group."""

    probe: _LinearProbe
    accuracy: float
    train_mask: np.ndarray
    test_mask: np.ndarray


def fit_heldout(
    probe: _LinearProbe,
    X: Any,
    y: Any,
    groups: Sequence[Hashable],
    heldout: Hashable,
    train: Sequence[Hashable] | None = None,
    center: bool = True,
) -> HeldoutFit:
    """Fit a clone of `probe` on the training groups, score it on `heldout`.

    With ``center=True`` each group is centred by its own mean first (so the
    held-out group is centred by its own statistics, as in the reference protocol).
    """
    X = center_by_group(X, groups) if center else _as_array(X, "X", "fit_heldout", ndim=2)
    y = _as_array(y, "y", "fit_heldout", ndim=1)
    trn, test = heldout_masks(groups, heldout, train)
    fitted = clone(probe).fit(X[trn], y[trn])
    return HeldoutFit(fitted, fitted.score(X[test], y[test]), trn, test)
