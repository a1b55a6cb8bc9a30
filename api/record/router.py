"""Endpoints of the FOI-ready record: threads, FOI search, exports, register, audit, privacy.

Thin: parse, call a service in ``api.record``, shape the response. Loaded by
``api.app.create_app`` (optional router ``api.record.router``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from api.auth.tokens import Principal, require_roles
from api.core.deps import AUTHED, DbDep, ObjectId, PageNumber, PageSize, problems
from api.core.errors import invalid
from api.core.schemas import Page
from api.core.vocabulary import Role
from api.record import checkpoints, foi, messages, retention
from api.record.dbrole import role_report
from api.record.schemas import (
    MAX_ID,
    ErasureRead,
    ExportCreate,
    ExportRead,
    FoiRequestCreate,
    FoiRequestRead,
    FoiRequestUpdate,
    IsoDate,
    MessageCreate,
    MessageRead,
    ReadMarkerUpdate,
    RetentionRunRead,
    SearchHitRead,
    ThreadCreate,
    ThreadMessageCreate,
    ThreadRead,
    VerifyRead,
)
from api.record.search import SearchFilters, search
from api.record.tables import DocumentKind

router = APIRouter()
MessageParty = Annotated[Principal, Depends(require_roles(*messages.MESSAGE_ROLES))]
ThreadParty = Annotated[Principal, Depends(require_roles(*messages.THREAD_ROLES))]
FoiReader = Annotated[Principal, Depends(require_roles(Role.FOI_OFFICER, Role.ADMIN))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]

# --- referral threads --------------------------------------------------------------------


@router.get(
    "/referrals/{referral_id}/messages",
    response_model=Page[MessageRead],
    tags=["messages"],
    summary="Read a referral's coordination thread",
    responses=problems(*AUTHED, 404),
)
def list_referral_messages(
    referral_id: ObjectId,
    principal: MessageParty,
    db: DbDep,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> Page[MessageRead]:
    """Oldest first. A caseworker sees every charity's thread about the referral; a charity
    sees its own while the referral is offered to it or after it accepted."""
    return messages.list_referral_messages(db, principal, referral_id, page, size)


@router.post(
    "/referrals/{referral_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
    tags=["messages"],
    summary="Post in a referral's coordination thread",
    responses=problems(*AUTHED, 404, 409),
)
def post_referral_message(
    referral_id: ObjectId, body: MessageCreate, principal: MessageParty, db: DbDep
) -> MessageRead:
    """Posted, audited and indexed for FOI search (redacted) in one transaction."""
    return messages.post_referral_message(
        db, principal, referral_id, body.body, body.charity_organisation_id
    )


@router.post(
    "/referrals/{referral_id}/messages/read",
    tags=["messages"],
    summary="Mark a referral's thread read",
    responses=problems(*AUTHED, 404),
)
def mark_referral_read(referral_id: ObjectId, principal: MessageParty, db: DbDep) -> dict[str, int]:
    """Every message you can see on this referral becomes read for you."""
    last = messages.mark_referral_read(db, principal, referral_id)
    return {"last_read_message_id": last}


# --- organisation-wide threads -------------------------------------------------------------


@router.get(
    "/threads",
    response_model=Page[ThreadRead],
    tags=["messages"],
    summary="Your organisation-wide threads",
    responses=problems(*AUTHED),
)
def list_threads(
    principal: ThreadParty, db: DbDep, page: PageNumber = 1, size: PageSize = 50
) -> Page[ThreadRead]:
    """Threads between your organisation and councils or charities, most recent first, with
    your unread counts."""
    return messages.list_threads(db, principal, page, size)


@router.post(
    "/threads",
    response_model=ThreadRead,
    status_code=status.HTTP_201_CREATED,
    tags=["messages"],
    summary="Open an organisation-wide thread",
    responses=problems(*AUTHED, 404, 409),
)
def create_thread(
    body: ThreadCreate, principal: ThreadParty, db: DbDep, response: Response
) -> ThreadRead:
    """A council writes to a charity, or a charity to a council, about anything not tied to
    one referral (capacity planning, say). An unknown organisation is a 404; one of your
    own kind (another council, say, or yourself) is a 409."""
    thread = messages.create_thread(
        db, principal, body.counterpart_organisation_id, body.subject, body.body
    )
    response.headers["Location"] = f"/threads/{thread.id}"
    return thread


@router.get(
    "/threads/{thread_id}",
    response_model=ThreadRead,
    tags=["messages"],
    summary="Read a thread's summary",
    responses=problems(*AUTHED, 404),
)
def get_thread(thread_id: ObjectId, principal: ThreadParty, db: DbDep) -> ThreadRead:
    """A thread your organisation is party to."""
    return messages.get_thread(db, principal, thread_id)


@router.get(
    "/threads/{thread_id}/messages",
    response_model=Page[MessageRead],
    tags=["messages"],
    summary="Read a thread's messages",
    responses=problems(*AUTHED, 404),
)
def list_thread_messages(
    thread_id: ObjectId,
    principal: ThreadParty,
    db: DbDep,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> Page[MessageRead]:
    """Oldest first."""
    return messages.list_thread_messages(db, principal, thread_id, page, size)


@router.post(
    "/threads/{thread_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
    tags=["messages"],
    summary="Post in a thread",
    responses=problems(*AUTHED, 404),
)
def post_thread_message(
    thread_id: ObjectId, body: ThreadMessageCreate, principal: ThreadParty, db: DbDep
) -> MessageRead:
    """Posted, audited and indexed for FOI search (redacted). The thread already names both
    parties, so the body holds only the message."""
    return messages.post_thread_message(db, principal, thread_id, body.body)


@router.post(
    "/threads/{thread_id}/read",
    response_model=ThreadRead,
    tags=["messages"],
    summary="Mark a thread read",
    responses=problems(*AUTHED, 404),
)
def mark_thread_read(
    thread_id: ObjectId, body: ReadMarkerUpdate, principal: ThreadParty, db: DbDep
) -> ThreadRead:
    """Read up to a message (the newest when omitted); later messages stay unread."""
    return messages.mark_thread_read(db, principal, thread_id, body.up_to_message_id)


# --- FOI -----------------------------------------------------------------------------------


@router.get(
    "/foi/search",
    response_model=Page[SearchHitRead],
    tags=["foi"],
    summary="Search the record",
    responses=problems(*AUTHED),
)
def foi_search(
    principal: FoiReader,
    db: DbDep,
    q: Annotated[str, Query(max_length=500, description="Words that must all appear.")] = "",
    date_from: Annotated[IsoDate | None, Query(description="From this day (inclusive).")] = None,
    date_to: Annotated[
        IsoDate | None,
        Query(
            description="To this day (inclusive): on or after `date_from` when both are given "
            "(422 otherwise; JSON Schema cannot state a rule between two parameters)."
        ),
    ] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    referral_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    kind: Literal["message", "note", "decision", "audit"] | None = None,
    page: PageNumber = 1,
    size: PageSize = 20,
) -> Page[SearchHitRead]:
    """Full-text search over messages, notes, decisions and audit events of your
    organisation's record. Only redacted text is searched, and FOI officers see only redacted
    text; administrators see the original until a household's data is erased."""
    if date_from and date_to and date_to < date_from:
        raise invalid("date_to", f"must be on or after date_from ({date_from})", location="query")
    filters = SearchFilters(
        date_from=date_from,
        date_to=date_to,
        organisation_id=organisation_id,
        referral_id=referral_id,
        kinds=(DocumentKind(kind),) if kind else (),
    )
    with db.read() as session:
        result = search(
            session, query=q, scope=foi.scope_of(principal), filters=filters, page=page, size=size
        )
    return Page.of(
        [SearchHitRead.model_validate(hit, from_attributes=True) for hit in result.items],
        result.total_items,
        page,
        size,
    )


@router.post(
    "/foi/exports",
    response_model=ExportRead,
    status_code=status.HTTP_201_CREATED,
    tags=["foi"],
    summary="Export the record with personal data redacted",
    responses=problems(*AUTHED, 404),
)
def create_export(
    body: ExportCreate, principal: FoiReader, db: DbDep, response: Response
) -> ExportRead:
    """Builds a ZIP of CSV, JSON, an HTML summary and a redaction log (categories and counts,
    never values). Names, phones, e-mails, birth dates, addresses and full postcodes are
    removed, also from inside free text."""
    export = foi.create_export(db, principal, body)
    response.headers["Location"] = f"/foi/exports/{export.id}"
    return export


@router.get(
    "/foi/exports/{export_id}",
    response_model=ExportRead,
    tags=["foi"],
    summary="Describe an export",
    responses=problems(*AUTHED, 404),
)
def get_export(export_id: ObjectId, principal: FoiReader, db: DbDep) -> ExportRead:
    """What an export holds and what was redacted."""
    return foi.get_export(db, principal, export_id)


@router.get(
    "/foi/exports/{export_id}/download",
    tags=["foi"],
    summary="Download an export (ZIP)",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The ZIP as released."},
        **problems(*AUTHED, 404),
    },
)
def download_export(export_id: ObjectId, principal: FoiReader, db: DbDep) -> Response:
    """The ZIP exactly as made (its SHA-256 is in the export and the audit log)."""
    content = foi.export_content(db, principal, export_id)
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="foi-export-{export_id}.zip"'},
    )


@router.get(
    "/foi/requests",
    response_model=Page[FoiRequestRead],
    tags=["foi"],
    summary="The FOI request register",
    responses=problems(*AUTHED),
)
def list_requests(
    principal: FoiReader,
    db: DbDep,
    page: PageNumber = 1,
    size: PageSize = 50,
    status_: Annotated[
        Literal["open", "answered", "withdrawn"] | None, Query(alias="status")
    ] = None,
) -> Page[FoiRequestRead]:
    """Soonest due first, with overdue flags."""
    return foi.list_requests(db, principal, page, size, status_)


@router.post(
    "/foi/requests",
    response_model=FoiRequestRead,
    status_code=status.HTTP_201_CREATED,
    tags=["foi"],
    summary="Log an FOI request",
    responses=problems(*AUTHED, 409),
)
def create_request(
    body: FoiRequestCreate, principal: FoiReader, db: DbDep, response: Response
) -> FoiRequestRead:
    """The due date is the twentieth working day after receipt (weekends and England and
    Wales bank holidays excluded)."""
    created = foi.create_request(db, principal, body)
    response.headers["Location"] = f"/foi/requests/{created.id}"
    return created


@router.get(
    "/foi/requests/{request_id}",
    response_model=FoiRequestRead,
    tags=["foi"],
    summary="Read an FOI request",
    responses=problems(*AUTHED, 404),
)
def get_request(request_id: ObjectId, principal: FoiReader, db: DbDep) -> FoiRequestRead:
    """One register entry of your organisation."""
    return foi.get_request(db, principal, request_id)


@router.patch(
    "/foi/requests/{request_id}",
    response_model=FoiRequestRead,
    tags=["foi"],
    summary="Answer, withdraw or reopen an FOI request",
    responses=problems(*AUTHED, 404, 409),
)
def update_request(
    request_id: ObjectId, body: FoiRequestUpdate, principal: FoiReader, db: DbDep
) -> FoiRequestRead:
    """Audited. Closing on a date before the request was received is a 409."""
    return foi.update_request(db, principal, request_id, body)


# --- audit and privacy ---------------------------------------------------------------------


@router.get(
    "/audit/verify",
    response_model=VerifyRead,
    tags=["audit"],
    summary="Verify the tamper-evident audit chain",
    responses=problems(*AUTHED),
)
def audit_verify(
    principal: Admin,
    db: DbDep,
    mode: Annotated[
        Literal["full", "incremental"],
        Query(description="`incremental` starts from the latest verified checkpoint."),
    ] = "full",
) -> VerifyRead:
    """Recomputes every event's hash in order (from the latest verified checkpoint when
    `incremental`), then compares the signed checkpoints kept outside the database with the
    events they name: a rewritten event (hash changed, later hashes recomputed) or a removed
    tail is reported, with how it was checked. Writes nothing (`foodmatch audit verify`
    records verified checkpoints)."""
    config = checkpoints.anchor_config(db.engine.url)
    result = checkpoints.verify_audit(db, config, incremental=mode == "incremental")
    with db.engine.connect() as connection:
        role = role_report(connection)
    return VerifyRead.from_result(result, role)


@router.post(
    "/admin/referrals/{referral_id}/erasure",
    response_model=ErasureRead,
    tags=["privacy"],
    summary="Erase one household's personal data",
    responses=problems(*AUTHED, 404, 409),
)
def erase_household(referral_id: ObjectId, principal: Admin, db: DbDep) -> ErasureRead:
    """Right to erasure: removes the household's personal data everywhere in the record,
    keeps the anonymised record, audits the erasure. Cannot be undone."""
    return retention.erase_on_request(db, principal, referral_id)


@router.get(
    "/admin/referrals/{referral_id}/subject-access",
    tags=["privacy"],
    summary="Everything held about one household",
    responses=problems(*AUTHED, 404),
)
def subject_access(referral_id: ObjectId, principal: Admin, db: DbDep) -> dict[str, Any]:
    """Subject access: personal data, offers, messages and audit events, unredacted. The
    disclosure is audited. Review third parties' data before release."""
    return retention.subject_access(db, principal, referral_id)


@router.post(
    "/admin/retention/run",
    response_model=RetentionRunRead,
    tags=["privacy"],
    summary="Erase households past the retention period",
    responses=problems(*AUTHED),
)
def retention_run(principal: Admin, db: DbDep) -> RetentionRunRead:
    """Your council's fulfilled referrals closed longer ago than the retention period."""
    erased = retention.run_retention(
        db, organisation_id=principal.organisation_id, actor_user_id=principal.user_id
    )
    return RetentionRunRead(erased_referral_ids=erased)
