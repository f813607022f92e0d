"""Turn the curated fact tables into seeded true/false statement datasets.

Design choices, each made for a consumer downstream:
- Split 80/20 *by subject entity* (stratified by true object for many-to-one relations), and
  a subject has the same split in a dataset and its negated twin, so test entities are never
  seen as labelled items anywhere.
- Every subject gets one true and one false line (exact balance). The false objects of a
  split are a *derangement* of that split's true objects: each object appears in false lines
  exactly as often as in true lines, so "unseen object -> FALSE" cannot be learned (issue 3).
- The derangement is drawn inside blocks of subjects of similar length, so the false line
  "S' rel O" usually has the same token length as the true line "S rel O" — the pairs that
  knowledge patching needs (METHODS §1).
"""

from __future__ import annotations

import random
from collections import defaultdict

from postmech_eval.data import _tables as T

TEST_FRACTION = 0.2

# relation -> (positive template, negated template or None)
TEMPLATES: dict[str, str] = {
    "city_country": "The city of {s} is in {o}.",
    "city_country_neg": "The city of {s} is not in {o}.",
    "sp_en": "The Spanish word '{s}' means {o}.",
    "sp_en_neg": "The Spanish word '{s}' does not mean {o}.",
    "animal_class": "The {s} is a type of {o}.",
    "element_symbol": "The chemical symbol for {s} is {o}.",
    "inventor": "{s} invented {o}.",
    "capital": "The capital of {s} is {o}.",
    "continent": "{s} is a country in {o}.",
    "language": "The official language of {s} is {o}.",
    "antonym": "The opposite of {s} is {o}.",
    "larger_than": "{S} is larger than {o}.",
    "smaller_than": "{S} is smaller than {o}.",
}

# dataset -> list of (relation, {subject: object}); negated datasets reuse the positive table
_NEGATED = {"neg_cities": "cities", "neg_sp_en_trans": "sp_en_trans"}


def relation_tables() -> dict[str, list[tuple[str, dict[str, str]]]]:
    """The subject -> object tables of each positive relational dataset."""
    cities = {c: country for country, cs in T.CITIES.items() for c in cs}
    animals = {a: cls for cls, xs in T.ANIMALS.items() for a in xs}
    return {
        "cities": [("city_country", cities)],
        "sp_en_trans": [("sp_en", dict(T.SP_EN))],
        "animal_class": [("animal_class", animals)],
        "element_symb": [("element_symbol", dict(T.ELEMENTS))],
        "inventors": [("inventor", dict(T.INVENTORS))],
        "facts": [
            ("capital", dict(T.CAPITALS)),
            ("continent", dict(T.CONTINENTS)),
            ("language", dict(T.LANGUAGES)),
            ("antonym", dict(T.ANTONYMS)),
        ],
    }


def split_subjects(table: dict[str, str], rng: random.Random, many_to_one: bool) -> dict[str, str]:
    """subject -> "train"/"test"; stratified by object when objects have many subjects."""
    groups: dict[str, list[str]] = defaultdict(list)
    for subj, obj in table.items():
        groups[obj if many_to_one else "_all"].append(subj)
    split: dict[str, str] = {}
    for key in sorted(groups):
        subs = sorted(groups[key])
        rng.shuffle(subs)
        n_test = max(1, round(len(subs) * TEST_FRACTION)) if len(subs) >= 3 else 0
        for i, s in enumerate(subs):
            split[s] = "test" if i < n_test else "train"
    return split


def _length_key(s: str) -> tuple[int, int]:
    return (len(s.split()), len(s))


def derange_objects(subjects: list[str], objects: list[str], rng: random.Random) -> list[str]:
    """False object per subject: a permutation of `objects` with no subject keeping its own.

    Drawn within blocks of ~6 subjects of similar length (why: see module docstring).
    """
    n = len(subjects)
    if len(set(objects)) < 2:
        raise ValueError(f"derange_objects: need >= 2 distinct objects, got {sorted(set(objects))}")
    order = sorted(range(n), key=lambda i: (*_length_key(subjects[i]), rng.random()))
    blocks = [order[i : i + 6] for i in range(0, n, 6)]
    if len(blocks) > 1 and len(blocks[-1]) < 3:
        blocks[-2].extend(blocks.pop())
    out: list[str | None] = [None] * n
    pending: list[int] = []
    for block in blocks:
        block = pending + block
        perm = _try_derange([objects[i] for i in block], rng)
        if perm is None:
            pending = block  # merge into the next block and retry there
            continue
        pending = []
        for i, o in zip(block, perm, strict=True):
            out[i] = o
    if pending:  # last block(s) failed: derange them together with everything
        return _global_derange(objects, rng)
    return [o for o in out if o is not None]


def _global_derange(objects: list[str], rng: random.Random) -> list[str]:
    """Derangement of the whole list; if one object fills more than half, sample instead.

    Rotation trick: with items grouped by object, shifting by the largest group size maps
    every item to a different object whenever that size is <= n/2. Beyond that no
    derangement exists, so the surplus items get a random *other* object of the list (still
    never an object that occurs only in false lines).
    """
    n = len(objects)
    keys = sorted(set(objects))
    rng.shuffle(keys)
    rank = {k: i for i, k in enumerate(keys)}
    order = sorted(range(n), key=lambda i: (rank[objects[i]], rng.random()))
    shift = max(objects.count(k) for k in keys)
    out = [""] * n
    for pos, i in enumerate(order):
        out[i] = objects[order[(pos + shift) % n]]
    distinct = sorted(set(objects))
    for i in range(n):
        if out[i] == objects[i]:
            out[i] = rng.choice([o for o in distinct if o != objects[i]])
    return out


def _try_derange(objs: list[str], rng: random.Random, tries: int = 500) -> list[str] | None:
    for _ in range(tries):
        perm = objs[:]
        rng.shuffle(perm)
        if all(a != b for a, b in zip(objs, perm, strict=True)):
            return perm
    return None


def _render(template: str, subject: str, obj: str) -> str:
    return template.format(s=subject, S=subject[:1].upper() + subject[1:], o=obj)


def relational_rows(name: str, seed: int) -> list[dict]:
    """Rows of a relational dataset (positive or negated); deterministic in (name, seed)."""
    base = _NEGATED.get(name, name)
    negated = name in _NEGATED
    rng = random.Random(f"{seed}:{base}")  # negated twin shares splits and false objects
    rows: list[dict] = []
    tables = relation_tables()[base]
    all_subjects = {s: o for _, t in tables for s, o in t.items()}
    many_to_one = len(tables) == 1 and len(set(all_subjects.values())) < 0.5 * len(all_subjects)
    if len(tables) == 1:
        split = split_subjects(tables[0][1], rng, many_to_one)
    else:  # several relations share subjects (countries): split by subject name across them
        split = split_subjects({s: "_" for s in all_subjects}, rng, False)
    for relation, table in tables:
        template = TEMPLATES[relation + ("_neg" if negated else "")]
        for part in ("train", "test"):
            subs = sorted(s for s in table if split[s] == part)
            if not subs:
                continue
            trues = [table[s] for s in subs]
            falses = derange_objects(subs, trues, rng)
            for s, t_obj, f_obj in zip(subs, trues, falses, strict=True):
                for obj, is_fact in ((t_obj, 1), (f_obj, 0)):
                    label = 1 - is_fact if negated else is_fact
                    rows.append(
                        {
                            "statement": _render(template, s, obj),
                            "label": label,
                            "subject": s,
                            "object": obj,
                            "true_object": t_obj,
                            "relation": relation,
                            "dataset": name,
                            "split": part,
                        }
                    )
    return rows


def number_rows(name: str, seed: int, n_pairs: int = 160) -> list[dict]:
    """larger_than / smaller_than: (true, false) pairs sharing the object number.

    The false subject is chosen with the same shape as the true one (same units digit and
    both >= 20 or both < 20 when possible: "Eighty-two" / "Twenty-two"), so the two lines
    usually tokenize to the same length.
    """
    if name not in ("larger_than", "smaller_than"):
        raise KeyError(f"number_rows: name must be larger_than or smaller_than, got {name!r}")
    rng = random.Random(f"{seed}:{name}")
    numbers = list(range(1, 100))
    shuffled = numbers[:]
    rng.shuffle(shuffled)
    test_subjects = set(shuffled[: round(len(numbers) * TEST_FRACTION)])
    rows: list[dict] = []
    seen: set[tuple[int, int]] = set()
    bigger = name == "larger_than"
    for part, n_part in (
        ("train", round(n_pairs * (1 - TEST_FRACTION))),
        ("test", round(n_pairs * TEST_FRACTION)),
    ):
        subs = [n for n in numbers if (n in test_subjects) == (part == "test")]
        made = 0
        for _ in range(100_000):
            if made >= n_part:
                break
            o = rng.randint(2, 98)
            true_c = [s for s in subs if (s > o if bigger else s < o) and (s, o) not in seen]
            false_c = [s for s in subs if (s < o if bigger else s > o) and (s, o) not in seen]
            if not true_c or not false_c:
                continue
            s1 = rng.choice(true_c)
            shaped = [s for s in false_c if s % 10 == s1 % 10 and (s >= 20) == (s1 >= 20)]
            s2 = rng.choice(shaped or false_c)
            seen.update({(s1, o), (s2, o)})
            made += 1
            for s, label in ((s1, 1), (s2, 0)):
                rows.append(
                    {
                        "statement": _render(TEMPLATES[name], T.number_word(s), T.number_word(o)),
                        "label": label,
                        "subject": T.number_word(s),
                        "object": T.number_word(o),
                        "relation": name,
                        "dataset": name,
                        "split": part,
                    }
                )
    return rows


def statement_rows(name: str, seed: int) -> list[dict]:
    """All rows of one statement dataset, train then test."""
    if name in ("larger_than", "smaller_than"):
        return number_rows(name, seed)
    return relational_rows(name, seed)
