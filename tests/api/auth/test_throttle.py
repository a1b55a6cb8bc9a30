"""Failed sign-ins are limited per account and per client address, on the API and the page,
with the counts in the database or in Redis, shared by every app on them."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import limits.storage.redis
import pytest
import redis
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, text

import api.core.clock
from api.app import create_app
from api.core.config import Settings
from api.core.db import Database
from api.core.vocabulary import Role
from api.record.audit import verify_chain
from tests.api.auth.helpers import api_sign_in, events, page_sign_in
from tests.api.conftest import PASSWORD, World, free_port
from tests.conftest import run_coroutine

REDIS_URL = os.environ.get("FOODMATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")
WRONG = "not the password"


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis server the Redis-backed limits are tested on (skips locally without one)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required on CI but not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Settings that put the sign-in counts in the database or in Redis (own key prefix)."""
    if request.param == "database":
        yield {}
        return
    url: str = request.getfixturevalue("redis_server")
    prefix = f"fmtest-{uuid.uuid4().hex[:12]}"
    yield {"redis_url": url, "redis_prefix": prefix}
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _client(settings: Settings, db: Database | None = None, **changes: Any) -> TestClient:
    """An in-process client of an app with these setting changes (its own engine if no db)."""
    changed = settings.model_copy(update=changes)
    return TestClient(create_app(changed, db), raise_server_exceptions=False)


def _caseworker(world: World) -> str:
    return world.users[("A", Role.CASEWORKER)].email


def _retry_after(response: httpx.Response, window: int) -> int:
    value = int(response.headers["Retry-After"])
    assert 0 < value <= window
    return value


def test_thirty_wrong_passwords_then_the_right_one_gets_429(
    settings: Settings, db: Database, world: World, store: dict[str, Any]
) -> None:
    """After 10 failures the API answers 429 with Retry-After, even to the right password;
    the lockout is audited once and the chain still verifies."""
    email = _caseworker(world)
    with _client(settings, db, **store) as client:
        statuses = [api_sign_in(client, email, WRONG).status_code for _ in range(30)]
        assert statuses == [401] * 10 + [429] * 20
        right = api_sign_in(client, email, PASSWORD)
    assert right.status_code == 429
    assert right.headers["content-type"].startswith("application/problem+json")
    assert "access_token" not in right.text and "Try again in" in right.json()["detail"]
    _retry_after(right, settings.sign_in_window_s)
    locked = events(db, "sign_in.locked")
    assert [(e.entity_type, e.entity_id) for e in locked] == [
        ("user", str(world.users[("A", Role.CASEWORKER)].id))
    ]
    assert email not in locked[0].after_json
    with db.read() as session:
        assert verify_chain(session).ok
        keys = session.scalars(select(text("key")).select_from(text("sign_in_attempts"))).all()
    assert all(email not in key and "testclient" not in key for key in keys)
    if store:
        found = redis.Redis.from_url(REDIS_URL).scan_iter(f"{store['redis_prefix']}:*")
        stored = [key.decode() for key in found]
        assert stored and all(email not in key for key in stored)
        assert keys == []


def test_page_sign_in_locks_the_same_account(
    settings: Settings, db: Database, world: World
) -> None:
    """On the sign-in page, 30 wrong passwords then the right one: a 429 page with
    Retry-After and no session; the API is locked for that account too; audited once.
    (The page and the API share one code path to the counts, tested on Redis above.)"""
    email = _caseworker(world)
    with _client(settings, db) as client:
        statuses = [page_sign_in(client, email, WRONG).status_code for _ in range(30)]
        assert statuses == [400] * 10 + [429] * 20
        right = page_sign_in(client, email, PASSWORD)
        assert right.status_code == 429
        assert right.headers["content-type"].startswith("text/html")
        assert "Too many failed sign-ins" in right.text
        _retry_after(right, settings.sign_in_window_s)
        assert "fm_session" not in client.cookies
        assert api_sign_in(client, email, PASSWORD).status_code == 429
    assert len(events(db, "sign_in.locked")) == 1


class _Clock:
    """``time.time`` moved on by ``offset`` seconds (for the Redis store's timestamps)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return REAL_TIME() + self.offset


REAL_TIME = time.time


def _later(monkeypatch: pytest.MonkeyPatch, start: datetime, seconds: float) -> None:
    """Move the clocks both stores read to ``seconds`` after ``start`` (about now)."""
    import importlib

    monkeypatch.setattr(api.core.clock, "now", lambda: start + timedelta(seconds=seconds))
    monkeypatch.setattr(limits.storage.redis, "time", _Clock(seconds))
    monkeypatch.setattr(importlib.import_module("api.auth.throttle"), "time", _Clock(seconds))


def test_lock_lasts_until_the_window_passes(
    settings: Settings,
    db: Database,
    world: World,
    store: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A locked account refuses the right password until the oldest counted failure leaves
    the 15-minute window, then signs in (the stores' clocks moved on)."""
    email = _caseworker(world)
    with _client(settings, db, sign_in_account_failures=3, **store) as client:
        assert [api_sign_in(client, email, WRONG).status_code for _ in range(3)] == [401] * 3
        assert api_sign_in(client, email, PASSWORD).status_code == 429
        start = api.core.clock.now()  # after the last counted failure
        _later(monkeypatch, start, 890)
        early = api_sign_in(client, email, PASSWORD)
        assert early.status_code == 429
        assert int(early.headers["Retry-After"]) <= 15
        _later(monkeypatch, start, 901)
        assert api_sign_in(client, email, PASSWORD).status_code == 200


def test_a_correct_password_does_not_reset_the_address_count(
    settings: Settings, db: Database, world: World, store: dict[str, Any]
) -> None:
    """Guesses spread over accounts lock the client address; signing in to an account of
    one's own in between neither resets nor lowers that count; the lock is audited."""
    limits = {"sign_in_address_failures": 5, "sign_in_account_failures": 100}
    own = world.users[("B", Role.PLANNER)].email
    with _client(settings, db, **limits, **store) as client:
        for number in range(4):
            assert api_sign_in(client, f"guess{number}@a.test", WRONG).status_code == 401
        assert api_sign_in(client, own, PASSWORD).status_code == 200
        assert api_sign_in(client, "guess5@a.test", WRONG).status_code == 401
        refused = api_sign_in(client, _caseworker(world), PASSWORD)
        assert refused.status_code == 429
        assert api_sign_in(client, own, PASSWORD).status_code == 429
    locked = events(db, "sign_in.locked")
    assert [e.entity_type for e in locked] == ["client_address"]
    assert "testclient" not in locked[0].entity_id + locked[0].after_json


def test_a_correct_password_clears_the_accounts_own_count(
    settings: Settings, db: Database, world: World, store: dict[str, Any]
) -> None:
    """With 3 failures allowed: two typos, the right password, two more typos, the right
    password again: never locked (the person who got it right starts afresh)."""
    email = _caseworker(world)
    with _client(settings, db, sign_in_account_failures=3, **store) as client:
        for _ in range(2):
            assert [api_sign_in(client, email, WRONG).status_code for _ in range(2)] == [401] * 2
            assert api_sign_in(client, email, PASSWORD).status_code == 200


def test_unknown_accounts_lock_the_same_way(settings: Settings, db: Database, world: World) -> None:
    """An e-mail address nobody has locks after the same failures (3 here) with the same
    answer, so the limit does not tell which accounts exist; audited by pseudonym."""
    with _client(settings, db, sign_in_account_failures=3) as client:
        statuses = [api_sign_in(client, "Nobody@Nowhere.test", WRONG).status_code for _ in range(4)]
        assert statuses == [401] * 3 + [429]
        unknown = api_sign_in(client, "nobody@nowhere.test ", WRONG).json()["detail"]
        for _ in range(3):
            api_sign_in(client, _caseworker(world), WRONG)
        known = api_sign_in(client, _caseworker(world), WRONG).json()["detail"]
    assert unknown == known
    locked = events(db, "sign_in.locked")
    assert locked[0].entity_type == "sign_in_account"
    assert "nobody" not in locked[0].entity_id + locked[0].after_json


def test_forwarded_for_headers_do_not_change_the_address(
    settings: Settings, db: Database, world: World
) -> None:
    """Without a trusted proxy, a client cannot dodge the address limit by sending a new
    X-Forwarded-For with every guess."""
    with _client(settings, db, sign_in_address_failures=3) as client:
        for number in range(3):
            spoofed = {"X-Forwarded-For": f"203.0.113.{number}"}
            assert (
                api_sign_in(client, f"g{number}@a.test", WRONG, headers=spoofed).status_code == 401
            )
        again = api_sign_in(
            client, _caseworker(world), PASSWORD, headers={"X-Forwarded-For": "198.51.100.9"}
        )
        assert again.status_code == 429


def test_lockout_holds_across_two_apps_on_one_database(
    settings: Settings, world: World, store: dict[str, Any]
) -> None:
    """Two apps, each with its own engine on the same database (or Redis): failures sent to
    either count together (4 allowed here), and both then refuse the right password."""
    email = _caseworker(world)
    limit = {"sign_in_account_failures": 4, **store}
    with _client(settings, **limit) as one, _client(settings, **limit) as two:
        assert one.app is not two.app
        for number in range(4):
            assert api_sign_in((one, two)[number % 2], email, WRONG).status_code == 401
        assert api_sign_in(one, email, PASSWORD).status_code == 429
        assert api_sign_in(two, email, PASSWORD).status_code == 429
        assert page_sign_in(two, email, PASSWORD).status_code == 429


@contextmanager
def _live(app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def _burst(base: str, email: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        responses = await asyncio.gather(
            *(
                http.post("/auth/token", data={"username": email, "password": WRONG})
                for _ in range(count)
            )
        )
    return [r.status_code for r in responses]


def test_parallel_guesses_cannot_overshoot_the_account_limit(
    settings: Settings, db: Database, world: World, store: dict[str, Any]
) -> None:
    """Twelve wrong passwords sent at once to a real server, with 3 failures allowed: at
    most 3 passwords are checked (401), the rest are refused unchecked (429)."""
    email = _caseworker(world)
    app = create_app(settings.model_copy(update={"sign_in_account_failures": 3, **store}), db)
    with _live(app) as base:
        statuses = run_coroutine(_burst(base, email, 12))
        assert sorted(statuses) == [401] * 3 + [429] * 9
        right = httpx.post(f"{base}/auth/token", data={"username": email, "password": PASSWORD})
        assert right.status_code == 429


def test_unreachable_redis_refuses_sign_in(settings: Settings, db: Database, world: World) -> None:
    """With Redis configured but down, sign-in answers 503 with Retry-After (API and page)
    and lets nobody in; tokens already issued keep working."""
    closed = f"redis://127.0.0.1:{free_port()}/0"
    email = _caseworker(world)
    with _client(settings, db, redis_url=closed) as client:
        refused = api_sign_in(client, email, PASSWORD)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert "access_token" not in refused.text
        page = page_sign_in(client, email, PASSWORD)
        assert page.status_code == 503 and "fm_session" not in client.cookies
        headers = world.headers("A", Role.CASEWORKER)
        assert client.get("/auth/me", headers=headers).status_code == 200
