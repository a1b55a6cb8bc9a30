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
from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import select

from api.core.config import Settings
from api.core.db import Database
from api.core.deps import DbDep, SettingsDep
from api.core.errors import ProblemError
from api.core.tables import ApiKey, Organisation, User
from api.core.vocabulary import OrganisationKind, Role

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
    """A signed access token for ``user`` and its lifetime in seconds.

    It carries the user's ``session_version``: signing out, deactivation or a new password
    raise that number, and the token stops working at once.
    """
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.token_minutes)
    claims = {
        "sub": str(user.id),
        "org": user.organisation_id,
        "kind": user.organisation.kind.value,
        "role": user.role.value,
        "ver": user.session_version,
        "iat": now,
        "exp": now + lifetime,
        "typ": "access",
    }
    token = jwt.encode(claims, settings.jwt_secret, algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified access token says: whose it is, under which session version, until
    when (``exp``, seconds since the epoch)."""

    user_id: int
    session_version: int
    expires: int


TOKEN_CACHE_SIZE = 4096
_checked_tokens: dict[tuple[str, str], TokenClaims] = {}
"""Tokens whose signature and claims were already checked: (secret, token) -> claims.

A token is immutable and signed, so once it verified under a secret, only its expiry can
change that answer; a hit re-checks that (as PyJWT does: expired once ``exp <= now``) and
skips the HMAC and claim parsing. Whether the account may still use it is never cached:
:func:`principal_from_token` reads it on every request. Only successes are kept; the oldest
entry goes first.
"""


def token_claims(token: str, settings: Settings) -> TokenClaims:
    """Check a bearer token's signature, expiry and claims (not the account: see
    :func:`principal_from_token`)."""
    cache_key = (settings.jwt_secret, token)
    hit = _checked_tokens.get(cache_key)
    if hit is not None:
        if hit.expires <= time.time():
            _checked_tokens.pop(cache_key, None)
            raise _unauthorized("The access token has expired; sign in again.")
        return hit
    claims = _decode_token(token, settings)
    if len(_checked_tokens) >= TOKEN_CACHE_SIZE:
        # Another thread may have changed the cache meanwhile; losing a race only costs a miss.
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):
            del _checked_tokens[next(iter(_checked_tokens))]
    _checked_tokens[cache_key] = claims
    return claims


def _decode_token(token: str, settings: Settings) -> TokenClaims:
    """Verify a bearer token with PyJWT: whose it is, its session version and its ``exp``."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub", "org", "role", "kind", "ver"]},
        )
        version = claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise TypeError("ver")
        return TokenClaims(int(claims["sub"]), version, int(claims["exp"]))
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("The access token has expired; sign in again.") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise _unauthorized("The access token is not valid.") from exc


_ACCOUNT_SQL = (
    "SELECT users.is_active, users.session_version, users.role, users.organisation_id, "
    "organisations.kind FROM users JOIN organisations ON organisations.id = "
    "users.organisation_id WHERE users.id = {param}"
)
_ACCOUNT_SQLITE = _ACCOUNT_SQL.format(param="?")
_ACCOUNT_POSTGRESQL = _ACCOUNT_SQL.format(param="%s")


def live_principal(db: Database, user_id: int, session_version: int) -> Principal | None:
    """The principal of user ``user_id`` as the database has it now, or ``None`` if the user
    does not exist, is deactivated, or has ended the sessions of ``session_version``.

    Every authenticated request pays for this, so it is one primary-key read (the user and
    their organisation) on a pooled driver connection, without the SQL layer's statement
    machinery (its cost: docs/benchmarks.md), and on PostgreSQL in autocommit: a single
    round trip. Role and organisation come from the database, not the token.
    """
    connection = db.engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        if db.is_sqlite:  # autocommit already (api.core.db): the SELECT is its own read
            cursor = driver.execute(_ACCOUNT_SQLITE, (user_id,))
            row = cursor.fetchone()
            cursor.close()
        else:
            driver.autocommit = True
            try:
                row = driver.execute(_ACCOUNT_POSTGRESQL, (user_id,)).fetchone()
            finally:
                driver.autocommit = False
    finally:
        connection.close()
    if row is None:
        return None
    is_active, version, role, organisation_id, kind = row
    if not is_active or version != session_version:
        return None
    return Principal(
        organisation_id=int(organisation_id),
        organisation_kind=OrganisationKind(kind),
        role=Role(role),
        user_id=user_id,
    )


def principal_from_token(token: str, settings: Settings, db: Database) -> Principal:
    """The caller a bearer token names, if the token is valid and its account still may use
    it (exists, is active, has not signed out or changed password since); 401 otherwise."""
    claims = token_claims(token, settings)
    principal = live_principal(db, claims.user_id, claims.session_version)
    if principal is None:
        raise _unauthorized("The access token is no longer valid; sign in again.")
    return principal


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


async def current_principal(
    db: DbDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The authenticated caller, from a bearer token or an API key; 401 otherwise.

    The dependency is async so a request does not hop through the thread pool for each of
    its dependencies. The one database read (the account behind a token, or the API key)
    runs in a worker thread, except a token's on SQLite: a local primary-key read costs less
    than the hop, and in WAL mode a reader does not wait for writers.
    """
    if token:
        if db.is_sqlite:  # a local read of tens of microseconds: cheaper than a thread hop
            return principal_from_token(token, settings, db)
        return await run_in_threadpool(principal_from_token, token, settings, db)
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
