"""A caseworker's pages: the council's referrals, 'refer a household', one referral's page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.core import lookups
from api.core.db import Database
from api.core.deps import DbDep, ObjectId, SettingsDep
from api.core.errors import ProblemError
from api.core.schemas import ReferralRead, WithdrawRequest
from api.core.vocabulary import ReferralStatus, Role, WithdrawalReason
from api.match_runs import service as matching
from api.offers import service as offers
from api.record import messages
from api.referrals import attention, intake, timeline
from api.referrals import service as referrals
from api.web import forms
from api.web.deps import (
    Form,
    PageQuery,
    choice,
    page_router,
    page_viewer,
    post_message,
    posted_viewer,
    see_other,
)
from api.web.render import render
from api.web.security import Viewer

router = page_router()

CaseworkerPage = Annotated[Viewer, Depends(page_viewer(Role.CASEWORKER))]
CaseworkerPost = Annotated[Viewer, Depends(posted_viewer(Role.CASEWORKER))]


@router.get("/app/caseworker")
def caseworker_home() -> RedirectResponse:
    """A caseworker's home is their council's referral list."""
    return RedirectResponse("/app/caseworker/referrals", status_code=303)


SORTS = {"newest": "Newest first", "oldest": "Oldest first", "urgency": "Emergencies first"}


@router.get("/app/caseworker/referrals")
def referral_list(
    request: Request,
    viewer: CaseworkerPage,
    db: DbDep,
    settings: SettingsDep,
    page: PageQuery = 1,
) -> HTMLResponse:
    """The council's referrals: what needs attention first, then the list (find, filter, sort)."""
    wanted = choice(request, "status", [s.value for s in ReferralStatus])
    status = ReferralStatus(wanted) if wanted else None
    sort = choice(request, "sort", list(SORTS)) or "newest"
    search = request.query_params.get("q", "").strip()[:100]
    listed = referrals.list_referrals(db, viewer.principal, page, 50, status, search, sort)
    pressing = attention.needs_attention(db, settings, viewer.principal, 1, 10)
    return render(
        request,
        "caseworker/referrals.html",
        viewer,
        title="Referrals",
        page=listed,
        status=status.value if status else "",
        statuses=[s.value for s in ReferralStatus],
        sort=sort,
        sorts=SORTS,
        search=search,
        attention=pressing,
        answer_hours=settings.offer_answer_hours,
    )


@router.get("/app/caseworker/attention")
def attention_list(
    request: Request,
    viewer: CaseworkerPage,
    db: DbDep,
    settings: SettingsDep,
    page: PageQuery = 1,
) -> HTMLResponse:
    """Every referral that needs the caseworker, most pressing first, 50 to a page."""
    pressing = attention.needs_attention(db, settings, viewer.principal, page, 50)
    return render(
        request,
        "caseworker/attention.html",
        viewer,
        title="Referrals that need attention",
        attention=pressing,
        answer_hours=settings.offer_answer_hours,
    )


def _referral_form(
    request: Request,
    viewer: Viewer,
    answers: forms.ReferralForm,
    errors: dict[str, str],
    focus: str | None = None,
) -> HTMLResponse:
    """The 'refer a household' form with these answers (and errors, if any)."""
    return render(
        request,
        "caseworker/new.html",
        viewer,
        status_code=400 if errors else 200,
        title="Refer a household",
        form=answers,
        errors=errors,
        focus=focus,
        place_emergencies=request.app.state.settings.place_emergencies_on_submit,
    )


@router.get("/app/caseworker/referrals/new")
def new_referral(request: Request, viewer: CaseworkerPage) -> HTMLResponse:
    """The 'refer a household' form."""
    return _referral_form(request, viewer, forms.ReferralForm(), {})


@router.post("/app/caseworker/referrals/new")
def check_referral(
    request: Request, viewer: CaseworkerPost, form: Form, db: DbDep, settings: SettingsDep
) -> HTMLResponse:
    """Check the answers: the form again with errors, or the 'check your answers' page."""
    answers = forms.ReferralForm.from_form(form)
    body, errors = answers.validate()
    if body is None:
        return _referral_form(request, viewer, answers, errors)
    try:
        located = referrals.locate_household(db, viewer.principal, body)
    except ProblemError as problem:
        errors = forms.problem_errors(problem, forms.REFERRAL_FIELDS, "postcode")
        return _referral_form(request, viewer, answers, errors)
    return render(
        request,
        "caseworker/check.html",
        viewer,
        title="Check your answers",
        form=answers,
        body=body,
        located=located,
        idempotency_key=uuid.uuid4().hex,
        place_emergencies=settings.place_emergencies_on_submit,
    )


@router.post("/app/caseworker/referrals/new/change")
def change_referral(request: Request, viewer: CaseworkerPost, form: Form) -> HTMLResponse:
    """Back from 'check your answers' to the form, keeping every answer."""
    field = forms.text(form, "change")
    focus = field if field in forms.REFERRAL_FIELDS else None
    return _referral_form(request, viewer, forms.ReferralForm.from_form(form), {}, focus)


@router.post("/app/caseworker/referrals/new/confirm")
def submit_referral(
    request: Request, viewer: CaseworkerPost, form: Form, db: DbDep, settings: SettingsDep
) -> Response:
    """Submit the checked referral (once, even if the button is pressed twice)."""
    answers = forms.ReferralForm.from_form(form)
    body, errors = answers.validate()
    if body is None:
        return _referral_form(request, viewer, answers, errors)
    key = forms.text(form, "idempotency_key")[:255] or None
    try:
        stored = intake.submit_referral(db, settings, viewer.principal, body, key and f"web-{key}")
    except ProblemError as problem:
        if problem.status != 422:
            raise
        errors = forms.problem_errors(problem, forms.REFERRAL_FIELDS, "postcode")
        return _referral_form(request, viewer, answers, errors)
    done = "referral-sent"
    if body.urgency == "emergency" and settings.place_emergencies_on_submit:
        done = "emergency-placed" if stored.body.get("current_offer") else "emergency-unplaced"
    return see_other(f"/app/caseworker/referrals/{stored.body['id']}", done)


def _referral_page(
    request: Request,
    viewer: Viewer,
    db: Database,
    referral_id: int,
    errors: dict[str, str] | None = None,
    message: str = "",
    withdraw_reason: str = "",
) -> HTMLResponse:
    """One referral's page: the household, its offer or latest decision, and the thread."""
    referral = referrals.get_referral(db, viewer.principal, referral_id)
    assert isinstance(referral, ReferralRead)
    offer = None
    site = None
    if referral.current_offer is not None:
        offer = offers.get_offer(db, viewer.principal, referral.current_offer.id)
        site = lookups.site_names(db, [offer.provider_id]).get(offer.provider_id)
    decision = None if offer else lookups.latest_decision(db, referral_id)
    history = timeline.referral_timeline(db, viewer.principal, referral)
    thread = messages.list_referral_messages(db, viewer.principal, referral_id, 1, 100)
    names = lookups.organisation_names(db, [m.author_organisation_id for m in thread.items])
    return render(
        request,
        "caseworker/referral.html",
        viewer,
        status_code=400 if errors else 200,
        title=f"Referral {referral_id}",
        referral=referral,
        offer=offer,
        site=site,
        decision=decision,
        history=history,
        thread=thread.items,
        names=names,
        errors=errors or {},
        message=message,
        withdraw_reason=withdraw_reason,
    )


@router.get("/app/caseworker/referrals/{referral_id}")
def referral_page(
    request: Request, referral_id: ObjectId, viewer: CaseworkerPage, db: DbDep
) -> HTMLResponse:
    """One referral: the household, its match explained, the thread, 'place now'."""
    return _referral_page(request, viewer, db, referral_id)


@router.post("/app/caseworker/referrals/{referral_id}/place")
def place_now(
    request: Request,
    referral_id: ObjectId,
    viewer: CaseworkerPost,
    db: DbDep,
    settings: SettingsDep,
) -> Response:
    """Book the best place for this household now, or say why none can be had."""
    try:
        matching.place_referral(db, settings, viewer.principal, referral_id)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        errors = {"place": f"No place could be booked: {problem.detail}"}
        return _referral_page(request, viewer, db, referral_id, errors)
    return see_other(f"/app/caseworker/referrals/{referral_id}", "placed")


@router.post("/app/caseworker/referrals/{referral_id}/withdraw")
def withdraw(
    request: Request, referral_id: ObjectId, viewer: CaseworkerPost, form: Form, db: DbDep
) -> Response:
    """Close a referral the household no longer needs, giving back any place it held."""
    reason = forms.text(form, "reason")
    if reason not in {r.value for r in WithdrawalReason}:
        errors = {"reason": "Select why the referral is no longer needed"}
        return _referral_page(request, viewer, db, referral_id, errors)
    body = WithdrawRequest.model_validate({"reason": reason})
    try:
        referrals.withdraw_referral(db, viewer.principal, referral_id, body)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        errors = {"reason": f"The referral could not be withdrawn: {problem.detail}"}
        return _referral_page(request, viewer, db, referral_id, errors, withdraw_reason=reason)
    return see_other(f"/app/caseworker/referrals/{referral_id}", "withdrawn")


@router.post("/app/caseworker/referrals/{referral_id}/messages")
def caseworker_message(
    request: Request, referral_id: ObjectId, viewer: CaseworkerPost, form: Form, db: DbDep
) -> Response:
    """Write to the charity holding the referral's offer."""

    def again(errors: dict[str, str], text: str) -> HTMLResponse:
        return _referral_page(request, viewer, db, referral_id, errors, text)

    back = f"/app/caseworker/referrals/{referral_id}"
    return post_message(db, viewer, referral_id, form, again, back)
