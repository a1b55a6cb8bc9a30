"""The public ORUK 3.0 API: official schemata, HSDS 3.1 capacities, paging, CORS, ids, search."""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from api.core.db import Database
from api.core.vocabulary import Role
from api.directory import ids
from api.directory.vocabulary import vocabulary
from matching.models import DIETARY_TAGS
from tests.api.conftest import World
from tests.api.directory.conftest import (
    HOUSEHOLD_NAMES,
    HOUSEHOLD_PHONES,
    HOUSEHOLD_POSTCODES,
    Published,
    add_native_site,
)
from tests.api.directory.helpers import ident, schema_errors, spec_dir

LIST_PATHS = (
    "/oruk/services",
    "/oruk/service_at_locations",
    "/oruk/taxonomies",
    "/oruk/taxonomy_terms",
)


def _openapi() -> dict[str, Any]:
    return json.loads((spec_dir() / "oruk-3.0" / "openapi.json").read_text(encoding="utf-8"))


def _page_errors(body: Any) -> list[str]:
    """Errors of a list response against the official OpenAPI ``Page`` envelope."""
    page = _openapi()["components"]["schemas"]["Page"]
    schema = {**page, "required": [*page["properties"], "contents"]}
    schema["properties"] = {**page["properties"], "contents": {"type": "array"}}
    return [e.message for e in Draft202012Validator(schema).iter_errors(body)]


def _all_pages(client: TestClient, path: str, per_page: int = 1) -> list[dict[str, Any]]:
    pages, number = [], 1
    while True:
        response = client.get(path, params={"page": number, "per_page": per_page})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if response.json()["last_page"]:
            return pages
        number += 1


def walk(client: TestClient) -> list[tuple[str, Any]]:
    """Every published response: the root, every page of every list, every object by id."""
    seen: list[tuple[str, Any]] = [("/oruk/", client.get("/oruk/").json())]
    for path in LIST_PATHS:
        for page in _all_pages(client, path):
            seen.append((path, page))
            for item in page["contents"]:
                one = client.get(f"{path}/{item['id']}")
                assert one.status_code == 200, (path, one.text)
                seen.append((f"{path}/{item['id']}", one.json()))
    near = client.get(
        "/oruk/service_at_locations", params={"postcode": "LS9 7AB", "proximity": 9000}
    )
    seen.append(("/oruk/service_at_locations?postcode", near.json()))
    return seen


def _capacity_errors(service: dict[str, Any]) -> list[str]:
    errors = []
    for capacity in service.get("capacities", []):
        errors += schema_errors("hsds", "service_capacity.json", capacity)
        try:  # jsonschema asserts date-time only with an extra package: check it here
            datetime.fromisoformat(capacity["updated"])
        except ValueError:
            errors.append(f"updated: {capacity['updated']!r} is not an RFC 3339 date-time")
    return errors


def test_every_published_object_validates_against_the_official_schemata(
    client: TestClient, published: Published
) -> None:
    """Every service, service at location, organisation, location, taxonomy and term the API
    publishes is valid ORUK 3.0 (official files, their own $refs), every capacity valid HSDS 3.1
    service_capacity, and every list a valid ORUK page."""
    checked: dict[str, int] = {}
    failures: list[str] = []
    root_schema = _openapi()["paths"]["/"]["get"]["responses"]["200"]["content"]
    for path, body in walk(client):
        if path == "/oruk/":
            errors = [
                e.message
                for e in Draft202012Validator(
                    root_schema["application/json"]["schema"]
                ).iter_errors(body)
            ]
            assert body["version"] == "HSDS-UK-3.0"
            failures += [f"{path}: {e}" for e in errors]
            continue
        items = body.get("contents", [body])
        if "contents" in body:
            failures += [f"{path} page: {e}" for e in _page_errors(body)]
        kind = path.split("?")[0].split("/")[2]
        for item in items:
            if kind == "services":
                errors = schema_errors("oruk", "service.json", item) + _capacity_errors(item)
                errors += [
                    e
                    for link in item["service_at_locations"]
                    for e in schema_errors("oruk", "service_at_location.json", link)
                ]
            elif kind == "service_at_locations":
                errors = schema_errors("oruk", "service_at_location.json", item)
                errors += schema_errors("oruk", "service.json", item["service"])
                errors += _capacity_errors(item["service"])
                errors += schema_errors("oruk", "location.json", item["location"])
                errors += schema_errors(
                    "oruk", "organization.json", item["service"]["organization"]
                )
            elif kind == "taxonomies":
                errors = schema_errors("oruk", "taxonomy.json", item)
            else:
                errors = schema_errors("oruk", "taxonomy_term.json", item)
            checked[kind] = checked.get(kind, 0) + 1
            failures += [f"{path} {item.get('id')}: {e}" for e in errors]
    assert failures == []
    # 5 sites: X, Y, the native pair, the two-location import (one service) -> 5 services, 6 sites
    assert checked["services"] == 2 * 5 and checked["service_at_locations"] >= 2 * 6
    assert checked["taxonomy_terms"] == 2 * len(vocabulary().terms)


def test_capacities_are_food_parcels_free_now_and_the_periods_figure(
    client: TestClient, published: Published
) -> None:
    """A site with 10 parcels this week and one place offered publishes available 9, maximum 10,
    unit "food parcels"; a site without a figure publishes no capacity."""
    world = published.world
    services = client.get("/oruk/services", params={"per_page": 100}).json()["contents"]
    by_name = {s["name"]: s for s in services}
    site_x = by_name["Site X"]["capacities"]
    assert [(c["available"], c["maximum"], c["unit"]["name"]) for c in site_x] == [
        (9, 10, "food parcels")
    ]
    assert by_name["Headingley Larder"]["capacities"] == []
    # the offer made for the seeded referral moved `updated` to when it last changed
    assert site_x[0]["updated"].endswith("Z")
    assert world.ids["offer_a"]


def test_paging_follows_the_oruk_envelope_and_refuses_bad_values(
    client: TestClient, published: Published
) -> None:
    """per_page pages through every service once; past the end is an empty page; page 0,
    per_page 0 or 101, and non-numbers are 422 problems, never server errors."""
    pages = _all_pages(client, "/oruk/services", per_page=2)
    ids_seen = [s["id"] for p in pages for s in p["contents"]]
    assert len(ids_seen) == len(set(ids_seen)) == pages[0]["total_items"] == 5
    assert [p["page_number"] for p in pages] == [1, 2, 3] and pages[0]["total_pages"] == 3
    assert pages[0]["first_page"] and not pages[0]["last_page"] and pages[-1]["last_page"]
    beyond = client.get("/oruk/services", params={"page": 9, "per_page": 2}).json()
    assert beyond["empty"] and beyond["contents"] == [] and beyond["last_page"]
    for params in (
        {"page": 0},
        {"per_page": 0},
        {"per_page": 101},
        {"page": "x"},
        {"per_page": "1.5"},
    ):
        response = client.get("/oruk/service_at_locations", params=params)
        assert response.status_code == 422, (params, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["location"] == "query"


def test_cors_is_open_on_oruk_routes_only(client: TestClient, published: Published) -> None:
    """/oruk responses carry Access-Control-Allow-Origin: * with or without an Origin (and
    preflights are answered); the signed-in API's responses carry none."""
    plain = client.get("/oruk/services")
    with_origin = client.get("/oruk/services", headers={"Origin": "https://elsewhere.example"})
    missing = client.get(f"/oruk/services/{uuid.uuid4()}")
    preflight = client.options(
        "/oruk/service_at_locations",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    for response in (plain, with_origin, missing, preflight):
        assert response.headers.get("access-control-allow-origin") == "*"
    assert (
        preflight.status_code == 200 and "GET" in preflight.headers["access-control-allow-methods"]
    )
    headers = {"Origin": "https://elsewhere.example", **published.world.headers("X", Role.CHARITY)}
    for path in ("/providers", "/healthz", "/directory/imports"):
        assert "access-control-allow-origin" not in client.get(path, headers=headers).headers


def test_ids_are_stable_and_imported_objects_keep_their_oruk_ids(
    client: TestClient, db: Database, published: Published
) -> None:
    """Two reads publish the same ids; the imported service, its locations, organisation and
    schedule keep their ORUK ids; a site made here is published under its installation UUID."""
    first = client.get("/oruk/services", params={"per_page": 100}).json()["contents"]
    again = client.get("/oruk/services", params={"per_page": 100}).json()["contents"]
    assert first == again
    imported = next(s for s in first if s["id"] == ident("service:harehills"))
    assert imported["organization"]["id"] == ident("org:Harehills Community Pantry")
    assert {link["id"] for link in imported["service_at_locations"]} == {
        ident("sal:harehills:north"),
        ident("sal:harehills:south"),
    }
    assert {link["location"]["id"] for link in imported["service_at_locations"]} == {
        ident("location:harehills:north"),
        ident("location:harehills:south"),
    }
    assert [s["id"] for s in imported["schedules"]] == [ident("schedule:harehills")]
    with db.read() as session:
        space = ids.namespace(session)
    native = next(s for s in first if s["name"] == "Armley Pantry")
    assert uuid.UUID(native["id"]).version == 8
    assert ids.decode(space, uuid.UUID(native["id"]), ids.Kind.SERVICE) == published.sites["native"]
    assert ids.decode(uuid.uuid4(), uuid.UUID(native["id"]), ids.Kind.SERVICE) is None
    assert client.get(f"/oruk/services/{native['id']}").json() == native
    every_id = [s["id"] for s in first] + [
        link["id"] for s in first for link in s["service_at_locations"]
    ]
    assert len(every_id) == len(set(every_id))


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres, by hand (mean Earth radius 6371.0088 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088e3 * math.asin(math.sqrt(a))


def test_proximity_search_keeps_sites_within_the_distance_nearest_first(
    client: TestClient, db: Database, world: World
) -> None:
    """From LS9's centre (53.796771, -1.50574) a site in LS9 is 0 m away, one in LS7 ~3.4 km
    and one in LS28 ~10.9 km (haversine by hand): 4 km keeps the first two in that order,
    20 km all three; a site whose service area is BD only is never listed for LS9."""
    centre = (53.796771, -1.50574)
    far = add_native_site(db, world.orgs["X"], "Pudsey Pantry", "LS28", parcels=3)
    near = add_native_site(db, world.orgs["X"], "Chapeltown Pantry", "LS7", parcels=3)
    add_native_site(db, world.orgs["X"], "Bradford Only", "LS9", parcels=3, service_area="BD")
    expected = {
        "Site X": 0.0,
        "Site Y": 0.0,
        "Chapeltown Pantry": _haversine_m(*centre, 53.819271, -1.543001),
        "Pudsey Pantry": _haversine_m(*centre, 53.806574, -1.671105),
    }
    assert (
        3_300 < expected["Chapeltown Pantry"] < 3_500
        and 10_800 < expected["Pudsey Pantry"] < 11_000
    )

    def names(proximity: float | None) -> list[str]:
        params: dict[str, object] = {"postcode": "ls9 7ab", "per_page": 100}
        if proximity is not None:
            params["proximity"] = proximity
        body = client.get("/oruk/service_at_locations", params=params).json()
        for item in body["contents"]:
            location = item["location"]
            measured = _haversine_m(*centre, location["latitude"], location["longitude"])
            assert math.isclose(measured, expected[item["service"]["name"]], abs_tol=0.01)
        return [item["service"]["name"] for item in body["contents"]]

    assert names(4_000) == ["Site X", "Site Y", "Chapeltown Pantry"]
    assert names(expected["Chapeltown Pantry"] - 1) == ["Site X", "Site Y"]
    assert names(20_000) == ["Site X", "Site Y", "Chapeltown Pantry", "Pudsey Pantry"]
    assert names(None) == names(20_000)
    assert far and near
    unknown = client.get("/oruk/service_at_locations", params={"postcode": "ZZ9 9ZZ"})
    alone = client.get("/oruk/service_at_locations", params={"proximity": 500})
    assert unknown.status_code == 422 and "postcode" in unknown.json()["detail"]
    assert alone.status_code == 422 and "postcode" in alone.json()["detail"]


def test_taxonomy_terms_are_the_food_support_vocabulary_with_every_dietary_tag(
    client: TestClient, published: Published
) -> None:
    """The published terms cover food parcels, delivery and exactly the engine's dietary tags;
    filtering by a term's id lists only the sites carrying it."""
    terms = client.get("/oruk/taxonomy_terms", params={"per_page": 100}).json()["contents"]
    parent = next(t for t in terms if t["term"] == "dietary_needs")
    dietary = [t["term"] for t in terms if t.get("parent_id") == parent["id"]]
    assert dietary == list(DIETARY_TAGS)
    assert {"food_parcel", "food_delivery"} <= {t["term"] for t in terms}
    taxonomy = client.get("/oruk/taxonomies").json()["contents"][0]
    nested = client.get(f"/oruk/taxonomies/{taxonomy['id']}").json()["taxonomy_terms"]
    assert [t["id"] for t in nested] == [t["id"] for t in terms]
    halal = next(t["id"] for t in terms if t["term"] == "halal")
    gluten = next(t["id"] for t in terms if t["term"] == "gluten_free")
    sites = client.get(
        "/oruk/service_at_locations", params={"taxonomy_term_id": halal, "per_page": 100}
    )
    # Site X and Y list halal this week; both imported sites were tagged halal by the feed
    assert sorted(i["service"]["name"] for i in sites.json()["contents"]) == [
        "Harehills Food Bank",
        "Harehills Food Bank",
        "Site X",
        "Site Y",
    ]
    services = client.get("/oruk/services", params={"taxonomy_term_id": gluten}).json()
    assert [s["name"] for s in services["contents"]] == ["Armley Pantry"]


def test_no_household_data_on_any_published_endpoint(
    client: TestClient, published: Published
) -> None:
    """With referrals, offers and personal data seeded, no page or object of the ORUK API holds
    a household's name, phone, address or postcode, nor the directory's staff contacts."""
    text = json.dumps(walk(client)).lower()
    canaries = [*HOUSEHOLD_NAMES, *HOUSEHOLD_PHONES, *HOUSEHOLD_POSTCODES, "Canary Row"]
    canaries += [HOUSEHOLD_PHONES[0].replace(" ", ""), "Ann Persona", "volunteer@example.org"]
    found = [c for c in canaries if c.lower() in text]
    assert found == []
    assert "harehills food bank" in text and "ls9 6bb" in text  # the feed itself is there
