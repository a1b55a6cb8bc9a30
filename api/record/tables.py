"""Tables of the FOI-ready record, declared on the service's :class:`api.core.tables.Base`.

- ``audit_events``: the append-only, hash-chained log. No personal data by value; the database
  itself refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) through triggers.
- ``message_threads``, ``messages``, ``thread_read_markers``: council-charity coordination.
- ``search_documents``: the text of messages, notes, decisions and audit events, each with a
  redacted copy that is the only text the full-text index sees (SQLite FTS5, or on PostgreSQL
  a stored tsvector column with a GIN index), so a search can never match on personal data.
- ``foi_requests``, ``foi_exports``: the FOI register and the exports made for it.
- ``erasures``: a tombstone per household whose personal data has been erased.

The triggers, the SQLite FTS table and the PostgreSQL tsvector column are attached to
``after_create`` so ``create_all`` and the Alembic revisions produce the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.core.tables import Base, utcnow

# --- DDL shared with the Alembic revision -------------------------------------------------

SQLITE_AUDIT_TRIGGERS = (
    "CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
)
POSTGRES_AUDIT_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING "
    "MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused', ERRCODE = '42501'; "
    "END; $$",
    "CREATE TRIGGER audit_events_refuse_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()",
    "CREATE TRIGGER audit_events_refuse_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()",
)
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE search_documents_fts USING fts5("
    "body_redacted, content='search_documents', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_documents_fts(rowid, body_redacted) VALUES (new.id, new.body_redacted); "
    "END",
    "CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_documents_fts(search_documents_fts, rowid, body_redacted) "
    "VALUES ('delete', old.id, old.body_redacted); END",
    "CREATE TRIGGER search_documents_fts_update AFTER UPDATE OF body_redacted "
    "ON search_documents BEGIN "
    "INSERT INTO search_documents_fts(search_documents_fts, rowid, body_redacted) "
    "VALUES ('delete', old.id, old.body_redacted); "
    "INSERT INTO search_documents_fts(rowid, body_redacted) VALUES (new.id, new.body_redacted); "
    "END",
)
SQLITE_FTS_DROP = "DROP TABLE IF EXISTS search_documents_fts"
POSTGRES_TSVECTOR = "to_tsvector('english', coalesce(body_redacted, ''))"
# On PostgreSQL the redacted text's tsvector is stored beside it (a generated column), so a
# search ranks its matches without parsing every matching document again, and its GIN index
# answers the match. The ORM does not map the column: it exists on PostgreSQL only, and no
# code writes it. The migrations' comparison leaves these two names alone (RAW_DDL_NAMES).
SEARCH_VECTOR_COLUMN = "body_tsv"
SEARCH_VECTOR_INDEX = "ix_search_documents_body_tsv"
POSTGRES_SEARCH_VECTOR = (
    f"ALTER TABLE search_documents ADD COLUMN {SEARCH_VECTOR_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({POSTGRES_TSVECTOR}) STORED",
    f"CREATE INDEX {SEARCH_VECTOR_INDEX} ON search_documents USING gin ({SEARCH_VECTOR_COLUMN})",
)
# The audit chain's append lock and head read in one call (api.record.audit._chain_head).
POSTGRES_CHAIN_HEAD = (
    "CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint, OUT id bigint, "
    "OUT hash varchar) LANGUAGE plpgsql VOLATILE AS $$ BEGIN "
    "PERFORM pg_advisory_xact_lock(lock_key); "
    "SELECT e.id, e.hash INTO id, hash FROM audit_events e ORDER BY e.id DESC LIMIT 1; "
    "END; $$",
)
RAW_DDL_NAMES = frozenset({SEARCH_VECTOR_COLUMN, SEARCH_VECTOR_INDEX})


class ThreadKind(StrEnum):
    """A thread about one referral with one charity, or between two organisations."""

    REFERRAL = "referral"
    ORGANISATION = "organisation"


class DocumentKind(StrEnum):
    """What a search document was taken from."""

    MESSAGE = "message"
    NOTE = "note"
    DECISION = "decision"
    AUDIT = "audit"


class FoiRequestStatus(StrEnum):
    """Where an FOI request stands in the register."""

    OPEN = "open"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"


class ErasureReason(StrEnum):
    """Why a household's personal data was erased."""

    RETENTION = "retention"
    REQUEST = "request"


class AuditEvent(Base):
    """One state change, chained to the previous event by its hash.

    ``id`` is assigned by :func:`api.record.audit.record_event` as head + 1, so the chain has no
    gaps and a fork (two events claiming the same place) fails on the primary key. ``before``
    and ``after`` hold canonical JSON text exactly as hashed; personal data appears only as a
    reference (the referral id), never by value.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime]
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    referral_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before_json: Mapped[str] = mapped_column(Text)
    after_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class MessageThread(Base):
    """A conversation between a council and a charity, about one referral or in general."""

    __tablename__ = "message_threads"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'referral' AND referral_id IS NOT NULL) OR "
            "(kind = 'organisation' AND referral_id IS NULL)",
            name="kind_matches_referral",
        ),
        Index(
            "uq_message_threads_referral_charity",
            "referral_id",
            "charity_organisation_id",
            unique=True,
        ),
        Index("ix_message_threads_orgs", "council_organisation_id", "charity_organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    council_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    charity_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    subject: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)


class Message(Base):
    """One message in a thread. ``redacted_at`` is set once personal data was removed."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread_id_id", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    redacted_at: Mapped[datetime | None] = mapped_column(default=None)


class ThreadReadMarker(Base):
    """How far one user has read one thread (the highest message id seen)."""

    __tablename__ = "thread_read_markers"

    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_read_message_id: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SearchDocument(Base):
    """Searchable text from the record. Only ``body_redacted`` is indexed or shown to FOI.

    ``organisation_id`` is the council whose record it is; ``other_organisation_id`` the
    charity party, if any. ``body`` keeps the original for authorised readers until erasure.
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("source_key", name="uq_search_documents_source_key"),
        Index("ix_search_documents_org_time", "organisation_id", "occurred_at"),
        Index("ix_search_documents_other_org", "other_organisation_id"),
        Index("ix_search_documents_referral", "referral_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_key: Mapped[str] = mapped_column(String(80))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    other_organisation_id: Mapped[int | None] = mapped_column(Integer)
    referral_id: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)
    body_redacted: Mapped[str] = mapped_column(Text)


class FoiRequest(Base):
    """An entry in the FOI register: when it came in and when the answer is due."""

    __tablename__ = "foi_requests"
    __table_args__ = (
        UniqueConstraint("organisation_id", "reference", name="uq_foi_requests_org_reference"),
        CheckConstraint("due_on > received_on", name="due_after_received"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=FoiRequestStatus.OPEN.value)
    closed_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FoiExport(Base):
    """A redacted export of the record (a ZIP), kept so what was released can be shown later."""

    __tablename__ = "foi_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    foi_request_id: Mapped[int | None] = mapped_column(ForeignKey("foi_requests.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    parameters: Mapped[dict[str, Any]]
    item_count: Mapped[int]
    redaction_counts: Mapped[dict[str, Any]]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Erasure(Base):
    """Tombstone: this household's personal data was erased, when, why and by whom."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(16))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    audit_event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


def _run_ddl(statements: tuple[str, ...], dialect: str) -> Callable[..., None]:
    """A DDL-event listener that runs ``statements`` when the database is ``dialect``."""

    def listener(_target: Any, connection: Connection, **_kw: Any) -> None:
        if connection.dialect.name == dialect:
            for statement in statements:
                connection.exec_driver_sql(statement)

    return listener


def _attach_ddl() -> None:
    """Install triggers and the SQLite FTS table whenever these tables are created."""
    audit = AuditEvent.__table__
    documents = SearchDocument.__table__
    event.listen(audit, "after_create", _run_ddl(SQLITE_AUDIT_TRIGGERS, "sqlite"))
    event.listen(audit, "after_create", _run_ddl(POSTGRES_AUDIT_TRIGGERS, "postgresql"))
    event.listen(audit, "after_create", _run_ddl(POSTGRES_CHAIN_HEAD, "postgresql"))
    event.listen(documents, "after_create", _run_ddl(SQLITE_FTS, "sqlite"))
    event.listen(documents, "after_create", _run_ddl(POSTGRES_SEARCH_VECTOR, "postgresql"))
    event.listen(documents, "before_drop", _run_ddl((SQLITE_FTS_DROP,), "sqlite"))


_attach_ddl()
