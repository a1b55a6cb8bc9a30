"""Who is calling: passwords (argon2), short-lived JWTs, per-organisation API keys, roles.

Every authenticated operation depends on :func:`require_roles`, which resolves a
:class:`Principal` (user or API key, its organisation and role) and refuses other roles
with 403. Objects of another organisation are hidden by the services with 404.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import select

from api.config import Settings
from api.db import Database
from api.problems import ProblemError
from api.tables import ApiKey, Organisation, OrganisationKind, Role, User

JWT_ALGORITHM = "HS256"
API_KEY_HEADER = "X-API-Key"
API_KEY_PREFIX = "fmk"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    auto_error=False,
    description="Sign in with `POST /auth/token` and send `Authorization: Bearer <token>`.",
)
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="A per-organisation key for system-to-system use (`POST /api-keys`).",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a signed-in user or an API key, acting for one organisation in one role."""

    organisation_id: int
    organisation_kind: OrganisationKind
    role: Role
    user_id: int | None = None
    api_key_id: int | None = None


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (constant effort for unknown users)."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(db: Database, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or ``None``."""
    if "\x00" in email or "\x00" in password or len(email) > 254:
        return None
    with db.read() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            verify_password(_DUMMY_HASH, password)
            return None
        if not verify_password(user.password_hash, password) or not user.is_active:
            return None
    if _hasher.check_needs_rehash(user.password_hash):
        with db.write() as session:
            fresh = session.get(User, user.id)
            if fresh is not None:
                fresh.password_hash = hash_password(password)
    return user


def issue_token(user: User, settings: Settings) -> tuple[str, int]:
    """A signed access token for ``user`` and its lifetime in seconds."""
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.token_minutes)
    claims = {
        "sub": str(user.id),
        "org": user.organisation_id,
        "kind": user.organisation.kind.value,
        "role": user.role.value,
        "iat": now,
        "exp": now + lifetime,
        "typ": "access",
    }
    token = jwt.encode(claims, settings.jwt_secret, algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail, headers={"WWW-Authenticate": "Bearer"})


TOKEN_CACHE_SIZE = 4096
_checked_tokens: dict[tuple[str, str], tuple[Principal, int]] = {}
"""Tokens whose signature and claims were already checked: (secret, token) -> (who, exp).

A token is immutable and signed, so once it verified under a secret, only its expiry can
change the answer; a hit re-checks that (as PyJWT does: expired once ``exp <= now``) and
skips the HMAC and claim parsing. Only successes are kept; the oldest entry goes first.
"""


def principal_from_token(token: str, settings: Settings) -> Principal:
    """Decode and check a bearer token (signature, expiry, claims) into a principal."""
    cache_key = (settings.jwt_secret, token)
    hit = _checked_tokens.get(cache_key)
    if hit is not None:
        if hit[1] <= time.time():
            _checked_tokens.pop(cache_key, None)
            raise _unauthorized("The access token has expired; sign in again.")
        return hit[0]
    principal, expires = _decode_token(token, settings)
    if len(_checked_tokens) >= TOKEN_CACHE_SIZE:
        # Another thread may have changed the cache meanwhile; losing a race only costs a miss.
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):
            del _checked_tokens[next(iter(_checked_tokens))]
    _checked_tokens[cache_key] = (principal, expires)
    return principal


def _decode_token(token: str, settings: Settings) -> tuple[Principal, int]:
    """Verify a bearer token with PyJWT: the principal it names and its ``exp``."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub", "org", "role", "kind"]},
        )
        principal = Principal(
            organisation_id=int(claims["org"]),
            organisation_kind=OrganisationKind(claims["kind"]),
            role=Role(claims["role"]),
            user_id=int(claims["sub"]),
        )
        return principal, int(claims["exp"])
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("The access token has expired; sign in again.") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise _unauthorized("The access token is not valid.") from exc


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """A fresh key: (full key shown once, lookup prefix, stored hash)."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, _key_hash(key)


def principal_from_api_key(db: Database, key: str) -> Principal:
    """The principal of a live (unrevoked) API key, or 401."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        raise _unauthorized("The API key is not valid.")
    with db.read() as session:
        row = session.execute(
            select(ApiKey, Organisation.kind)
            .join(Organisation, Organisation.id == ApiKey.organisation_id)
            .where(ApiKey.prefix == parts[1])
        ).first()
    if row is None:
        raise _unauthorized("The API key is not valid.")
    api_key, kind = row
    if not hmac.compare_digest(api_key.key_hash, _key_hash(key)) or api_key.revoked_at:
        raise _unauthorized("The API key is not valid or has been revoked.")
    return Principal(
        organisation_id=api_key.organisation_id,
        organisation_kind=kind,
        role=api_key.role,
        api_key_id=api_key.id,
    )


async def get_db(request: Request) -> Database:
    """The application's database (set up by ``create_app``)."""
    db: Database = request.app.state.db
    return db


async def get_app_settings(request: Request) -> Settings:
    """The application's settings (set up by ``create_app``)."""
    settings: Settings = request.app.state.settings
    return settings


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def current_principal(
    db: DbDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The authenticated caller, from a bearer token or an API key; 401 otherwise.

    Dependencies are async so a request does not hop through the thread pool for each one;
    only the API-key lookup (a database read) runs in a worker thread.
    """
    if token:
        return principal_from_token(token, settings)
    if api_key:
        return await run_in_threadpool(principal_from_api_key, db, api_key)
    raise _unauthorized("Sign in first: send a bearer token or an X-API-Key header.")


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only callers in ``roles`` (403 for any other role)."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in allowed:
            raise ProblemError(
                403, f"Your role ({principal.role.value}) may not do this; needs: {names}."
            )
        return principal

    return dependency
