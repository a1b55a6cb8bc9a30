"""The FOI request register and the redacted exports made for requests.

An export gathers the record's documents (messages, notes, decisions, audit events) in the
officer's scope, runs every text through the redaction component (which knows every personal
name the service holds) with the other personal data of every household involved, and packs
CSV, JSON, an HTML summary and a redaction log (categories and counts, never values) into a
ZIP kept in the database, so what was released can be shown later (its SHA-256 is audited).
The export's stored parameters are redacted too (a name typed as a keyword is not kept).
When a household's personal data is erased, :func:`redact_stored_exports` rewrites every
stored export that still mentions it, and audits the old and new hashes.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.tokens import Principal
from api.core import clock
from api.core.db import Database
from api.core.errors import ProblemError, conflict, invalid, not_found
from api.core.schemas import Page
from api.core.vocabulary import Role
from api.record.audit import record_event
from api.record.people import known_for_referrals, redactor_for
from api.record.redaction import KnownPersonalData, Redactor
from api.record.schemas import (
    ExportCreate,
    ExportRead,
    FoiRequestCreate,
    FoiRequestRead,
    FoiRequestUpdate,
)
from api.record.search import (
    Scope,
    SearchFilters,
    SearchPage,
    apply_scope,
    match_clause,
    query_terms,
    search,
)
from api.record.settings import get_record_settings
from api.record.tables import FoiExport, FoiRequest, FoiRequestStatus, SearchDocument
from api.record.workdays import foi_due_date

MAX_EXPORT_ITEMS = 50_000


def scope_of(principal: Principal) -> Scope:
    """What an FOI reader may see: their organisation; administrators unredacted."""
    return Scope(organisation_id=principal.organisation_id, unredacted=principal.role == Role.ADMIN)


def search_record(
    db: Database, principal: Principal, query: str, filters: SearchFilters, page: int, size: int
) -> SearchPage:
    """The record search of ``GET /foi/search``, in the reader's scope (redacted for officers)."""
    with db.read() as session:
        return search(
            session, query=query, scope=scope_of(principal), filters=filters, page=page, size=size
        )


# --- register ------------------------------------------------------------------------------


def _request_read(session: Session, row: FoiRequest, today: date) -> FoiRequestRead:
    exports = session.scalars(
        select(FoiExport.id).where(FoiExport.foi_request_id == row.id).order_by(FoiExport.id)
    ).all()
    return FoiRequestRead(
        id=row.id,
        organisation_id=row.organisation_id,
        reference=row.reference,
        summary=row.summary,
        received_on=row.received_on,
        due_on=row.due_on,
        status=row.status,
        closed_on=row.closed_on,
        overdue=row.status == FoiRequestStatus.OPEN.value and today > row.due_on,
        export_ids=list(exports),
    )


def create_request(db: Database, principal: Principal, body: FoiRequestCreate) -> FoiRequestRead:
    """Log a request; its due date is the twentieth working day after receipt."""
    today = clock.today()
    if body.received_on > today:
        raise invalid("received_on", f"{body.received_on} is in the future")
    due = foi_due_date(body.received_on, get_record_settings().extra_bank_holidays)
    try:
        with db.write() as session:
            row = FoiRequest(
                organisation_id=principal.organisation_id,
                reference=body.reference,
                summary=body.summary,
                received_on=body.received_on,
                due_on=due,
                created_by_id=principal.user_id,
            )
            session.add(row)
            session.flush()
            record_event(
                session,
                actor_user_id=principal.user_id,
                organisation_id=principal.organisation_id,
                action="foi_request.created",
                entity_type="foi_request",
                entity_id=row.id,
                before=None,
                after={"reference": row.reference, "received_on": row.received_on, "due_on": due},
            )
            return _request_read(session, row, today)
    except IntegrityError as exc:
        raise ProblemError(
            409, f"An FOI request with reference {body.reference!r} is already registered."
        ) from exc


def _own_request(session: Session, principal: Principal, request_id: int) -> FoiRequest:
    row = session.get(FoiRequest, request_id)
    if row is None or row.organisation_id != principal.organisation_id:
        raise not_found("FOI request", request_id)
    return row


def get_request(db: Database, principal: Principal, request_id: int) -> FoiRequestRead:
    """One register entry of the caller's organisation."""
    with db.read() as session:
        return _request_read(session, _own_request(session, principal, request_id), clock.today())


def list_requests(
    db: Database, principal: Principal, page: int, size: int, status: str | None
) -> Page[FoiRequestRead]:
    """The register, soonest due first."""
    today = clock.today()
    with db.read() as session:
        query = select(FoiRequest).where(FoiRequest.organisation_id == principal.organisation_id)
        if status is not None:
            query = query.where(FoiRequest.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(FoiRequest.due_on, FoiRequest.id).offset((page - 1) * size).limit(size)
        ).all()
        return Page.of([_request_read(session, r, today) for r in rows], total, page, size)


def update_request(
    db: Database, principal: Principal, request_id: int, body: FoiRequestUpdate
) -> FoiRequestRead:
    """Answer, withdraw or reopen a request."""
    today = clock.today()
    with db.write() as session:
        row = _own_request(session, principal, request_id)
        before = {"status": row.status, "closed_on": row.closed_on}
        closed_on = None if body.status == "open" else (body.closed_on or today)
        if closed_on is not None and closed_on < row.received_on:
            raise conflict(
                f"closed_on {closed_on} is before the request was received "
                f"({row.received_on}); a request cannot be closed before it arrived.",
                reason="closed_before_received",
            )
        row.status = body.status
        row.closed_on = closed_on
        session.flush()
        record_event(
            session,
            actor_user_id=principal.user_id,
            organisation_id=principal.organisation_id,
            action="foi_request.updated",
            entity_type="foi_request",
            entity_id=row.id,
            before=before,
            after={"status": row.status, "closed_on": row.closed_on},
        )
        return _request_read(session, row, today)


# --- exports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportItem:
    """One redacted document as released."""

    id: int
    kind: str
    source_key: str
    occurred_at: str
    organisation_id: int | None
    other_organisation_id: int | None
    referral_id: int | None
    text: str
    counts: dict[str, int]


def _documents(
    session: Session, principal: Principal, body: ExportCreate
) -> Sequence[SearchDocument]:
    scope = scope_of(principal)
    filters = SearchFilters(
        date_from=body.date_from, date_to=body.date_to, referral_id=body.referral_id
    )
    statement = apply_scope(select(SearchDocument), scope, filters)
    if body.organisation_ids:
        ids = body.organisation_ids
        statement = statement.where(
            SearchDocument.organisation_id.in_(ids) | SearchDocument.other_organisation_id.in_(ids)
        )
    terms = query_terms(body.keywords)
    if terms:
        condition, _rank = match_clause(session, terms)
        statement = statement.where(condition)
    rows = session.scalars(
        statement.order_by(SearchDocument.occurred_at, SearchDocument.id).limit(
            MAX_EXPORT_ITEMS + 1
        )
    ).all()
    if len(rows) > MAX_EXPORT_ITEMS:
        raise ProblemError(
            422,
            f"The export would hold more than {MAX_EXPORT_ITEMS} documents; narrow the dates, "
            "organisations or keywords.",
        )
    return rows


def build_items(session: Session, documents: Sequence[SearchDocument]) -> list[ExportItem]:
    """Redact each document with everything personal known about the people involved."""
    referral_ids = {d.referral_id for d in documents if d.referral_id is not None}
    known = known_for_referrals(session, referral_ids)
    redactor = redactor_for(session)
    items = []
    for document in documents:
        result = redactor.redact(document.body, known, today=document.occurred_at.date())
        items.append(
            ExportItem(
                id=document.id,
                kind=document.kind,
                source_key=document.source_key,
                occurred_at=document.occurred_at.isoformat(),
                organisation_id=document.organisation_id,
                other_organisation_id=document.other_organisation_id,
                referral_id=document.referral_id,
                text=result.text,
                counts=dict(result.counts),
            )
        )
    return items


def redacted_parameters(redactor: Redactor, body: ExportCreate) -> dict[str, Any]:
    """The export's parameters as stored and shown: the keywords redacted like the record."""
    parameters = body.model_dump(mode="json")
    if parameters.get("keywords"):
        parameters["keywords"] = redactor.redact(parameters["keywords"]).text
    return parameters


_FIELDS = (
    "id", "kind", "source_key", "occurred_at", "organisation_id", "other_organisation_id",
    "referral_id", "text",
)  # fmt: skip


def _csv(rows: list[dict[str, Any]], fields: Sequence[str]) -> bytes:
    """CSV for people: a cell a spreadsheet would run as a formula starts with ``'``."""
    from matching.csvsafe import safe_row

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(safe_row({k: "" if row.get(k) is None else row[k] for k in fields}))
    return buffer.getvalue().encode("utf-8")


def _html(meta: dict[str, Any], items: list[ExportItem], totals: dict[str, int]) -> bytes:
    esc = html.escape
    by_kind = Counter(item.kind for item in items)
    rows = "\n".join(
        f"<tr><td>{esc(i.occurred_at[:19].replace('T', ' '))}</td><td>{esc(i.kind)}</td>"
        f"<td>{i.referral_id or ''}</td><td>{esc(i.text)}</td></tr>"
        for i in items
    )
    redactions = (
        "\n".join(
            f"<tr><td>{esc(k.replace('_', ' '))}</td><td>{v}</td></tr>"
            for k, v in sorted(totals.items())
        )
        or "<tr><td colspan='2'>Nothing needed removing.</td></tr>"
    )
    kinds = ", ".join(f"{n} {esc(k)}" for k, n in sorted(by_kind.items())) or "none"
    params = esc(json.dumps(meta["parameters"], sort_keys=True))
    reference = meta["foi_request_reference"]
    request = f"for request {esc(str(reference))}" if reference else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FOI export {meta["export_id"]}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3em;
vertical-align:top;text-align:left}}</style></head>
<body><h1>Freedom of Information export {meta["export_id"]}</h1>
<p>Made {esc(meta["created_at"])} for organisation {meta["organisation_id"]}
{request}.
Search: <code>{params}</code>.</p>
<p>{len(items)} documents: {kinds}.</p>
<h2>Personal data removed</h2>
<p>Names, NHS numbers, National Insurance numbers, bank and card details, phone numbers,
e-mail addresses, dates of birth, street addresses and full postcodes (reduced to their
district) were removed under FOIA section 40. The counts below say what was removed;
<code>redaction-log.csv</code> says from which document.</p>
<table><tr><th>Category</th><th>Items removed</th></tr>{redactions}</table>
<h2>Documents</h2>
<table><tr><th>When (UTC)</th><th>Kind</th><th>Referral</th><th>Text</th></tr>
{rows}</table></body></html>
"""
    return page.encode("utf-8")


def pack(meta: dict[str, Any], items: list[ExportItem]) -> tuple[bytes, dict[str, int]]:
    """The ZIP (CSV, JSON, HTML summary, redaction log, manifest) and redaction totals."""
    totals: Counter[str] = Counter()
    log_rows: list[dict[str, Any]] = []
    for item in items:
        totals.update(item.counts)
        for category, count in sorted(item.counts.items()):
            log_rows.append(
                {"source_key": item.source_key, "field": "text", "category": category,
                 "count": count}
            )  # fmt: skip
    records = [{k: getattr(item, k) for k in _FIELDS} for item in items]
    files = {
        "record.csv": _csv(records, _FIELDS),
        "record.json": json.dumps(
            {"export": meta, "items": records}, indent=2, ensure_ascii=False
        ).encode("utf-8"),
        "redaction-log.csv": _csv(log_rows, ("source_key", "field", "category", "count")),
        "redaction-log.json": json.dumps(
            {"totals": dict(sorted(totals.items())), "entries": log_rows}, indent=2
        ).encode("utf-8"),
        "summary.html": _html(meta, items, dict(totals)),
    }
    manifest = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue(), dict(totals)


def _stored_items(content: bytes) -> tuple[dict[str, Any], list[ExportItem]]:
    """The metadata and items of a stored export, read back from its ZIP."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        record = json.loads(archive.read("record.json"))
        log = json.loads(archive.read("redaction-log.json"))
    counts: dict[str, Counter[str]] = {}
    for entry in log.get("entries", []):
        counts.setdefault(entry["source_key"], Counter())[entry["category"]] += entry["count"]
    items = [
        ExportItem(
            id=item["id"],
            kind=item["kind"],
            source_key=item["source_key"],
            occurred_at=item["occurred_at"],
            organisation_id=item["organisation_id"],
            other_organisation_id=item["other_organisation_id"],
            referral_id=item["referral_id"],
            text=item["text"],
            counts=dict(counts.get(item["source_key"], Counter())),
        )
        for item in record["items"]
    ]
    return record["export"], items


def redact_stored_exports(
    session: Session,
    known: KnownPersonalData,
    *,
    referral_id: int,
    actor_user_id: int | None,
    actor_label: str | None = None,
) -> int:
    """Rewrite every stored export that still mentions ``known`` (an erased household) without
    it; each rewrite is audited with the old and new SHA-256. Returns how many changed."""
    if known.empty:
        return 0
    redactor = redactor_for(session)
    changed = 0
    for row in session.scalars(select(FoiExport).order_by(FoiExport.id)):
        meta, items = _stored_items(row.content)
        keywords = str(meta.get("parameters", {}).get("keywords") or "")
        texts = [item.text for item in items] + [keywords]
        if not any(redactor.mentions(text, known) for text in texts):
            continue
        rewritten = []
        for item in items:
            result = redactor.redact(item.text, known)
            merged = Counter(item.counts)
            merged.update(result.counts)
            rewritten.append(
                ExportItem(**{**item.__dict__, "text": result.text, "counts": dict(merged)})
            )
        parameters = dict(row.parameters)
        if parameters.get("keywords"):
            parameters["keywords"] = redactor.redact(str(parameters["keywords"]), known).text
        meta = {**meta, "parameters": parameters}
        content, totals = pack(meta, rewritten)
        before = row.sha256
        row.content = content
        row.sha256 = hashlib.sha256(content).hexdigest()
        row.redaction_counts = totals
        row.parameters = parameters
        session.flush()
        record_event(
            session,
            actor_user_id=actor_user_id,
            organisation_id=row.organisation_id,
            action="foi_export.redacted",
            entity_type="foi_export",
            entity_id=row.id,
            before={"sha256": before},
            after={"sha256": row.sha256, "erased_referral_id": referral_id},
            actor_label=actor_label,
        )
        changed += 1
    return changed


def _export_read(row: FoiExport) -> ExportRead:
    return ExportRead(
        id=row.id,
        organisation_id=row.organisation_id,
        foi_request_id=row.foi_request_id,
        created_at=row.created_at,
        parameters=row.parameters,
        item_count=row.item_count,
        redaction_counts=row.redaction_counts,
        sha256=row.sha256,
        download_url=f"/foi/exports/{row.id}/download",
    )


def create_export(db: Database, principal: Principal, body: ExportCreate) -> ExportRead:
    """Build, store and audit a redacted export of the record in the caller's scope."""
    with db.write() as session:
        request = None
        if body.foi_request_id is not None:
            request = _own_request(session, principal, body.foi_request_id)
        documents = _documents(session, principal, body)
        items = build_items(session, documents)
        parameters = redacted_parameters(redactor_for(session), body)
        row = FoiExport(
            organisation_id=principal.organisation_id,
            foi_request_id=body.foi_request_id,
            created_by_id=principal.user_id,
            parameters=parameters,
            item_count=len(items),
            redaction_counts={},
            sha256="",
            content=b"",
        )
        session.add(row)
        session.flush()
        meta = {
            "export_id": row.id,
            "organisation_id": principal.organisation_id,
            "created_at": row.created_at.isoformat(),
            "foi_request_reference": request.reference if request else None,
            "parameters": parameters,
        }
        content, totals = pack(meta, items)
        row.content = content
        row.sha256 = hashlib.sha256(content).hexdigest()
        row.redaction_counts = totals
        session.flush()
        record_event(
            session,
            actor_user_id=principal.user_id,
            organisation_id=principal.organisation_id,
            action="foi_export.created",
            entity_type="foi_export",
            entity_id=row.id,
            before=None,
            after={
                "foi_request_id": row.foi_request_id,
                "item_count": row.item_count,
                "sha256": row.sha256,
                "redaction_counts": totals,
            },
        )
        return _export_read(row)


def _own_export(session: Session, principal: Principal, export_id: int) -> FoiExport:
    row = session.get(FoiExport, export_id)
    if row is None or row.organisation_id != principal.organisation_id:
        raise not_found("FOI export", export_id)
    return row


def get_export(db: Database, principal: Principal, export_id: int) -> ExportRead:
    """An export's description."""
    with db.read() as session:
        return _export_read(_own_export(session, principal, export_id))


def export_content(db: Database, principal: Principal, export_id: int) -> bytes:
    """The ZIP as released."""
    with db.read() as session:
        return _own_export(session, principal, export_id).content
