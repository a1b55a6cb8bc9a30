"""Schemathesis over the whole schema, in-process and authenticated: zero failures allowed.

Every default check runs, with their default settings, and at least 100 examples per
operation, positive-data acceptance included (a request the schema calls valid must not be
refused with 400 or 422). What the schema can state, it states: a postcode's pattern lists the
districts of the offline table, so a well-formed postcode of an unknown district is invalid
data, generated and refused as such. Three rules cannot be written in JSON Schema, and each
field's description says so: a capacity period, or a search or export's date range, must not
end before it starts (a rule between two fields); an FOI request cannot have been received
after today (a rule that moves with the calendar). Before each call the test keeps generated
requests that are otherwise valid on the right side of those rules only (a reversed period or
range is put in order; a date of receipt after today becomes today), so positive data stays
positive. A what-if request has more such rules
(unique scenario names, ``combine`` naming another scenario without a loop, site ids of the
base, CSV text that parses): its scenarios are renamed, combined only with earlier ones, pointed
at the seeded sites, and uploaded CSVs become a small valid pair. A directory query's well-formed
postcode becomes a real one (and a ``proximity`` gets one), and a directory upload's file a small
valid ORUK feed. Each rule has its own test, in tests/api/core/test_bad_input.py,
tests/api/record/test_foi_api.py, tests/api/scenarios/test_api.py and tests/api/directory.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from api.core import clock
from api.core.config import Settings
from api.core.db import Database
from api.core.schemas import POSTCODE_PATTERN
from api.core.vocabulary import Role
from api.web.planner import RUNS
from tests.api.auth.test_authorization import PUBLIC, RULES
from tests.api.conftest import TEST_SECRET, World, build_world
from tests.conftest import BACKENDS, fresh_database

WELL_FORMED_POSTCODE = re.compile(POSTCODE_PATTERN.removeprefix("^").removesuffix("$"))
"""A postcode's shape; the directory's query parameter checks only that."""

CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"generation": {"max-examples": 100}})
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PREFERENCE = (Role.CASEWORKER, Role.CHARITY, Role.PLANNER, Role.ADMIN, Role.FOI_OFFICER)
ORG_OF = {Role.CHARITY: "X"}


# One application object for schema loading; each test points it at its own fresh database.
APP = create_app(
    Settings(database_url="sqlite://", jwt_secret=TEST_SECRET, log_level="WARNING"),
    Database.from_url("sqlite://"),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


def _iso_date(value: object) -> date | None:
    """The date a generated value spells as ``YYYY-MM-DD``, or None for anything else."""
    if not (isinstance(value, str) and ISO_DATE.fullmatch(value)):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _ordered_range(values: dict[str, object], first: str, last: str) -> dict[str, object]:
    """Put a well-formed reversed date range (``first`` after ``last``) in order."""
    start, end = _iso_date(values.get(first)), _iso_date(values.get(last))
    if start is None or end is None or start <= end:
        return values
    return {**values, first: end.isoformat(), last: start.isoformat()}


def _real_places_and_ordered_periods(body: object) -> object:
    """Keep valid-shaped bodies inside the rules JSON Schema cannot state (dates, limits)."""
    if not isinstance(body, dict):
        return body
    first, last = _iso_date(body.get("period_start")), _iso_date(body.get("period_end"))
    if first is not None and last is not None:
        first, last = min(first, last), max(first, last)
        if (last - first).days > 366:
            last = first
        body = {**body, "period_start": first.isoformat(), "period_end": last.isoformat()}
    body = _ordered_range(body, "date_from", "date_to")
    body = _within_parcels(body)
    week = _iso_date(body.get("week_start"))
    if week is not None:  # a Monday from this week on, at most a year ahead
        this_monday = clock.current_week()[0]
        ahead = max(0, min((week - this_monday).days // 7, 52))
        body = {**body, "week_start": (this_monday + timedelta(weeks=ahead)).isoformat()}
    received = _iso_date(body.get("received_on"))
    today = clock.today()
    if received is not None and received > today:
        body = {**body, "received_on": today.isoformat()}
    return body


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _within_parcels(body: dict[str, object]) -> dict[str, object]:
    """A capacity's deliveries and dietary limits at most its parcels (a rule between fields)."""
    parcels = body.get("parcels")
    if not _number(parcels):
        return body
    assert isinstance(parcels, int | float)
    delivery = body.get("delivery")
    if _number(delivery) and delivery > parcels:  # type: ignore[operator]
        body = {**body, "delivery": parcels}
    dietary = body.get("dietary")
    if isinstance(dietary, dict):
        capped = {k: min(v, parcels) if _number(v) else v for k, v in dietary.items()}
        body = {**body, "dietary": capped}
    return body


def _real_query_postcode(query: dict[str, object]) -> dict[str, object]:
    """A well-formed postcode in a query becomes a real one; a proximity comes with one."""
    postcode = query.get("postcode")
    if isinstance(postcode, str) and WELL_FORMED_POSTCODE.fullmatch(postcode):
        query = {**query, "postcode": "LS9 7AB"}
    if "proximity" in query and "postcode" not in query:
        query = {**query, "postcode": "LS9 7AB"}
    return query


FEED = json.dumps(
    {
        "id": "5b0e6a4e-6f7d-4c53-9a55-1f4f0e7e2a10",
        "name": "Fuzz Food Bank",
        "status": "active",
        "organization": {
            "id": "0d5c3b52-8e1f-4a6e-b0c2-7d9b2f4e6a11",
            "name": "Fuzz Food Charity",
            "description": "Runs the fuzzed food bank.",
        },
        "service_at_locations": [
            {
                "id": "8a7d7c1e-3c5b-4e0f-9a2d-6b1e5f4c3a12",
                "location": {
                    "id": "2c4e6a8b-1d3f-4a5c-8e7b-9d0f1a2b3c13",
                    "location_type": "physical",
                    "latitude": 53.7968,
                    "longitude": -1.5057,
                },
            }
        ],
    }
)
"""A small valid ORUK service: what a well-formed directory upload becomes (as text, so the
case still matches the schema's string file)."""


def _site_ids(table: object, key: str, site: str) -> None:
    """Point a well-formed list of provider ids at one real site."""
    if isinstance(table, dict) and isinstance(table.get(key), list) and table[key]:
        table[key] = [site]


def _runnable_scenarios(body: object, world: World) -> object:
    """Keep a well-formed what-if request inside the rules JSON Schema cannot state."""
    if not isinstance(body, dict) or not isinstance(body.get("scenario"), list):
        return body
    body = copy.deepcopy(body)
    closed, kept = str(world.ids["site_y"]), str(world.ids["site_x"])
    base = body.get("base")
    if isinstance(base, dict) and isinstance(base.get("referrals_csv"), str):
        base["referrals_csv"] = "referral_id,postcode,household_size,urgency\nR1,LS9 7AB,2,urgent\n"
    if isinstance(base, dict) and isinstance(base.get("providers_csv"), str):
        base["providers_csv"] = (
            f"provider_id,name,postcode,capacity\n{kept},Kept,LS9 6NP,3\n"
            f"{closed},Closed,LS9 6NP,1\n"
        )
    names: list[str] = []
    for index, scenario in enumerate(body["scenario"]):
        if not isinstance(scenario, dict):
            continue
        name = f"s{index}"
        if isinstance(scenario.get("name"), str):
            scenario["name"] = name
        if isinstance(scenario.get("combine"), list):
            scenario["combine"] = [names[i % len(names)] for i in range(len(names) and 1)]
        names.append(name)
        _site_ids(scenario, "close", closed)
        if scenario.get("combine") and isinstance(scenario.get("close"), list):
            scenario["close"] = []  # what it combines may have closed the site already
        for key, site_key in (("capacity", "providers"), ("delivery", "providers"), ("open", "")):
            tables = scenario.get(key)
            for number, table in enumerate(tables if isinstance(tables, list) else [tables]):
                if not isinstance(table, dict):
                    continue
                if site_key:
                    _site_ids(table, site_key, kept)
                    continue
                if isinstance(table.get("postcode"), str):
                    table["postcode"] = "LS9 7AB"
                table["provider_id"] = f"new-{index}-{number}"
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
    if (operation.method.upper(), operation.path) == ("POST", "/scenarios"):
        case.body = _runnable_scenarios(case.body, fuzz_world)
    if isinstance(case.query, dict):
        case.query = _real_query_postcode(_ordered_range(case.query, "date_from", "date_to"))
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if operation.path == "/directory/imports" and positive and isinstance(case.body, dict):
        case.body = {**case.body, "file": FEED}  # any bytes are "valid"; only a feed parses
    if (operation.method.upper(), operation.path) not in RULES:
        pytest.skip("no authorization rule yet (test_every_operation_has_a_rule fails for it)")
    case.call_and_validate(headers=_headers(fuzz_world, operation.method.upper(), operation.path))
    # A what-if run goes on in the background: let it finish here, so runs do not pile up and
    # slow the operations fuzzed after this one (they share the process and its database).
    assert RUNS.wait_idle(120)
