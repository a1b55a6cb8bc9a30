"""A person's own account: changing their password, and choosing one with a one-time link.

``/app/account`` shows who the person is signed in as and lets them change their password
(the current one is checked under the same limits as signing in). Changing it ends every
other session and token of theirs; this browser stays signed in with a new session.

``/app/welcome/{link}`` is the one-time link an admin gives a new person (or one who forgot
their password): it greets them by name, they choose a password and are signed in. A link
that was used, expired or replaced says so in plain words and changes nothing. The link's
secret is in the path; the access log shows only ``/app/welcome/…``.
"""

from __future__ import annotations

import uuid

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from api.auth import accounts, links, throttle
from api.core.deps import DbDep, SettingsDep
from api.core.errors import ProblemError
from api.core.tables import User
from api.web import forms
from api.web.deps import Form, SignedInPage, SignedInPost, page_router, see_other
from api.web.render import render
from api.web.security import (
    COOKIE_HOURS_AFTER,
    HOME,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    BadCsrf,
    Viewer,
    check_csrf,
    new_session,
    set_cookie,
)

router = page_router()


def _signed_in_as(request: Request, user: User, settings: SettingsDep, to: str) -> Response:
    """Go on to ``to`` with a new page session for ``user`` (their others have ended)."""
    response = see_other(to.partition("#")[0], to.partition("#")[2] or "")
    hours = settings.session_minutes / 60 + COOKIE_HOURS_AFTER
    set_cookie(request, response, SESSION_COOKIE, new_session(user, settings), hours=hours)
    response.delete_cookie(SIGN_IN_COOKIE, path="/app")
    return response


def _account_page(
    request: Request, viewer: Viewer, db: DbDep, errors: dict[str, str] | None = None
) -> HTMLResponse:
    with db.read() as session:
        user = session.get(User, viewer.user_id)
        email = user.email if user is not None else ""
    return render(request, "account/home.html", viewer, status_code=400 if errors else 200,
                  title="Your account", errors=errors or {}, email=email)  # fmt: skip


@router.get("/app/account")
def account(request: Request, viewer: SignedInPage, db: DbDep) -> HTMLResponse:
    """Who the person is signed in as, and a form to change their password."""
    return _account_page(request, viewer, db)


@router.post("/app/account/password")
def change_password(
    request: Request, viewer: SignedInPost, form: Form, db: DbDep, settings: SettingsDep
) -> Response:
    """Check the current password (under the sign-in limits) and set the new one; every
    other session of the person ends, this one carries on."""
    current = forms.password(form, "current_password")
    new = forms.password(form, "new_password")
    again = forms.password(form, "confirm_password")
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = "Enter your current password"
    if not new:
        errors["new_password"] = "Enter a new password"
    elif again != new:
        errors["confirm_password"] = "The two new passwords are not the same: type it again"
    if errors:
        return _account_page(request, viewer, db, errors)
    with db.read() as session:
        me = session.get(User, viewer.user_id)
        email = me.email if me is not None else ""
    try:
        checked = accounts.sign_in(db, settings, email, current, throttle.client_address(request))
    except throttle.TooManyAttempts as exc:
        minutes = f"{exc.minutes} minute{'s' if exc.minutes != 1 else ''}"
        errors["current_password"] = f"Too many wrong passwords. Wait {minutes}, then try again"
        return _account_page(request, viewer, db, errors)
    except throttle.LimiterUnavailable:
        errors["current_password"] = "Changing passwords is not working now. Try again soon"
        return _account_page(request, viewer, db, errors)
    if checked is None:
        return _account_page(request, viewer, db, {"current_password": "Your current password "
                             "is not right"})  # fmt: skip
    try:
        user = accounts.set_password(db, viewer.user_id, new, viewer.principal)
    except ProblemError as problem:
        if problem.status != 422:
            raise
        message = problem.detail.removeprefix("password: ")
        return _account_page(request, viewer, db, {"new_password": message[:1].upper() +
                                                   message[1:]})  # fmt: skip
    return _signed_in_as(request, user, settings, "/app/account?done=password-changed#")


def _welcome_page(
    request: Request,
    token: str,
    holder: links.LinkHolder | None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    csrf = request.cookies.get(SIGN_IN_COOKIE) or uuid.uuid4().hex
    response = render(
        request,
        "account/welcome.html",
        None,
        status_code=404 if holder is None else (400 if errors else 200),
        title="Choose your password" if holder else "This link does not work",
        holder=holder,
        token=token,
        errors=errors or {},
        csrf=csrf,
    )
    set_cookie(request, response, SIGN_IN_COOKIE, csrf, hours=1)
    return response


@router.get("/app/welcome/{token}")
def welcome(request: Request, token: str, db: DbDep) -> HTMLResponse:
    """The one-time link: who it is for, and a form to choose a password."""
    return _welcome_page(request, token, links.link_holder(db, token))


@router.post("/app/welcome/{token}")
def choose_password(
    request: Request, token: str, form: Form, db: DbDep, settings: SettingsDep
) -> Response:
    """Set the password, end the link, and sign the person in to their home page."""
    holder = links.link_holder(db, token)
    if holder is None:  # an unknown link is not found, whatever else was sent
        return _welcome_page(request, token, None)
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected:
        raise BadCsrf
    check_csrf(expected, form.get("csrf_token"))
    new = forms.password(form, "new_password")
    again = forms.password(form, "confirm_password")
    errors: dict[str, str] = {}
    if not new:
        errors["new_password"] = "Enter a password"
    elif again != new:
        errors["confirm_password"] = "The two passwords are not the same: type it again"
    if not errors:
        try:
            user = links.use_link(db, token, new)
        except links.LinkNotWorking:
            return _welcome_page(request, token, None)
        except ProblemError as problem:
            if problem.status != 422:
                raise
            message = problem.detail.removeprefix("password: ")
            errors["new_password"] = message[:1].upper() + message[1:]
    if errors:
        return _welcome_page(request, token, holder, errors)
    return _signed_in_as(request, user, settings, f"{HOME[user.role]}?done=password-chosen#")
