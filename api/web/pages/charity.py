"""A charity's pages: offers to decide on and record, one offer's page, a site's capacity
week by week, and the history of households offered to it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from api.core import lookups
from api.core.clock import current_week
from api.core.db import Database
from api.core.deps import DbDep, ObjectId, SettingsDep
from api.core.errors import ProblemError
from api.core.schemas import CapacityRead, OfferChange, OutcomeRequest
from api.core.vocabulary import DeclineReason, OfferStatus, Role
from api.offers import history
from api.offers import service as offers
from api.offers.refusals import excludes_organisation
from api.record import messages
from api.referrals import service as referrals
from api.sites import service as providers
from api.sites import weeks
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
from api.web.render import DECLINE_LABELS, render
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
    household = None  # a withdrawn or declined referral is no longer the charity's to see
    if offer.status not in (OfferStatus.WITHDRAWN, OfferStatus.DECLINED):
        household = offers.household_for_offer(db, viewer.principal, offer_id)
    site = lookups.site_names(db, [offer.provider_id]).get(offer.provider_id)
    thread = []
    if offer.status in THREAD_STATUSES:  # opening the page reads the thread: "New" goes
        thread = messages.open_referral_messages(
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
        decline_options=DECLINE_OPTIONS,
    )


DECLINE_HINTS = {
    DeclineReason.NO_STOCK: "Your other sites may be offered this household if they have stock.",
    DeclineReason.NO_CAPACITY: "Your other sites may be offered this household if they have "
    "a place this week.",
    DeclineReason.CANNOT_MEET_DIETARY: "Your other sites may be offered this household only "
    "if they stock what it needs.",
    DeclineReason.OUT_OF_AREA: "Your other sites may be offered this household if it is in "
    "their area.",
}
"""What a decline for each site-only reason lets happen next, in the charity's words."""

WHOLE_CHARITY_HINT = "None of your sites will be offered this household again."


def _decline_options() -> list[tuple[str, str, str]]:
    """The decline reasons as radio options, each saying what will happen after it."""
    options = []
    for reason in DeclineReason:
        hint = WHOLE_CHARITY_HINT if excludes_organisation(reason) else DECLINE_HINTS[reason]
        options.append((reason.value, DECLINE_LABELS[reason.value], hint))
    return options


DECLINE_OPTIONS = _decline_options()


def declined_notice(change: OfferChange) -> str:
    """The notice code that says what became of a household after a decline."""
    if change.reoffered_to == "same_charity":
        return "declined-same-charity"
    if change.reoffered_to == "another_charity":
        return "declined-other-charity"
    return "declined-waiting"


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
        result = step()
    except ProblemError as problem:
        if problem.status != 409:
            raise
        return _offer_page(request, viewer, db, offer_id, {field: problem.detail})
    if done == "declined":  # a charity no longer sees a household it declined
        assert isinstance(result, OfferChange)
        return see_other("/app/charity", declined_notice(result))
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


WEEKS_SHOWN = 6
"""How many weeks the capacity page lists: this one and five ahead."""


def _week_asked(request: Request) -> date:
    """The Monday named by ``?week=`` (this week's if none); a 400 page for anything else."""
    raw = request.query_params.get("week", "")
    if not raw:
        return current_week()[0]
    try:
        start = date.fromisoformat(raw)
    except ValueError as exc:
        raise ProblemError(
            400,
            f"The web address has a week this page cannot use: {raw!r} is not a date; "
            f"expected one such as {current_week()[0].isoformat()}.",
        ) from exc
    try:
        weeks.check_week(start, "week")
    except ProblemError as problem:
        raise ProblemError(
            400, f"The web address has a week this page cannot use: {problem.detail}."
        ) from problem
    return start


def _answers_from(current: CapacityRead | None) -> forms.CapacityForm:
    """The capacity form filled in from a recorded figure (empty if there is none)."""
    if not isinstance(current, CapacityRead):
        return forms.CapacityForm()
    return forms.CapacityForm(
        parcels=str(current.parcels),
        people="" if current.people is None else str(current.people),
        delivery=str(current.delivery),
        dietary=[t for t in current.dietary],
        caps={t: "" if v is None else str(v) for t, v in current.dietary.items()},
    )


def _capacity_page(
    request: Request,
    viewer: Viewer,
    db: Database,
    site_id: int,
    start: date,
    answers: forms.CapacityForm | None,
    errors: dict[str, str],
) -> HTMLResponse:
    """One week's capacity form of one of the charity's sites (its figure filled in), the
    weeks ahead and "copy last week"."""
    site = providers.get_provider(db, viewer.principal, site_id)
    listed = weeks.capacity_weeks(db, viewer.principal, site_id, WEEKS_SHOWN)
    this_monday = listed[0].period_start
    chosen = next((w for w in listed if w.period_start == start), None)
    if chosen is None:  # further ahead than the list: read that week on its own
        chosen = weeks.capacity_weeks_from(db, viewer.principal, site_id, start, 1)[0]
    previous = weeks.capacity_weeks_from(
        db, viewer.principal, site_id, start - timedelta(days=7), 1
    )[0]
    current = chosen.capacity
    this_week = start == this_monday
    return render(
        request,
        "charity/capacity.html",
        viewer,
        status_code=400 if errors else 200,
        title=(
            "Capacity this week"
            if this_week
            else f"Capacity for the week of {start.day} {start:%B %Y}"
        )
        + f": {site.name}",
        site=site,
        form=answers if answers is not None else _answers_from(current),
        errors=errors,
        start=start,
        end=chosen.period_end,
        this_week=this_week,
        current=current,
        previous=previous.capacity,
        weeks=listed,
    )


@router.get("/app/charity/sites/{site_id}/capacity")
def capacity_form(
    request: Request, site_id: ObjectId, viewer: CharityPage, db: DbDep
) -> HTMLResponse:
    """One week's capacity of one site (this week unless ``?week=`` names a later Monday)."""
    start = _week_asked(request)
    return _capacity_page(request, viewer, db, site_id, start, None, {})


def _posted_week(form: FormValues) -> date:
    """The week a capacity form was for (its hidden ``week``); 400 if it is not one."""
    raw = forms.text(form, "week")
    try:
        start = date.fromisoformat(raw) if raw else current_week()[0]
        weeks.check_week(start, "week")
    except (ValueError, ProblemError) as exc:
        raise ProblemError(
            400,
            "The form was for a week that cannot be set any more; open the capacity page again.",
        ) from exc
    return start


@router.post("/app/charity/sites/{site_id}/capacity")
def save_capacity(
    request: Request, site_id: ObjectId, viewer: CharityPost, form: Form, db: DbDep
) -> Response:
    """Record a week's capacity (the earlier figure is kept as history)."""
    start = _posted_week(form)
    end = start + timedelta(days=6)
    answers = forms.CapacityForm.from_form(form)
    body, errors = answers.validate(start, end)
    if body is None:
        return _capacity_page(request, viewer, db, site_id, start, answers, errors)
    try:
        providers.set_capacity(db, viewer.principal, site_id, body)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        errors = forms.problem_errors(problem, forms.CAPACITY_FIELDS, "parcels")
        return _capacity_page(request, viewer, db, site_id, start, answers, errors)
    if start == current_week()[0]:
        return see_other("/app/charity", "capacity")
    return see_other(
        f"/app/charity/sites/{site_id}/capacity?week={start.isoformat()}", "capacity-week"
    )


@router.post("/app/charity/sites/{site_id}/capacity/copy")
def copy_capacity(
    request: Request, site_id: ObjectId, viewer: CharityPost, form: Form, db: DbDep
) -> Response:
    """Fill a week in with the figures of the week before it."""
    start = _posted_week(form)
    try:
        weeks.copy_previous_week(db, viewer.principal, site_id, start)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        if problem.reason == "nothing_to_copy":
            before = start - timedelta(days=7)
            why = (
                f"There are no figures for the week of {before.day} {before:%B %Y} to copy. "
                "Enter this week's figures below instead."
            )
        else:
            detail = problem.detail.split(": ", 1)[-1]
            why = f"Last week's figures cannot be copied: {detail}"
        return _capacity_page(request, viewer, db, site_id, start, None, {"copy": why})
    return see_other(
        f"/app/charity/sites/{site_id}/capacity?week={start.isoformat()}", "capacity-copied"
    )


@router.get("/app/charity/history")
def charity_history(
    request: Request, viewer: CharityPage, db: DbDep, page: PageQuery = 1
) -> HTMLResponse:
    """Every household offered to the charity's sites and what became of it, with dates."""
    rows = history.offer_history(db, viewer.principal, page, 50, None)
    sites = providers.list_providers(db, viewer.principal, 1, 100)
    return render(
        request,
        "charity/history.html",
        viewer,
        title="Households offered to you",
        rows=rows,
        site_names={s.id: s.name for s in sites.items},
    )
