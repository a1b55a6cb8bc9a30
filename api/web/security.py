"""Who is looking at a page: the signed session cookie, CSRF tokens and role checks.

The session is a cookie holding a signed token (HS256 with a key derived from the service's
secret, and an audience only pages accept), so it can never be replayed as an API bearer
token, nor a bearer token as a session. Every request re-reads the user, so a deactivated
account loses its pages at once, and a session carries the user's session version, so
signing out or a new password ends every earlier session (and access token) at once. Each
session carries a random CSRF token that every form posts back; the sign-in form, before any
session exists, uses a double-submit cookie.

A session ends after ``Settings.session_minutes``; the cookie outlives it by a day so that the
next page can say the session ended (rather than send the user to sign in with no word), and a
form posted after the end keeps its answers through signing in again (:func:`ended_session`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt
from fastapi import Request, Response

from api.auth import accounts
from api.auth.tokens import Principal
from api.core.config import Settings
from api.core.db import Database
from api.core.tables import User
from api.core.vocabulary import Role

SESSION_COOKIE = "fm_session"
SIGN_IN_COOKIE = "fm_sign_in"
AUDIENCE = "foodmatch-web"
ALGORITHM = "HS256"

HOME = {
    Role.CASEWORKER: "/app/caseworker",
    Role.CHARITY: "/app/charity",
    Role.PLANNER: "/app/planner",
    Role.FOI_OFFICER: "/app/foi",
    Role.ADMIN: "/app/admin",
}
"""Where each role lands after signing in."""


COOKIE_HOURS_AFTER = 24
"""How long the session cookie outlives the session, so that its end can be named."""


class NeedSignIn(Exception):
    """The page needs a signed-in user; the route sends the browser to the sign-in page.

    ``ended`` is the session this browser held until it ended, if it had one.
    """

    def __init__(self, next_path: str, ended: EndedSession | None = None) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.ended = ended


@dataclass(frozen=True, slots=True)
class EndedSession:
    """A genuine session of this browser that has ended: timed out, or signed out elsewhere."""

    user_id: int
    csrf: str


class WrongRole(Exception):
    """The signed-in user's role may not use this page."""

    def __init__(self, viewer: Viewer) -> None:
        super().__init__(viewer.role.value)
        self.viewer = viewer


class BadCsrf(Exception):
    """A form came back without this session's CSRF token."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person: their principal (for the services), names and CSRF token."""

    principal: Principal
    user_id: int
    display_name: str
    organisation_name: str
    csrf: str

    @property
    def role(self) -> Role:
        """The user's role."""
        return self.principal.role

    @property
    def home(self) -> str:
        """The role's home page."""
        return HOME[self.principal.role]


def _key(settings: Settings) -> bytes:
    """A key for page sessions only, derived from the service secret."""
    return hmac.new(settings.jwt_secret.encode(), b"foodmatch web session", hashlib.sha256).digest()


def new_session(user: User, settings: Settings, *, now: datetime | None = None) -> str:
    """A signed session value for ``user`` with a fresh CSRF token, ending
    ``settings.session_minutes`` after ``now`` (the present unless given)."""
    now = now or datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "aud": AUDIENCE,
        "csrf": secrets.token_urlsafe(24),
        "ver": user.session_version,
        "iat": now,
        "exp": now + timedelta(minutes=settings.session_minutes),
    }
    return jwt.encode(claims, _key(settings), algorithm=ALGORITHM)


def _claims(value: str, settings: Settings, *, live: bool = True) -> dict[str, Any] | None:
    """The claims of a genuine session value; with ``live=False`` also of one that expired."""
    try:
        claims: dict[str, Any] = jwt.decode(
            value,
            _key(settings),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "aud", "csrf", "ver"], "verify_exp": live},
        )
    except jwt.InvalidTokenError:
        return None
    return claims


def current_viewer(request: Request) -> Viewer | None:
    """The signed-in user of this request, or ``None`` (no, bad or expired session)."""
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    raw = request.cookies.get(SESSION_COOKIE)
    claims = _claims(raw, settings) if raw else None
    if claims is None:
        return None
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        return None
    version = claims["ver"]
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    account = accounts.session_account(db, user_id, version)
    if account is None:
        return None
    return Viewer(
        principal=account.principal,
        user_id=user_id,
        display_name=account.display_name,
        organisation_name=account.organisation_name,
        csrf=str(claims["csrf"]),
    )


def session_csrf(value: str, settings: Settings) -> str:
    """The CSRF token of a session value this service has just made."""
    claims = _claims(value, settings)
    assert claims is not None
    return str(claims["csrf"])


def ended_session(request: Request) -> EndedSession | None:
    """The session this browser's cookie holds, when it is genuine but no longer signs anyone
    in (it expired, or signing out elsewhere or a new password ended it); else ``None``."""
    settings: Settings = request.app.state.settings
    raw = request.cookies.get(SESSION_COOKIE)
    claims = _claims(raw, settings, live=False) if raw else None
    if claims is None:
        return None
    try:
        return EndedSession(int(claims["sub"]), str(claims["csrf"]))
    except (TypeError, ValueError):
        return None


def require(request: Request, *roles: Role) -> Viewer:
    """The signed-in viewer if their role is one of ``roles``; raises otherwise."""
    viewer = current_viewer(request)
    if viewer is None:
        target = request.url.path
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        raise NeedSignIn(target, ended_session(request))
    if roles and viewer.role not in roles:
        raise WrongRole(viewer)
    return viewer


def check_csrf(expected: str, sent: object) -> None:
    """Refuse a form whose CSRF token is missing or not this session's."""
    if not isinstance(sent, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise BadCsrf


def sign_in_url(next_path: str, *, ended: bool = False) -> str:
    """The sign-in page, returning to ``next_path`` afterwards (and saying that the session
    ended, when it did)."""
    return "/app/sign-in?next=" + quote(next_path, safe="/") + ("&ended=1" if ended else "")


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a page of this app (never another site), else ``None``."""
    if value and value.startswith("/app/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, hours: float
) -> None:
    """Set a cookie the way every page cookie is set: HttpOnly, SameSite=Lax, path /app."""
    response.set_cookie(
        name,
        value,
        max_age=round(hours * 3600),
        path="/app",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
