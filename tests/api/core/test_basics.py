"""Health, request ids, problem bodies, pagination and the OpenAPI description."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.core.vocabulary import Role
from tests.api.conftest import World, add_referral


def test_health_and_readiness(client: TestClient) -> None:
    """/healthz answers without the database; /readyz confirms the database answers."""
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready == {"status": "ok", "checks": {"database": "ok"}}


def test_request_id_is_echoed_and_quoted_in_problems(client: TestClient) -> None:
    """A client's X-Request-ID comes back in the header and in the problem body."""
    response = client.get("/referrals", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "trace-123"
    assert response.json()["request_id"] == "trace-123"
    fresh = client.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 32


def test_unknown_paths_and_methods_are_problems(client: TestClient) -> None:
    """404 and 405 are problem+json; 405 lists every method the path supports."""
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = client.delete("/referrals")
    assert wrong.status_code == 405
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_lists_are_paginated(client: TestClient, world: World, db) -> None:
    """Pages split a list; size above 100 is refused naming `size`."""
    for _ in range(4):
        add_referral(db, world.orgs["A"])
    headers = world.headers("A", Role.CASEWORKER)
    page = client.get("/referrals", params={"page": 2, "size": 2}, headers=headers).json()
    assert page["total_items"] == 5 and page["total_pages"] == 3 and len(page["items"]) == 2
    too_big = client.get("/referrals", params={"size": 101}, headers=headers)
    assert too_big.status_code == 422 and too_big.json()["errors"][0]["field"] == "size"


def test_openapi_documents_errors_and_examples(app) -> None:
    """Every error response is documented as problem+json; request bodies carry examples."""
    schema = app.openapi()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and (path, status) != ("/readyz", "503"):
                    assert list(response["content"]) == ["application/problem+json"], (
                        path,
                        method,
                        status,
                    )
    components = schema["components"]["schemas"]
    for name in ("ReferralCreate", "ProviderCreate", "CapacityUpdate", "DeclineRequest"):
        assert components[name]["examples"], name
