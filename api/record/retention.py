"""Retention, right to erasure and subject access for one household.

Erasure removes a household's personal data everywhere the record holds it: the
``referral_personal`` row (name, phone, address, postcode, notes) and the searchable copy of
the notes, the text of messages in the referral's threads and of organisation-wide messages
and thread subjects that mention the household (redacted), other search documents, decline
notes, stored idempotent responses and stored FOI exports (rewritten, old and new hashes
audited). What remains is the anonymised record: the referral's matching fields (household
size, needs, district, urgency), offers, decisions and the audit chain, which never held
personal data by value and so still verifies. A tombstone (``erasures``) and an audit event
say when, why and by whom.

Removed text must not linger in the database files either. On SQLite the erasure runs with
``secure_delete`` (freed space is zeroed), and after it commits the full-text index is merged
(``optimize``: the erased words leave its segments) and the write-ahead log is checkpointed
and truncated. On PostgreSQL, after the commit, the touched tables are vacuumed (dead row
versions removed) and the search index is rebuilt (a GIN index keeps a removed word's entry
until then); see docs/foi.md for what the write-ahead log and backups still hold.

Subject access gathers everything about one household: its row, offers, the messages of its
threads and of organisation-wide threads that mention it, and the audit events about it.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, false, func, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from api.auth.tokens import Principal
from api.core.db import Database
from api.core.errors import conflict, not_found
from api.core.tables import IdempotencyKey, Offer, Referral, ReferralPersonal, utcnow
from api.core.vocabulary import CLOSED_REFERRAL_STATUSES
from api.record.audit import format_timestamp, record_event
from api.record.foi import redact_stored_exports
from api.record.people import known_for_referrals, redactor_for
from api.record.redaction import KnownPersonalData, Redactor, distinctive_tokens
from api.record.schemas import ErasureRead
from api.record.settings import get_record_settings
from api.record.tables import (
    SEARCH_VECTOR_INDEX,
    AuditEvent,
    DocumentKind,
    Erasure,
    ErasureReason,
    Message,
    MessageThread,
    SearchDocument,
    ThreadKind,
)


def months_before(moment: datetime, months: int) -> datetime:
    """The same instant ``months`` calendar months earlier (day clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


log = logging.getLogger(__name__)

PURGED_TABLES = (
    "referral_personal", "messages", "message_threads", "search_documents", "offers",
    "idempotency_keys", "foi_exports",
)  # fmt: skip
"""Tables an erasure changes, vacuumed after it on PostgreSQL."""


PURGE_WAIT_S = 30
"""How long a purge waits for other connections (SQLite readers; PostgreSQL transactions
older than the index rebuild) before it gives up and logs; the next purge finishes it."""

_PURGE_LOCK = threading.Lock()
_PURGES: list[threading.Thread] = []


def purge_erased_text(engine: Engine) -> None:
    """Make sure text an erasure removed is gone from the database files, not only from view.

    SQLite: merge the full-text index into one segment (dropping deleted words) with
    ``secure_delete`` on, then checkpoint and truncate the write-ahead log. PostgreSQL:
    ``VACUUM`` the tables erasure changes and rebuild the search index concurrently. Runs
    outside any transaction, one at a time per process, waiting at most ``PURGE_WAIT_S`` for
    other connections; a failure is logged, never raised (the erasure itself committed), and
    the next purge does what this one could not.
    """
    # Its own connection, outside the service's pool: a purge on a thread may outlive the
    # request (and, in tests, the pool) that started it.
    purger = create_engine(engine.url, poolclass=NullPool)
    with _PURGE_LOCK:
        try:
            if engine.dialect.name == "sqlite":
                _purge_sqlite(purger)
            elif engine.dialect.name == "postgresql":
                _purge_postgresql(purger)
        except Exception as exc:  # maintenance: report, never undo the committed erasure
            log.warning("purging erased text from the database files failed: %s", exc)
        finally:
            purger.dispose()


def purge_in_background(engine: Engine) -> threading.Thread:
    """Start :func:`purge_erased_text` on its own thread (an erasure asked over HTTP answers
    without waiting for database maintenance)."""
    thread = threading.Thread(
        target=purge_erased_text, args=(engine,), name="erasure-purge", daemon=True
    )
    _PURGES[:] = [t for t in _PURGES if t.is_alive()]
    _PURGES.append(thread)
    thread.start()
    return thread


def wait_for_purges(timeout: float = 120.0) -> bool:
    """Wait for the background purges of this process; True if all finished."""
    for thread in list(_PURGES):
        thread.join(timeout)
    return not any(t.is_alive() for t in _PURGES)


def _purge_sqlite(engine: Engine) -> None:
    raw = engine.raw_connection()
    try:
        raw.driver_connection.isolation_level = None  # type: ignore[union-attr]
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {PURGE_WAIT_S * 1000}")
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("INSERT INTO search_documents_fts(search_documents_fts) VALUES ('optimize')")
        cursor.execute("COMMIT")
        # Readers hold the log open; wait for them only briefly (a later purge truncates).
        cursor.execute("PRAGMA busy_timeout = 2000")
        busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy and busy[0]:
            log.warning("the write-ahead log could not be truncated now (readers active)")
        cursor.close()
    finally:
        raw.close()


def _purge_postgresql(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"SET statement_timeout = '{PURGE_WAIT_S}s'")
        connection.exec_driver_sql("VACUUM " + ", ".join(PURGED_TABLES))
        connection.exec_driver_sql(f"REINDEX INDEX CONCURRENTLY {SEARCH_VECTOR_INDEX}")


def _purge_after_commit(session: Session, *, background: bool) -> None:
    """Purge once this session's transaction commits (now, or on a thread)."""
    engine = session.get_bind()
    if not isinstance(engine, Engine):
        engine = engine.engine

    def purge(_session: Session) -> None:
        if background:
            purge_in_background(engine)
        else:
            purge_erased_text(engine)

    event.listen(session, "after_commit", purge, once=True)


def _naming(tokens: set[str]) -> Any:
    """A SQL condition factory: does a text column hold one of ``tokens`` (any case)?"""

    def condition(column: Any) -> Any:
        if not tokens:
            return false()
        return or_(*(func.lower(column).like(f"%{token}%") for token in sorted(tokens)))

    return condition


def erase_household(
    session: Session,
    *,
    referral_id: int,
    reason: ErasureReason,
    actor_user_id: int | None,
    organisation_id: int | None,
    actor_label: str | None = None,
    purge: str = "after_commit",
) -> ErasureRead:
    """Erase one household's personal data inside the caller's write transaction.

    ``purge`` says when :func:`purge_erased_text` runs: ``"after_commit"`` (the default, as
    the command line wants), ``"background"`` (on a thread after the commit, for a request
    that should not wait) or ``"none"`` (a batch that purges once at the end).
    """
    if purge not in ("after_commit", "background", "none"):
        raise ValueError(f"purge must be after_commit, background or none; got {purge!r}")
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise not_found("referral", referral_id)
    if session.scalar(select(Erasure.id).where(Erasure.referral_id == referral_id)):
        raise conflict(f"The personal data of referral {referral_id} was already erased.")
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))  # freed space is zeroed
    known = known_for_referrals(session, [referral_id])
    redactor = redactor_for(session)
    now = utcnow()

    naming = _naming(distinctive_tokens(known.names))
    thread_ids = set(
        session.scalars(select(MessageThread.id).where(MessageThread.referral_id == referral_id))
    )
    # The household's own threads are redacted in full; anything else that mentions it (an
    # organisation-wide thread, another household's thread or notes) loses only its data.
    for thread in session.scalars(
        select(MessageThread).where(
            MessageThread.id.in_(sorted(thread_ids))
            | (MessageThread.kind == ThreadKind.ORGANISATION.value)
            | naming(MessageThread.subject)
        )
    ):
        if redactor.mentions(thread.subject, known):
            thread.subject = redactor.redact_known(thread.subject, known).text
    changed_keys: set[str] = set()
    messages_redacted = 0
    for message in session.scalars(
        select(Message)
        .join(MessageThread, MessageThread.id == Message.thread_id)
        .where(
            Message.thread_id.in_(sorted(thread_ids))
            | (MessageThread.kind == ThreadKind.ORGANISATION.value)
            | naming(Message.body)
        )
    ):
        if message.thread_id in thread_ids:
            today = message.created_at.date()
            message.body = redactor.redact(message.body, known, today=today).text
        elif redactor.mentions(message.body, known):
            message.body = redactor.redact_known(message.body, known).text
        else:
            continue
        message.redacted_at = now
        changed_keys.add(f"message:{message.id}")
        messages_redacted += 1

    for other in session.scalars(
        select(ReferralPersonal).where(
            ReferralPersonal.referral_id != referral_id, naming(ReferralPersonal.notes)
        )
    ):
        if other.notes and redactor.mentions(other.notes, known):
            other.notes = redactor.redact_known(other.notes, known).text

    # Notes live in the personal table, so their searchable copy goes with it: redaction
    # cannot catch everything free text may say about a household (health, family).
    session.execute(
        delete(SearchDocument).where(
            SearchDocument.referral_id == referral_id,
            SearchDocument.kind == DocumentKind.NOTE.value,
        )
    )
    documents_redacted = 0
    documents = session.scalars(
        select(SearchDocument).where(
            (SearchDocument.referral_id == referral_id)
            | SearchDocument.source_key.in_(sorted(changed_keys))
            | naming(SearchDocument.body)
            | naming(SearchDocument.body_redacted)
        )
    )
    for document in documents:
        today = document.occurred_at.date()
        own = document.referral_id == referral_id
        body = (
            redactor.redact(document.body, known, today=today).text
            if own
            else redactor.redact_known(document.body, known).text
        )
        shown = redactor.redact(document.body_redacted, known, today=today).text
        if body != document.body or shown != document.body_redacted or own:
            document.body, document.body_redacted = body, shown
            documents_redacted += 1

    for offer in session.scalars(
        select(Offer).where((Offer.referral_id == referral_id) | naming(Offer.decline_note))
    ):
        if offer.decline_note and offer.referral_id == referral_id:
            offer.decline_note = redactor.redact(offer.decline_note, known).text
        elif offer.decline_note:
            offer.decline_note = redactor.redact_known(offer.decline_note, known).text

    for stored in session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.organisation_id == referral.organisation_id)
    ):
        if isinstance(stored.response_body, dict) and stored.response_body.get("id") == referral_id:
            session.delete(stored)

    exports_redacted = redact_stored_exports(
        session,
        known,
        referral_id=referral_id,
        actor_user_id=actor_user_id,
        actor_label=actor_label,
    )
    session.flush()
    session.execute(delete(ReferralPersonal).where(ReferralPersonal.referral_id == referral_id))
    event = record_event(
        session,
        actor_user_id=actor_user_id,
        organisation_id=organisation_id,
        action="personal_data.erased",
        entity_type="referral",
        entity_id=referral_id,
        before=None,
        after={
            "reason": reason.value,
            "messages_redacted": messages_redacted,
            "documents_redacted": documents_redacted,
            "exports_redacted": exports_redacted,
        },
        actor_label=actor_label,
    )
    session.add(
        Erasure(
            referral_id=referral_id,
            reason=reason.value,
            erased_at=now,
            erased_by_id=actor_user_id,
            audit_event_id=event.id,
        )
    )
    session.flush()
    if purge != "none":
        _purge_after_commit(session, background=purge == "background")
    return ErasureRead(
        referral_id=referral_id,
        reason="request" if reason is ErasureReason.REQUEST else "retention",
        erased_at=now,
        audit_event_id=event.id,
        messages_redacted=messages_redacted,
        documents_redacted=documents_redacted,
    )


def _messages_naming(session: Session, redactor: Redactor, known: KnownPersonalData) -> list[int]:
    """Messages of organisation-wide threads that mention the household (by its name, phone,
    address or postcode), or all of a thread whose subject does."""
    if known.empty:
        return []
    found: list[int] = []
    rows = session.execute(
        select(Message.id, Message.body, MessageThread.subject)
        .join(MessageThread, MessageThread.id == Message.thread_id)
        .where(MessageThread.kind == ThreadKind.ORGANISATION.value)
    )
    subjects: dict[str, bool] = {}
    for message_id, body, subject in rows:
        if subject not in subjects:
            subjects[subject] = redactor.mentions(subject, known)
        if subjects[subject] or redactor.mentions(body, known):
            found.append(message_id)
    return found


def _own_referral(session: Session, principal: Principal, referral_id: int) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None or referral.organisation_id != principal.organisation_id:
        raise not_found("referral", referral_id)
    return referral


def erase_on_request(db: Database, principal: Principal, referral_id: int) -> ErasureRead:
    """Right to erasure, asked of an administrator of the referring council."""
    with db.write() as session:
        _own_referral(session, principal, referral_id)
        return erase_household(
            session,
            referral_id=referral_id,
            reason=ErasureReason.REQUEST,
            actor_user_id=principal.user_id,
            organisation_id=principal.organisation_id,
            purge="background",
        )


def due_for_erasure(
    session: Session, *, now: datetime, months: int, organisation_id: int | None = None
) -> list[int]:
    """Closed (fulfilled or withdrawn) referrals untouched for ``months`` whose data is not
    yet erased."""
    cutoff = months_before(now, months)
    erased = select(Erasure.referral_id)
    query = select(Referral.id).where(
        Referral.status.in_(CLOSED_REFERRAL_STATUSES),
        Referral.updated_at <= cutoff,
        Referral.id.not_in(erased),
    )
    if organisation_id is not None:
        query = query.where(Referral.organisation_id == organisation_id)
    return list(session.scalars(query.order_by(Referral.id)))


def run_retention(
    db: Database,
    *,
    now: datetime | None = None,
    months: int | None = None,
    organisation_id: int | None = None,
    actor_user_id: int | None = None,
) -> list[int]:
    """Erase every household whose retention period has passed; one transaction each."""
    moment = now or utcnow()
    period = months if months is not None else get_record_settings().retention_months
    with db.read() as session:
        due = due_for_erasure(session, now=moment, months=period, organisation_id=organisation_id)
    erased = []
    for referral_id in due:
        with db.write() as session:
            if session.scalar(select(Erasure.id).where(Erasure.referral_id == referral_id)):
                continue  # erased meanwhile by another run
            erase_household(
                session,
                referral_id=referral_id,
                reason=ErasureReason.RETENTION,
                actor_user_id=actor_user_id,
                organisation_id=organisation_id,
                actor_label="retention" if actor_user_id is None else None,
                purge="none",
            )
        erased.append(referral_id)
    if erased:
        purge_erased_text(db.engine)
    return erased


def subject_access_report(
    session: Session, referral_id: int, *, actor_user_id: int | None, organisation_id: int | None
) -> dict[str, Any]:
    """Everything the record holds about one household, unredacted, and audit the disclosure."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise not_found("referral", referral_id)
    personal = session.get(ReferralPersonal, referral_id)
    thread_ids = list(
        session.scalars(select(MessageThread.id).where(MessageThread.referral_id == referral_id))
    )
    known = known_for_referrals(session, [referral_id])
    naming = _messages_naming(session, redactor_for(session), known)
    erasure = session.scalar(select(Erasure).where(Erasure.referral_id == referral_id))
    report: dict[str, Any] = {
        "generated_at": format_timestamp(utcnow()),
        "referral": {
            "id": referral.id,
            "organisation_id": referral.organisation_id,
            "household_size": referral.household_size,
            "dietary": referral.dietary_tags,
            "urgency": referral.urgency,
            "district": referral.outcode,
            "needs_delivery": referral.needs_delivery,
            "consent_to_share": referral.consent_to_share,
            "status": referral.status.value,
            "created_at": format_timestamp(referral.created_at),
        },
        "personal_data": None
        if personal is None
        else {
            "name": personal.name,
            "phone": personal.phone,
            "address": personal.address,
            "postcode": personal.postcode,
            "notes": personal.notes,
        },
        "offers": [
            {
                "id": o.id,
                "provider_id": o.provider_id,
                "status": o.status.value,
                "explanation": o.explanation,
                "decline_reason": o.decline_reason.value if o.decline_reason else None,
                "decline_note": o.decline_note,
                "created_at": format_timestamp(o.created_at),
            }
            for o in session.scalars(
                select(Offer).where(Offer.referral_id == referral_id).order_by(Offer.id)
            )
        ],
        "messages": [
            {
                "id": m.id,
                "thread_id": m.thread_id,
                "thread_kind": "referral" if m.thread_id in thread_ids else "organisation",
                "author_organisation_id": m.author_organisation_id,
                "created_at": format_timestamp(m.created_at),
                "body": m.body,
            }
            for m in session.scalars(
                select(Message)
                .where(Message.thread_id.in_(thread_ids) | Message.id.in_(naming))
                .order_by(Message.id)
            )
        ],
        "audit_events": [
            {
                "id": e.id,
                "occurred_at": format_timestamp(e.occurred_at),
                "action": e.action,
                "organisation_id": e.organisation_id,
                "entity": f"{e.entity_type}:{e.entity_id}",
            }
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.referral_id == referral_id)
                .order_by(AuditEvent.id)
            )
        ],
        "erasure": None
        if erasure is None
        else {"reason": erasure.reason, "erased_at": format_timestamp(erasure.erased_at)},
    }
    record_event(
        session,
        actor_user_id=actor_user_id,
        organisation_id=organisation_id,
        action="personal_data.subject_access",
        entity_type="referral",
        entity_id=referral_id,
        before=None,
        after={"messages": len(report["messages"]), "offers": len(report["offers"])},
        actor_label=None if actor_user_id is not None else "cli",
    )
    return report


def subject_access(db: Database, principal: Principal, referral_id: int) -> dict[str, Any]:
    """Subject access for a household of the administrator's own council."""
    with db.write() as session:
        _own_referral(session, principal, referral_id)
        return subject_access_report(
            session,
            referral_id,
            actor_user_id=principal.user_id,
            organisation_id=principal.organisation_id,
        )
