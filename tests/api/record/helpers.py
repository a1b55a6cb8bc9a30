"""Test helpers for the record: bypassing the append-only triggers, appending events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.core.db import Database
from api.record.audit import record_event
from api.record.tables import SQLITE_AUDIT_TRIGGERS


@contextmanager
def tamper(db: Database) -> Iterator[Session]:
    """A write transaction in which the append-only triggers are off (as a rogue DBA would)."""
    with db.write() as session:
        if db.is_sqlite:
            session.execute(text("DROP TRIGGER audit_events_refuse_update"))
            session.execute(text("DROP TRIGGER audit_events_refuse_delete"))
        else:
            session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        yield session
        if db.is_sqlite:
            for statement in SQLITE_AUDIT_TRIGGERS:
                session.execute(text(statement))
        else:
            session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def append_events(db: Database, count: int, *, organisation_id: int | None = None) -> None:
    """Append ``count`` capacity-change events, one transaction each."""
    for number in range(count):
        with db.write() as session:
            record_event(
                session,
                actor_user_id=None,
                organisation_id=organisation_id,
                action="capacity.changed",
                entity_type="capacity",
                entity_id=number,
                before={"parcels": number},
                after={"parcels": number + 1},
            )
