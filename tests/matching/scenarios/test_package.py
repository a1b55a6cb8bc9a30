"""The planning package's shape: small modules, no import cycle, one public surface."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import matching.scenarios as scenarios

PACKAGE = Path(scenarios.__file__).parent
MAX_LINES = 600


def _imports(path: Path) -> set[str]:
    """The package modules ``path`` imports, TYPE_CHECKING and function-level imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("matching.scenarios.")}


def test_no_module_is_over_600_lines() -> None:
    """Every module of matching/scenarios/ stays readable in one sitting."""
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_the_modules_import_each_other_without_a_cycle() -> None:
    """Following imports between the package's modules never comes back to where it began."""
    graph = {
        f"matching.scenarios.{p.stem}": _imports(p)
        for p in PACKAGE.glob("*.py")
        if p.stem != "__init__"
    }
    assert all(dep in graph for deps in graph.values() for dep in deps)
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for dep in graph[module]:
            visit(dep, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


def test_public_names_are_listed_and_importable() -> None:
    """Every public name is in __all__ and importable, and none hides a module of the package."""
    public = [name for name in dir(scenarios) if not name.startswith("_")]
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert sorted(scenarios.__all__) == sorted(set(public) - modules)
    assert not modules & set(scenarios.__all__)  # `import matching.scenarios.x` stays the module
    assert all(getattr(scenarios, name) is not None for name in scenarios.__all__)


def test_importing_planning_loads_neither_engine_nor_dask() -> None:
    """The package is light to import: OR-Tools and Dask load only when a run needs them."""
    code = (
        "import sys, matching.scenarios\n"
        "print(','.join(m for m in ('ortools', 'distributed', 'dask', 'matching.engine', 'api')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_planning_never_imports_the_service() -> None:
    """No module of matching/scenarios/ imports the api package (the engine stays pure)."""
    offenders = []
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "api"]
    assert offenders == []
