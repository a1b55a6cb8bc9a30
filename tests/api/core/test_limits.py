"""The request body limit, counted as bytes arrive, and the security headers on every error.

The limit is checked over a real uvicorn on loopback (bodies sent with a Content-Length and
chunked, JSON and multipart) and on both databases: a body of exactly the limit is accepted,
one byte more is refused with 413 before anything reads it, and nothing is stored.
"""

from __future__ import annotations

import json
import select
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.app import MAX_BODY_BYTES
from api.core.db import Database
from api.core.headers import SECURITY_HEADERS
from api.core.vocabulary import Role
from api.web.planner import RUNS
from api.web.security import SESSION_COOKIE, new_session
from tests.api.conftest import World
from tests.api.core.test_bad_input import _snapshot

REFERRAL = {
    "household_size": 2,
    "urgency": "urgent",
    "postcode": "LS9 7AB",
    "consent_to_share": True,
}


def _json_of_size(size: int) -> bytes:
    """A valid referral body of exactly ``size`` bytes (JSON allows trailing spaces)."""
    text = json.dumps(REFERRAL).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """``body`` in pieces: httpx sends an iterator chunked, with no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _assert_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_json_body_at_the_limit_is_accepted_one_byte_more_is_refused(
    live_server: str, world: World, db: Database, chunked: bool
) -> None:
    """A referral body of exactly 1 MiB is stored; 1 MiB + 1 byte is a 413 problem with the
    security headers and stores nothing, whether the length is declared or the body chunked."""
    headers = {**world.headers("A", Role.CASEWORKER), "Content-Type": "application/json"}
    with httpx.Client(base_url=live_server, timeout=60) as http:
        at_limit = _json_of_size(MAX_BODY_BYTES)
        content = _chunks(at_limit) if chunked else at_limit
        response = http.post("/referrals", content=content, headers=headers)
        assert response.status_code == 201, response.text[:300]
        before = _snapshot(db)
        over = _json_of_size(MAX_BODY_BYTES + 1)
        content = _chunks(over) if chunked else over
        response = http.post("/referrals", content=content, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "1,048,576 bytes" in response.json()["detail"]
    _assert_headers(response)
    assert _snapshot(db) == before


def _raw_chunked_post(base: str, path: str, headers: dict[str, str], total: int) -> tuple[int, str]:
    """Send ``total`` bytes chunked over a raw socket, reading as we go.

    Returns how many body bytes had been sent when the answer arrived, and its status line.
    """
    netloc = urlsplit(base)
    sock = socket.create_connection((netloc.hostname, netloc.port), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: {netloc.netloc}", "Transfer-Encoding: chunked"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    piece = b" " * (64 * 1024)
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    answer = b""
    deadline = time.monotonic() + 60
    try:
        sock.setblocking(False)
        while sent < total and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                answer = sock.recv(4096)
                break
            if writable:
                try:
                    sock.sendall(frame)
                except BlockingIOError:
                    continue
                sent += len(piece)
        if not answer:
            sock.setblocking(True)
            sock.sendall(b"0\r\n\r\n")
            answer = sock.recv(4096)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    return sent, answer.split(b"\r\n", 1)[0].decode("latin-1")


def test_chunked_body_is_refused_as_it_arrives_not_read_whole(
    live_server: str, world: World, db: Database
) -> None:
    """A 64 MiB chunked body gets its 413 while it is still being sent: the service stops
    reading past the limit instead of reading the whole body first."""
    before = _snapshot(db)
    headers = {**world.headers("A", Role.CASEWORKER), "Content-Type": "application/json"}
    total = 64 * 1024 * 1024
    sent, status = _raw_chunked_post(live_server, "/referrals", headers, total)
    assert status.startswith("HTTP/1.1 413"), status
    assert sent < total, "the whole body was sent before the service answered"
    assert _snapshot(db) == before


def _planner_page(world: World) -> tuple[dict[str, str], str]:
    """A planner's page session cookie and its CSRF token."""
    session = new_session(world.users[("A", Role.PLANNER)], world.settings)
    csrf = jwt.decode(session, options={"verify_signature": False})["csrf"]
    return {SESSION_COOKIE: session}, csrf


def _multipart(csrf: str, referrals_csv: bytes, size: int | None = None) -> tuple[bytes, str]:
    """A planner upload form (multipart), padded to exactly ``size`` bytes when given."""
    boundary = uuid.uuid4().hex

    def part(name: str, value: bytes, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        return (
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
        )

    fields = (
        part("csrf_token", csrf.encode())
        + part("source", b"upload")
        + part("base", b"upload")
        + part("seconds", b"5")
        + part("referrals_file", referrals_csv, "referrals.csv")
    )
    end = f"--{boundary}--\r\n".encode()
    if size is not None:
        empty = part("padding", b"")
        fields += part("padding", b"x" * (size - len(fields) - len(empty) - len(end)))
    body = fields + end
    assert size is None or len(body) == size
    return body, f"multipart/form-data; boundary={boundary}"


def _rows(count: int) -> bytes:
    """A referrals CSV of the matching contract with ``count`` rows."""
    lines = ["referral_id,postcode,household_size,urgency"]
    lines += [f"R{n:06d},LS9 7AB,2,urgent" for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_planner_upload_at_the_limit_is_read_one_byte_more_is_a_413_page(
    live_server: str, world: World, db: Database, chunked: bool
) -> None:
    """A planner upload of exactly 1 MiB reaches the form's own checks; one byte more is a 413
    page with the security headers, and no run is queued or recorded."""
    cookies, csrf = _planner_page(world)
    organisation = world.orgs["A"]
    queued = len(RUNS.recent(organisation))
    with httpx.Client(base_url=live_server, timeout=60, cookies=cookies) as http:
        body, kind = _multipart(csrf, _rows(10), MAX_BODY_BYTES)
        content = _chunks(body) if chunked else body
        response = http.post("/app/planner/runs", content=content, headers={"Content-Type": kind})
        assert response.status_code == 400  # read and checked: no scenario file was chosen
        assert "Choose a scenario file" in response.text
        before = _snapshot(db)
        body, kind = _multipart(csrf, _rows(10), MAX_BODY_BYTES + 1)
        content = _chunks(body) if chunked else body
        response = http.post("/app/planner/runs", content=content, headers={"Content-Type": kind})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "What you sent is too large" in response.text
    _assert_headers(response)
    assert _snapshot(db) == before
    assert len(RUNS.recent(organisation)) == queued


def test_chunked_50000_row_upload_queues_no_run(
    live_server: str, world: World, db: Database
) -> None:
    """The 50,000-row referrals file (1.2 MB) sent chunked to the planner page is refused with
    413: no engine run is queued and nothing is recorded."""
    cookies, csrf = _planner_page(world)
    organisation = world.orgs["A"]
    queued = len(RUNS.recent(organisation))
    before = _snapshot(db)
    body, kind = _multipart(csrf, _rows(50_000))
    assert len(body) > MAX_BODY_BYTES
    with httpx.Client(base_url=live_server, timeout=60, cookies=cookies) as http:
        response = http.post(
            "/app/planner/runs", content=_chunks(body), headers={"Content-Type": kind}
        )
    assert response.status_code == 413
    assert len(RUNS.recent(organisation)) == queued
    assert _snapshot(db) == before


def test_scenario_upload_over_the_limit_is_refused(
    live_server: str, world: World, db: Database
) -> None:
    """POST /scenarios (CSV text in JSON) over 1 MiB, chunked, is a 413 and queues nothing."""
    headers = {**world.headers("A", Role.PLANNER), "Content-Type": "application/json"}
    csv_text = _rows(60_000).decode()
    body = json.dumps(
        {"base": {"referrals_csv": csv_text, "providers_csv": "x"}, "scenario": []}
    ).encode()
    assert len(body) > MAX_BODY_BYTES
    before = _snapshot(db)
    with httpx.Client(base_url=live_server, timeout=60) as http:
        response = http.post("/scenarios", content=_chunks(body), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _snapshot(db) == before


def test_every_kind_of_error_carries_the_security_headers(app: FastAPI, world: World) -> None:
    """401, 404 (unknown address, API and page), 405, 413, 422, 500 and 503 carry the same
    security headers as a page; errors under /app are pages, the others problem+json."""

    def boom() -> None:
        raise RuntimeError("unexpected")

    def busy() -> None:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    app.add_api_route("/boom-for-test", boom)
    app.add_api_route("/app/boom-for-test", boom)
    app.add_api_route("/busy-for-test", busy)
    app.add_api_route("/app/busy-for-test", busy)
    caseworker = world.headers("A", Role.CASEWORKER)
    with TestClient(app, raise_server_exceptions=False) as client:
        cases: list[tuple[int, str, Any]] = [
            (401, "json", client.get("/referrals")),
            (404, "json", client.get("/no-such-address")),
            (404, "html", client.get("/app/no-such-page")),
            (405, "json", client.delete("/referrals", headers=caseworker)),
            (413, "json", client.post("/referrals", content=b" " * (MAX_BODY_BYTES + 1))),
            (413, "html", client.post("/app/sign-in", content=b" " * (MAX_BODY_BYTES + 1))),
            (422, "json", client.post("/referrals", json={}, headers=caseworker)),
            (500, "json", client.get("/boom-for-test")),
            (500, "html", client.get("/app/boom-for-test")),
            (503, "json", client.get("/busy-for-test")),
            (503, "html", client.get("/app/busy-for-test")),
        ]
    for status, kind, response in cases:
        assert response.status_code == status, (status, response.text[:200])
        expected = "text/html" if kind == "html" else "application/problem+json"
        assert response.headers["content-type"].startswith(expected), status
        _assert_headers(response)
        if status == 503:
            assert response.headers["retry-after"] == "1"
