"""Statement pairs and few-shot prompts for knowledge patching (METHODS §1).

Why its own module: which statements can be patched into which is a property of the
tokenizer (same object word, same token length, different subject), decided before any
model runs; keeping it apart makes the pairing rules testable on their own.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from postmech_eval.analyses.knowledge.columns import ColumnLayout
from postmech_eval.analyses.knowledge.config import AUTO_PAIRS, KnowledgeConfig
from postmech_eval.data.statement_prompt import SUFFIX, answer_token_ids, few_shot  # noqa: F401  (SUFFIX re-exported)


@dataclass(frozen=True)
class StatementPair:
    """A (true, false) pair of one dataset with its few-shot prompt, ready to patch.

    ``positions``: negative prompt offsets of the patched tokens (same for both prompts):
    the last n statement tokens, then (``patch_suffix``) every token of the suffix;
    ``columns``: the heatmap column of each (statement tokens n_positions - len ..
    n_positions - 1, suffix tokens n_positions ..; see ``columns.ColumnLayout``);
    ``suffix_ids``: the suffix's token ids in this prompt (empty when it is not patched).
    """

    pair_id: int
    dataset: str
    true_index: int
    false_index: int
    true_prompt: str
    false_prompt: str
    true_ids: torch.Tensor
    false_ids: torch.Tensor
    positions: tuple[int, ...]
    columns: tuple[int, ...]
    suffix_ids: tuple[int, ...] = ()

    @property
    def own_start(self) -> int:
        """Earliest position within-model patching must recompute: the first token where the
        true and false prompts differ (earlier positions carry identical states, so patching
        them is a no-op), clamped to ``positions``."""
        diff = (self.true_ids[0] != self.false_ids[0]).nonzero()
        first = int(diff[0, 0]) - self.true_ids.shape[1] if len(diff) else self.positions[-1]
        return min(max(first, self.positions[0]), self.positions[-1])


def _statement_span(tokenizer: Any, prompt: str, start: int, end: int) -> tuple[list[int], int]:
    """Token indices covering characters [start, end) of ``prompt`` and the prompt's length.

    Fast tokenizers give character offsets; slow ones fall back to counting the tokens of
    the prompt cut after the statement (exact unless a token spans the cut).
    """
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(prompt, return_offsets_mapping=True)
        idx = [i for i, (a, b) in enumerate(enc["offset_mapping"]) if b > a and b > start and a < end]
        return idx, len(enc["input_ids"])
    n_prompt = len(tokenizer(prompt)["input_ids"])
    n_until_end = len(tokenizer(prompt[:end])["input_ids"])
    n_before = len(tokenizer(prompt[:start])["input_ids"]) if start else 0
    if not start:  # only special tokens precede the statement
        n_before = n_until_end - len(tokenizer(prompt[start:end], add_special_tokens=False)["input_ids"])
    return list(range(n_before, n_until_end)), n_prompt


def build_prompt(query: str, shots: Sequence[dict[str, Any]]) -> tuple[str, int]:
    """METHODS §1 prompt and the character offset where ``query`` starts in it."""
    return few_shot(query, [(s["statement"], int(s["label"])) for s in shots])


def build_pairs(
    items: Sequence[dict[str, Any]], tokenizer: Any, config: KnowledgeConfig
) -> tuple[list[StatementPair], dict[int, str], dict[str, int]]:
    """Match true/false statements per dataset: same object, same statement token length,
    different subject; then attach a seeded few-shot prompt shared by both members.

    With ``patch_suffix`` the suffix tokens are patched too; pairs whose suffix tokenizes
    differently from the others' are dropped (``suffix_token_mismatch``).
    Returns (pairs, excluded: item index -> reason, surviving pairs per dataset).
    """
    excluded: dict[int, str] = {}
    by_ds: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        missing = {"statement", "label", "subject", "object", "dataset"} - set(it)
        if missing:
            raise KeyError(
                f"items[{i}] must have keys statement/label/subject/object/dataset; missing {sorted(missing)}"
            )
        by_ds.setdefault(str(it["dataset"]), []).append(i)
    pairs: list[StatementPair] = []
    survived: dict[str, int] = {}
    # 'auto' here is the depth-agnostic 20; run() resolves it per model first (config.AUTO_PAIRS)
    cap = AUTO_PAIRS if config.max_pairs_per_dataset == "auto" else int(config.max_pairs_per_dataset)
    for ds in sorted(by_ds):
        rng = random.Random(f"{config.seed}:{ds}")
        groups: dict[tuple[str, int], dict[int, list[int]]] = {}
        for i in by_ds[ds]:
            it = items[i]
            n_tok = len(tokenizer(it["statement"], add_special_tokens=False)["input_ids"])
            groups.setdefault((str(it["object"]), n_tok), {0: [], 1: []})[int(it["label"])].append(i)
        candidates: list[tuple[int, int]] = []
        for key in sorted(groups):
            trues, falses = groups[key][1], groups[key][0]
            rng.shuffle(trues)
            rng.shuffle(falses)
            for t in trues:
                f = next((f for f in falses if items[f]["subject"] != items[t]["subject"]), None)
                if f is not None:
                    falses.remove(f)
                    candidates.append((t, f))
        rng.shuffle(candidates)
        for t, f in candidates[cap:]:
            excluded[t] = excluded[f] = "pair_cap"
        kept = 0
        pool = _fewshot_pool(ds, items, by_ds[ds], config)
        for t, f in candidates[:cap]:
            pair = _make_pair(len(pairs), ds, t, f, items, pool, tokenizer, config, rng)
            if isinstance(pair, str):
                excluded[t] = excluded[f] = pair
            else:
                pairs.append(pair)
                kept += 1
        survived[ds] = kept
        for i in by_ds[ds]:
            excluded.setdefault(i, "no_partner")
    pairs = _same_suffix(pairs, excluded, survived)
    for p in pairs:
        excluded.pop(p.true_index, None)
        excluded.pop(p.false_index, None)
    return pairs, excluded, survived


def _fewshot_pool(
    ds: str, items: Sequence[dict[str, Any]], idx: list[int], config: KnowledgeConfig
) -> list[dict]:
    """Demonstrations come from the bundled dataset's few-shot split (never the test items
    themselves); datasets that are not bundled draw them from the items of that dataset."""
    from postmech_eval.data import STATEMENT_DATASETS, load_statements

    if ds in STATEMENT_DATASETS and config.data_dir is None:
        return [asdict(s) for s in load_statements(ds, config.fewshot_split)]
    return [items[i] for i in idx]


def _make_pair(
    pair_id: int,
    ds: str,
    t: int,
    f: int,
    items: Sequence[dict],
    pool: list[dict],
    tokenizer: Any,
    config: KnowledgeConfig,
    rng: random.Random,
) -> StatementPair | str:
    avoid = {items[t]["statement"], items[f]["statement"], items[t]["subject"], items[f]["subject"]}
    ok = [s for s in pool if s["statement"] not in avoid and s["subject"] not in avoid]
    k = config.shots_per_label
    trues, falses = [s for s in ok if int(s["label"])], [s for s in ok if not int(s["label"])]
    if len(trues) < k or len(falses) < k:
        return "too_few_fewshot_examples"
    shots = rng.sample(trues, k) + rng.sample(falses, k)
    rng.shuffle(shots)
    spans = []
    for i in (t, f):
        prompt, start = build_prompt(items[i]["statement"], shots)
        idx, length = _statement_span(tokenizer, prompt, start, start + len(items[i]["statement"]))
        spans.append((prompt, [j - length for j in idx], length))
    (tp, tpos, tlen), (fp, fpos, flen) = spans
    if tlen != flen or tpos != fpos or not tpos:
        return "prompt_token_mismatch"
    n = config.n_positions
    statement = tuple(tpos[-n:])
    # every token after the statement's last one is the suffix (the prompt ends with it)
    suffix = tuple(range(tpos[-1] + 1, 0)) if config.patch_suffix else ()
    ids = [torch.tensor(tokenizer(p)["input_ids"]).unsqueeze(0) for p in (tp, fp)]
    suffix_ids = tuple(int(ids[0][0, j]) for j in suffix)
    if suffix_ids != tuple(int(ids[1][0, j]) for j in suffix):
        return "prompt_token_mismatch"
    columns = tuple(range(n - len(statement), n)) + tuple(range(n, n + len(suffix)))
    return StatementPair(pair_id, ds, t, f, tp, fp, ids[0], ids[1], statement + suffix, columns, suffix_ids)


def _same_suffix(
    pairs: list[StatementPair], excluded: dict[int, str], survived: dict[str, int]
) -> list[StatementPair]:
    """Keep the pairs whose suffix has the most common tokenization: a suffix column must be
    the same token in every pair (a tokenizer could merge the statement's last character
    into the suffix's first token for some statements)."""
    if not pairs:
        return pairs
    common = Counter(p.suffix_ids for p in pairs).most_common(1)[0][0]
    for p in pairs:
        if p.suffix_ids != common:
            excluded[p.true_index] = excluded[p.false_index] = "suffix_token_mismatch"
            survived[p.dataset] -= 1
    return [p for p in pairs if p.suffix_ids == common]


def column_layout(pairs: Sequence[StatementPair], tokenizer: Any, config: KnowledgeConfig) -> ColumnLayout:
    """The heatmap's columns for these pairs: n statement columns, then the suffix tokens'
    texts as the tokenizer decodes them (all pairs share them, see ``build_pairs``)."""
    ids = pairs[0].suffix_ids if pairs else ()
    return ColumnLayout(config.n_positions, tuple(tokenizer.decode([i]) for i in ids))


#: First token of " TRUE" / " FALSE" (the knowledge readout), from the shared prompt module.
label_token_ids = answer_token_ids
