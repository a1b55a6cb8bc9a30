"""Request and response bodies of the record's endpoints (``XCreate`` in, ``XRead`` out)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.schemas import Input

# Request bodies are strict (no coercion), but a JSON date can only arrive as an ISO string.
IsoDate = Annotated[date, Field(strict=False)]

MessageText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)
]


class MessageCreate(Input):
    """A message to post in a thread."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Can the household collect on Tuesday at 10?"}]},
    )

    body: MessageText = Field(description="The message, 1 to 5,000 characters.")
    charity_organisation_id: int | None = Field(
        default=None,
        description=(
            "Council side of a referral thread only: which charity to write to. Defaults to "
            "the charity currently holding the referral's offer."
        ),
    )


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

    counterpart_organisation_id: int = Field(
        description="The other party: a charity when you are a council, a council otherwise."
    )
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: MessageText = Field(description="The first message.")


class ReadMarkerUpdate(Input):
    """Mark a thread read up to a message (the newest when omitted)."""

    up_to_message_id: int | None = Field(default=None, ge=1)


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

    reference: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
    ] = Field(description="The council's own case reference, unique within the council.")
    summary: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)
    ] = Field(description="What was asked for (do not include the requester's details).")
    received_on: IsoDate = Field(description="The date of receipt (FOIA s.10(6)).")


class FoiRequestUpdate(Input):
    """Close or reopen an FOI request."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "answered"}]}
    )

    status: Literal["open", "answered", "withdrawn"]
    closed_on: IsoDate | None = Field(
        default=None, description="When it was answered or withdrawn; today when omitted."
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

    date_from: IsoDate | None = None
    date_to: IsoDate | None = None
    organisation_ids: list[int] = Field(
        default_factory=list,
        max_length=50,
        description="Only documents involving these organisations (empty: all in your scope).",
    )
    keywords: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = Field(
        default="", description="Only documents matching all these words."
    )
    referral_id: int | None = None
    foi_request_id: int | None = Field(default=None, description="Register entry to attach to.")

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


class VerifyRead(BaseModel):
    """Result of checking the audit chain."""

    ok: bool
    checked: int
    first_broken_id: int | None
    detail: str
    head_hash: str = Field(description="Hash of the last good event; note it to detect truncation.")


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
