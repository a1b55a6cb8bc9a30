"""The pages: sign in, then each role's home and journeys, on the same services as the API.

Handlers only read the form, call a service function and render a template. Errors a person
can cause come back as the page again with a GOV.UK error summary and the message at the
field; nothing is changed. Not in the OpenAPI schema (these are pages, not an API).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from api.auth import accounts, throttle
from api.core import clock
from api.core.config import Settings
from api.core.db import Database
from api.core.deps import MAX_ID, MAX_PAGE, ObjectId
from api.core.errors import ProblemError, validation_problems
from api.core.schemas import OutcomeRequest, ReferralRead, WithdrawRequest
from api.core.vocabulary import OfferStatus, ReferralStatus, Role, WithdrawalReason
from api.demo.seed import current_week
from api.match_runs import service as matching
from api.offers import service as offers
from api.record import foi, messages
from api.record.schemas import FoiRequestUpdate
from api.record.search import SearchFilters
from api.record.tables import DocumentKind
from api.referrals import service as referrals
from api.scenarios import runs as scenario_runs
from api.scenarios.router import RunId
from api.sites import service as providers
from api.web import forms, planner, queries
from api.web.render import HERE, error_page, render
from api.web.security import (
    HOME,
    SESSION_COOKIE,
    SESSION_HOURS,
    SIGN_IN_COOKIE,
    BadCsrf,
    NeedSignIn,
    Viewer,
    WrongRole,
    check_csrf,
    current_viewer,
    new_session,
    require,
    safe_next,
    set_cookie,
    sign_in_url,
)

MULTI_FIELDS = frozenset({"dietary", "scenarios"})
NUL_IN_ADDRESS = "The web address holds a character no page can use (NUL). Check the address."
NUL_IN_FORM = (
    "The form holds a character that cannot be stored (NUL); nothing was changed. "
    "Go back, remove it and try again."
)
FormValues = dict[str, str | list[str]]


class WebRoute(APIRoute):
    """A page route: sign-in, role, CSRF and service errors become pages, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                if any("\x00" in value for _, value in request.query_params.multi_items()):
                    raise ProblemError(400, NUL_IN_ADDRESS)
                return await original(request)
            except NeedSignIn as exc:
                return RedirectResponse(sign_in_url(exc.next_path), status_code=303)
            except WrongRole as exc:
                return render(
                    request,
                    "error.html",
                    exc.viewer,
                    status_code=403,
                    title="You cannot use this page",
                    heading="You cannot use this page",
                    message="This page is for another role. Go to your home page instead.",
                )
            except BadCsrf:
                return render(
                    request,
                    "error.html",
                    None,
                    status_code=403,
                    title="The form has expired",
                    heading="The form has expired",
                    message="Nothing was changed. Go back, reload the page and try again.",
                )
            except ProblemError as exc:
                viewer = current_viewer(request)
                if exc.status == 404:
                    return error_page(request, 404, exc.detail, exc.headers, viewer=viewer)
                return error_page(
                    request, exc.status, exc.detail, exc.headers, viewer=viewer, message=exc.detail
                )
            except RequestValidationError as exc:
                # A path value that cannot be an id names no page; any other value of the
                # address (a page number, a filter) is the visitor's to correct.
                problems = validation_problems(exc.errors())
                viewer = current_viewer(request)
                if any(p.location == "path" for p in problems):
                    return error_page(request, 404, "", viewer=viewer)
                wrong = "; ".join(f"{p.field}: {p.message}" for p in problems)
                message = f"The web address has a value this page cannot use ({wrong})."
                return error_page(request, 400, wrong, viewer=viewer, message=message)

        return handler


router = APIRouter(route_class=WebRoute, include_in_schema=False)


async def _read_form(request: Request) -> tuple[FormValues, dict[str, tuple[str, bytes]]]:
    """The posted form, read once: text fields, and files read into memory and closed."""
    cached: tuple[FormValues, dict[str, tuple[str, bytes]]] | None = getattr(
        request.state, "web_form", None
    )
    if cached is not None:
        return cached
    form = await request.form()
    values: FormValues = {}
    files: dict[str, tuple[str, bytes]] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[key] = (value.filename or "", await value.read())
            await value.close()
    for key in form:
        texts = [v for v in form.getlist(key) if isinstance(v, str)]
        if any("\x00" in t for t in texts):
            raise ProblemError(400, NUL_IN_FORM)
        values[key] = texts if key in MULTI_FIELDS else (texts[0] if texts else "")
    request.state.web_form = (values, files)
    return values, files


async def form_values(request: Request) -> FormValues:
    """The posted form's text fields (lists for the multi-choice ones)."""
    return (await _read_form(request))[0]


async def uploads(request: Request) -> dict[str, tuple[str, bytes]]:
    """The posted form's files: ``{field: (file name, content)}`` (empty when none chosen)."""
    return (await _read_form(request))[1]


Form = Annotated[FormValues, Depends(form_values)]
Files = Annotated[dict[str, tuple[str, bytes]], Depends(uploads)]


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _posted(request: Request, form: FormValues, *roles: Role) -> Viewer:
    viewer = require(request, *roles)
    check_csrf(viewer.csrf, form.get("csrf_token"))
    return viewer


def _see_other(url: str, done: str | None = None, anchor: str = "") -> RedirectResponse:
    if done:
        url += ("&" if "?" in url else "?") + "done=" + done
    return RedirectResponse(url + anchor, status_code=303)


PageQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number.")]
"""The ``page`` of a list page: a whole number from 1 (anything else is a 400 page)."""


def _choice(request: Request, name: str, allowed: Sequence[str]) -> str:
    """A filter of the address: empty (none chosen) or one of ``allowed``, else a 400 page."""
    value = request.query_params.get(name, "")
    if value and value not in allowed:
        raise ProblemError(
            400,
            f"The web address has a value this page cannot use: {name} must be one of "
            f"{', '.join(allowed)}, or left out.",
        )
    return value


# --- entry, static files, sign in ----------------------------------------------------------

STATIC = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
}
_static_cache: dict[str, bytes] = {}


@router.get("/")
def root() -> RedirectResponse:
    """The service's address opens the pages."""
    return RedirectResponse("/app", status_code=303)


@router.get("/app")
def app_home(request: Request) -> RedirectResponse:
    """Signed in: the role's home; otherwise the sign-in page."""
    viewer = current_viewer(request)
    return RedirectResponse(viewer.home if viewer else "/app/sign-in", status_code=303)


@router.get("/app/static/{name}")
def static(name: str) -> Response:
    """The pages' own stylesheet and script (no third-party files)."""
    if name not in STATIC:
        raise ProblemError(404, "No such file.")
    if name not in _static_cache:
        _static_cache[name] = (HERE / "static" / name).read_bytes()
    return Response(
        _static_cache[name],
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def _sign_in_page(
    request: Request,
    *,
    errors: dict[str, str],
    email: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = request.cookies.get(SIGN_IN_COOKIE) or uuid.uuid4().hex
    response = render(
        request,
        "sign_in.html",
        None,
        status_code=status_code,
        title="Sign in",
        errors=errors,
        email=email,
        csrf=token,
        next=safe_next(request.query_params.get("next")) or "",
    )
    response.headers.update(headers or {})
    set_cookie(request, response, SIGN_IN_COOKIE, token, hours=1)
    return response


@router.get("/app/sign-in")
def sign_in_form(request: Request) -> Response:
    """The sign-in page (or the home page of someone already signed in)."""
    viewer = current_viewer(request)
    if viewer is not None:
        return RedirectResponse(viewer.home, status_code=303)
    return _sign_in_page(request, errors={})


@router.post("/app/sign-in")
def sign_in(request: Request, form: Form) -> Response:
    """Check the e-mail and password (under the sign-in limits); start a session; go to the
    role's home page."""
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected:
        raise BadCsrf
    check_csrf(expected, form.get("csrf_token"))
    email = forms.text(form, "email")
    password = form.get("password", "")
    password = password if isinstance(password, str) else ""
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    user = None
    if not errors:
        settings = _settings(request)
        try:
            user = accounts.sign_in(
                _db(request), settings, email, password, throttle.client_address(request)
            )
        except throttle.TooManyAttempts as exc:
            minutes = f"{exc.minutes} minute{'s' if exc.minutes != 1 else ''}"
            errors["email"] = (
                f"Too many failed sign-ins. Wait {minutes}, then try again. "
                "If you have forgotten your password, ask your organisation's administrator"
            )
            return _sign_in_page(
                request,
                errors=errors,
                email=email,
                status_code=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
        except throttle.LimiterUnavailable:
            errors["email"] = "Signing in is not working at the moment. Try again in a minute"
            return _sign_in_page(
                request, errors=errors, email=email, status_code=503, headers={"Retry-After": "5"}
            )
        if user is None:
            errors["email"] = "Enter a correct email address and password"
    if errors or user is None:
        return _sign_in_page(request, errors=errors, email=email, status_code=400)
    target = safe_next(forms.text(form, "next")) or HOME[user.role]
    response = RedirectResponse(target, status_code=303)
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        new_session(user, _settings(request)),
        hours=SESSION_HOURS,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/app")
    return response


@router.post("/app/sign-out")
def sign_out(request: Request, form: Form) -> Response:
    """End the session, and every other session and access token of this person, at once."""
    viewer = _posted(request, form)
    accounts.end_sessions(_db(request), viewer.user_id)
    response = _see_other("/app/sign-in", "signed-out")
    response.delete_cookie(SESSION_COOKIE, path="/app")
    return response


# --- caseworker ----------------------------------------------------------------------------

CASEWORKER = (Role.CASEWORKER,)


@router.get("/app/caseworker")
def caseworker_home() -> RedirectResponse:
    """A caseworker's home is their council's referral list."""
    return RedirectResponse("/app/caseworker/referrals", status_code=303)


@router.get("/app/caseworker/referrals")
def referral_list(request: Request, page: PageQuery = 1) -> HTMLResponse:
    """The council's referrals, newest first, with where each stands."""
    viewer = require(request, *CASEWORKER)
    wanted = _choice(request, "status", [s.value for s in ReferralStatus])
    status = ReferralStatus(wanted) if wanted else None
    listed = referrals.list_referrals(_db(request), viewer.principal, page, 50, status)
    return render(
        request,
        "caseworker/referrals.html",
        viewer,
        title="Referrals",
        page=listed,
        status=status.value if status else "",
        statuses=[s.value for s in ReferralStatus],
    )


def _referral_form(
    request: Request,
    viewer: Viewer,
    answers: forms.ReferralForm,
    errors: dict[str, str],
    focus: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "caseworker/new.html",
        viewer,
        status_code=400 if errors else 200,
        title="Refer a household",
        form=answers,
        errors=errors,
        focus=focus,
    )


@router.get("/app/caseworker/referrals/new")
def new_referral(request: Request) -> HTMLResponse:
    """The 'refer a household' form."""
    viewer = require(request, *CASEWORKER)
    return _referral_form(request, viewer, forms.ReferralForm(), {})


@router.post("/app/caseworker/referrals/new")
def check_referral(request: Request, form: Form) -> HTMLResponse:
    """Check the answers: the form again with errors, or the 'check your answers' page."""
    viewer = _posted(request, form, *CASEWORKER)
    answers = forms.ReferralForm.from_form(form)
    body, errors = answers.validate()
    if body is None:
        return _referral_form(request, viewer, answers, errors)
    return render(
        request,
        "caseworker/check.html",
        viewer,
        title="Check your answers",
        form=answers,
        body=body,
        idempotency_key=uuid.uuid4().hex,
    )


@router.post("/app/caseworker/referrals/new/change")
def change_referral(request: Request, form: Form) -> HTMLResponse:
    """Back from 'check your answers' to the form, keeping every answer."""
    viewer = _posted(request, form, *CASEWORKER)
    field = forms.text(form, "change")
    focus = field if field in forms.REFERRAL_FIELDS else None
    return _referral_form(request, viewer, forms.ReferralForm.from_form(form), {}, focus)


@router.post("/app/caseworker/referrals/new/confirm")
def submit_referral(request: Request, form: Form) -> Response:
    """Submit the checked referral (once, even if the button is pressed twice)."""
    viewer = _posted(request, form, *CASEWORKER)
    answers = forms.ReferralForm.from_form(form)
    body, errors = answers.validate()
    if body is None:
        return _referral_form(request, viewer, answers, errors)
    key = forms.text(form, "idempotency_key")[:255] or None
    try:
        stored = referrals.create_referral(
            _db(request), _settings(request), viewer.principal, body, key and f"web-{key}"
        )
    except ProblemError as problem:
        if problem.status != 422:
            raise
        errors = forms.problem_errors(problem, forms.REFERRAL_FIELDS, "postcode")
        return _referral_form(request, viewer, answers, errors)
    return _see_other(f"/app/caseworker/referrals/{stored.body['id']}", "referral-sent")


def _referral_page(
    request: Request,
    viewer: Viewer,
    referral_id: int,
    errors: dict[str, str] | None = None,
    message: str = "",
    withdraw_reason: str = "",
) -> HTMLResponse:
    db = _db(request)
    referral = referrals.get_referral(db, viewer.principal, referral_id)
    assert isinstance(referral, ReferralRead)
    offer = None
    site = None
    if referral.current_offer is not None:
        offer = offers.get_offer(db, viewer.principal, referral.current_offer.id)
        site = queries.site_names(db, [offer.provider_id]).get(offer.provider_id)
    decision = None if offer else queries.latest_decision(db, referral_id)
    thread = messages.list_referral_messages(db, viewer.principal, referral_id, 1, 100)
    names = queries.organisation_names(db, [m.author_organisation_id for m in thread.items])
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
        thread=thread.items,
        names=names,
        errors=errors or {},
        message=message,
        withdraw_reason=withdraw_reason,
    )


@router.get("/app/caseworker/referrals/{referral_id}")
def referral_page(request: Request, referral_id: ObjectId) -> HTMLResponse:
    """One referral: the household, its match explained, the thread, 'place now'."""
    viewer = require(request, *CASEWORKER)
    return _referral_page(request, viewer, referral_id)


@router.post("/app/caseworker/referrals/{referral_id}/place")
def place_now(request: Request, referral_id: ObjectId, form: Form) -> Response:
    """Book the best place for this household now, or say why none can be had."""
    viewer = _posted(request, form, *CASEWORKER)
    try:
        matching.place_referral(_db(request), _settings(request), viewer.principal, referral_id)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        errors = {"place": f"No place could be booked: {problem.detail}"}
        return _referral_page(request, viewer, referral_id, errors)
    return _see_other(f"/app/caseworker/referrals/{referral_id}", "placed")


@router.post("/app/caseworker/referrals/{referral_id}/withdraw")
def withdraw(request: Request, referral_id: ObjectId, form: Form) -> Response:
    """Close a referral the household no longer needs, giving back any place it held."""
    viewer = _posted(request, form, *CASEWORKER)
    reason = forms.text(form, "reason")
    if reason not in {r.value for r in WithdrawalReason}:
        errors = {"reason": "Select why the referral is no longer needed"}
        return _referral_page(request, viewer, referral_id, errors)
    body = WithdrawRequest.model_validate({"reason": reason})
    try:
        referrals.withdraw_referral(_db(request), viewer.principal, referral_id, body)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        errors = {"reason": f"The referral could not be withdrawn: {problem.detail}"}
        return _referral_page(request, viewer, referral_id, errors, withdraw_reason=reason)
    return _see_other(f"/app/caseworker/referrals/{referral_id}", "withdrawn")


def _post_message(
    request: Request,
    viewer: Viewer,
    referral_id: int,
    form: FormValues,
    again: Callable[[dict[str, str], str], HTMLResponse],
    back: str,
) -> Response:
    body = forms.text(form, "message")
    if not body:
        return again({"message": "Enter a message"}, body)
    if len(body) > 5000:
        return again({"message": "The message must be 5,000 characters or fewer"}, body)
    try:
        messages.post_referral_message(_db(request), viewer.principal, referral_id, body, None)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return again({"message": problem.detail}, body)
    return _see_other(back, "message-sent", "#messages")


@router.post("/app/caseworker/referrals/{referral_id}/messages")
def caseworker_message(request: Request, referral_id: ObjectId, form: Form) -> Response:
    """Write to the charity holding the referral's offer."""
    viewer = _posted(request, form, *CASEWORKER)

    def again(errors: dict[str, str], text: str) -> HTMLResponse:
        return _referral_page(request, viewer, referral_id, errors, text)

    back = f"/app/caseworker/referrals/{referral_id}"
    return _post_message(request, viewer, referral_id, form, again, back)


# --- charity -------------------------------------------------------------------------------

CHARITY = (Role.CHARITY,)


@router.get("/app/charity")
def charity_home(request: Request, page: PageQuery = 1) -> HTMLResponse:
    """Offers waiting for a decision, accepted households waiting for an outcome, and sites."""
    viewer = require(request, *CHARITY)
    db = _db(request)
    waiting = offers.list_offers(db, viewer.principal, page, 50, OfferStatus.OFFERED)
    accepted = offers.list_offers(db, viewer.principal, 1, 50, OfferStatus.ACCEPTED)
    households = queries.households_for_offers(
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
    offer_id: int,
    errors: dict[str, str] | None = None,
    message: str = "",
    form: FormValues | None = None,
) -> HTMLResponse:
    db = _db(request)
    offer = offers.get_offer(db, viewer.principal, offer_id)
    household = None  # a withdrawn referral is no longer the charity's to see
    if offer.status is not OfferStatus.WITHDRAWN:
        household = referrals.get_referral(db, viewer.principal, offer.referral_id)
    site = queries.site_names(db, [offer.provider_id]).get(offer.provider_id)
    thread = []
    if offer.status in (
        OfferStatus.OFFERED,
        OfferStatus.ACCEPTED,
        OfferStatus.COLLECTED,
        OfferStatus.DELIVERED,
    ):
        thread = messages.list_referral_messages(
            db, viewer.principal, offer.referral_id, 1, 100
        ).items
    names = queries.organisation_names(db, [m.author_organisation_id for m in thread])
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
def offer_page(request: Request, offer_id: ObjectId) -> HTMLResponse:
    """One offer: the household (minimised), why it was offered here, and what to do next."""
    viewer = require(request, *CHARITY)
    return _offer_page(request, viewer, offer_id)


def _offer_step(
    request: Request,
    viewer: Viewer,
    offer_id: int,
    step: Callable[[], object],
    done: str,
    field: str,
) -> Response:
    try:
        step()
    except ProblemError as problem:
        if problem.status != 409:
            raise
        return _offer_page(request, viewer, offer_id, {field: problem.detail})
    if done == "declined":  # a charity no longer sees a household it declined
        return _see_other("/app/charity", done)
    return _see_other(f"/app/charity/offers/{offer_id}", done)


@router.post("/app/charity/offers/{offer_id}/accept")
def accept_offer(request: Request, offer_id: ObjectId, form: Form) -> Response:
    """Take the household."""
    viewer = _posted(request, form, *CHARITY)
    db = _db(request)
    return _offer_step(
        request,
        viewer,
        offer_id,
        lambda: offers.accept(db, viewer.principal, offer_id),
        "accepted",
        "decision",
    )


@router.post("/app/charity/offers/{offer_id}/decline")
def decline_offer(request: Request, offer_id: ObjectId, form: Form) -> Response:
    """Turn the household down with a reason (the place is freed and it is matched again)."""
    viewer = _posted(request, form, *CHARITY)
    body, errors = forms.decline_body(form)
    if body is None:
        return _offer_page(request, viewer, offer_id, errors, form=form)
    db, settings = _db(request), _settings(request)
    return _offer_step(
        request,
        viewer,
        offer_id,
        lambda: offers.decline(db, settings, viewer.principal, offer_id, body),
        "declined",
        "reason",
    )


@router.post("/app/charity/offers/{offer_id}/outcome")
def record_outcome(request: Request, offer_id: ObjectId, form: Form) -> Response:
    """Collected, delivered or did not arrive."""
    viewer = _posted(request, form, *CHARITY)
    outcome = forms.text(form, "outcome")
    if outcome not in ("collected", "delivered", "no_show"):
        return _offer_page(request, viewer, offer_id, {"outcome": "Select what happened"})
    db, settings = _db(request), _settings(request)
    body = OutcomeRequest.model_validate({"outcome": outcome})
    return _offer_step(
        request,
        viewer,
        offer_id,
        lambda: offers.record_outcome(db, settings, viewer.principal, offer_id, body),
        "outcome",
        "outcome",
    )


@router.post("/app/charity/offers/{offer_id}/messages")
def charity_message(request: Request, offer_id: ObjectId, form: Form) -> Response:
    """Write to the council about this household."""
    viewer = _posted(request, form, *CHARITY)
    offer = offers.get_offer(_db(request), viewer.principal, offer_id)

    def again(errors: dict[str, str], text: str) -> HTMLResponse:
        return _offer_page(request, viewer, offer_id, errors, text)

    back = f"/app/charity/offers/{offer_id}"
    return _post_message(request, viewer, offer.referral_id, form, again, back)


def _capacity_page(
    request: Request,
    viewer: Viewer,
    site_id: int,
    answers: forms.CapacityForm | None,
    errors: dict[str, str],
) -> HTMLResponse:
    site = providers.get_provider(_db(request), viewer.principal, site_id)
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
def capacity_form(request: Request, site_id: ObjectId) -> HTMLResponse:
    """This week's capacity of one site."""
    viewer = require(request, *CHARITY)
    return _capacity_page(request, viewer, site_id, None, {})


@router.post("/app/charity/sites/{site_id}/capacity")
def save_capacity(request: Request, site_id: ObjectId, form: Form) -> Response:
    """Record this week's capacity (the earlier figure is kept as history)."""
    viewer = _posted(request, form, *CHARITY)
    answers = forms.CapacityForm.from_form(form)
    start, end = current_week()
    body, errors = answers.validate(start, end)
    if body is None:
        return _capacity_page(request, viewer, site_id, answers, errors)
    try:
        providers.set_capacity(_db(request), viewer.principal, site_id, body)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        errors = forms.problem_errors(problem, forms.CAPACITY_FIELDS, "parcels")
        return _capacity_page(request, viewer, site_id, answers, errors)
    return _see_other("/app/charity", "capacity")


# --- planner -------------------------------------------------------------------------------

PLANNER = (Role.PLANNER,)


def _planner_page(
    request: Request, viewer: Viewer, errors: dict[str, str], form: FormValues | None = None
) -> HTMLResponse:
    values = form or {}
    shipped = planner.shipped_scenarios()
    chosen = values.get("scenarios", [])
    return render(
        request,
        "planner/home.html",
        viewer,
        status_code=400 if errors else 200,
        title="What-if scenarios",
        errors=errors,
        scenario_options=[(s.name, f"{s.name}: {s.description}") for s in shipped],
        runs=planner.RUNS.recent(viewer.principal.organisation_id),
        source=forms.text(values, "source") or "shipped",
        base=forms.text(values, "base") or "live",
        chosen=chosen if isinstance(chosen, list) else [chosen],
        seconds=forms.text(values, "seconds") or "10",
    )


@router.get("/app/planner")
def planner_home(request: Request) -> HTMLResponse:
    """Choose the shipped what-ifs or upload a scenario file, and see recent runs."""
    viewer = require(request, *PLANNER)
    return _planner_page(request, viewer, {})


@router.post("/app/planner/runs")
def start_run(request: Request, form: Form, files: Files) -> Response:
    """Check the request and queue the run; the run's page shows progress and results."""
    viewer = _posted(request, form, *PLANNER)
    errors: dict[str, str] = {}
    seconds = forms.decimal_number(forms.text(form, "seconds"), 0, planner.MAX_SECONDS) or -1.0
    if not 1 <= seconds <= planner.MAX_SECONDS:
        errors["seconds"] = f"Enter a number of seconds from 1 to {planner.MAX_SECONDS:.0f}"
    source = forms.text(form, "source")
    try:
        if source == "shipped":
            chosen = form.get("scenarios", [])
            base, spec, notes = planner.shipped_request(chosen if isinstance(chosen, list) else [])
            title = "Shipped sample what-ifs (Leeds sample region)"
        elif source == "upload":
            name, content = files.get("scenario_file", ("", b""))
            spec, notes = planner.uploaded_spec(name, content)
            base_kind = forms.text(form, "base")
            if base_kind == "upload":
                base = planner.uploaded_base(
                    files.get("referrals_file", ("", b"")), files.get("providers_file", ("", b""))
                )
                base_title = "uploaded CSVs"
            elif base_kind == "sample":
                base = planner.sample_problem()
                base_title = "the sample region"
            else:
                base = queries.live_problem(_db(request), viewer.principal)
                base_title = "today's open referrals and free places"
            planner.check_against(base, spec, "scenario_file")
            title = f"{name or 'Uploaded file'} on {base_title}"
        else:
            errors["source"] = "Select which scenarios to run"
    except planner.RunRequestError as err:
        errors.update(err.errors)
    if errors:
        return _planner_page(request, viewer, errors, form)
    run = planner.RUNS.start(
        organisation_id=viewer.principal.organisation_id,
        title=title,
        base=base,
        spec=spec,
        seconds=seconds,
        notes=notes,
    )
    scenario_runs.record_run_started(_db(request), viewer.principal, run, base, spec, title)
    return _see_other(f"/app/planner/runs/{run.id}")


def _own_run(request: Request, viewer: Viewer, run_id: str) -> planner.ScenarioRun:
    run = planner.RUNS.get(run_id, viewer.principal.organisation_id)
    if run is None:
        raise ProblemError(404, f"No scenario run {run_id}.")
    return run


@router.get("/app/planner/runs/{run_id}")
def run_page(request: Request, run_id: RunId) -> HTMLResponse:
    """Progress, then the comparison table, plots and the map of unmet need."""
    viewer = require(request, *PLANNER)
    run = _own_run(request, viewer, run_id)
    names, rows = planner.comparison_rows(run.result) if run.result else ([], [])
    shown = _choice(request, "map", names or ["baseline"]) or "baseline"
    kpis = run.kpis(shown)
    points = planner.unmet_map(kpis) if kpis else []
    districts = kpis["districts"] if kpis else []
    worst = sorted(districts, key=lambda d: -(d.get("unmet_households") or 0))[:10]
    return render(
        request,
        "planner/run.html",
        viewer,
        title=f"Scenario run: {run.title}",
        run=run,
        names=names,
        rows=rows,
        shown=shown,
        points=points,
        worst=worst,
        map_width=planner.MAP_WIDTH,
        map_height=planner.MAP_HEIGHT,
    )


@router.get("/app/planner/runs/{run_id}/comparison.csv")
def run_csv(request: Request, run_id: RunId) -> Response:
    """The comparison table as CSV (the same bytes the CLI writes)."""
    viewer = require(request, *PLANNER)
    run = _own_run(request, viewer, run_id)
    if run.result is None:
        raise ProblemError(404, "The run has no results yet.")
    return Response(
        planner.csv_text(run.result).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="scenario-comparison-{run_id[:8]}.csv"',
            "Cache-Control": "no-store",
        },
    )


# --- FOI officer ---------------------------------------------------------------------------

FOI = (Role.FOI_OFFICER, Role.ADMIN)
KINDS = ("message", "note", "decision", "audit")


@router.get("/app/foi")
def foi_search(request: Request, page: PageQuery = 1) -> HTMLResponse:
    """Search the record (redacted text for FOI officers)."""
    viewer = require(request, *FOI)
    params = request.query_params
    query = params.get("q", "").strip()[:500]
    kind = _choice(request, "kind", KINDS)
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
        result = queries.foi_search(_db(request), viewer.principal, query, filters, page, 20)
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
    errors: dict[str, str],
    form: FormValues | None = None,
    parts: dict[str, str] | None = None,
    page: int = 1,
) -> HTMLResponse:
    register = foi.list_requests(_db(request), viewer.principal, page, 50, None)
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
def register(request: Request, page: PageQuery = 1) -> HTMLResponse:
    """The register, soonest due first, with the form to log a new request."""
    viewer = require(request, *FOI)
    return _register_page(request, viewer, {}, page=page)


@router.post("/app/foi/requests")
def log_request(request: Request, form: Form) -> Response:
    """Log a request; its due date is 20 working days after receipt."""
    viewer = _posted(request, form, *FOI)
    body, errors, parts = forms.foi_request_body(form, clock.today())
    if body is None:
        return _register_page(request, viewer, errors, form, parts)
    try:
        foi.create_request(_db(request), viewer.principal, body)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        field = "received" if "received_on" in problem.detail else "reference"
        return _register_page(request, viewer, {field: problem.detail}, form, parts)
    return _see_other("/app/foi/requests", "request-logged")


@router.post("/app/foi/requests/{request_id}/answered")
def mark_answered(request: Request, request_id: ObjectId, form: Form) -> Response:
    """Mark a request answered today."""
    viewer = _posted(request, form, *FOI)
    foi.update_request(
        _db(request),
        viewer.principal,
        request_id,
        FoiRequestUpdate.model_validate({"status": "answered"}),
    )
    return _see_other("/app/foi/requests", "request-answered")


def _export_form(
    request: Request, viewer: Viewer, errors: dict[str, str], form: FormValues
) -> HTMLResponse:
    register = foi.list_requests(_db(request), viewer.principal, 1, 100, "open")
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
    request_id: Annotated[int | None, Query(alias="request", ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """Choose what to export (``?request=`` chooses the FOI request it answers)."""
    viewer = require(request, *FOI)
    form: FormValues = {"foi_request_id": "" if request_id is None else str(request_id)}
    return _export_form(request, viewer, {}, form)


@router.post("/app/foi/exports")
def create_export(request: Request, form: Form) -> Response:
    """Build the redacted export (ZIP) and show what it holds."""
    viewer = _posted(request, form, *FOI)
    body, errors = forms.export_body(form)
    if body is None:
        return _export_form(request, viewer, errors, form)
    try:
        export = foi.create_export(_db(request), viewer.principal, body)
    except ProblemError as problem:
        if problem.status not in (404, 422):
            raise
        return _export_form(request, viewer, {"keywords": problem.detail}, form)
    return _see_other(f"/app/foi/exports/{export.id}")


@router.get("/app/foi/exports/{export_id}")
def export_page(request: Request, export_id: ObjectId) -> HTMLResponse:
    """What an export holds, what was removed, and the download."""
    viewer = require(request, *FOI)
    export = foi.get_export(_db(request), viewer.principal, export_id)
    return render(request, "foi/export.html", viewer, title=f"Export {export_id}", export=export)


@router.get("/app/foi/exports/{export_id}/download")
def download_export(request: Request, export_id: ObjectId) -> Response:
    """The ZIP exactly as made."""
    viewer = require(request, *FOI)
    content = foi.export_content(_db(request), viewer.principal, export_id)
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="foi-export-{export_id}.zip"'},
    )
