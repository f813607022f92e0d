"""Regenerate every bundled dataset: `python -m postmech_eval.data.generate [--check]`.

Why a generator rather than hand-edited JSONL: the files are derived from curated lists
(`_tables.py`, `_instructions_src.py`, `_corpus_src.py`) by seeded code, so a reviewer can
audit the lists and anyone can rebuild byte-identical files. `--check` rebuilds in memory
and fails if a shipped file differs (useful in CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from postmech_eval.data import STATEMENT_DATASETS, _statements

SEED = 20250404
DATA_DIR = Path(__file__).resolve().parent
GENERATOR = "python -m postmech_eval.data.generate"
LICENSE = "Apache-2.0 (text and lists written for postmech-eval; no third-party data)"


_DESCRIPTIONS = {
    "cities": "City -> country statements; false objects are other cities' countries.",
    "neg_cities": "Negated cities statements ('is not in'); same subjects, splits and objects as cities.",
    "sp_en_trans": "Spanish word -> English meaning.",
    "neg_sp_en_trans": "Negated sp_en_trans ('does not mean'); same subjects, splits and objects.",
    "animal_class": "Animal -> class (mammal, bird, reptile, fish, amphibian, insect, mollusk, arachnid).",
    "element_symb": "Chemical element -> symbol.",
    "inventors": "Inventor -> invention (uncontested attributions only).",
    "facts": "General facts: capitals, continents, official languages, antonyms.",
    "larger_than": "Number-word comparisons; each (true, false) pair shares the object number.",
    "smaller_than": "Number-word comparisons; each (true, false) pair shares the object number.",
}


def _meta(name: str, rows: list[dict], extra: dict) -> dict:
    splits = Counter(r["split"] for r in rows if "split" in r)
    return {
        "_meta": {
            "dataset": name,
            "n_items": len(rows),
            "splits": dict(sorted(splits.items())),
            "generator": GENERATOR,
            "seed": SEED,
            "license": LICENSE,
            **extra,
        }
    }


def statement_files(seed: int = SEED) -> dict[str, list[dict]]:
    """dataset name -> [header, *rows] for every statement dataset."""
    out: dict[str, list[dict]] = {}
    for name in STATEMENT_DATASETS:
        rows = _statements.statement_rows(name, seed)
        relations = sorted({r["relation"] for r in rows})
        negated = name.startswith("neg_")
        extra = {
            "description": _DESCRIPTIONS[name],
            "source": "curated lists in postmech_eval/data/_tables.py",
            "n_true": sum(r["label"] for r in rows),
            "n_false": sum(1 - r["label"] for r in rows),
            "split_by": "subject (stratified by true object for many-to-one relations)",
            "test_fraction": _statements.TEST_FRACTION,
            "templates": {rel: _statements.TEMPLATES[rel + ("_neg" if negated else "")] for rel in relations},
            "fact_templates": {rel: _statements.TEMPLATES[rel] for rel in relations},
        }
        out[name] = [_meta(name, rows, extra), *rows]
    return out


def all_files(seed: int = SEED) -> dict[Path, list[dict]]:
    """Relative path -> JSON objects (header first) of every bundled file."""
    files: dict[Path, list[dict]] = {
        Path("statements") / f"{name}.jsonl": rows for name, rows in statement_files(seed).items()
    }
    try:
        from postmech_eval.data import _instructions_src
    except ImportError:  # pragma: no cover - built in stages
        _instructions_src = None
    if _instructions_src is not None:
        for kind, rows in _instructions_src.instruction_rows(seed).items():
            extra = {
                "description": f"{kind} instructions, {'AdvBench' if kind == 'harmful' else 'Alpaca'}-style",
                "source": "written for postmech-eval in postmech_eval/data/_instructions_src.py",
                "categories": dict(sorted(Counter(r["category"] for r in rows).items())),
            }
            files[Path("instructions") / f"{kind}.jsonl"] = [_meta(kind, rows, extra), *rows]
    try:
        from postmech_eval.data import _corpus_src
    except ImportError:  # pragma: no cover - built in stages
        _corpus_src = None
    if _corpus_src is not None:
        rows = _corpus_src.corpus_rows(seed)
        extra = {
            "description": "Held-out everyday English prose for entropy-neuron ablation (METHODS §5).",
            "source": "written for postmech-eval in postmech_eval/data/_corpus_src.py",
        }
        files[Path("corpus.jsonl")] = [_meta("corpus", rows, extra), *rows]
    return files


def dumps(rows: list[dict]) -> str:
    """Canonical JSONL text (stable key order, UTF-8, trailing newline)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if shipped files differ")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    stale = []
    for rel, rows in all_files(args.seed).items():
        path = args.out / rel
        text = dumps(rows)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(rows) - 1} items)")
    if stale:
        print("stale (rerun without --check): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
