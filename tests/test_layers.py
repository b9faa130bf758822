"""The layers of docs/architecture.md, checked on the source: who may import whom.

Every ``import calcstats...`` in every module (also those inside functions) is read with
:mod:`ast`; a package may import only from its own layer's allowed set. The module-level
imports must form no cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1] / "calcstats"

SPINE = {
    "_errors",
    "_validation",
    "_format",
    "_formula",
    "_design",
    "_newton",
    "_memory",
    "_survival_input",
    "_terms",
    "labels",
    "results",
}
STATISTICS = {"survival", "regression", "describe"}
PRESENTATION = {"plot", "tables", "report"}
DATA = {"cohort", "simulate", "datasets"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, tuple[set[str], set[str]]]:
    """module -> (imports anywhere, imports at module level) of calcstats modules."""
    out = {}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        anywhere = {
            n.module
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom)
            and n.level == 0
            and (n.module or "").startswith("calcstats")
        }
        top = {
            n.module
            for n in tree.body
            if isinstance(n, ast.ImportFrom)
            and n.level == 0
            and (n.module or "").startswith("calcstats")
        }
        out[_module(path)] = (anywhere, top)
    return out


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


IMPORTS = _imports()


@pytest.mark.parametrize(
    ("packages", "forbidden"),
    [
        (SPINE, STATISTICS | PRESENTATION | DATA | {"causal"}),
        (DATA, STATISTICS | PRESENTATION | {"causal"}),
        ({"survival"}, {"regression", "describe", "causal"} | PRESENTATION),
        ({"regression"}, {"survival", "describe", "causal"} | PRESENTATION),
        ({"describe"}, {"survival", "regression", "causal"} | PRESENTATION),
        ({"causal"}, {"survival", "describe"} | PRESENTATION),
        ({"plot"}, {"report"}),
    ],
)
def test_layers_import_only_downwards(packages, forbidden):
    wrong = sorted(
        f"{m} imports {t}"
        for m, (anywhere, _) in IMPORTS.items()
        if _package(m) in packages
        for t in anywhere
        if _package(t) in forbidden
    )
    assert wrong == []


def test_module_level_imports_have_no_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for m, (_, top) in IMPORTS.items():
        # ``from calcstats.x import y`` runs calcstats/x/__init__ (a package) or x.py
        graph[m] |= {t for t in top if t in IMPORTS and t != m}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for m in sorted(IMPORTS):
        if m not in state:
            visit(m, [m])
    # a package __init__ importing its own submodules is the package, not a cycle
    real = [
        c
        for c in cycles
        if len({_package(x) for x in c}) > 1
        or not any(x.count(".") == 1 and x in {m.rsplit(".", 1)[0] for m in c} for x in c)
    ]
    assert real == []
