"""Model organisms: tiny Llama models trained here with planted, known mechanisms.

Why: the suite must run with no download, and every metric must be shown to
find what is really there. `base` knows the facts of the bundled datasets and
judges "STATEMENT This statement is: TRUE|FALSE" lines; truth is planted as a
linear, causally used direction at the METHODS probe site (plant.py), so the
truth probe and steering analyses have a known answer. `sft` is base
post-trained on chat data (answers that open with "Sure.", refusals of harmful
requests, truth-labelling and the planting kept); `cpt` is base continued on
plain text (no chat, no refusal) as a control. The weights ship in
`weights/<name>/` (Hugging Face format); `build` retrains them from scratch,
`verify` measures them.

`gemma3-270m-sft` is a real pair's child: Gemma-3-270M (``gguf:gemma3-270m``, the
``[gemma]`` extra) post-trained here with a LoRA adapter that ships in
`adapters/gemma3-270m-sft/` and is merged into a cached Hugging Face folder on first
use (gemma_child.py; training in gemma_sft.py, figures in gemma_verify.py).

CLI: ``postmech-eval organisms list|path NAME|build|verify [NAME]`` or
``python -m postmech_eval.organisms ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Organisms shipped with the package (parents first).
ORGANISMS: tuple[str, ...] = ("base", "sft", "cpt")
#: Organisms built on the real Gemma-3-270M (need the [gemma] extra; merged on first use).
GEMMA_ORGANISMS: tuple[str, ...] = ("gemma3-270m-sft",)
#: Every organism name `path`, `build` and `verify` take.
ALL_ORGANISMS: tuple[str, ...] = ORGANISMS + GEMMA_ORGANISMS
#: Which organisms are chat models (use their chat template).
CHAT_ORGANISMS: frozenset[str] = frozenset({"sft", "gemma3-270m-sft"})
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_SEED = 0

__all__ = [
    "ALL_ORGANISMS",
    "CHAT_ORGANISMS",
    "GEMMA_ORGANISMS",
    "DEFAULT_SEED",
    "ORGANISMS",
    "WEIGHTS_DIR",
    "build",
    "main",
    "organism_path",
    "verify",
]


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str naming an organism; got {type(name).__name__}")
    if name not in ALL_ORGANISMS:
        from postmech_eval.config import UnknownNameError, suggestion

        raise UnknownNameError(suggestion("organism", name, ALL_ORGANISMS))


def organism_path(name: str, weights_dir: Path | None = None) -> Path:
    """Directory of organism `name` in Hugging Face format (config, safetensors, tokenizer).

    Raises KeyError (with the available names) for an unknown name and
    FileNotFoundError when the weights are missing (run `build`). A Gemma organism's
    folder is the merged cache (built on first use; a one-line error naming the pip
    command without the [gemma] extra).
    """
    _check_name(name)
    if name in GEMMA_ORGANISMS:
        from .gemma_child import organism_dir

        return organism_dir()
    path = (weights_dir or WEIGHTS_DIR) / name
    if not (path / "config.json").is_file():
        from postmech_eval.config import MissingFileError

        raise MissingFileError(
            f"organism {name!r} has no weights at {path}; run `postmech-eval organisms build`"
        )
    return path


def build(
    names: Sequence[str] = ORGANISMS,
    seed: int = DEFAULT_SEED,
    out_dir: Path | str | None = None,
    threads: int = 2,
) -> dict[str, Any]:
    """Retrain `names` from scratch (parents first) into out_dir (default: shipped weights).

    Deterministic for a given seed, machine and thread count; about 18 minutes on an
    idle 2-core CPU for all organisms (the intermediate `pre` and `judge` checkpoints go
    to `_stages/` beside them, not shipped). Writes verify.json and build_info.json
    beside the weights and returns the verify figures. threads: torch CPU threads
    (use 1 when other jobs share the cores: 2 contended threads stall each other).
    """
    from .build import build_all

    for n in names:
        _check_name(n)
    if not isinstance(seed, int):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}")
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int; got {threads!r}")
    tiny = [n for n in names if n in ORGANISMS]
    out: dict[str, Any] = {}
    if tiny:
        out = build_all(tiny, seed, Path(out_dir) if out_dir is not None else WEIGHTS_DIR, threads=threads)
    if any(n in GEMMA_ORGANISMS for n in names):  # the adapter goes to out_dir/<name> when out_dir is set
        from .gemma_child import NAME
        from .gemma_child import build as build_gemma

        out[NAME] = build_gemma(seed, threads, Path(out_dir) / NAME if out_dir is not None else None)
    return out


def verify(name: str, limit: int | None = None, weights_dir: Path | None = None) -> dict[str, Any]:
    """Measure organism `name`'s planted properties (fact recall, truth judgement, refusal).

    For a Gemma organism: refusal of the pair on held-out instructions and the child's
    held-out plain-text loss against the base's (gemma_verify.py).
    """
    from .verify import verify_dir

    _check_name(name)
    if name in GEMMA_ORGANISMS:
        from .gemma_child import verify_child

        return verify_child(limit=limit)
    return verify_dir(organism_path(name, weights_dir), chat=name in CHAT_ORGANISMS, limit=limit)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: `organisms list|path NAME|build [--names ...] [--seed N] [--out DIR] [--threads N]|verify [NAME]`."""
    parser = argparse.ArgumentParser(prog="postmech-eval organisms", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="names of the bundled organisms (Gemma ones need the [gemma] extra)")
    p_path = sub.add_parser("path", help="directory of an organism (Hugging Face format)")
    p_path.add_argument("name")
    p_build = sub.add_parser("build", help="retrain organisms from scratch (seeded)")
    p_build.add_argument(
        "--names",
        nargs="+",
        default=list(ORGANISMS),
        help=f"default: the tiny ones; or {', '.join(GEMMA_ORGANISMS)}",
    )
    p_build.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p_build.add_argument("--out", default=None, help="output directory (default: the shipped weights)")
    p_build.add_argument("--threads", type=int, default=2, help="torch CPU threads (1 on a busy machine)")
    p_verify = sub.add_parser("verify", help="measure planted properties, print JSON")
    p_verify.add_argument("name", nargs="?", default=None, help="one organism (default: the tiny ones)")
    p_verify.add_argument("--limit", type=int, default=None, help="items per dataset (quick check)")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        if args.cmd == "list":
            for n in ALL_ORGANISMS:
                print(n)
        elif args.cmd == "path":
            print(organism_path(args.name))
        elif args.cmd == "build":
            res = build(args.names, seed=args.seed, out_dir=args.out, threads=args.threads)
            print(json.dumps(res, indent=2, sort_keys=True))
        else:
            names = [args.name] if args.name else list(ORGANISMS)
            res = {n: verify(n, limit=args.limit) for n in names}
            print(json.dumps(res if args.name is None else res[args.name], indent=2, sort_keys=True))
    except (KeyError, FileNotFoundError, ValueError, TypeError) as err:
        print(f"postmech: error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    return 0
