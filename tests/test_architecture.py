"""Dependencies point one way (api/viz/cli -> queries/loaders -> graph) and no module imports
itself back through others, counting the imports made inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "graph", "loaders", "queries", "api", "viz", "rtc")
ALLOWED = {  # what each package may import, itself included
    "graph": {"graph"},
    "loaders": {"loaders", "graph"},
    "queries": {"queries", "graph"},
    "viz": {"viz", "queries", "graph"},
    "core": {"core", "graph"},
    "api": {"api", "core", "viz", "queries", "loaders", "graph"},
    "rtc": {"rtc", "core", "api", "viz", "queries", "loaders", "graph"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph.add_edge(name, target)
    return graph


def test_dependencies_point_one_way() -> None:
    wrong = sorted((a, b) for a, b in _imports().edges if b.split(".")[0] not in ALLOWED[a.split(".")[0]])
    assert wrong == []


def test_no_import_cycle() -> None:
    graph = _imports()
    assert len(graph) > 40
    assert list(nx.simple_cycles(graph)) == []


def test_backends_are_reached_through_the_factory_only() -> None:
    """Code above ``graph`` sees the store contract; only the factory names a backend, and a
    backend's own code stays in its folder (FalkorDB's bulk path is not in the shared store)."""
    graph = _imports()
    reaching = sorted(
        (a, b)
        for a, b in graph.edges
        if b.startswith("graph.backends") and not a.startswith("graph.backends") and a != "graph.factory"
    )
    assert reaching == []
    shared = [b for b in graph.successors("graph.backends.cypher.store") if b.startswith("graph.backends.")]
    assert all(b.startswith("graph.backends.cypher") for b in shared)


def test_the_store_is_used_without_probing() -> None:
    """Optional abilities are declared (``Store.capabilities``), not found with getattr or hasattr."""
    probes = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for name, path in _modules().items()
        if name.split(".")[0] in ("graph", "loaders", "queries")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and _probes(node.func.id, len(node.args))
    ]
    assert probes == []


def _probes(function: str, arguments: int) -> bool:
    return function == "hasattr" or (function == "getattr" and arguments == 3)
