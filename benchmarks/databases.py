"""Fresh databases for the service benchmarks: a SQLite file or a PostgreSQL database of its own.

PostgreSQL is reached through ``FOODMATCH_BENCH_PG`` (an administrative URL, by default the
local server's ``test`` database); each benchmark run gets a new database, dropped afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_ADMIN = os.environ.get("FOODMATCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
"""Where new PostgreSQL databases are created from."""


def pg_url(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the :data:`PG_ADMIN` server."""
    server = PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
    return f"{server}/{name}"


@contextmanager
def fresh_database(backend: str, *, prefix: str, migrate: bool = True) -> Iterator[str]:
    """A new database URL for ``backend`` ("sqlite" or "postgresql"), removed afterwards.

    ``migrate`` brings it to the latest schema first; without it the database is empty.
    """
    from api.core.migrate import upgrade

    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/{prefix}.db"
            if migrate:
                upgrade(url)
            yield url
        return
    import psycopg

    name = f"fm_{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = pg_url(name)
        if migrate:
            upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
