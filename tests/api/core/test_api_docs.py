"""The API reference is served by the service itself, under the strict script policy."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_page_loads_only_this_sites_files(client: TestClient, path: str) -> None:
    """The reference pages name no other host and run no inline script ('self' only)."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources and all(source.startswith("/docs/assets/") for source in sources)
    assert re.search(r"<script>", response.text) is None
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"


def test_docs_assets_are_served_with_their_types(client: TestClient) -> None:
    """The Swagger UI and ReDoc scripts, the stylesheet and the start script come from here."""
    expected = {
        "swagger-ui-bundle.js": "text/javascript",
        "swagger-ui.css": "text/css",
        "redoc.standalone.js": "text/javascript",
        "start.js": "text/javascript",
    }
    for name, media in expected.items():
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(media), name
        assert len(response.content) > 40
    assert "/openapi.json" in client.get("/docs/assets/start.js").text


def test_unknown_docs_asset_is_a_404_problem(client: TestClient) -> None:
    """Only the listed files are served: any other name is a 404, never a file read."""
    for name in ("__init__.py", "..%2F..%2Fapp.py", "core.py"):
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"].startswith("application/problem+json")


def test_openapi_document_is_what_the_pages_read(client: TestClient) -> None:
    """Both pages read /openapi.json, which describes this service."""
    assert client.get("/openapi.json").json()["info"]["title"] == "foodmatch"
    assert 'spec-url="/openapi.json"' in client.get("/redoc").text
