"""Browser fixtures: the sample region seeded, a real uvicorn on loopback, Debian's Chromium.

One seeded SQLite server serves the whole web suite (a session fixture); a PostgreSQL one is
started only for the tests that ask for it. Chromium is /usr/bin/chromium, never a download:
without it the browser tests skip locally and fail on CI (``CI=true``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.core.config import Settings
from api.core.db import Database
from api.demo.seed import DEMO_PASSWORD, seed_demo
from matching.geo import data_dir

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
SECRET = "web-test-secret-that-is-long-enough-for-hs256"
PASSWORD = DEMO_PASSWORD
CASEWORKER = "caseworker@leeds.demo"
PLANNER = "planner@leeds.demo"
FOI_OFFICER = "foi-officer@leeds.demo"


def charity_email(organisation: str) -> str:
    """The demo sign-in of a demo charity ("Demo Charity 3" -> charity3@charity.demo)."""
    number = re.search(r"Demo Charity (\d+)", organisation)
    assert number, f"not a demo charity: {organisation!r}"
    return f"charity{number.group(1)}@charity.demo"


@dataclass
class Server:
    """A running service: its base URL and its database."""

    url: str
    db: Database
    settings: Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(database_url: str) -> Iterator[Server]:
    """Seed the sample region into ``database_url`` and serve it on a free loopback port."""
    settings = Settings(
        database_url=database_url,
        jwt_secret=SECRET,
        match_time_limit_s=10,
        place_time_limit_s=5,
        log_level="WARNING",
    )
    db = Database.from_url(database_url)
    sample = data_dir() / "sample"
    seed_demo(db, sample / "referrals.csv", sample / "providers.csv")
    app = create_app(settings, db)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_keep_alive=30,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:  # pragma: no cover - the server did not start
        raise RuntimeError("uvicorn did not start")
    yield Server(base, db, settings)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture(scope="session")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The sample region on SQLite behind a live uvicorn (shared by the web suite)."""
    target = tmp_path_factory.mktemp("web") / "foodmatch.db"
    shutil.copyfile(sqlite_template, target)
    yield from _serve(f"sqlite:///{target}")


@pytest.fixture(scope="module")
def pg_server(pg_template: str) -> Iterator[Server]:
    """The sample region on PostgreSQL behind a live uvicorn."""
    from tests.conftest import _drop_pg, _pg_admin, _pg_url

    name = f"fm_web_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    try:
        yield from _serve(_pg_url(name))
    finally:
        _drop_pg(name)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (skips locally if it is missing)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required on CI but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (its own cookies: one person)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, base: str, email: str) -> None:
    """Sign in through the sign-in page and land on the role's home."""
    page.goto(f"{base}/app/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/web/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
