"""Engine and sessions: SQLite (WAL, ``BEGIN IMMEDIATE`` for writes) or PostgreSQL.

Two session factories share one connection pool. ``Database.read()`` opens a plain
transaction for queries. ``Database.write()`` opens a write transaction: on SQLite it starts
with ``BEGIN IMMEDIATE``, taking the single write lock up front so two writers queue on the
busy timeout instead of deadlocking halfway or losing an update; on PostgreSQL services lock
the rows they change with ``SELECT ... FOR UPDATE`` (see ``api.core.repository``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BEGIN_OPTION = "foodmatch_sqlite_begin"


def _prepare_sqlite_file(url: str) -> None:
    """Create the directory of a SQLite file database so a fresh checkout just works."""
    parsed = make_url(url)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: Engine, busy_timeout_ms: int) -> None:
    """Take transaction control away from pysqlite and set WAL, foreign keys, busy timeout."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite would otherwise defer BEGIN until the first write; we emit it ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 10) -> Engine:
    """An engine for ``url`` with the dialect-specific settings this service relies on."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        database = make_url(url).database
        if not database or database == ":memory:":
            engine = create_engine(url, connect_args={"check_same_thread": False})
            _install_sqlite_hooks(engine, busy_timeout_ms)
            return engine
        _prepare_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=20,
            pool_timeout=60,
        )
        _install_sqlite_hooks(engine, busy_timeout_ms)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, pool_timeout=60
    )


class Database:
    """One database: its engine and the two kinds of transaction the services use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        write_engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        # SQLite has one writer at a time. Queueing this process's writers on a lock hands the
        # write lock over at once, instead of each waiter polling SQLite's busy handler (which
        # sleeps in steps of up to 100 ms). Other processes still queue on busy_timeout.
        self._write_lock: threading.Lock | None = threading.Lock() if self.is_sqlite else None
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(bind=write_engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = 10_000) -> Database:
        """Open the database at ``url``."""
        return cls(make_engine(url, busy_timeout_ms=busy_timeout_ms))

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work; closed (and its transaction ended) at the end.

        Objects read stay usable afterwards (detached, not expired).
        """
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits if the block finishes, rolls back if it raises."""
        if self._write_lock is None:
            with self._write() as session, session.begin():
                yield session
            return
        with self._write_lock, self._write() as session, session.begin():
            yield session

    def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class DatabaseUnavailable(Exception):
    """The database a setting names cannot be opened; ``str()`` is one line for people."""


_PG_FAILED = re.compile(r'connection to server at "([^"]*)", port (\d+) failed: (.*)')


def _cause(exc: BaseException, url: URL) -> str:
    """What went wrong connecting, in one line (the driver's words, tidied)."""
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    first = first.removeprefix("connection failed: ").strip()
    found = _PG_FAILED.search(first)
    if found:
        host, port, what = found.groups()
        what = what.replace("FATAL:", "").strip()
        first = f"{what} at {host}:{port}"
        if what.lower().startswith("connection refused"):
            first += " (is the database server running there?)"
    if url.get_backend_name() == "sqlite" and "unable to open database file" in first:
        first = (
            f"cannot open the SQLite file {url.database} (does its folder exist and allow writing?)"
        )
    return (first[:1].lower() + first[1:]) or type(exc).__name__


def check_database(url: str, setting: str = "DATABASE_URL", *, timeout_s: int = 5) -> None:
    """Connect once to ``url``; raise :class:`DatabaseUnavailable` naming ``setting`` and why.

    For commands that start from a configured URL: one clear line instead of a driver's
    traceback when the URL cannot be read, names no known database, or nothing answers.
    The password of the URL is never shown.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(
            f"{setting} is not a database URL (expected, for example, "
            "postgresql+psycopg://user@host:5432/foodmatch or sqlite:///var/foodmatch.db)"
        ) from exc
    shown = parsed.render_as_string(hide_password=True)
    where = f"the database set by {setting} ({shown})"
    try:
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            _prepare_sqlite_file(url)
            engine = create_engine(url)
        else:
            engine = create_engine(url, connect_args={"connect_timeout": timeout_s})
    except NoSuchModuleError as exc:
        raise DatabaseUnavailable(
            f"{setting} names an unknown kind of database ({parsed.drivername!r}); expected "
            "postgresql+psycopg:// or sqlite:///"
        ) from exc
    except ImportError as exc:
        raise DatabaseUnavailable(
            f"{where} needs the driver {exc.name or parsed.drivername!r}, which is not "
            "installed; use postgresql+psycopg://"
        ) from exc
    except OSError as exc:  # the SQLite file's folder cannot be made
        folder = Path(parsed.database or "").expanduser().parent
        raise DatabaseUnavailable(
            f"cannot open {where}: cannot create the folder {folder} ({exc.strerror or exc})"
        ) from exc
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (DBAPIError, OSError) as exc:
        raise DatabaseUnavailable(f"cannot open {where}: {_cause(exc, parsed)}") from exc
    finally:
        engine.dispose()
