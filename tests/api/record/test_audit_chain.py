"""The audit log is append-only and hash-chained: tampering is refused or exposed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api.core.db import Database
from api.record.audit import PERSONAL_REFERENCE, record_event, verify_chain
from api.record.tables import AuditEvent
from tests.api.record.helpers import append_events, tamper


def test_chain_of_many_events_verifies(db: Database) -> None:
    """A chain built by many separate transactions verifies end to end, without gaps."""
    append_events(db, 40)
    with db.read() as session:
        result = verify_chain(session)
    assert result.ok and result.checked == 40 and result.first_broken_id is None


def test_empty_chain_verifies(db: Database) -> None:
    """A new installation with no events is a valid (empty) chain."""
    with db.read() as session:
        result = verify_chain(session)
    assert result.ok and result.checked == 0


@pytest.mark.parametrize(
    "column",
    ["action", "entity_id", "before_json", "after_json", "actor_label", "prev_hash", "hash"],
)
def test_one_changed_byte_is_found_at_that_row(db: Database, column: str) -> None:
    """Changing one character of any field of event 7 makes verification fail at event 7."""
    append_events(db, 12)
    with tamper(db) as session:
        value = session.scalar(text(f"SELECT {column} FROM audit_events WHERE id = 7"))
        assert isinstance(value, str) and value
        changed = value[:-1] + ("0" if value[-1] != "0" else "1")
        session.execute(text(f"UPDATE audit_events SET {column} = :v WHERE id = 7"), {"v": changed})
    with db.read() as session:
        result = verify_chain(session)
    assert not result.ok
    assert result.first_broken_id == 7
    assert result.checked == 6
    assert "event 7" in result.detail


def test_changed_timestamp_is_found(db: Database) -> None:
    """Back-dating an event by one microsecond breaks its hash."""
    append_events(db, 5)
    with tamper(db) as session:
        event = session.get(AuditEvent, 3)
        assert event is not None
        event.occurred_at = event.occurred_at - timedelta(microseconds=1)
    with db.read() as session:
        assert verify_chain(session).first_broken_id == 3


def test_removed_event_is_found(db: Database) -> None:
    """Deleting an event (with the trigger bypassed) is reported at the event after the gap."""
    append_events(db, 6)
    with tamper(db) as session:
        session.execute(text("DELETE FROM audit_events WHERE id = 4"))
    with db.read() as session:
        result = verify_chain(session)
    assert result.first_broken_id == 5
    assert "missing" in result.detail


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'nothing.happened' WHERE id = 2",
        "DELETE FROM audit_events WHERE id = 2",
        "DELETE FROM audit_events",
    ],
)
def test_database_refuses_update_and_delete(db: Database, statement: str) -> None:
    """The database itself refuses UPDATE and DELETE on the audit table; nothing changes."""
    append_events(db, 3)
    with pytest.raises(DBAPIError, match="append-only"), db.write() as session:
        session.execute(text(statement))
    with db.read() as session:
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.id == 2)) == (
            "capacity.changed"
        )
        assert verify_chain(session).checked == 3


def test_postgresql_refuses_truncate(db: Database) -> None:
    """TRUNCATE, which skips row triggers, is refused too on PostgreSQL."""
    if db.is_sqlite:
        pytest.skip("SQLite has no TRUNCATE")
    append_events(db, 2)
    with pytest.raises(DBAPIError, match="append-only"), db.write() as session:
        session.execute(text("TRUNCATE audit_events"))


def test_concurrent_appends_keep_one_chain(db: Database) -> None:
    """Writers appending at the same time still produce one gap-free, valid chain."""
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            append_events(db, 8)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.read() as session:
        result = verify_chain(session)
    assert result.ok and result.checked == 40


def test_personal_data_is_kept_by_reference(db: Database) -> None:
    """Names, phones, notes passed to record_event are stored as a reference, never a value."""
    with db.write() as session:
        record_event(
            session,
            actor_user_id=None,
            organisation_id=None,
            action="referral.updated",
            entity_type="referral",
            entity_id=99,
            before={"name": "Olwen Pryce", "household_size": 2},
            after={"name": "Olwen Pryce-Jones", "notes": "call 07700 900456", "urgency": "urgent",
                   "comment": "Mrs Pryce rang from 07700 900456"},
        )  # fmt: skip
    with db.read() as session:
        event = session.get(AuditEvent, 1)
        assert event is not None
        stored = event.before_json + event.after_json
    assert "Pryce" not in stored and "900456" not in stored and "Olwen" not in stored
    assert PERSONAL_REFERENCE in stored and '"urgency":"urgent"' in stored
    assert event.referral_id == 99
