"""Bad input to every write endpoint: 422 problem+json naming the field, and nothing stored."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.core.db import Database
from api.core.headers import SECURITY_HEADERS
from api.core.tables import Base, Capacity
from api.core.vocabulary import Role
from tests.api.auth.test_authorization import PUBLIC, RULES, _body, _operations
from tests.api.conftest import World

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


# --- hostile values in addresses and forms: never a 5xx ------------------------------------

HOSTILE = (
    "99999999999999999999",  # past 64 bits: OverflowError in the SQLite driver
    "9223372036854775808",  # 2**63
    "2147483648",  # 2**31: past PostgreSQL's integer
    "²",  # str.isdigit() is true, int() fails
    "٣",  # Arabic-Indic three: int() takes it
    "１",  # full-width one
    "-1",
    "0",
    "1e3",
    " 1",
    "NaN",
    "1.5",
    "0x10",
    "\x00",
    "x" * 5000,
)
"""Values a visitor can type into an address or a form field."""

PAGE_USERS = {
    "/app/caseworker": ("A", Role.CASEWORKER),
    "/app/charity": ("X", Role.CHARITY),
    "/app/planner": ("A", Role.PLANNER),
    "/app/foi": ("A", Role.FOI_OFFICER),
    "/app/admin": ("A", Role.ADMIN),
}
PAGE_IDS = {"referral_id": "referral_a", "offer_id": "offer_a", "site_id": "site_x"}
HOSTILE_QUERY = ("²", "99999999999999999999", "\x00", "x" * 5000)
"""The hostile values tried in every query parameter of every page (kept few: there are many)."""
PAGE_QUERY = (
    "page", "status", "kind", "map", "request", "q", "done", "next", "from-day", "to-year",
)  # fmt: skip
PAGE_FORM = (
    "base", "change", "consent", "delivery", "dietary", "email", "foi_request_id",
    "household_size", "idempotency_key", "keywords", "max_travel_km", "message", "name",
    "note", "notes", "outcome", "parcels", "password", "people", "phone", "postcode", "reason",
    "reference", "referral_id", "scenarios", "seconds", "source", "summary", "urgency",
    "cap_halal", "received-day", "received-month", "received-year", "from-day", "from-month",
    "from-year", "to-day", "to-month", "to-year", "key_name", "key_role", "active",
    "role", "new_name", "new_email", "new_role", "new_password", "reset_user", "reset_password",
)  # fmt: skip


def _page_routes() -> list[tuple[str, str]]:
    """(method, path template) of every page route."""
    from api.web.router import WebRoute, router

    return sorted(
        (method, route.path)
        for route in router.routes
        if isinstance(route, WebRoute)
        for method in route.methods
        if method in {"GET", "POST"}
    )


def _page_session(world: World, path: str) -> tuple[dict[str, str], str]:
    """Cookies of a user allowed on ``path`` (none for the open pages), and its CSRF token."""
    import jwt

    from api.web.security import SESSION_COOKIE, new_session

    for prefix, (org, role) in PAGE_USERS.items():
        if path.startswith(prefix):
            session = new_session(world.users[(org, role)], world.settings)
            csrf = jwt.decode(session, options={"verify_signature": False})["csrf"]
            return {SESSION_COOKIE: session}, csrf
    return {}, ""


def _fill(template: str, world: World, hostile: str | None = None, name: str = "") -> str:
    """The path with own ids (or a placeholder), and ``hostile`` in parameter ``name``."""
    from urllib.parse import quote

    def value(match: re.Match[str]) -> str:
        param = match.group(1)
        if param == name and hostile is not None:
            return quote(hostile, safe="")
        if param in PAGE_IDS:
            return str(world.ids[PAGE_IDS[param]])
        return {"run_id": "0" * 32, "name": "app.css"}.get(param, "1")

    return re.sub(r"{(\w+)}", value, template)


def _assert_answered(response: Any, where: str) -> None:
    """Not a server error; an error is a page with the pages' security headers."""
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("text/html"), where
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (where, name)


@pytest.mark.slow
def test_pages_answer_hostile_ids_queries_and_forms_without_server_errors(
    app, client: TestClient, world: World
) -> None:
    """Every page route, given hostile path ids, query values and form fields: a 4xx page with
    the security headers (or the page itself), never a 5xx."""
    routes = _page_routes()
    assert len(routes) > 25
    calls = 0
    for method, template in routes:
        cookies, csrf = _page_session(world, template)
        client.cookies.clear()
        for key, cookie in cookies.items():
            client.cookies.set(key, cookie, path="/app")
        for name in re.findall(r"{(\w+)}", template):
            for hostile in HOSTILE:
                url = _fill(template, world, hostile, name)
                data = {"csrf_token": csrf} if method == "POST" else None
                response = client.request(method, url, data=data, follow_redirects=False)
                _assert_answered(response, f"{method} {template} {name}={hostile[:20]!r}")
                if name != "name":  # /app/static/{name}: a file name, not an id
                    assert response.status_code == 404, (template, name, hostile[:20])
                calls += 1
        url = _fill(template, world)
        for hostile in HOSTILE:
            if method == "GET" and hostile in HOSTILE_QUERY:
                for param in PAGE_QUERY:
                    response = client.get(url, params={param: hostile}, follow_redirects=False)
                    _assert_answered(response, f"GET {template}?{param}={hostile[:20]!r}")
                    calls += 1
            elif method == "POST":
                form = {field: hostile for field in PAGE_FORM} | {"csrf_token": csrf}
                response = client.post(url, data=form, follow_redirects=False)
                _assert_answered(response, f"POST {template} form={hostile[:20]!r}")
                calls += 1
    client.cookies.clear()
    assert calls > 900


def test_page_numbers_and_filters_outside_their_rules_are_a_400_page(
    client: TestClient, world: World
) -> None:
    """A page number that is not a whole number from 1, or an unknown filter, is a 400 page
    that says which value is wrong; a page id past any table's ids is a 404 page."""
    cookies, _ = _page_session(world, "/app/caseworker")
    for key, cookie in cookies.items():
        client.cookies.set(key, cookie, path="/app")
    for query in ("page=²", "page=0", "page=-1", "page=1e3", "page=99999999999999999999"):
        response = client.get(f"/app/caseworker/referrals?{query}")
        assert response.status_code == 400, query
        assert "page" in response.text
    response = client.get("/app/caseworker/referrals?status=lost")
    assert response.status_code == 400
    assert "status must be one of" in response.text
    for referral in ("99999999999999999999", "2147483648", "²", "0"):
        response = client.get(f"/app/caseworker/referrals/{referral}")
        assert response.status_code == 404, referral
        assert "Page not found" in response.text
    assert client.get("/app/caseworker/referrals?page=1&status=open").status_code == 200
    own = world.ids["referral_a"]
    assert client.get(f"/app/caseworker/referrals/{own}").status_code == 200


API_IDS = {**OWN_ID, "thread_id": None, "export_id": None, "request_id": None}
API_QUERY_INTEGERS = ("page", "size", "organisation_id", "referral_id")


def test_api_answers_hostile_ids_and_page_numbers_with_422_never_5xx(
    app, client: TestClient, world: World, db: Database
) -> None:
    """Every API operation with a path id or a page/size/id query value, given hostile values:
    422 problem+json with the security headers (never a 5xx), and nothing changes."""
    from urllib.parse import quote

    schema = app.openapi()
    before = _snapshot(db)
    calls = 0
    for (method, path), operation in sorted(_operations(schema).items()):
        rule = RULES[(method, path)]
        if rule == PUBLIC:
            continue
        headers = _caller(world, method, path)
        params = re.findall(r"{(\w+)}", path)
        text_ids = {
            p["name"]
            for p in operation.get("parameters", [])
            if p["in"] == "path" and p["schema"].get("type") == "string"
        }
        queries = [
            p["name"]
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p["name"] in API_QUERY_INTEGERS
        ]
        body = _body(schema, operation)
        for hostile in HOSTILE:
            if hostile in {" 1"}:  # a valid id once the space is trimmed
                continue
            for name in params:
                url = path
                for other in params:
                    own = API_IDS.get(other)
                    fill = quote(hostile, safe="") if other == name else own
                    url = url.replace(
                        f"{{{other}}}",
                        fill if other == name else str(world.ids[own] if own else "1"),
                    )
                response = client.request(method, url, json=body, headers=headers)
                expected = {404, 422} if name in text_ids else {422}  # a well-formed unknown id
                assert response.status_code in expected, (method, path, name, hostile[:20])
                assert (
                    response.headers["content-security-policy"]
                    == (SECURITY_HEADERS["Content-Security-Policy"])
                )
                calls += 1
            if method != "GET":
                continue
            url = re.sub(
                r"{(\w+)}",
                lambda m: str(world.ids[API_IDS[m.group(1)]] if API_IDS.get(m.group(1)) else 1),
                path,
            )
            for name in queries:
                response = client.get(url, params={name: hostile}, headers=headers)
                assert response.status_code == 422, (path, name, hostile[:20], response.text)
                calls += 1
    assert calls > 300
    assert _snapshot(db) == before


@pytest.mark.parametrize(
    ("postcode", "known"),
    [
        ("LS9 7AB", True),
        ("ls97ab", True),
        ("LS9", True),
        ("W1A 1AA", True),
        ("ZZ99 9ZZ", False),  # well formed, no such district
        ("AA00 0AA", False),
        ("LS9 ", False),  # a space with nothing after it
        ("LS97", False),
    ],
)
def test_schema_postcode_pattern_and_service_agree(
    app, client: TestClient, world: World, postcode: str, known: bool
) -> None:
    """The OpenAPI pattern of a referral's postcode lists the table's districts: a postcode
    matches it exactly when the service accepts it (201), else the service answers 422."""
    schema = app.openapi()["components"]["schemas"]["ReferralCreate"]["properties"]["postcode"]
    assert bool(re.search(schema["pattern"], postcode)) is known
    body = {
        "household_size": 2,
        "urgency": "urgent",
        "postcode": postcode,
        "consent_to_share": True,
    }
    response = client.post("/referrals", json=body, headers=world.headers("A", Role.CASEWORKER))
    assert response.status_code == (201 if known else 422), response.text
