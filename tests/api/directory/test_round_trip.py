"""Publish, then import into a fresh database over real HTTP: the same sites come back."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from api.core.config import Settings
from api.core.db import Database
from api.core.tables import Organisation, Provider
from api.directory.service import import_source
from api.directory.sources import DirectoryInputError, feed_from_json, read_api
from api.directory.tables import DirectoryInstallation
from matching.models import DIETARY_TAGS
from tests.api.conftest import TEST_SECRET, free_port
from tests.api.directory.conftest import Published
from tests.api.directory.helpers import example, food_service, page_of, snapshot
from tests.conftest import fresh_database


@contextmanager
def second_installation(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Database]:
    """A fresh, empty database that is another installation: its own UUID namespace (copies of
    the test template share the namespace the migration drew; a real installation draws its
    own)."""
    with fresh_database(backend, request, tmp_path) as url:
        db = Database.from_url(url)
        with db.write() as session:
            session.execute(update(DirectoryInstallation).values(namespace=str(uuid.uuid4())))
        try:
            yield db
        finally:
            db.dispose()


def _sites(db: Database) -> list[tuple[Any, ...]]:
    """What matters about each open site: charity, name, place, area, diets, postcode."""
    with db.read() as session:
        rows = session.execute(
            select(Provider, Organisation.name)
            .join(Organisation, Organisation.id == Provider.organisation_id)
            .where(Provider.closed_at.is_(None))
        ).all()
    return sorted(
        (org, p.name, round(p.latitude, 6), round(p.longitude, 6), p.postcode, p.service_area)
        for p, org in rows
    )


def _diets(service: dict[str, Any]) -> list[str]:
    """The dietary terms a published service carries (delivery depends on live capacity)."""
    return sorted(
        a["taxonomy_term"]["term"]
        for a in service["attributes"]
        if a["taxonomy_term"]["term"] in DIETARY_TAGS
    )


def _published(base: str) -> dict[str, Any]:
    services = httpx.get(f"{base}/services", params={"per_page": 100}).json()["contents"]
    return {s["id"]: s for s in services}


def test_a_published_feed_imported_into_a_fresh_database_gives_the_same_sites(
    live_server: str,
    published: Published,
    db: Database,
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """Another installation pages through this one's /oruk API over HTTP and gets the same
    sites (charity, name, coordinates, postcode, service area, diets), and republishes them
    under the same ORUK ids; importing again changes nothing; a feed file of the same pages
    does the same; this installation importing its own feed changes nothing."""
    base = f"{live_server}/oruk"
    with second_installation(backend, request, tmp_path) as other:
        report = import_source(other, None, read_api(base))
        assert report.complete and len(report.added) == 6 and report.skipped == []
        assert _sites(other) == _sites(db)
        with TestClient(
            create_app(Settings(database_url="sqlite://", jwt_secret=TEST_SECRET), other)
        ) as client:
            theirs = {
                s["id"]: s
                for s in client.get("/oruk/services", params={"per_page": 100}).json()["contents"]
            }
        ours = _published(base)
        assert set(theirs) == set(ours)
        for key, service in ours.items():
            again = theirs[key]
            assert again["organization"]["id"] == service["organization"]["id"]
            assert [x["id"] for x in again["service_at_locations"]] == [
                x["id"] for x in service["service_at_locations"]
            ]
            assert [x["location"]["id"] for x in again["service_at_locations"]] == [
                x["location"]["id"] for x in service["service_at_locations"]
            ]
            assert _diets(again) == _diets(service)
        before = snapshot(other)
        assert import_source(other, None, read_api(base)).unchanged == 6
        assert snapshot(other) == before
    pages = [
        httpx.get(f"{base}/services", params={"page": n, "per_page": 2}).json() for n in (1, 2, 3)
    ]
    with second_installation(backend, request, tmp_path) as third:
        from_file = import_source(third, None, feed_from_json(pages, "pages.json"))
        assert from_file.complete and len(from_file.added) == 6
        assert _sites(third) == _sites(db)
    mine = import_source(db, None, read_api(base))
    assert mine.added == [] and len(mine.skipped) == 4  # the four sites made here
    assert {s.reason for s in mine.skipped} == {
        "published by this installation: the site is already here"
    }


class _Directory(BaseHTTPRequestHandler):
    """A stand-in ORUK API: ``/services`` lists one-to-one fields, ``/services/{id}`` nests."""

    services: ClassVar[dict[str, dict[str, Any]]] = {}

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path == "/api/services":
            listed = [
                {k: v for k, v in s.items() if not isinstance(v, list)}
                for s in self.services.values()
            ]
            self._send(200, page_of(listed))
        elif path.startswith("/api/services/") and path.rsplit("/", 1)[1] in self.services:
            self._send(200, self.services[path.rsplit("/", 1)[1]])
        else:
            self._send(404, {"detail": "not found"})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def directory_server(services: list[dict[str, Any]]) -> Iterator[str]:
    """A real HTTP server on a free loopback port serving ``services`` as an ORUK API."""
    handler = type("Handler", (_Directory,), {"services": {s["id"]: s for s in services}})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def test_an_api_that_lists_services_flat_is_read_service_by_service(db: Database) -> None:
    """A directory whose /services pages carry only one-to-one fields: each service is fetched
    whole from /services/{id}; the official example served this way is refused for its latitude
    100 and longitude 101, a Leeds feed is imported."""
    with (
        directory_server([example("service_full.json")]) as base,
        pytest.raises(DirectoryInputError) as caught,
    ):
        import_source(db, None, read_api(base))
    fields = {p.field for p in caught.value.problems}
    assert {
        "service_at_locations[0].location.latitude",
        "service_at_locations[0].location.longitude",
    } <= fields
    leeds = [food_service("one"), food_service("two")]
    with directory_server(leeds) as base:
        report = import_source(db, None, read_api(base))
    assert report.complete and [a.name for a in report.added] == ["One Food Bank", "Two Food Bank"]


def test_an_unreachable_or_broken_api_is_refused(db: Database) -> None:
    """A base URL nobody answers, or one answering 404, is bad input naming the URL."""
    with pytest.raises(DirectoryInputError) as caught:
        read_api(f"http://127.0.0.1:{free_port()}/oruk")
    assert "could not be fetched" in str(caught.value)
    with directory_server([]) as base, pytest.raises(DirectoryInputError) as caught:
        read_api(base.replace("/api", "/elsewhere"))
    assert "answered HTTP 404, expected 200" in str(caught.value)
    assert "/elsewhere/services" in str(caught.value)
