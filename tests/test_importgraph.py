"""The import-graph reader that the boundary rules stand on sees what it must."""

from __future__ import annotations

from pathlib import Path

from tests.importgraph import cycles, graph, modules


def test_reader_sees_every_module() -> None:
    """The graph covers both packages, their subpackages and the package files themselves."""
    edges = graph()
    for name in ("matching.io", "matching.engine.solve", "matching.scenarios.runner", "api.app"):
        assert name in edges
    assert "api.core" in edges  # a package's __init__ is a module too


def test_cycle_search_finds_a_planted_loop() -> None:
    """A two-module loop is reported; a chain and a self-contained module are not."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_edges_land_on_modules() -> None:
    """``from pkg import name`` lands on the module ``pkg.name``, else on ``pkg``."""
    edges = graph()
    assert "matching.engine.highs" in edges["matching.engine.staged"]
    known = set(edges)
    assert all(target in known for targets in edges.values() for target in targets)


def test_deferred_and_relative_imports_count(tmp_path: Path) -> None:
    """Imports under ``if TYPE_CHECKING:``, inside functions and relative ones are all seen."""
    package = tmp_path / "matching"
    package.mkdir()
    for name in ("__init__", "b", "c", "d", "e"):
        (package / f"{name}.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from matching.b import Thing\n"
        "def later() -> None:\n"
        "    import matching.c\n"
        "    from . import d\n"
        "    from .e import run\n",
        encoding="utf-8",
    )
    edges = graph(modules(tmp_path, ["matching"]))
    assert edges["matching.a"] >= {"matching.b", "matching.c", "matching.d", "matching.e"}
