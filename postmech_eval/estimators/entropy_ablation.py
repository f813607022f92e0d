"""Measuring a neuron ablation on text: neuron means, total and direct effects (METHODS §5).

Why its own module: the confidence analysis needs, per token, the next-token entropy and
loss of a clean pass, of a mean-ablated pass (total effect), of the ablated pass with the
final norm's scale frozen at the clean value (direct effect, Stolfo et al. 2024), and of
control ablations. Keeping the forward-pass bookkeeping here leaves
``postmech_eval.analyses.confidence.run`` with the science-level flow and metrics.

Batches are RIGHT-padded with an attention mask: causal attention never looks at the
padding and positions stay 0..n-1 for every family (incl. GPT-2's absolute positions), so
batch composition cannot change a number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from postmech_eval.config import UserError
from postmech_eval.engine.arch import get_adapter
from postmech_eval.engine.devices import input_device, weight
from postmech_eval.engine.hooks import ablate_neurons, capture
from postmech_eval.engine.sites import make_site

__all__ = ["QUANTITIES", "frozen_norm_logits", "measure", "neuron_means", "token_scores"]

#: Per-item quantities summed over tokens (columns of ``measure``'s sums). ``*_direct`` = clean
#: value + the direct effect; ``*_random`` = mean over the random control sets.
QUANTITIES: tuple[str, ...] = (
    "entropy_clean",
    "entropy_ablated",
    "entropy_direct",
    "entropy_random",
    "loss_clean",
    "loss_ablated",
    "loss_direct",
    "abs_dloss_ablated",
    "abs_dloss_direct",
    "abs_dentropy_ablated",
    "abs_dentropy_random",
)


# ----------------------------------------------------------------------------- forward helpers
def _tokenize(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    return [list(tokenizer(t, truncation=True, max_length=max_length)["input_ids"]) for t in texts]


def _batches(
    ids: list[list[int]], batch_size: int, device: Any
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(item indices, input_ids [b, T], mask [b, T]), RIGHT-padded, texts of similar length together.

    Right padding: causal attention never sees the padding and absolute positions stay
    0..n-1, so batch composition cannot change a number (tested), and grouping texts by
    length only saves padded compute.
    """
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(1, max(len(ids[i]) for i in rows))
        input_ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for r, i in enumerate(rows):
            input_ids[r, : len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
            mask[r, : len(ids[i])] = 1
        yield rows, input_ids.to(device), mask.to(device)


def token_scores(
    logits: torch.Tensor, input_ids: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """(entropy, loss, valid), each [b, T-1]: position t predicts token t+1."""
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    entropy = -(logp.exp() * logp).sum(-1)
    loss = -logp.gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    valid = (mask[:, :-1] * mask[:, 1:]).bool()
    return entropy.cpu(), loss.cpu(), valid.cpu()


def _norm_eps(norm: nn.Module) -> float:
    for attr in ("variance_epsilon", "eps"):
        if isinstance(getattr(norm, attr, None), (int, float)):
            return float(getattr(norm, attr))
    raise TypeError(f"final norm {type(norm).__name__} has no 'variance_epsilon' or 'eps' attribute")


def frozen_norm_logits(model: nn.Module, h_ref: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Logits of final residual ``h`` [b, T, d] with the final norm's scale taken from ``h_ref``.

    ``frozen_norm_logits(model, h, h)`` equals the model's own logits (tested), so the only
    difference from a real forward is the frozen scale.
    """
    adapter = get_adapter(model)
    norm = adapter.final_norm
    eps = _norm_eps(norm)
    device = adapter.final_norm_weight.device
    ref, x = h_ref.to(device, torch.float32), h.to(device, torch.float32)
    if adapter.norm_kind == "layernorm":
        x = x - x.mean(-1, keepdim=True)
        scale = (ref.var(-1, unbiased=False, keepdim=True) + eps).sqrt()
        has_bias = getattr(norm, "bias", None) is not None
        bias = weight(norm, "bias").float() if has_bias else torch.zeros((), device=device)
        out = x / scale * adapter.final_norm_weight.float() + bias
    else:
        scale = (ref.pow(2).mean(-1, keepdim=True) + eps).sqrt()
        out = x / scale * adapter.final_norm_weight.float()
    head = model.get_output_embeddings()
    w = weight(head)
    b = weight(head, "bias").float() if getattr(head, "bias", None) is not None else None
    logits = torch.nn.functional.linear(out.to(w.device), w.float(), b)
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def neuron_token_sums(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    layer: int,
    *,
    max_length: int = 128,
    batch_size: int = 8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per text, the sum over its real tokens of ``layer``'s MLP neuron activations and the
    token count: ([n, d_mlp] float64, [n] int64) — what :func:`neuron_means` reduces, kept
    per text so the texts can be split across processes and cached one by one."""
    site = make_site(layer, "mlp_neurons")
    sums = torch.zeros(len(texts), get_adapter(model).d_mlp, dtype=torch.float64)
    counts = torch.zeros(len(texts), dtype=torch.long)
    device = input_device(model)
    with torch.no_grad():
        for rows, ids, mask in _batches(_tokenize(tokenizer, texts, max_length), batch_size, device):
            with capture(model, [site]) as cache:
                model(input_ids=ids, attention_mask=mask, use_cache=False)
            m = mask.cpu().bool()
            acts = cache[site].double() * m.unsqueeze(-1)
            sums[rows] = acts.sum(1)
            counts[rows] = m.sum(1)
    return sums, counts


def means_from_sums(sums: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Mean activation [d_mlp] (float32) over every token of every text."""
    count = int(counts.sum())
    if count == 0:
        raise UserError(
            f"texts must contain at least one token for the neuron means; got {len(counts)} texts"
        )
    return (sums.sum(0) / count).float()


def neuron_means(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    layer: int,
    *,
    max_length: int = 128,
    batch_size: int = 8,
) -> torch.Tensor:
    """Mean activation [d_mlp] (float32) of ``layer``'s MLP neurons over every real token."""
    sums, counts = neuron_token_sums(
        model, tokenizer, texts, layer, max_length=max_length, batch_size=batch_size
    )
    return means_from_sums(sums, counts)


def _skip_start(valid: torch.Tensor, ids: torch.Tensor, bos: int | None, skip: int) -> torch.Tensor:
    """``valid`` with each row's BOS position (if it has one) and the next ``skip`` positions off."""
    out = valid.clone()
    starts = (ids[:, 0] == bos).long().cpu() if bos is not None else torch.zeros(len(ids), dtype=torch.long)
    for r, first in enumerate(starts.tolist()):
        out[r, : first + skip] = False
    return out


def measure(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    neurons: Sequence[int],
    means: torch.Tensor,
    random_sets: Sequence[Sequence[int]],
    layer: int,
    *,
    max_length: int = 128,
    batch_size: int = 8,
    skip_first: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-item token sums of every quantity in ``QUANTITIES``: (sums [n, len(QUANTITIES)], counts [n]).

    ``skip_first``: the BOS position (when the text starts with the tokenizer's BOS) and the
    next ``skip_first`` positions are not scored — the paper's reference filters them, since
    the first predictions of a text carry little context and very high entropy.

    ``neurons`` of ``layer`` (the last layer: the direct effect assumes nothing but the final
    norm lies after them) are mean-ablated with ``means`` [d_mlp]; each of ``random_sets``
    is ablated the same way, and the ``*_random`` columns hold the average over the sets.
    ``counts[i]`` = predicted tokens of text i (0 for texts shorter than 2 tokens).
    """
    adapter = get_adapter(model)
    site_h = make_site(adapter.n_layers - 1, "resid_post")
    ids_list = _tokenize(tokenizer, texts, max_length)
    sums = torch.zeros(len(texts), len(QUANTITIES), dtype=torch.float64)
    counts = torch.zeros(len(texts), dtype=torch.long)
    col = {q: i for i, q in enumerate(QUANTITIES)}
    device = input_device(model)

    def add(rows: list[int], name: str, values: torch.Tensor, valid: torch.Tensor) -> None:
        sums[rows, col[name]] += (values.double() * valid).sum(1)

    with torch.no_grad():
        for rows, ids, mask in _batches(ids_list, batch_size, device):
            with capture(model, [site_h]) as cache:
                clean = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
            h_clean = cache[site_h]
            with (
                ablate_neurons(model, layer, neurons, mode="mean", means=means),
                capture(model, [site_h]) as c2,
            ):
                ablated = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
            h0, l0, valid = token_scores(clean, ids, mask)
            valid = _skip_start(valid, ids, getattr(tokenizer, "bos_token_id", None), skip_first)
            h1, l1, _ = token_scores(ablated, ids, mask)
            # Direct effect = frozen-scale recomputation of the ablated residual minus the same
            # recomputation of the clean one, so recomputation rounding (bf16 models) cancels.
            hf, lf, _ = token_scores(frozen_norm_logits(model, h_clean, h_clean), ids, mask)
            h2, l2, _ = token_scores(frozen_norm_logits(model, h_clean, c2[site_h]), ids, mask)
            dh_direct, dl_direct = h2 - hf, l2 - lf
            counts[rows] = valid.sum(1)
            columns = {
                "entropy_clean": h0,
                "entropy_ablated": h1,
                "entropy_direct": h0 + dh_direct,
                "loss_clean": l0,
                "loss_ablated": l1,
                "loss_direct": l0 + dl_direct,
                "abs_dloss_ablated": (l1 - l0).abs(),
                "abs_dloss_direct": dl_direct.abs(),
                "abs_dentropy_ablated": (h1 - h0).abs(),
            }
            for name, values in columns.items():
                add(rows, name, values, valid)
            for rs in random_sets:
                with ablate_neurons(model, layer, rs, mode="mean", means=means):
                    hr, _, _ = token_scores(
                        model(input_ids=ids, attention_mask=mask, use_cache=False).logits, ids, mask
                    )
                add(rows, "entropy_random", hr / len(random_sets), valid)
                add(rows, "abs_dentropy_random", (hr - h0).abs() / len(random_sets), valid)
    return sums, counts
