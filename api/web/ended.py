"""When a page session has ended: the sign-in page says so, and a form sent after the end
keeps its answers through signing in again.

A form is kept only when it came from this browser's own ended session (it carries that
session's CSRF token; a cross-site post carries neither the cookie nor the token), and it is
handed back only to the same person, who sends it again with one button: nothing is acted on
without a live session.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.web.render import render
from api.web.security import (
    SIGN_IN_COOKIE,
    BadCsrf,
    EndedSession,
    NeedSignIn,
    check_csrf,
    safe_next,
    set_cookie,
    sign_in_url,
)

FormValues = Mapping[str, str | list[str]]
"""A posted form's text fields (as :mod:`api.web.deps` reads them)."""

KEPT_PREFIX = "kept:"
"""The sign-in form carries each kept answer as a hidden field named ``kept:<field>``."""
KEPT_ACTION = "kept_action"
"""The hidden field naming the page the kept form was sent to."""
MAX_KEPT_FIELDS = 200
"""At most this many answers are kept (the longest form has far fewer)."""

Kept = list[tuple[str, str]]


def _pairs(values: FormValues, prefix: str = "") -> Kept:
    """The form's text fields as (name, value) pairs, in order, lists flattened."""
    pairs: Kept = []
    for key, value in values.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if not name or name == "csrf_token":
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item))
    return pairs[:MAX_KEPT_FIELDS]


def kept_from_sign_in(values: FormValues) -> tuple[Kept, str | None]:
    """The answers the sign-in form carries, and the page they were sent to."""
    action = values.get(KEPT_ACTION, "")
    target = safe_next(action) if isinstance(action, str) else None
    return (_pairs(values, KEPT_PREFIX), target) if target else ([], None)


def _kept_from_post(request: Request, ended: EndedSession | None) -> Kept:
    """The answers of this post, if it came from the browser's own ended session."""
    values: FormValues | None = getattr(request.state, "web_form", (None, None))[0]
    if ended is None or values is None:
        return []
    try:
        check_csrf(ended.csrf, values.get("csrf_token"))
    except BadCsrf:
        return []
    return _pairs(values)


def _came_from(request: Request) -> str:
    """The page of this app the browser was on (its Referer, if same-site), else ``""``."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return ""
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(path) or ""


def sign_in_page(
    request: Request,
    *,
    errors: dict[str, str],
    email: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    next_path: str | None = None,
    ended: bool = False,
    kept: Kept | None = None,
    kept_action: str | None = None,
) -> HTMLResponse:
    """The sign-in form, with a fresh double-submit token unless the browser has one."""
    token = request.cookies.get(SIGN_IN_COOKIE) or uuid.uuid4().hex
    if next_path is None:
        next_path = safe_next(request.query_params.get("next")) or ""
    ended = ended or request.query_params.get("ended") == "1"
    response = render(
        request,
        "sign_in.html",
        None,
        status_code=status_code,
        title="Sign in",
        errors=errors,
        email=email,
        csrf=token,
        next=next_path,
        ended=ended or bool(kept),
        kept=kept or [],
        kept_prefix=KEPT_PREFIX,
        kept_action=kept_action or "",
    )
    response.headers.update(headers or {})
    set_cookie(request, response, SIGN_IN_COOKIE, token, hours=1)
    return response


def answer_need_sign_in(request: Request, exc: NeedSignIn) -> Response:
    """A page that needs a session: a page opened goes to sign in (saying so if the session
    ended); a form sent after its session ended gets the sign-in page holding its answers."""
    ended = exc.ended is not None
    if request.method in {"GET", "HEAD"}:
        return RedirectResponse(sign_in_url(exc.next_path, ended=ended), status_code=303)
    kept = _kept_from_post(request, exc.ended)
    back = _came_from(request)
    if not kept:
        return RedirectResponse(sign_in_url(back, ended=ended), status_code=303)
    return sign_in_page(request, errors={}, next_path=back, kept=kept, kept_action=request.url.path)


def kept_page(request: Request, kept: Kept, action: str, csrf: str, home: str) -> HTMLResponse:
    """After signing in again: the kept answers, sent on only when the person says so."""
    return render(
        request,
        "kept.html",
        None,
        title="Carry on where you left off",
        kept=kept,
        action=action,
        csrf=csrf,
        home=home,
    )
