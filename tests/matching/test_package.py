"""The engine package's shape: one public entry, no import cycle, modules of a readable size."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import matching.engine
from matching.models import DIETARY_TAGS, DietaryTag

ROOT = Path(__file__).resolve().parents[2] / "matching"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every ``matching`` module this file imports, at any depth (TYPE_CHECKING blocks too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("matching"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("matching"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for target in _imports(path):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != name and not name.startswith(target + "."):
                targets.add(target)
        graph[name] = targets
    return graph


def test_no_import_cycle_in_matching() -> None:
    """No module of matching/ reaches itself through imports (TYPE_CHECKING ones count)."""
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_engine_modules_stay_readable() -> None:
    """No module of the engine, candidates or explanations is over 600 lines."""
    checked = [*ROOT.joinpath("engine").glob("*.py"), ROOT / "candidates.py", ROOT / "explain.py"]
    long = {p.name: n for p in checked if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_engine_has_one_public_entry() -> None:
    """``from matching.engine import solve`` is the engine's entry point."""
    assert callable(matching.engine.solve)
    assert "solve" in matching.engine.__all__


def test_dietary_tags_are_one_list() -> None:
    """The tag tuple is read off the ``DietaryTag`` type, so the two cannot drift apart."""
    assert get_args(DietaryTag) == DIETARY_TAGS
    from api.core.schemas import DietaryTag as ApiDietaryTag

    assert set(get_args(ApiDietaryTag)) == set(DIETARY_TAGS)
