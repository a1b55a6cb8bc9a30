"""Alembic environment: migrates the database named by the caller's URL (or settings).

Shipped inside the ``api`` package so an installed ``foodmatch serve`` can upgrade the schema.
"""

from __future__ import annotations

import contextlib
import importlib

from alembic import context
from sqlalchemy import Connection

from api.config import get_settings
from api.db import make_engine
from api.tables import Base

# The FOI/audit record (api.record) declares its tables on the same Base.
_RAW_DDL_NAMES: frozenset[str] = frozenset()
with contextlib.suppress(ModuleNotFoundError):
    _RAW_DDL_NAMES = importlib.import_module("api.record.tables").RAW_DDL_NAMES

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
            _run(fresh)
            fresh.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
