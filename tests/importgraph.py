"""The import graph of the product's own modules, read from the source (nothing is imported).

Every import counts: at the top of a module, inside a function and under ``TYPE_CHECKING``,
absolute or relative. ``from pkg import name`` is an edge to ``pkg.name`` when that is a module
and to ``pkg`` otherwise. The house rules in ``tests/test_boundaries.py`` are written on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "matching")


@dataclass(frozen=True)
class Module:
    """One module of the product: its dotted name, file and whether it is a package."""

    name: str
    path: Path

    @property
    def is_package(self) -> bool:
        """Whether the module is a package's ``__init__``."""
        return self.path.name == "__init__.py"

    @property
    def lines(self) -> int:
        """How many lines the file has."""
        return len(self.path.read_text(encoding="utf-8").splitlines())


def modules(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Module]:
    """Every module under the given top-level packages, by dotted name."""
    found: dict[str, Module] = {}
    for top in packages:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = Module(".".join(parts), path)
    return found


def _imported(module: Module, found: dict[str, Module]) -> Iterator[str]:
    """The dotted names a module imports, made absolute.

    ``from pkg import name`` yields ``pkg.name`` when that is a module and ``pkg`` otherwise.
    """
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield full if full in found else base


def graph(found: dict[str, Module] | None = None) -> dict[str, set[str]]:
    """Each module's imports of other modules of the product."""
    found = modules() if found is None else found
    edges: dict[str, set[str]] = {}
    for name, module in found.items():
        targets = set()
        for dotted in _imported(module, found):
            while dotted and dotted not in found:
                dotted = dotted.rpartition(".")[0]
            if dotted and dotted != name:
                targets.add(dotted)
        edges[name] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def within(name: str, package: str) -> bool:
    """Whether module ``name`` is ``package`` or inside it."""
    return name == package or name.startswith(package + ".")
