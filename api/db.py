"""Engine and sessions: SQLite (WAL, ``BEGIN IMMEDIATE`` for writes) or PostgreSQL.

Two session factories share one connection pool. ``Database.read()`` opens a plain
transaction for queries. ``Database.write()`` opens a write transaction: on SQLite it starts
with ``BEGIN IMMEDIATE``, taking the single write lock up front so two writers queue on the
busy timeout instead of deadlocking halfway or losing an update; on PostgreSQL services lock
the rows they change with ``SELECT ... FOR UPDATE`` (see ``api.repository``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
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
