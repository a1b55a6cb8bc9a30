"""The engine's modules form layers: no module of matching/ imports itself back through others.

Every import counts, including those under ``if TYPE_CHECKING:`` and inside functions, so a
cycle cannot hide behind a deferred import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "matching"


def module_name(path: Path) -> str:
    """The dotted module name of a file under the checkout root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(path): path for path in sorted((ROOT / PACKAGE).rglob("*.py"))}


def resolve(target: str, known: set[str]) -> str | None:
    """The package module a dotted import target names (the longest known prefix)."""
    parts = target.split(".")
    while parts:
        name = ".".join(parts)
        if name in known:
            return name
        parts.pop()
    return None


def absolute_stem(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute dotted module a ``from ... import`` statement reads from."""
    if not node.level:
        return node.module or ""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    base = ".".join(parts)
    return f"{base}.{node.module}" if node.module else base


def imported_targets(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Every dotted target one module imports, anywhere in its body, relative ones resolved.

    ``from pkg import sub`` names the submodule ``pkg.sub`` when there is one, else ``pkg``
    (a name its ``__init__`` defines or re-exports).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            stem = absolute_stem(name, path, node)
            for alias in node.names:
                submodule = f"{stem}.{alias.name}"
                yield submodule if submodule in known else stem


def import_graph() -> dict[str, set[str]]:
    """Which package modules each package module imports (itself excluded)."""
    modules = all_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for target in imported_targets(name, path, known):
            if not (target == PACKAGE or target.startswith(PACKAGE + ".")):
                continue
            resolved = resolve(target, known)
            if resolved is not None and resolved != name:
                edges.add(resolved)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        """Number one node and close its component when it is the component's root."""
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_checker_sees_every_module() -> None:
    """The graph covers the engine's modules, including the subpackages."""
    graph = import_graph()
    assert "matching.io" in graph
    assert "matching.engine.solve" in graph
    assert "matching.scenarios.runner" in graph


def test_checker_finds_a_cycle() -> None:
    """The cycle search reports a planted two-module loop and a clean chain as clean."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_relative_imports_resolve() -> None:
    """A relative import inside a subpackage lands on the module it names."""
    graph = import_graph()
    known = set(graph)
    assert resolve("matching.engine.solve.solve", known) == "matching.engine.solve"
    assert "matching.engine.highs" in graph["matching.engine.staged"]
    assert all(target in known for edges in graph.values() for target in edges)


def test_deferred_imports_count(tmp_path: Path) -> None:
    """Imports under ``if TYPE_CHECKING:``, inside functions and relative ones are all seen."""
    source = tmp_path / "a.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from matching.b import Thing\n"
        "def later() -> None:\n"
        "    import matching.c\n"
        "    from . import d\n"
        "    from .e import run\n",
        encoding="utf-8",
    )
    known = {"matching", "matching.a", "matching.b", "matching.c", "matching.d", "matching.e"}
    targets = {resolve(target, known) for target in imported_targets("matching.a", source, known)}
    assert targets >= {"matching.b", "matching.c", "matching.d", "matching.e"}


def test_no_import_cycles() -> None:
    """No module of matching/ reaches itself through its imports."""
    assert cycles(import_graph()) == []


MAX_LINES = 600
"""A module longer than this is doing more than one job."""


def test_no_module_is_too_long() -> None:
    """Every module of matching/ stays within :data:`MAX_LINES` lines."""
    long = {
        name: length
        for name, path in all_modules().items()
        if (length := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
