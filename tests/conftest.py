"""Shared fixtures: a fresh, migrated database on SQLite and on PostgreSQL for each test.

``db_url`` is parametrized over both backends. Each test session gets its own PostgreSQL
template database (migrated once); each test gets a copy, so runs never collide. Without a
PostgreSQL server the PostgreSQL half is skipped locally and fails on CI (``CI=true``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from api.core.migrate import upgrade

T = TypeVar("T")

PG_ADMIN_URL = os.environ.get(
    "FOODMATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")


def _pg_dsn(database: str) -> str:
    base = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    return base.rsplit("/", 1)[0] + "/" + database


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        _pg_dsn(PG_ADMIN_URL.rsplit("/", 1)[1]), autocommit=True, connect_timeout=3
    )


def _pg_available() -> str | None:
    try:
        with _pg_admin() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def _drop_pg(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def record_hooks() -> None:
    """The record's SQLAlchemy hooks, installed as the app factory and the CLI install them
    (tests write through the ORM before, or without, an app)."""
    from api.record import install

    install()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database of this session (dropped at the end)."""
    problem = _pg_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required on CI but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"fm_tpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(_pg_url(name))
        yield name
    finally:
        _drop_pg(name)


@contextmanager
def fresh_database(backend: str, request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    """A fresh, migrated, empty database on ``backend``; its URL (dropped afterwards)."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = directory / f"foodmatch-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    name = f"fm_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield _pg_url(name)
    finally:
        _drop_pg(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test on ``backend``."""
    with fresh_database(backend, request, tmp_path) as url:
        yield url


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on an event loop of its own, in a thread of its own.

    ``asyncio.run`` refuses to start where a loop is already running, and Playwright's
    session-wide browser keeps one running in the test process's main thread: a test that
    runs after the browser tests in the same process would otherwise fail for that alone.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
