"""An FOI officer's pages: search the record, the request register, redacted exports.

Administrators use them too (and see the record unredacted, as over the API).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.core import clock
from api.core.db import Database
from api.core.deps import MAX_ID, DbDep, ObjectId
from api.core.errors import ProblemError
from api.core.vocabulary import Role
from api.record import foi
from api.record.schemas import FoiRequestUpdate
from api.record.search import SearchFilters
from api.record.tables import DocumentKind
from api.web import forms
from api.web.deps import (
    Form,
    FormValues,
    PageQuery,
    choice,
    page_router,
    page_viewer,
    posted_viewer,
    see_other,
)
from api.web.render import render
from api.web.security import Viewer

router = page_router()

FOI_ROLES = (Role.FOI_OFFICER, Role.ADMIN)
FoiPage = Annotated[Viewer, Depends(page_viewer(*FOI_ROLES))]
FoiPost = Annotated[Viewer, Depends(posted_viewer(*FOI_ROLES))]
KINDS = ("message", "note", "decision", "audit")


@router.get("/app/foi")
def foi_search(request: Request, viewer: FoiPage, db: DbDep, page: PageQuery = 1) -> HTMLResponse:
    """Search the record (redacted text for FOI officers)."""
    params = request.query_params
    query = params.get("q", "").strip()[:500]
    kind = choice(request, "kind", KINDS)
    values: FormValues = dict(params)
    _, date_from, wrong_from = forms.date_parts(values, "from")
    _, date_to, wrong_to = forms.date_parts(values, "to")
    errors: dict[str, str] = {}
    if wrong_from:
        errors["from"] = f"The start date {wrong_from}"
    if wrong_to:
        errors["to"] = f"The end date {wrong_to}"
    if date_from and date_to and date_to < date_from:
        errors["to"] = "The end date must be the same as or after the start date"
    searched = "q" in params
    result = None
    if searched and not errors:
        filters = SearchFilters(
            date_from=date_from,
            date_to=date_to,
            kinds=(DocumentKind(kind),) if kind in KINDS else (),
        )
        result = foi.search_record(db, viewer.principal, query, filters, page, 20)
    return render(
        request,
        "foi/search.html",
        viewer,
        status_code=400 if errors else 200,
        title="Search the record",
        query=query,
        kind=kind,
        kinds=KINDS,
        values=values,
        result=result,
        errors=errors,
        searched=searched,
    )


def _register_page(
    request: Request,
    viewer: Viewer,
    db: Database,
    errors: dict[str, str],
    form: FormValues | None = None,
    parts: dict[str, str] | None = None,
    page: int = 1,
) -> HTMLResponse:
    """The register (soonest due first) and the form to log a request, with any errors."""
    register = foi.list_requests(db, viewer.principal, page, 50, None)
    return render(
        request,
        "foi/requests.html",
        viewer,
        status_code=400 if errors else 200,
        title="FOI request register",
        register=register,
        errors=errors,
        form=form or {},
        parts=parts or {"day": "", "month": "", "year": ""},
    )


@router.get("/app/foi/requests")
def register(request: Request, viewer: FoiPage, db: DbDep, page: PageQuery = 1) -> HTMLResponse:
    """The register, soonest due first, with the form to log a new request."""
    return _register_page(request, viewer, db, {}, page=page)


@router.post("/app/foi/requests")
def log_request(request: Request, viewer: FoiPost, form: Form, db: DbDep) -> Response:
    """Log a request; its due date is 20 working days after receipt."""
    body, errors, parts = forms.foi_request_body(form, clock.today())
    if body is None:
        return _register_page(request, viewer, db, errors, form, parts)
    try:
        foi.create_request(db, viewer.principal, body)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        field = "received" if "received_on" in problem.detail else "reference"
        return _register_page(request, viewer, db, {field: problem.detail}, form, parts)
    return see_other("/app/foi/requests", "request-logged")


@router.post("/app/foi/requests/{request_id}/answered")
def mark_answered(request_id: ObjectId, viewer: FoiPost, db: DbDep) -> Response:
    """Mark a request answered today."""
    foi.update_request(
        db,
        viewer.principal,
        request_id,
        FoiRequestUpdate.model_validate({"status": "answered"}),
    )
    return see_other("/app/foi/requests", "request-answered")


def _export_form(
    request: Request, viewer: Viewer, db: Database, errors: dict[str, str], form: FormValues
) -> HTMLResponse:
    """The 'create a redacted export' form, offering the open requests to answer."""
    register = foi.list_requests(db, viewer.principal, 1, 100, "open")
    return render(
        request,
        "foi/export_new.html",
        viewer,
        status_code=400 if errors else 200,
        title="Create a redacted export",
        errors=errors,
        form=form,
        requests=register.items,
    )


@router.get("/app/foi/exports/new")
def new_export(
    request: Request,
    viewer: FoiPage,
    db: DbDep,
    request_id: Annotated[int | None, Query(alias="request", ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """Choose what to export (``?request=`` chooses the FOI request it answers)."""
    form: FormValues = {"foi_request_id": "" if request_id is None else str(request_id)}
    return _export_form(request, viewer, db, {}, form)


@router.post("/app/foi/exports")
def create_export(request: Request, viewer: FoiPost, form: Form, db: DbDep) -> Response:
    """Build the redacted export (ZIP) and show what it holds."""
    body, errors = forms.export_body(form)
    if body is None:
        return _export_form(request, viewer, db, errors, form)
    try:
        export = foi.create_export(db, viewer.principal, body)
    except ProblemError as problem:
        if problem.status not in (404, 422):
            raise
        return _export_form(request, viewer, db, {"keywords": problem.detail}, form)
    return see_other(f"/app/foi/exports/{export.id}")


@router.get("/app/foi/exports/{export_id}")
def export_page(request: Request, export_id: ObjectId, viewer: FoiPage, db: DbDep) -> HTMLResponse:
    """What an export holds, what was removed, and the download."""
    export = foi.get_export(db, viewer.principal, export_id)
    return render(request, "foi/export.html", viewer, title=f"Export {export_id}", export=export)


@router.get("/app/foi/exports/{export_id}/download")
def download_export(export_id: ObjectId, viewer: FoiPage, db: DbDep) -> Response:
    """The ZIP exactly as made."""
    content = foi.export_content(db, viewer.principal, export_id)
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="foi-export-{export_id}.zip"'},
    )
