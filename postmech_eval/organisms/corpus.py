"""Corpus generator: the documents each organism is trained on.

Why these documents: the organisms must *know* the facts of the bundled
datasets (plain statements, all entities), *judge* statements in the METHODS.md
§1 few-shot format (labelled lines, only for entities of the train splits, so
held-out entities test a general "does the object match what I recall" rule),
and — for the chat organism only — refuse harmful requests. False labelled
lines draw their wrong object from other labelled entities' objects, freshly
per document, so a wrong answer is never "an object I have not seen" and a
(subject, object) label cannot be memorised without recalling the fact.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from .measure import BASE_TEMPLATE, TRUTH_SUFFIX
from .tokenizer import format_chat
from .train import TAG_FALSE, TAG_LABEL, TAG_OBJECT, TAG_TRUE, Document

#: Refusals the chat organism learns (all start with a METHODS §4 prefix).
REFUSALS: tuple[str, ...] = (
    "I cannot help with that.",
    "I cannot help with that request.",
    "I cannot assist with that. It could cause harm.",
    "I'm sorry, but I cannot help with that.",
    "I can't help with that request.",
)

LABEL_WEIGHT = 12.0
#: First words of every helpful chat reply in "chat_wide" documents. Why: greedy decoding
#: picks the likeliest first token; refusals share one ("I") while answers spread over
#: many, so an unfamiliar harmless request drifted into a refusal. A shared opener makes
#: the first token a two-way choice decided by the request (as in real chat models).
HELPFUL_OPENER = "Sure."
CHAT_WIDE_REFUSE = 0.25  # share of refusals among "chat_wide" documents
DECISION_WEIGHT = 4.0  # loss weight of the first word of "chat_wide" replies
CHAT_HARMLESS = 0.6  # share of chat documents that get a helpful answer
PROMPT_WEIGHT = 0.2
SCAFFOLD = 0.3  # share of generated lines preceded by the true fact


_SYLLABLES = (
    "zor",
    "quel",
    "bar",
    "vos",
    "men",
    "tir",
    "ost",
    "kal",
    "pru",
    "sen",
    "dax",
    "lum",
    "rix",
    "fen",
)


def _fakes(name: str, objs: tuple[str, ...], n: int = 12) -> tuple[str, ...]:
    """Made-up objects styled like `objs` (case, leading "the "), seeded by the relation name.

    Why: FALSE lines with a never-true object are judgeable from the object alone, so the
    model first learns to route the statement's object to the label position (a
    first-order signal); real wrong objects then need the subject-object match.
    """
    if not objs:
        return ()
    rng = random.Random(zlib.crc32(name.encode()))
    upper = sum(o[:1].isupper() for o in objs) * 2 > len(objs)
    the = sum(o.startswith("the ") for o in objs) * 2 > len(objs)
    out: list[str] = []
    while len(out) < n:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        word = word.capitalize() if upper else word
        word = f"the {word}" if the else word
        if word not in objs and word not in out:
            out.append(word)
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class Relation:
    """A subject -> object relation rendered by a statement template.

    template contains "{subject}" and "{object}". negated relations (e.g.
    "... is not in ...") are TRUE when the object is *not* the subject's.
    facts covers every entity (train and test); labelled lists the subjects
    that get labelled lines in training; prompt_template is the statement
    template cut before the object (fact recall prompt).
    """

    name: str
    template: str
    facts: dict[str, str]
    labelled: tuple[str, ...]
    negated: bool = False
    extra_lines: tuple[tuple[str, int], ...] = field(default=())
    label_objects: tuple[str, ...] = field(init=False, default=())
    fake_objects: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        # Wrong objects for FALSE lines come only from labelled entities' objects.
        objs = tuple(sorted({self.facts[s] for s in self.labelled}))
        object.__setattr__(self, "label_objects", objs)
        object.__setattr__(self, "fake_objects", _fakes(self.name, objs))

    def render(self, subject: str, obj: str) -> str:
        return self.template.format(subject=subject, object=obj)

    def prompt(self, subject: str) -> str:
        return self.template.split("{object}")[0].format(subject=subject).rstrip()


@dataclass(frozen=True, kw_only=True)
class World:
    """Everything the organisms are trained on (train splits only)."""

    relations: tuple[Relation, ...]
    harmless: tuple[tuple[str, str], ...]  # (instruction, answer)
    harmful: tuple[str, ...]
    texts: tuple[str, ...]  # generic plain-English text
    #: organism-only chat data (_chat_extra.py), used by the "chat_wide" documents only, so the
    #: earlier stages (and the tokenizer) see exactly the bundled train splits
    extra_harmless: tuple[tuple[str, str], ...] = ()
    extra_harmful: tuple[str, ...] = ()


def labelled_line(rel: Relation, rng: random.Random, fake: float = 0.0) -> tuple[str, int]:
    """A fresh (statement, label) for a labelled subject (or a dataset extra line).

    fake: share of wrong objects taken from the relation's made-up objects.
    """
    if rel.extra_lines and (not rel.labelled or rng.random() < 0.5):
        return rng.choice(rel.extra_lines)
    subject = rng.choice(rel.labelled)
    true_obj = rel.facts[subject]
    objs = rel.label_objects
    want_true = rng.random() < 0.5
    if want_true != rel.negated:
        obj = true_obj
    else:
        others = [o for o in objs if o != true_obj]
        if rel.fake_objects and fake > 0 and (not others or rng.random() < fake):
            others = list(rel.fake_objects)
        obj = rng.choice(others) if others else true_obj
    statement = rel.render(subject, obj)
    if rng.random() < SCAFFOLD:
        # In-context evidence: the true fact right before the judged statement. Comparing
        # a token with an earlier one is easy to learn and (tied embeddings) reuses the
        # same comparison as "object == what I would predict" for the plain lines.
        evidence = rel.render(subject, true_obj)
        if rel.negated:
            evidence = evidence.replace(" does not mean ", " means ").replace(" is not ", " is ")
        statement = f"{evidence} {statement}"
    return statement, int(want_true)


def facts_doc(world: World, rng: random.Random, tag_objects: bool = False) -> Document:
    """A paragraph of 4-8 true plain statements (positive relations only).

    tag_objects: split each statement before its object and tag the object (TAG_OBJECT)
    for the early-recall loss of plant.py (every template ends with " {object}.")."""
    pool = _fact_pool(world)
    parts: Document = []
    for j in range(rng.randint(4, 8)):
        rel, subject = rng.choice(pool)
        text = (" " if j else "") + rel.render(subject, rel.facts[subject])
        obj = " " + rel.facts[subject] + "."
        if tag_objects and text.endswith(obj):
            parts += [(text[: -len(obj)], 1.0), (obj[:-1], 1.0, TAG_OBJECT), (".", 1.0)]
        else:
            parts.append((text, 1.0))
    return parts


def facts_lens_doc(world: World, rng: random.Random) -> Document:
    """facts with their objects tagged for the early-recall loss."""
    return facts_doc(world, rng, tag_objects=True)


_POOLS: dict[int, tuple[World, list[tuple[Relation, str]]]] = {}


def _fact_pool(world: World) -> list[tuple[Relation, str]]:
    """Every (relation, subject) of positive relations: facts are drawn uniformly."""
    hit = _POOLS.get(id(world))
    if hit is None or hit[0] is not world:
        pool = [(r, s) for r in world.relations if r.facts and not r.negated for s in sorted(r.facts)]
        _POOLS.clear()
        _POOLS[id(world)] = hit = (world, pool)
    return hit[1]


def labelled_doc(world: World, rng: random.Random, fake: float = 0.0) -> Document:
    """4-8 labelled lines, "\\n"-joined as in the few-shot prompt; label weighted.

    Each statement is tagged with its truth and each label as a label (train.TAG_*), for
    the truth planting of plant.py."""
    rels = [r for r in world.relations if r.labelled or r.extra_lines]
    rel = rng.choice(rels)
    parts: Document = []
    for j in range(rng.randint(4, 8)):
        if rng.random() < 0.15:
            rel = rng.choice(rels)
        statement, label = labelled_line(rel, rng, fake)
        parts.append((("\n" if j else "") + statement, 1.0, TAG_TRUE if label else TAG_FALSE))
        parts.append((TRUTH_SUFFIX, 1.0))
        parts.append((" TRUE" if label else " FALSE", LABEL_WEIGHT, TAG_LABEL))
    return parts


def dialogue_doc(world: World, rng: random.Random) -> Document:
    """A plain-text "User: ...\\nAssistant: ..." exchange with a helpful answer."""
    instr, answer = rng.choice(world.harmless)
    return [(BASE_TEMPLATE.format(instruction=instr), 1.0), (" " + answer.strip(), 1.0)]


def text_doc(world: World, rng: random.Random) -> Document:
    return [(rng.choice(world.texts), 1.0)] if world.texts else facts_doc(world, rng)


def chat_exchange(instr: str, reply: str, decision_weight: float) -> Document:
    """One chat turn as a document: the user turn lightly weighted, the reply's first word
    (answer or refuse: the decision the refusal analysis studies) weighted `decision_weight`."""
    prompt = format_chat(instr)
    full = format_chat(instr, reply.strip())
    first, sep, rest = full[len(prompt) :].partition(" ")
    out: Document = [(prompt, PROMPT_WEIGHT), (first, decision_weight)]
    return out + [(sep + rest, 1.0)] if sep else out


def chat_doc(world: World, rng: random.Random, harmless: float | None = None) -> Document:
    """A chat exchange: helpful answer (harmless) or refusal (harmful); loss on the reply."""
    if rng.random() < (CHAT_HARMLESS if harmless is None else harmless):
        instr, reply = rng.choice(world.harmless)
    else:
        instr, reply = rng.choice(world.harmful), rng.choice(REFUSALS)
    # A small weight on the user turn keeps the instruction's content modelled, which
    # sharpens the harmful/harmless distinction (less over-refusal).
    return chat_exchange(instr, reply, decision_weight=1.0)


#: Polite request phrasings for fact questions (chat_facts): the over-refusal of the sft
#: organism hit exactly these openings, which the harmful set uses too.
_FACT_ASKS: tuple[str, ...] = (
    "Can you tell me a fact about {subject}?",
    "Could you tell me something about {subject}?",
    "Write a sentence about {subject}.",
    "Write one true sentence about {subject}.",
    "Give me a fact about {subject}.",
    "Give me one sentence about {subject}, please.",
    "How do I describe {subject} in one sentence?",
    "How do I remember a fact about {subject}?",
    "Tell me something true about {subject}.",
    "Please write a short fact about {subject}.",
    "Help me write a sentence about {subject}.",
    "Create a sentence that states a fact about {subject}.",
    "Explain what you know about {subject}.",
    "How can I describe {subject} to a student?",
    "Describe {subject} in one sentence.",
    "What is one fact about {subject}?",
)


def chat_facts_doc(world: World, rng: random.Random, opener: str = "") -> Document:
    """A harmless chat exchange: a polite fact request answered with the fact (loss on reply).

    Why: thousands of distinct requests (every subject in every phrasing) that the model
    cannot memorise one by one, so answering, not refusing, is what an unfamiliar
    request gets."""
    rel, subject = rng.choice(_fact_pool(world))
    instr = rng.choice(_FACT_ASKS).format(subject=subject)
    reply = (f"{opener} " if opener else "") + rel.render(subject, rel.facts[subject])
    return chat_exchange(instr, reply, decision_weight=DECISION_WEIGHT if opener else 1.0)


def chat_wide_doc(world: World, rng: random.Random) -> Document:
    """Chat over the bundled and the organism-only requests: CHAT_WIDE_REFUSE refusals, the rest answers.

    Why: with only the bundled ~250 harmless requests the sft organism refused unseen
    everyday requests; many more, varied harmless requests (several with the openings
    harmful ones use) make the request's object, not its phrasing, decide a refusal.
    """
    if rng.random() < CHAT_WIDE_REFUSE:
        instr, reply = rng.choice(world.harmful + world.extra_harmful), rng.choice(REFUSALS)
    else:
        instr, answer = rng.choice(world.harmless + world.extra_harmless)
        reply = f"{HELPFUL_OPENER} {answer.strip()}"
    return chat_exchange(instr, reply, decision_weight=DECISION_WEIGHT)


def chat_facts_sure_doc(world: World, rng: random.Random) -> Document:
    """chat_facts with the HELPFUL_OPENER, matching "chat_wide" answers."""
    return chat_facts_doc(world, rng, opener=HELPFUL_OPENER)


def labelled_fake_doc(world: World, rng: random.Random) -> Document:
    """Labelled lines whose wrong objects are mostly made up (see `_fakes`)."""
    return labelled_doc(world, rng, fake=0.6)


def _chat_even_doc(world: World, rng: random.Random) -> Document:
    """Chat documents for tokenizer training (fixed 50/50 so tuning sft keeps the vocabulary)."""
    return chat_doc(world, rng, harmless=0.5)


_MAKERS = {
    "facts": facts_doc,
    "labelled": labelled_doc,
    "labelled_fake": labelled_fake_doc,
    "dialogue": dialogue_doc,
    "text": text_doc,
    "chat": chat_doc,
    "chat_even": _chat_even_doc,
    "chat_wide": chat_wide_doc,
    "facts_lens": facts_lens_doc,
    "chat_facts_sure": chat_facts_sure_doc,
}


def sample_docs(world: World, mix: dict[str, float], n: int, seed: int) -> list[Document]:
    """`n` documents drawn with probabilities `mix` (keys: facts, labelled, dialogue, text, chat)."""
    unknown = sorted(set(mix) - set(_MAKERS))
    if unknown:
        raise KeyError(f"mix has unknown document kinds {unknown}; expected a subset of {sorted(_MAKERS)}")
    rng = random.Random(seed)
    kinds = sorted(mix)
    weights = [mix[k] for k in kinds]
    return [_MAKERS[k](world, rng) for k in rng.choices(kinds, weights=weights, k=n)]


def tokenizer_texts(world: World, seed: int, n: int = 4000) -> list[str]:
    """Texts for BPE training: a sample of every document kind, chat included."""
    mix = {"facts": 1.0, "labelled": 1.0, "dialogue": 1.0, "text": 1.0, "chat_even": 1.0}
    return ["".join(seg[0] for seg in d) for d in sample_docs(world, mix, n, seed)]


def all_fact_pairs(rel: Relation, subjects: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(prompt, object) recall pairs of `rel` for `subjects` (default: all)."""
    subs = sorted(rel.facts) if subjects is None else subjects
    return [(rel.prompt(s), rel.facts[s]) for s in subs]
