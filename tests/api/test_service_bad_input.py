"""Bad input to every write endpoint: 422 problem+json naming the field, and nothing stored."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.db import Database
from api.tables import Base, Capacity, Role
from tests.api.conftest import World
from tests.api.test_service_authorization import PUBLIC, RULES, _body, _operations

WRITE = {"POST", "PUT", "PATCH", "DELETE"}
PREFERENCE = ("caseworker", "charity", "planner", "admin", "foi_officer")
OWN_ID = {
    "referral_id": "referral_a",
    "provider_id": "site_x",
    "offer_id": "offer_a",
    "run_id": "run_a",
    "key_id": "key_a",
}


def _snapshot(db: Database) -> dict[str, Any]:
    """Row counts of every table, and every capacity counter."""
    with db.read() as session:
        counts: dict[str, Any] = {
            name: session.scalar(select(func.count()).select_from(table))
            for name, table in Base.metadata.tables.items()
        }
        counts["booked"] = sorted(
            session.execute(
                select(Capacity.id, Capacity.parcels_booked, Capacity.people_booked)
            ).all()
        )
    return counts


def _wrong(value_schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A value of the wrong type for a property."""
    kinds = {s.get("type") for s in value_schema.get("anyOf", [value_schema])}
    if "$ref" in value_schema or "enum" in str(components.get("x", "")):
        return 12345
    if kinds & {"integer", "number"}:
        return "not a number"
    if "boolean" in kinds:
        return "maybe"
    if "array" in kinds:
        return {"not": "a list"}
    if "object" in kinds:
        return ["not", "an", "object"]
    return 12345


def _caller(world: World, method: str, path: str) -> dict[str, str]:
    rule = RULES[(method, path)]
    assert isinstance(rule, frozenset)
    role = next(r for r in sorted(rule, key=lambda r: PREFERENCE.index(r.value)))
    return world.headers("X" if role.value == "charity" else "A", role)


def _cases(app: Any, world: World) -> list[tuple[str, str, dict[str, Any] | None, str]]:
    """(method, url, json body, field that must be named) for every write operation."""
    schema = app.openapi()
    components = schema["components"]["schemas"]
    cases = []
    for (method, path), operation in sorted(_operations(schema).items()):
        if method not in WRITE or (method, path) not in RULES or RULES[(method, path)] == PUBLIC:
            continue
        params = re.findall(r"{(\w+)}", path)
        url = path
        for name in params:
            own = world.ids[OWN_ID[name]] if name in OWN_ID else 1  # validated before lookup
            url = url.replace(f"{{{name}}}", str(own))
        body = _body(schema, operation)
        for name in params:
            cases.append((method, path.replace(f"{{{name}}}", "0"), body, name))
        if body is None:
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]
        ref = next((s for s in ref.get("anyOf", []) if "$ref" in s), ref)
        properties = components[ref["$ref"].rsplit("/", 1)[1]]["properties"]
        for prop, prop_schema in properties.items():
            cases.append((method, url, {**body, prop: _wrong(prop_schema, components)}, prop))
        cases.append((method, url, {**body, "organisation_id": 2}, "organisation_id"))
    return cases


def test_every_write_endpoint_rejects_bad_input_naming_the_field(
    app, client: TestClient, world: World, db: Database
) -> None:
    """Each wrong-typed field, unknown field and bad path id -> 422 naming it; no change stored."""
    before = _snapshot(db)
    cases = _cases(app, world)
    assert len(cases) > 30
    for method, url, body, field in cases:
        template = next(
            p
            for (m, p) in RULES
            if m == method and re.fullmatch(re.sub(r"{\w+}", r"[^/]+", p), url)
        )
        response = client.request(method, url, json=body, headers=_caller(world, method, template))
        assert response.status_code == 422, (method, url, field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert field in {e["field"] for e in problem["errors"]}, (method, url, problem)
        assert field in problem["detail"]
    assert _snapshot(db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"postcode": "ZZ99 9ZZ"}, "postcode"),
        ({"postcode": "not a postcode"}, "postcode"),
        ({"household_size": 21}, "household_size"),
        ({"dietary": ["halal", "halal"]}, "dietary"),
        ({"dietary": ["chocolate"]}, "dietary.0"),
        ({"max_travel_km": 0}, "max_travel_km"),
        ({"name": "nul\x00byte"}, "name"),
    ],
)
def test_referral_rules_beyond_types(
    client: TestClient, world: World, db: Database, body: dict[str, Any], field: str
) -> None:
    """Referral values of the right type but outside the rules are refused, naming the field."""
    valid = {
        "household_size": 2,
        "urgency": "urgent",
        "postcode": "LS9 7AB",
        "consent_to_share": True,
    }
    before = _snapshot(db)
    response = client.post(
        "/referrals", json={**valid, **body}, headers=world.headers("A", Role.CASEWORKER)
    )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert _snapshot(db) == before


def test_capacity_period_must_not_end_before_it_starts(
    client: TestClient, world: World, db: Database
) -> None:
    """A capacity period ending before it starts is refused, naming period_end."""
    before = _snapshot(db)
    response = client.put(
        f"/providers/{world.ids['site_x']}/capacity",
        json={"period_start": "2026-03-10", "period_end": "2026-03-01", "parcels": 5},
        headers=world.headers("X", Role.CHARITY),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["period_end"]
    assert _snapshot(db) == before
