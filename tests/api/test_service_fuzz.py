"""Schemathesis over the whole schema, in-process and authenticated: zero failures allowed.

Every default check runs, with their default settings, and at least 100 examples per
operation. Two rules cannot be written in JSON Schema: a postcode's district must exist in the
offline table, and a capacity period must not end before it starts. Before each call the test
keeps generated bodies that are otherwise valid on the right side of those rules (a well-formed
postcode becomes a real one; a reversed period is put in order), so positive data stays
positive. Both rules have their own tests in tests/api/test_service_bad_input.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.config import Settings
from api.db import Database
from api.main import create_app
from api.schemas import POSTCODE_PATTERN
from api.tables import Role
from tests.api.conftest import TEST_SECRET, World, build_world
from tests.api.test_service_authorization import PUBLIC, RULES
from tests.conftest import BACKENDS, fresh_database

CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"generation": {"max-examples": 100}})
WELL_FORMED_POSTCODE = re.compile(POSTCODE_PATTERN.removeprefix("^").removesuffix("$"))
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PREFERENCE = (Role.CASEWORKER, Role.CHARITY, Role.PLANNER, Role.ADMIN, Role.FOI_OFFICER)
ORG_OF = {Role.CHARITY: "X"}


# One application object for schema loading; each test points it at its own fresh database.
APP = create_app(
    Settings(database_url="sqlite://", jwt_secret=TEST_SECRET, log_level="WARNING"),
    Database.from_url("sqlite://"),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


def _real_places_and_ordered_periods(body: object) -> object:
    """Keep valid-shaped bodies inside the two rules JSON Schema cannot state."""
    if not isinstance(body, dict):
        return body
    postcode = body.get("postcode")
    if isinstance(postcode, str) and WELL_FORMED_POSTCODE.fullmatch(postcode):
        body = {**body, "postcode": "LS9 7AB"}
    start, end = body.get("period_start"), body.get("period_end")
    if isinstance(start, str) and isinstance(end, str):
        if not (ISO_DATE.fullmatch(start) and ISO_DATE.fullmatch(end)):
            return body
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            return body
        first, last = min(first, last), max(first, last)
        if (last - first).days > 366:
            last = first
        body = {**body, "period_start": first.isoformat(), "period_end": last.isoformat()}
    return body


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    password_hash: str,
) -> Iterator[World]:
    """One seeded world per backend for the whole module, with the application pointed at it.

    Sharing it across operations keeps the run short; state left by one operation's examples
    is simply more data for the next.
    """
    with fresh_database(request.param, request, tmp_path_factory.mktemp("fuzz")) as url:
        settings = Settings(
            database_url=url,
            jwt_secret=TEST_SECRET,
            log_level="WARNING",
            match_time_limit_s=10,
            place_time_limit_s=5,
        )
        db = Database.from_url(url)
        world = build_world(db, settings, password_hash)
        previous = (APP.state.db, APP.state.settings)
        APP.state.db, APP.state.settings = db, settings
        try:
            yield world
        finally:
            APP.state.db, APP.state.settings = previous
            db.dispose()


def _headers(world: World, method: str, path: str) -> dict[str, str]:
    """Credentials of a role the operation admits (none for public operations)."""
    rule = RULES[(method, path)]
    if rule == PUBLIC:
        return {}
    assert isinstance(rule, frozenset)
    role = next(r for r in PREFERENCE if r in rule)
    return world.headers(ORG_OF.get(role, "A"), role)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_schema_holds_under_fuzzing(case: schemathesis.Case, fuzz_world: World) -> None:
    """Generated requests never break the schema's promises (all default checks)."""
    operation = case.operation
    case.body = _real_places_and_ordered_periods(case.body)
    if (operation.method.upper(), operation.path) not in RULES:
        pytest.skip("no authorization rule yet (test_every_operation_has_a_rule fails for it)")
    case.call_and_validate(headers=_headers(fuzz_world, operation.method.upper(), operation.path))
