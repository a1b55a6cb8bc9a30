"""A charity's pages: offers to decide on and record, one offer's page, a site's capacity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from api.core import lookups
from api.core.clock import current_week
from api.core.db import Database
from api.core.deps import DbDep, ObjectId, SettingsDep
from api.core.errors import ProblemError
from api.core.schemas import OutcomeRequest
from api.core.vocabulary import OfferStatus, Role
from api.offers import service as offers
from api.record import messages
from api.referrals import service as referrals
from api.sites import service as providers
from api.web import forms
from api.web.deps import (
    Form,
    FormValues,
    PageQuery,
    page_router,
    page_viewer,
    post_message,
    posted_viewer,
    see_other,
)
from api.web.render import render
from api.web.security import Viewer

router = page_router()

CharityPage = Annotated[Viewer, Depends(page_viewer(Role.CHARITY))]
CharityPost = Annotated[Viewer, Depends(posted_viewer(Role.CHARITY))]

THREAD_STATUSES = (
    OfferStatus.OFFERED,
    OfferStatus.ACCEPTED,
    OfferStatus.COLLECTED,
    OfferStatus.DELIVERED,
)
"""The offers whose household's thread the charity may read."""


@router.get("/app/charity")
def charity_home(
    request: Request, viewer: CharityPage, db: DbDep, page: PageQuery = 1
) -> HTMLResponse:
    """Offers waiting for a decision, accepted households waiting for an outcome, and sites."""
    waiting = offers.list_offers(db, viewer.principal, page, 50, OfferStatus.OFFERED)
    accepted = offers.list_offers(db, viewer.principal, 1, 50, OfferStatus.ACCEPTED)
    households = referrals.households_for_offers(
        db, viewer.principal, [o.id for o in (*waiting.items, *accepted.items)]
    )
    sites = providers.list_providers(db, viewer.principal, 1, 100)
    names = {s.id: s.name for s in sites.items}
    return render(
        request,
        "charity/home.html",
        viewer,
        title="Your offers and sites",
        waiting=waiting,
        accepted=accepted,
        households=households,
        sites=sites.items,
        site_names=names,
    )


def _offer_page(
    request: Request,
    viewer: Viewer,
    db: Database,
    offer_id: int,
    errors: dict[str, str] | None = None,
    message: str = "",
    form: FormValues | None = None,
) -> HTMLResponse:
    """One offer's page: the household as the charity may see it, the site and the thread."""
    offer = offers.get_offer(db, viewer.principal, offer_id)
    household = None  # a withdrawn referral is no longer the charity's to see
    if offer.status is not OfferStatus.WITHDRAWN:
        household = referrals.get_referral(db, viewer.principal, offer.referral_id)
    site = lookups.site_names(db, [offer.provider_id]).get(offer.provider_id)
    thread = []
    if offer.status in THREAD_STATUSES:
        thread = messages.list_referral_messages(
            db, viewer.principal, offer.referral_id, 1, 100
        ).items
    names = lookups.organisation_names(db, [m.author_organisation_id for m in thread])
    return render(
        request,
        "charity/offer.html",
        viewer,
        status_code=400 if errors else 200,
        title=f"Offer {offer_id}",
        offer=offer,
        household=household,
        site=site,
        thread=thread,
        names=names,
        errors=errors or {},
        message=message,
        form=form or {},
    )


@router.get("/app/charity/offers/{offer_id}")
def offer_page(
    request: Request, offer_id: ObjectId, viewer: CharityPage, db: DbDep
) -> HTMLResponse:
    """One offer: the household (minimised), why it was offered here, and what to do next."""
    return _offer_page(request, viewer, db, offer_id)


def _offer_step(
    request: Request,
    viewer: Viewer,
    db: Database,
    offer_id: int,
    step: Callable[[], object],
    done: str,
    field: str,
) -> Response:
    """Take one step of the offer; a step the offer's state forbids is the page again."""
    try:
        step()
    except ProblemError as problem:
        if problem.status != 409:
            raise
        return _offer_page(request, viewer, db, offer_id, {field: problem.detail})
    if done == "declined":  # a charity no longer sees a household it declined
        return see_other("/app/charity", done)
    return see_other(f"/app/charity/offers/{offer_id}", done)


@router.post("/app/charity/offers/{offer_id}/accept")
def accept_offer(request: Request, offer_id: ObjectId, viewer: CharityPost, db: DbDep) -> Response:
    """Take the household."""
    return _offer_step(
        request,
        viewer,
        db,
        offer_id,
        lambda: offers.accept(db, viewer.principal, offer_id),
        "accepted",
        "decision",
    )


@router.post("/app/charity/offers/{offer_id}/decline")
def decline_offer(
    request: Request,
    offer_id: ObjectId,
    viewer: CharityPost,
    form: Form,
    db: DbDep,
    settings: SettingsDep,
) -> Response:
    """Turn the household down with a reason (the place is freed and it is matched again)."""
    body, errors = forms.decline_body(form)
    if body is None:
        return _offer_page(request, viewer, db, offer_id, errors, form=form)
    return _offer_step(
        request,
        viewer,
        db,
        offer_id,
        lambda: offers.decline(db, settings, viewer.principal, offer_id, body),
        "declined",
        "reason",
    )


@router.post("/app/charity/offers/{offer_id}/outcome")
def record_outcome(
    request: Request,
    offer_id: ObjectId,
    viewer: CharityPost,
    form: Form,
    db: DbDep,
    settings: SettingsDep,
) -> Response:
    """Collected, delivered or did not arrive."""
    outcome = forms.text(form, "outcome")
    if outcome not in ("collected", "delivered", "no_show"):
        return _offer_page(request, viewer, db, offer_id, {"outcome": "Select what happened"})
    body = OutcomeRequest.model_validate({"outcome": outcome})
    return _offer_step(
        request,
        viewer,
        db,
        offer_id,
        lambda: offers.record_outcome(db, settings, viewer.principal, offer_id, body),
        "outcome",
        "outcome",
    )


@router.post("/app/charity/offers/{offer_id}/messages")
def charity_message(
    request: Request, offer_id: ObjectId, viewer: CharityPost, form: Form, db: DbDep
) -> Response:
    """Write to the council about this household."""
    offer = offers.get_offer(db, viewer.principal, offer_id)

    def again(errors: dict[str, str], text: str) -> HTMLResponse:
        return _offer_page(request, viewer, db, offer_id, errors, text)

    back = f"/app/charity/offers/{offer_id}"
    return post_message(db, viewer, offer.referral_id, form, again, back)


def _capacity_page(
    request: Request,
    viewer: Viewer,
    db: Database,
    site_id: int,
    answers: forms.CapacityForm | None,
    errors: dict[str, str],
) -> HTMLResponse:
    """This week's capacity form of one of the charity's sites (the live figure filled in)."""
    site = providers.get_provider(db, viewer.principal, site_id)
    start, end = current_week()
    current = site.current_capacity
    if answers is None:
        answers = forms.CapacityForm()
        if current is not None:
            answers = forms.CapacityForm(
                parcels=str(current.parcels),
                people="" if current.people is None else str(current.people),
                delivery=str(current.delivery),
                dietary=[t for t in current.dietary],
                caps={t: "" if v is None else str(v) for t, v in current.dietary.items()},
            )
    return render(
        request,
        "charity/capacity.html",
        viewer,
        status_code=400 if errors else 200,
        title=f"Capacity this week: {site.name}",
        site=site,
        form=answers,
        errors=errors,
        start=start,
        end=end,
        current=current,
    )


@router.get("/app/charity/sites/{site_id}/capacity")
def capacity_form(
    request: Request, site_id: ObjectId, viewer: CharityPage, db: DbDep
) -> HTMLResponse:
    """This week's capacity of one site."""
    return _capacity_page(request, viewer, db, site_id, None, {})


@router.post("/app/charity/sites/{site_id}/capacity")
def save_capacity(
    request: Request, site_id: ObjectId, viewer: CharityPost, form: Form, db: DbDep
) -> Response:
    """Record this week's capacity (the earlier figure is kept as history)."""
    answers = forms.CapacityForm.from_form(form)
    start, end = current_week()
    body, errors = answers.validate(start, end)
    if body is None:
        return _capacity_page(request, viewer, db, site_id, answers, errors)
    try:
        providers.set_capacity(db, viewer.principal, site_id, body)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        errors = forms.problem_errors(problem, forms.CAPACITY_FIELDS, "parcels")
        return _capacity_page(request, viewer, db, site_id, answers, errors)
    return see_other("/app/charity", "capacity")
