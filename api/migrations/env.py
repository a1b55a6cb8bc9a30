"""Alembic environment: migrates the database named by the caller's URL (or settings).

Shipped inside the ``api`` package so an installed ``foodmatch serve`` can upgrade the schema.
"""

from __future__ import annotations

import contextlib
import importlib

from alembic import context
from sqlalchemy import Connection

from api.core.config import get_settings
from api.core.db import make_engine
from api.core.tables import Base

# The FOI/audit record (api.record) declares its tables on the same Base.
_RAW_DDL_NAMES: frozenset[str] = frozenset()
with contextlib.suppress(ModuleNotFoundError):
    _RAW_DDL_NAMES = importlib.import_module("api.record.tables").RAW_DDL_NAMES
importlib.import_module("api.directory.tables")  # the directory's tables, on the same Base
importlib.import_module("api.geo.tables")  # the postcode directory, on the same Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object | None
) -> bool:
    """Never propose dropping what the code makes by raw DDL and does not declare: tables (the
    full-text shadow tables) and the record's own columns and indexes (``RAW_DDL_NAMES``, the
    PostgreSQL search vector); everything declared is compared as usual."""
    if not reflected or compare_to is not None:
        return True
    return not (type_ == "table" or (type_ in ("column", "index") and name in _RAW_DDL_NAMES))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of touching a database."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over a live connection (one handed in by the caller, or a fresh one)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as fresh:
            sqlite = fresh.dialect.name == "sqlite"
            if sqlite:
                _sqlite_foreign_keys(fresh, on=False)
            _run(fresh)
            fresh.commit()
            if sqlite:
                _check_sqlite_foreign_keys(fresh)
                _sqlite_foreign_keys(fresh, on=True)
    finally:
        engine.dispose()


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Switch SQLite's foreign-key enforcement for this connection.

    A batch migration on SQLite copies a table, drops the original and renames the copy; with
    enforcement on, dropping a table that other rows still reference fails ("FOREIGN KEY
    constraint failed"), so a populated database could not be upgraded. SQLite ignores this
    pragma inside a transaction, so it goes straight to the driver, outside one.
    """
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    dbapi.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    """Refuse to finish if the migrated database has a reference to a missing row."""
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    broken = dbapi.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise RuntimeError(
            f"after the upgrade, {len(broken)} rows point at missing rows "
            f"(first: {table} row {rowid} -> {parent})"
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
