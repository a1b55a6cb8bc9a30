"""Request and response bodies of the record's endpoints (``XCreate`` in, ``XRead`` out)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from api.core.schemas import Input, json_integer

if TYPE_CHECKING:
    from api.record.checkpoints import AuditVerification, Checkpoint
    from api.record.dbrole import RoleReport

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_ID = 2_147_483_647
FOIA_IN_FORCE = date(2005, 1, 1)
"""The Freedom of Information Act 2000 gave its right of access from this day."""
FOIA_YEAR_PATTERN = r"^(200[5-9]|20[1-9][0-9]|2[1-9][0-9]{2}|[3-9][0-9]{3})-"
"""The years from 2005 on, as the start of a ``YYYY-MM-DD`` string."""


def _iso_date(value: object) -> date:
    """JSON Schema's ``format: date``: a real calendar date written ``YYYY-MM-DD``.

    Pydantic alone would also take ``0`` or ``"0"`` (Unix time) and date-times, which the
    schema does not allow, so anything but that exact form is refused here.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a date in the calendar") from None


def _foia_date(value: object) -> object:
    """An ISO date on or after the day FOIA came into force."""
    day = _iso_date(value)
    if day < FOIA_IN_FORCE:
        raise ValueError(f"must be on or after {FOIA_IN_FORCE}, when FOIA came into force")
    return day


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date in a body or query: exactly ``YYYY-MM-DD``, as the schema's ``format: date`` says."""

FoiReceiptDate = Annotated[
    date,
    BeforeValidator(_foia_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": FOIA_YEAR_PATTERN}),
]
"""A date of receipt: ``YYYY-MM-DD`` from 2005-01-01 on (the pattern states the year floor)."""

RecordId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(json_integer)]
"""The id of a stored object: a positive whole number in a JSON body (never a string or bool)."""

_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character ``str.isspace()`` accepts, which is what ``str.strip()`` removes, so the
schema and the server agree on what "blank" means."""
_SPACE_CLASS = "".join(f"\\u{ord(char):04x}" for char in _SPACE)
NOT_BLANK = rf"^[{_SPACE_CLASS}]*[^\x00{_SPACE_CLASS}][^\x00]*$"
"""Text with at least one character that is not white space, and no NUL (no database stores
it). Spaces, then one other character, then anything: no backtracking on long input."""
NO_NUL = r"^[^\x00]*$"


def _not_blank(value: str) -> str:
    """What ``NOT_BLANK`` states, with a readable message; stored without surrounding space."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    if not value.strip():
        raise ValueError("must contain something other than white space")
    return value.strip()


def _no_nul(value: str) -> str:
    """What ``NO_NUL`` states, with a readable message; stored without surrounding space."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value.strip()


# Lengths are checked on the text as sent (as JSON Schema counts them), then it is stripped.
MessageText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=5000),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": NOT_BLANK}),
]
"""A message: 1 to 5,000 characters, not all white space."""

Subject = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": NOT_BLANK}),
]
Reference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": NOT_BLANK}),
]
Keywords = Annotated[
    str,
    StringConstraints(max_length=500),
    AfterValidator(_no_nul),
    Field(json_schema_extra={"pattern": NO_NUL}),
]


class MessageCreate(Input):
    """A message to post in a thread."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Can the household collect on Tuesday at 10?"}]},
    )

    body: MessageText = Field(description="The message, 1 to 5,000 characters.")
    charity_organisation_id: RecordId | None = Field(
        default=None,
        description=(
            "Council side only: which charity's thread to write in. Defaults to the charity "
            "currently holding the referral's offer; a charity the referral was never offered "
            "to is a 409."
        ),
    )


class ThreadMessageCreate(Input):
    """A message to post in an existing thread (which already names both parties)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Forty parcels that week."}]},
    )

    body: MessageText = Field(description="The message, 1 to 5,000 characters.")


class ThreadCreate(Input):
    """Open an organisation-wide thread between a council and a charity."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "counterpart_organisation_id": 3,
                    "subject": "Christmas week capacity",
                    "body": "How many parcels can you do in the week of 22 December?",
                }
            ]
        },
    )

    counterpart_organisation_id: RecordId = Field(
        description=(
            "The other party: a charity when you are a council, a council otherwise. An "
            "unknown organisation is a 404; one of your own kind (or yours) is a 409."
        )
    )
    subject: Subject = Field(description="1 to 200 characters, not all white space.")
    body: MessageText = Field(description="The first message.")


class ReadMarkerUpdate(Input):
    """Mark a thread read up to a message (the newest when omitted)."""

    up_to_message_id: RecordId | None = None


class MessageRead(BaseModel):
    """One message as its reader may see it."""

    id: int
    thread_id: int
    referral_id: int | None
    charity_organisation_id: int
    author_user_id: int | None
    author_organisation_id: int
    body: str
    created_at: datetime
    unread: bool
    redacted: bool = Field(description="True once personal data was removed from the body.")


class ThreadRead(BaseModel):
    """A thread and how many of its messages the reader has not read."""

    id: int
    kind: Literal["referral", "organisation"]
    subject: str
    referral_id: int | None
    council_organisation_id: int
    charity_organisation_id: int
    created_at: datetime
    last_message_at: datetime | None
    unread_count: int


class FoiRequestCreate(Input):
    """Log an FOI request in the register."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reference": "FOI-2025-0117",
                    "summary": "Number of food parcel referrals made in December 2024.",
                    "received_on": "2025-01-06",
                }
            ]
        },
    )

    reference: Reference = Field(
        description="The council's own case reference, unique within the council."
    )
    summary: MessageText = Field(
        description="What was asked for (do not include the requester's details)."
    )
    received_on: FoiReceiptDate = Field(
        description=(
            "The date of receipt (FOIA s.10(6)): from 2005-01-01, when FOIA came into force, "
            "and not after today (UTC)."
        )
    )


class FoiRequestUpdate(Input):
    """Close or reopen an FOI request."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "answered"}]}
    )

    status: Literal["open", "answered", "withdrawn"]
    closed_on: IsoDate | None = Field(
        default=None,
        description=(
            "When it was answered or withdrawn; today when omitted. A date before the "
            "request's `received_on` is a 409. Ignored when reopening."
        ),
    )


class FoiRequestRead(BaseModel):
    """An FOI register entry with its statutory due date."""

    id: int
    organisation_id: int
    reference: str
    summary: str
    received_on: date
    due_on: date = Field(description="20 working days after receipt (E&W bank holidays).")
    status: str
    closed_on: date | None
    overdue: bool
    export_ids: list[int]


class ExportCreate(Input):
    """What to export for an FOI request."""

    date_from: IsoDate | None = Field(default=None, description="From this day (inclusive).")
    date_to: IsoDate | None = Field(
        default=None,
        description="To this day (inclusive): on or after `date_from` when both are given (a "
        "rule between two fields, which JSON Schema cannot state: 422 otherwise).",
    )
    organisation_ids: list[RecordId] = Field(
        default_factory=list,
        max_length=50,
        description="Only documents involving these organisations (empty: all in your scope).",
    )
    keywords: Keywords = Field(default="", description="Only documents matching all these words.")
    referral_id: RecordId | None = Field(
        default=None, description="Only documents about this referral."
    )
    foi_request_id: RecordId | None = Field(
        default=None, description="Register entry to attach to (404 if not yours)."
    )

    @model_validator(mode="after")
    def _dates_ordered(self) -> ExportCreate:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to must be on or after date_from")
        return self


class ExportRead(BaseModel):
    """A finished export: how much it holds, what was redacted, where to download it."""

    id: int
    organisation_id: int
    foi_request_id: int | None
    created_at: datetime
    parameters: dict[str, Any]
    item_count: int
    redaction_counts: dict[str, int]
    sha256: str = Field(description="SHA-256 of the ZIP, to show later what was released.")
    download_url: str


class SearchHitRead(BaseModel):
    """One search result."""

    id: int
    kind: Literal["message", "note", "decision", "audit"]
    source_key: str
    organisation_id: int | None
    other_organisation_id: int | None
    referral_id: int | None
    occurred_at: datetime
    text: str
    redacted: bool


AnchorStatusValue = Literal[
    "matched", "nothing_to_anchor", "not_configured", "not_checked", "store_missing",
    "key_missing", "forged", "truncated", "rewritten",
]  # fmt: skip


class CheckpointRead(BaseModel):
    """A signed checkpoint of the chain's head (kept outside the database)."""

    kind: Literal["append", "verified"] = Field(
        description="`append`: written by the service after a commit; `verified`: written "
        "by `foodmatch audit verify` after a pass."
    )
    event_id: int = Field(description="The event that was the head.")
    count: int = Field(description="Events in the chain then (ids have no gaps).")
    head_hash: str = Field(description="That event's hash, as signed.")
    signed_at: str = Field(description="When it was signed (UTC, ISO 8601).")
    key_id: str = Field(description="The Ed25519 key that signed it.")
    where: str = Field(description="The file and line it was read from.")


class AnchorRead(BaseModel):
    """What the checkpoints outside the database say about the chain."""

    status: AnchorStatusValue = Field(
        description="`matched`: every checkpoint read agrees with the database. "
        "`rewritten`: a genuine checkpoint's event now has another hash. `truncated`: a "
        "genuine checkpoint names an event that is gone. `forged`: a checkpoint signed with "
        "another key, or whose signature fails, was refused. `store_missing`: events but no "
        "checkpoints. `key_missing`: no key to check signatures. `not_configured`: no store "
        "(chain checked against itself only). `not_checked`: the chain itself is broken. "
        "`nothing_to_anchor`: no events yet."
    )
    store: str | None = Field(description="The checkpoint file read.")
    key_id: str | None = Field(description="The public key signatures were checked with.")
    checkpoints_read: int
    signatures_checked: int = Field(
        description="Signatures verified: the latest, the start and any that disagree."
    )
    latest_checkpoint: CheckpointRead | None = Field(
        description="The checkpoint with the highest event id (its signature checked)."
    )
    start_checkpoint: CheckpointRead | None = Field(
        description="Incremental mode: the verified checkpoint the walk started from."
    )
    unanchored_events: int = Field(
        description="Events newer than the latest checkpoint (not yet covered by one)."
    )
    problems: list[str]
    warnings: list[str]


class DatabaseRoleRead(BaseModel):
    """The PostgreSQL role the service is connected as, and what it could do to the log."""

    name: str
    superuser: bool
    can_change_audit_events: bool = Field(
        description="Superuser, owner of audit_events, UPDATE/DELETE/TRUNCATE on it, or may "
        "set session_replication_role."
    )
    detail: str


class VerifyRead(BaseModel):
    """Result of checking the audit chain against itself and against its checkpoints."""

    ok: bool = Field(
        description="The chain is intact and no checkpoint contradicts it (a missing store "
        "also fails; an unconfigured one does not, see `anchored`)."
    )
    mode: Literal["full", "incremental"]
    checked: int = Field(description="Events whose hash was recomputed.")
    first_broken_id: int | None
    detail: str
    head_id: int = Field(description="The chain is intact up to this event.")
    head_hash: str = Field(description="Hash of the last good event.")
    anchored: bool = Field(description="Checkpoints outside the database vouch for the chain.")
    anchor: AnchorRead
    method: str = Field(description="How it was checked, in words.")
    database_role: DatabaseRoleRead | None = Field(
        description="PostgreSQL only: the role the service is connected as."
    )

    @classmethod
    def from_result(cls, result: AuditVerification, role: RoleReport | None) -> VerifyRead:
        """The response body for a verification."""
        chain = result.chain
        return cls(
            ok=result.ok,
            mode="incremental" if result.mode == "incremental" else "full",
            checked=chain.checked,
            first_broken_id=chain.first_broken_id,
            detail=result.detail,
            head_id=chain.head_id,
            head_hash=chain.head_hash,
            anchored=result.anchored,
            anchor=AnchorRead(
                status=result.status.value,
                store=result.store,
                key_id=result.key_id,
                checkpoints_read=result.checkpoints_read,
                signatures_checked=result.signatures_checked,
                latest_checkpoint=_checkpoint(result.latest),
                start_checkpoint=_checkpoint(result.start),
                unanchored_events=result.unanchored_events,
                problems=list(result.problems),
                warnings=list(result.warnings),
            ),
            method=result.method,
            database_role=None
            if role is None
            else DatabaseRoleRead(
                name=role.name,
                superuser=role.superuser,
                can_change_audit_events=role.can_change_audit_events,
                detail=role.detail(),
            ),
        )


def _checkpoint(checkpoint: Checkpoint | None) -> CheckpointRead | None:
    if checkpoint is None:
        return None
    return CheckpointRead(
        kind=checkpoint.kind.value,
        event_id=checkpoint.event_id,
        count=checkpoint.count,
        head_hash=checkpoint.head_hash,
        signed_at=checkpoint.signed_at,
        key_id=checkpoint.key_id,
        where=checkpoint.where,
    )


class ErasureRead(BaseModel):
    """What an erasure did."""

    referral_id: int
    reason: Literal["retention", "request"]
    erased_at: datetime
    audit_event_id: int
    messages_redacted: int
    documents_redacted: int


class RetentionRunRead(BaseModel):
    """What a retention run erased."""

    erased_referral_ids: list[int]
