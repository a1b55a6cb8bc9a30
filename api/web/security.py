"""Who is looking at a page: the signed session cookie, CSRF tokens and role checks.

The session is a cookie holding a signed token (HS256 with a key derived from the service's
secret, and an audience only pages accept), so it can never be replayed as an API bearer
token, nor a bearer token as a session. Every request re-reads the user, so a deactivated
account loses its pages at once, and a session carries the user's session version, so
signing out or a new password ends every earlier session (and access token) at once. Each
session carries a random CSRF token that every form posts back; the sign-in form, before any
session exists, uses a double-submit cookie.
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
SESSION_HOURS = 8
AUDIENCE = "foodmatch-web"
ALGORITHM = "HS256"

HOME = {
    Role.CASEWORKER: "/app/caseworker",
    Role.CHARITY: "/app/charity",
    Role.PLANNER: "/app/planner",
    Role.FOI_OFFICER: "/app/foi",
    Role.ADMIN: "/app/foi",
}
"""Where each role lands after signing in."""


class NeedSignIn(Exception):
    """The page needs a signed-in user; the route sends the browser to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


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


def new_session(user: User, settings: Settings) -> str:
    """A signed session value for ``user`` with a fresh CSRF token."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "aud": AUDIENCE,
        "csrf": secrets.token_urlsafe(24),
        "ver": user.session_version,
        "iat": now,
        "exp": now + timedelta(hours=SESSION_HOURS),
    }
    return jwt.encode(claims, _key(settings), algorithm=ALGORITHM)


def _claims(value: str, settings: Settings) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            value,
            _key(settings),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "aud", "csrf", "ver"]},
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


def require(request: Request, *roles: Role) -> Viewer:
    """The signed-in viewer if their role is one of ``roles``; raises otherwise."""
    viewer = current_viewer(request)
    if viewer is None:
        target = request.url.path
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        raise NeedSignIn(target)
    if roles and viewer.role not in roles:
        raise WrongRole(viewer)
    return viewer


def check_csrf(expected: str, sent: object) -> None:
    """Refuse a form whose CSRF token is missing or not this session's."""
    if not isinstance(sent, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise BadCsrf


def sign_in_url(next_path: str) -> str:
    """The sign-in page, returning to ``next_path`` afterwards."""
    return "/app/sign-in?next=" + quote(next_path, safe="/")


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a page of this app (never another site), else ``None``."""
    if value and value.startswith("/app/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def set_cookie(request: Request, response: Response, name: str, value: str, *, hours: int) -> None:
    """Set a cookie the way every page cookie is set: HttpOnly, SameSite=Lax, path /app."""
    response.set_cookie(
        name,
        value,
        max_age=hours * 3600,
        path="/app",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
