"""The house's boundary rules, checked rather than hoped for (docs/architecture.md lists them).

The rules are read off the import graph of the source (``tests/importgraph.py``): every import
counts, at the top of a module, inside a function or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.importgraph import cycles, graph, modules, within

ROOT = Path(__file__).resolve().parent.parent


def test_matching_is_pure() -> None:
    """Importing the whole engine loads no web framework, ORM or api module."""
    code = (
        "import sys, matching.io, matching.geo, matching.engine, matching.candidates, "
        "matching.explain, matching.baseline, matching.report\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'api', 'starlette', 'uvicorn')]\n"
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == ""


def test_shipped_postcode_table_carries_attribution() -> None:
    """The OS-derived postcode table ships with its Open Government Licence attribution."""
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert "Contains OS data © Crown copyright and database right" in readme


GRAPH = graph()
MODULES = modules()
FEATURES = (
    "api.auth",
    "api.referrals",
    "api.offers",
    "api.sites",
    "api.match_runs",
    "api.scenarios",
    "api.record",
    "api.directory",
    "api.geo",
    "api.demo",
)
"""The service's feature packages: each holds its router, service and schemas."""


def _importers(target: str) -> set[str]:
    """The modules that import ``target`` or a module inside it."""
    return {
        name
        for name, imported in GRAPH.items()
        if not within(name, target) and any(within(m, target) for m in imported)
    }


def test_no_import_cycle() -> None:
    """No two modules of api/ or matching/ import each other, directly or through others."""
    assert cycles(GRAPH) == []


def test_no_module_over_600_lines() -> None:
    """Every module of api/ and matching/ stays small enough to read in one sitting."""
    large = {name: module.lines for name, module in MODULES.items() if module.lines > 600}
    assert large == {}


def test_api_has_few_top_level_modules() -> None:
    """api/ shows its layers and features as packages: at most eight modules at the top."""
    top = sorted(path.name for path in (ROOT / "api").glob("*.py"))
    assert len(top) <= 8, top


def test_matching_never_imports_api() -> None:
    """The engine and the planning package never import the service."""
    offenders = {
        n for n in GRAPH if within(n, "matching") and any(within(m, "api") for m in GRAPH[n])
    }
    assert offenders == set()


def test_core_imports_no_feature() -> None:
    """api.core is shared by every feature and imports none of them (only itself and matching)."""
    offenders = {
        name: sorted(m for m in imported if not within(m, "api.core") and not within(m, "matching"))
        for name, imported in GRAPH.items()
        if within(name, "api.core")
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_only_the_app_includes_the_pages() -> None:
    """Nothing outside api/web imports it, except the application that mounts it."""
    assert _importers("api.web") <= {"api.app"}


def test_routers_are_included_only_by_the_app() -> None:
    """Services never import a router; the application alone composes them."""
    routers = [name for name in MODULES if name.endswith(".router")]
    users = {router: _importers(router) - {"api.app"} for router in routers}
    assert {router: sorted(found) for router, found in users.items() if found} == {}


def test_nothing_imports_the_app_or_the_command_line() -> None:
    """The application and the command line sit on top: no feature imports them."""
    assert _importers("api.app") <= {"api.commands.server"} | {
        name for name in MODULES if within(name, "api.commands")
    }
    assert _importers("api.commands") <= {"api.cli"}
    assert _importers("api.cli") == set()


@pytest.mark.parametrize("feature", FEATURES)
def test_features_do_not_reach_into_the_pages_or_each_others_routers(feature: str) -> None:
    """A feature imports other features' services and schemas, never their routers or pages."""
    bad = {
        name: sorted(m for m in imported if within(m, "api.web") or m.endswith(".router"))
        for name, imported in GRAPH.items()
        if within(name, feature)
    }
    bad = {name: [m for m in found if not within(m, feature)] for name, found in bad.items()}
    assert {name: found for name, found in bad.items() if found} == {}


def test_routers_and_pages_make_no_queries() -> None:
    """Queries live in services and repositories: routers and pages only parse and call."""
    offenders = [
        name
        for name, module in MODULES.items()
        if (name.endswith(".router") or within(name, "api.web"))
        and any(
            token in module.path.read_text(encoding="utf-8")
            for token in ("select(", "session.execute(", "session.scalar")
        )
    ]
    assert offenders == []
