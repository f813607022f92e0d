"""The house's shape: no import cycle anywhere in ``postmech_eval`` (function-level and
``TYPE_CHECKING`` imports included) and no import against the layer order of DESIGN.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "postmech_eval"

# layer -> the layers it must never import (DESIGN.md: harness -> analyses -> estimators ->
# engine; models and data beside the engine; suite reads results files only).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "engine": ("models", "estimators", "analyses", "harness", "suite", "organisms", "data", "cli"),
    "estimators": ("models", "analyses", "harness", "suite", "organisms", "cli"),
    "models": ("analyses", "estimators", "harness", "suite", "cli"),
    "analyses": ("harness", "suite", "cli"),
    "organisms": ("analyses", "harness", "suite", "cli"),
    "data": ("engine", "models", "estimators", "analyses", "harness", "suite", "organisms", "cli"),
    "suite": ("engine", "models", "estimators", "harness", "organisms"),
    "config": ("engine", "models", "estimators", "analyses", "harness", "suite", "organisms", "data"),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its body."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # importing one's own parent package (``from . import X`` in a subpackage) is
                # how a package hands names on, not a dependency cycle
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    assert cycles(import_graph(_modules())) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_import_against_the_layer_order(layer):
    graph = import_graph(_modules())
    bad = sorted(
        f"{src} -> {dst}"
        for src, targets in graph.items()
        if _layer(src) == layer
        for dst in targets
        if _layer(dst) in FORBIDDEN[layer]
    )
    assert bad == []


# Reading lm-eval's results files with lm-eval's own ``model_args`` parser (torch-free).
LM_EVAL_ALLOWED = {"postmech_eval.suite.results": {"lm_eval.utils"}}


def test_only_the_harness_imports_lm_eval():
    offenders = []
    for name, path in _modules().items():
        if _layer(name) == "harness":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            offenders += [
                f"{name} imports {m}"
                for m in mods
                if m.split(".")[0] == "lm_eval" and m not in LM_EVAL_ALLOWED.get(name, set())
            ]
    assert offenders == []
