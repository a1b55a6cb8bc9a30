"""The way in: the service's address, the pages' own files, signing in and signing out."""

from __future__ import annotations

from functools import partial

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.auth import accounts, throttle
from api.core.deps import DbDep, SettingsDep
from api.core.errors import ProblemError
from api.web import forms
from api.web.deps import Form, MaybeViewer, SignedInPost, page_router, see_other
from api.web.ended import kept_from_sign_in, kept_page, sign_in_page
from api.web.render import HERE
from api.web.security import (
    COOKIE_HOURS_AFTER,
    HOME,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    BadCsrf,
    check_csrf,
    ended_session,
    new_session,
    safe_next,
    session_csrf,
    set_cookie,
)

router = page_router()

STATIC = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "supported.js": "text/javascript; charset=utf-8",
    "govuk/govuk-frontend.min.css": "text/css; charset=utf-8",
    "govuk/govuk-frontend.min.js": "text/javascript; charset=utf-8",
}
"""The pages' files: the service's own, and GOV.UK Frontend's (``frontend/build.py``)."""
_static_cache: dict[str, bytes] = {}


@router.get("/")
def root() -> RedirectResponse:
    """The service's address opens the pages."""
    return RedirectResponse("/app", status_code=303)


@router.get("/app")
def app_home(viewer: MaybeViewer) -> RedirectResponse:
    """Signed in: the role's home; otherwise the sign-in page."""
    return RedirectResponse(viewer.home if viewer else "/app/sign-in", status_code=303)


@router.get("/app/static/{name:path}")
def static(name: str) -> Response:
    """The pages' stylesheets and scripts, all served from here (nothing from another site)."""
    if name not in STATIC:
        raise ProblemError(404, "No such file.")
    if name not in _static_cache:
        try:
            _static_cache[name] = (HERE / "static" / name).read_bytes()
        except FileNotFoundError:
            raise ProblemError(500, f"The pages' file {name} is missing from this installation: "
                               "run `make` (it fetches GOV.UK Frontend) or install the "
                               "wheel.") from None  # fmt: skip
    return Response(
        _static_cache[name],
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/app/sign-in")
def sign_in_form(request: Request, viewer: MaybeViewer) -> Response:
    """The sign-in page (or the home page of someone already signed in)."""
    if viewer is not None:
        return RedirectResponse(viewer.home, status_code=303)
    return sign_in_page(request, errors={})


@router.post("/app/sign-in")
def sign_in(request: Request, form: Form, db: DbDep, settings: SettingsDep) -> Response:
    """Check the e-mail and password (under the sign-in limits); start a session; go to the
    role's home page."""
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected:
        raise BadCsrf
    check_csrf(expected, form.get("csrf_token"))
    email = forms.text(form, "email")
    password = form.get("password", "")
    password = password if isinstance(password, str) else ""
    kept, kept_action = kept_from_sign_in(form)
    again = partial(
        sign_in_page,
        request,
        email=email,
        next_path=safe_next(forms.text(form, "next")) or "",
        kept=kept,
        kept_action=kept_action,
    )  # the form again, keeping what was typed and carried
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    user = None
    if not errors:
        try:
            user = accounts.sign_in(db, settings, email, password, throttle.client_address(request))
        except throttle.TooManyAttempts as exc:
            minutes = f"{exc.minutes} minute{'s' if exc.minutes != 1 else ''}"
            errors["email"] = (
                f"Too many failed sign-ins. Wait {minutes}, then try again. "
                "If you have forgotten your password, ask your organisation's administrator"
            )
            return again(
                errors=errors, status_code=429, headers={"Retry-After": str(exc.retry_after)}
            )
        except throttle.LimiterUnavailable:
            errors["email"] = "Signing in is not working at the moment. Try again in a minute"
            return again(errors=errors, status_code=503, headers={"Retry-After": "5"})
        if user is None:
            errors["email"] = "Enter a correct email address and password"
    if errors or user is None:
        return again(errors=errors, status_code=400)
    session = new_session(user, settings)
    ended = ended_session(request)
    response: Response
    if kept and kept_action and ended is not None and ended.user_id == user.id:
        # The same person, back after their session ended: their answers, sent on only
        # when they say so (another person signing in here never sees them).
        response = kept_page(request, kept, kept_action, session_csrf(session, settings),
                             HOME[user.role])  # fmt: skip
    else:
        target = safe_next(forms.text(form, "next")) or HOME[user.role]
        response = RedirectResponse(target, status_code=303)
    hours = settings.session_minutes / 60 + COOKIE_HOURS_AFTER
    set_cookie(request, response, SESSION_COOKIE, session, hours=hours)
    response.delete_cookie(SIGN_IN_COOKIE, path="/app")
    return response


@router.post("/app/sign-out")
def sign_out(viewer: SignedInPost, db: DbDep) -> Response:
    """End the session, and every other session and access token of this person, at once."""
    accounts.end_sessions(db, viewer.user_id)
    response = see_other("/app/sign-in", "signed-out")
    response.delete_cookie(SESSION_COOKIE, path="/app")
    return response
