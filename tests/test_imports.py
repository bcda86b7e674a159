"""No import circles in ``paperlib``: the modules form layers a reader can follow from the bottom up.

The graph is read from the source with ``ast``: every ``import``/``from ... import`` of a ``paperlib`` module,
absolute or relative, at module level or inside a function (a lazy import still ties the two modules
together), is an edge to that module (``from .x import y`` to ``x.y`` when ``y`` is a submodule, to ``x``
otherwise). A module's own parent packages are imported by Python before it in any case and are not edges
unless named.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "paperlib"


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's ``__init__``)."""
    modules = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _owner(name: str, modules: dict) -> str | None:
    """The module ``name`` lives in: itself, or the nearest enclosing module (``a.b.func`` -> ``a.b``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Each ``paperlib`` module -> the ``paperlib`` modules it imports."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                submodules = [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules]
                targets.update(submodules)
                if len(submodules) < len(node.names):
                    targets.add(source)
        graph[name] = {owner for t in targets if (owner := _owner(t, modules)) and owner != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle ``[a, b, ..., a]``, or None when the graph is acyclic (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_relative_absolute_and_lazy_imports():
    graph = import_graph()
    assert "paperlib.data.protocols" in graph["paperlib.data.clip_sampler"]  # from .protocols import ...
    assert "paperlib.engine.config" in graph["paperlib.engine.trainer"]  # from .config import ...
    assert "paperlib.cli" in graph["paperlib.engine.trainer"]  # inside _record_failure
    assert "paperlib.ops._extension" in graph["paperlib.ops.interlace"]  # from . import _extension
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_paperlib_has_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)
