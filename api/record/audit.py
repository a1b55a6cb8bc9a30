"""The tamper-evident audit log: append an event, verify the chain.

Each event stores the hash of the one before it and its own SHA-256 over a canonical JSON of
its fields, so altering, inserting or removing any event breaks every hash after it, and
``verify_chain`` names the first event that no longer fits. The database refuses UPDATE and
DELETE on the table (triggers), so tampering needs deliberate administrator action that
verification then exposes (FOIA s.77 makes altering records after a request an offence).
Someone who controls the database could still rewrite an event and recompute every later
hash, or delete the newest events; signed checkpoints of the head, kept outside the
database (``api.record.checkpoints``), expose that too. An append notes its event in the
session (``HEAD_KEY``); once the transaction commits, the checkpoints' session hook (installed
by ``api.record.install``) hands the newest to the checkpoint writer.

Personal data never enters the log by value: keys that carry it are replaced by a reference
marker and every remaining string passes through the redaction function.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Insert, Table, bindparam, func, insert, null, select, text
from sqlalchemy.orm import Session

from api.core.tables import Referral, utcnow
from api.record.people import known_redactor
from api.record.redaction import Redactor
from api.record.tables import AuditEvent, DocumentKind, SearchDocument
from api.record.wording import event_sentence

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""

AUDIT_LOCK_KEY = 7_305_001
"""PostgreSQL advisory-lock key that serialises appends to the chain."""

PERSONAL_REFERENCE = "[personal data held by reference]"

PERSONAL_KEYS = frozenset(
    {
        "name", "full_name", "first_name", "last_name", "display_name", "phone", "telephone",
        "mobile", "email", "address", "address_line", "postcode", "date_of_birth", "dob",
        "notes", "note", "body", "text", "message", "decline_note", "contact",
    }
)  # fmt: skip
"""Keys whose values are personal data or free text; logged as a reference, not a value."""


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of checking the chain: ``first_broken_id`` is None when it is intact.

    ``head_id``/``head_hash``: the last event that passed (0 and the genesis hash if none).
    ``started_at``: the event the walk started from (0: the beginning of the chain).
    """

    ok: bool
    checked: int
    first_broken_id: int | None
    detail: str
    head_hash: str = GENESIS_HASH
    head_id: int = 0
    started_at: int = 0
    reason: str | None = None
    """Why it broke: ``gap``, ``link``, ``content``, or at the start ``start_missing``,
    ``start_rewritten``, ``start_content``."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and UTF-8 text: one spelling per value."""
    return _CANONICAL.encode(value)


def format_timestamp(moment: datetime) -> str:
    """A timestamp as hashed: UTC, microseconds, ``Z`` (naive values are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"  # as strftime %Y-%m-%dT%H:%M:%S.%fZ


class ChainedEvent(Protocol):
    """The fields of an audit event that its hash covers (an ORM object or a plain row)."""

    @property
    def id(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def actor_user_id(self) -> int | None: ...
    @property
    def actor_label(self) -> str: ...
    @property
    def organisation_id(self) -> int | None: ...
    @property
    def action(self) -> str: ...
    @property
    def entity_type(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def referral_id(self) -> int | None: ...
    @property
    def before_json(self) -> str: ...
    @property
    def after_json(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


def event_hash(event: ChainedEvent) -> str:
    """SHA-256 (hex) of the event's canonical JSON, its ``prev_hash`` included."""
    material = {
        "id": event.id,
        "occurred_at": format_timestamp(event.occurred_at),
        "actor_user_id": event.actor_user_id,
        "actor_label": event.actor_label,
        "organisation_id": event.organisation_id,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "referral_id": event.referral_id,
        "before": event.before_json,
        "after": event.after_json,
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()


def sanitise(value: Any, redactor: Redactor | None = None) -> Any:
    """A JSON-ready copy of ``value`` with personal data replaced by references or redacted
    (by ``redactor``, which knows the service's names; without one, by pattern and cue)."""
    redactor = redactor or Redactor()
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return sanitise(value.value, redactor)
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return redactor.redact(value).text
    if isinstance(value, Mapping):
        return {
            str(key): PERSONAL_REFERENCE
            if str(key).lower() in PERSONAL_KEYS
            else sanitise(item, redactor)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [sanitise(item, redactor) for item in items]
    return redactor.redact(str(value)).text


def _chain_head(connection: Connection) -> Any:
    """The newest event's ``(id, hash)`` (``None`` for an empty chain), read by the one
    appender allowed in now.

    On PostgreSQL appends queue on a transaction-level advisory lock; the function
    ``audit_chain_head`` (migration ``record_0003``) takes it and then reads the head in one
    round trip, so the head is read after the lock is granted. SQLite needs no lock here:
    write transactions begin IMMEDIATE (``api.core.db``), so only one writer is ever inside. The
    primary key (head + 1) backs both up: a fork cannot commit.
    """
    if connection.dialect.name != "postgresql":
        return connection.execute(_HEAD).first()
    head = connection.execute(_LOCKED_HEAD, {"lock_key": AUDIT_LOCK_KEY}).first()
    return None if head is None or head.id is None else head


def record_event(
    session: Session,
    *,
    actor_user_id: int | None,
    organisation_id: int | None,
    action: str,
    entity_type: str,
    entity_id: int | str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    referral_id: int | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction (which commits it).

    ``action`` is a dotted verb such as ``referral.created`` or ``offer.declined``.
    ``before``/``after`` describe the change; personal fields are replaced by a reference.
    ``referral_id`` links the event to a household's record (for subject access and search);
    it defaults to ``entity_id`` when ``entity_type`` is ``referral``.
    """
    if not action or not entity_type:
        raise ValueError("record_event needs an action and an entity_type")
    if referral_id is None and entity_type == "referral":
        referral_id = int(entity_id)
    session.flush()  # whatever the caller changed is in the transaction before the event
    connection = session.connection()
    redactor = known_redactor(connection)
    before_value, after_value = sanitise(before, redactor), sanitise(after, redactor)
    # What an FOI officer reads and searches: the event in sentences, from its values only.
    document_text = event_sentence(action, entity_type, entity_id, before_value, after_value)
    # From here to the caller's commit, appends queue on PostgreSQL: keep this part short.
    head = _chain_head(connection)
    event = AuditEvent(
        id=(head.id + 1) if head else 1,
        occurred_at=utcnow(),
        actor_user_id=actor_user_id,
        actor_label=actor_label or ("user" if actor_user_id is not None else "system"),
        organisation_id=organisation_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        referral_id=referral_id,
        before_json=canonical_json(before_value),
        after_json=canonical_json(after_value),
        prev_hash=head.hash if head else GENESIS_HASH,
    )
    event.hash = event_hash(event)
    # Prepared Core INSERTs, not the unit of work: an event is written once and never
    # changed, and every audited change pays for this (the returned object is not added to
    # the session). The event's search document is new too: no look-up of an earlier copy.
    params = {f"ev_{column}": getattr(event, column) for column in _COLUMNS}
    params.update(
        doc_source_key=f"audit:{event.id}",
        doc_text=document_text,
        doc_actor_organisation_id=event.organisation_id,
    )
    about_household = event.referral_id is not None
    if connection.dialect.name == "postgresql":
        # One statement writes the event and its document (a data-modifying WITH): one round
        # trip less while the other appenders wait.
        connection.execute(_APPEND_WITH_DOCUMENT[about_household], params)
    else:
        connection.execute(_INSERT_EVENT, params)
        connection.execute(_INSERT_DOCUMENT[about_household], params)
    session.info[HEAD_KEY] = (connection.engine.url, event.id, event.hash)
    return event


HEAD_KEY = "foodmatch_audit_head"
"""``session.info`` key: ``(database URL, id, hash)`` of the newest event this transaction
appended, handed to the checkpoint writer once the transaction commits."""


_EVENTS = cast(Table, AuditEvent.__table__)
_COLUMNS = tuple(column.name for column in _EVENTS.columns)
_HEAD = select(_EVENTS.c.id, _EVENTS.c.hash).order_by(_EVENTS.c.id.desc()).limit(1)
_LOCKED_HEAD = text("SELECT id, hash FROM audit_chain_head(:lock_key)")
_INSERT_EVENT = insert(_EVENTS).values({column: bindparam(f"ev_{column}") for column in _COLUMNS})
_DOCUMENTS = cast(Table, SearchDocument.__table__)
_REFERRALS = cast(Table, Referral.__table__)


def _document_insert(about_household: bool) -> Insert:
    """The INSERT of an event's search document (its text holds no personal data).

    The document belongs to the council whose record it is: for an event about a household,
    the referral's organisation (read in the same statement), with the acting organisation
    (a charity) as its other party when that is someone else; otherwise the acting
    organisation.
    """
    actor = bindparam("doc_actor_organisation_id", type_=_DOCUMENTS.c.organisation_id.type)
    owner: Any = actor
    other: Any = null()
    if about_household:
        owner = (
            select(_REFERRALS.c.organisation_id)
            .where(_REFERRALS.c.id == bindparam("ev_referral_id"))
            .scalar_subquery()
        )
        other = func.nullif(actor, owner)
    return insert(_DOCUMENTS).values(
        kind=DocumentKind.AUDIT.value,
        source_key=bindparam("doc_source_key"),
        organisation_id=owner,
        other_organisation_id=other,
        referral_id=bindparam("ev_referral_id"),
        occurred_at=bindparam("ev_occurred_at"),
        body=bindparam("doc_text"),
        body_redacted=bindparam("doc_text"),
    )


_INSERT_DOCUMENT = {flag: _document_insert(flag) for flag in (False, True)}
_APPEND_WITH_DOCUMENT = {
    flag: _document_insert(flag).add_cte(_INSERT_EVENT.cte("new_event")) for flag in (False, True)
}


def _flatten(value: Any) -> str:
    if isinstance(value, Mapping):
        return " ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list):
        return " ".join(_flatten(item) for item in value)
    return "" if value is None else str(value)


def verify_chain(
    session: Session, *, batch_size: int = 5000, start: tuple[int, str] | None = None
) -> VerifyResult:
    """Walk the chain in id order; report the first event whose place or hash is wrong.

    ``start`` (an event id and the hash a trusted checkpoint signed for it) begins the walk
    there instead of at event 1: that event must still exist, hold that hash and hash to it.
    """
    expected_id = 1
    prev_hash = GENESIS_HASH
    checked = 0
    columns = AuditEvent.__table__
    started_at = 0
    if start is not None:
        started_at, start_hash = start
        row = session.execute(select(columns).where(columns.c.id == started_at)).first()
        broken = _check_start(row, started_at, start_hash)
        if broken:
            return VerifyResult(False, 0, started_at, broken[1], start_hash, started_at - 1,
                                started_at, f"start_{broken[0]}")  # fmt: skip
        expected_id, prev_hash, checked = started_at + 1, start_hash, 1
    while True:
        rows = session.execute(
            select(columns)
            .where(columns.c.id >= expected_id)
            .order_by(columns.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            detail = f"{checked} events verified"
            return VerifyResult(True, checked, None, detail, prev_hash, expected_id - 1, started_at)
        for row in rows:
            event: ChainedEvent = row
            broken = _check(event, expected_id, prev_hash)
            if broken:
                return VerifyResult(False, checked, event.id, broken[1], prev_hash,
                                    expected_id - 1, started_at, broken[0])  # fmt: skip
            checked += 1
            prev_hash = event.hash
            expected_id = event.id + 1


def _check_start(row: Any, event_id: int, signed_hash: str) -> tuple[str, str] | None:
    if row is None:
        return "missing", (
            f"event {event_id} is missing, yet a verified checkpoint shows it existed "
            "(events were removed)"
        )
    if row.hash != signed_hash:
        return "rewritten", (
            f"event {event_id}: its hash is not the one the verified checkpoint signed (events "
            f"up to {event_id} were rewritten)"
        )
    if event_hash(row) != row.hash:
        return "content", (
            f"event {event_id}: its content does not match its hash (the event was altered)"
        )
    return None


def _check(event: ChainedEvent, expected_id: int, prev_hash: str) -> tuple[str, str] | None:
    if event.id != expected_id:
        return "gap", (
            f"event {event.id}: events {expected_id} to {event.id - 1} are missing "
            "(the chain has a gap)"
        )
    if event.prev_hash != prev_hash:
        return "link", (
            f"event {event.id}: prev_hash does not match the hash of event {event.id - 1} "
            "(an event before it was altered, removed or inserted)"
        )
    if event_hash(event) != event.hash:
        return "content", (
            f"event {event.id}: its content does not match its hash (the event was altered)"
        )
    return None
