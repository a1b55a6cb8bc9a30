"""Limits on failed sign-ins, per e-mail address and per client address, for every server.

Two counters guard each sign-in (API and pages alike), both over a moving window of
``sign_in_window_s`` seconds:

- the **account** (the e-mail address as typed, whether or not such a user exists): at most
  ``sign_in_account_failures`` failures. Each attempt takes its place in the count *before*
  the password is checked, atomically, so guesses sent in parallel cannot overshoot; a
  correct password then clears the account's count (the person who finally typed it right
  starts afresh). While the account is locked even the correct password is refused.
- the **client address**: at most ``sign_in_address_failures`` failures, counted after each
  failure. A correct password neither clears nor reduces it, so an attacker cannot reset it
  by signing in to an account of their own in between guesses.

A refusal is :class:`TooManyAttempts` (the routes answer 429 with ``Retry-After``). Counts
live where every server process sees them: in the database (table ``sign_in_attempts``) by
default, or in Redis when ``FOODMATCH_REDIS_URL`` is set, through the ``limits`` library's
moving window. ``limits`` has no SQL storage, hence the database counter here. Keys are keyed
hashes: neither store holds an e-mail or client address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, cast

from fastapi import Request
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, text

from api.core import clock
from api.core.config import Settings
from api.core.db import Database
from api.core.tables import SignInAttempt

Scope = Literal["account", "address"]
REDIS_TIMEOUT_S = 2.0


class TooManyAttempts(Exception):
    """Sign-in refused before the password is checked: too many recent failures."""

    def __init__(self, scope: Scope, retry_after: float) -> None:
        super().__init__(scope)
        self.scope = scope
        self.retry_after = max(1, math.ceil(retry_after))

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, rounded up (for people)."""
        return max(1, math.ceil(self.retry_after / 60))


class LimiterUnavailable(Exception):
    """The store of the sign-in counts cannot be reached (sign-in is refused, not waved by)."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """An attempt counted against an account before its password is checked."""

    account_key: str
    address_key: str
    last_allowed: bool
    """Whether this attempt took the account's last place in the window (if it fails, the
    account is locked from now on)."""


class AttemptStore(Protocol):
    """Where the counts live; every method counts over the last ``window`` seconds."""

    def wait(self, key: str, limit: int, window: int) -> float | None:
        """Seconds until ``key`` may try again, or ``None`` if it may now."""

    def reserve(self, key: str, limit: int, window: int) -> tuple[float | None, int]:
        """Count one attempt if ``key`` has room: ``(None, places left)``; else
        ``(seconds to wait, 0)`` and nothing counted. Atomic across processes."""

    def add(self, key: str, limit: int, window: int) -> int:
        """Count one failure for ``key``: the places left afterwards (0 when this one filled
        the window, negative when it was already full)."""

    def clear(self, key: str, limit: int, window: int) -> None:
        """Forget every count of ``key``."""


_attempts = cast(Table, SignInAttempt.__table__)
_COUNT = select(func.count()).where(
    _attempts.c.key == bindparam("key"), _attempts.c.at > bindparam("since")
)
_OLDEST = (
    select(_attempts.c.at)
    .where(_attempts.c.key == bindparam("key"), _attempts.c.at > bindparam("since"))
    .order_by(_attempts.c.at)
    .offset(bindparam("offset"))
    .limit(1)
)
_ADD = insert(_attempts).values(key=bindparam("key"), at=bindparam("at"))
_PRUNE_SQLITE = delete(_attempts).where(_attempts.c.at <= bindparam("since"))
# PostgreSQL: rows another transaction is deleting are skipped, never waited for (no
# deadlock between two sign-ins pruning at once); the next attempt takes what is left.
_PRUNE_POSTGRESQL = delete(_attempts).where(
    _attempts.c.id.in_(
        select(_attempts.c.id)
        .where(_attempts.c.at <= bindparam("since"))
        .limit(500)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
)
_CLEAR = delete(_attempts).where(_attempts.c.key == bindparam("key"))
_LOCK = text("SELECT pg_advisory_xact_lock(:lock)")


class DatabaseAttempts:
    """Counts as rows of ``sign_in_attempts``; one writer per key at a time.

    SQLite write transactions are serial (``BEGIN IMMEDIATE``); on PostgreSQL a
    transaction-level advisory lock on the key serialises the check and the insert.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _wait(connection: Connection, key: str, limit: int, window: int) -> float | None:
        now = clock.now()
        since = now - timedelta(seconds=window)
        count = int(connection.execute(_COUNT, {"key": key, "since": since}).scalar_one())
        if count < limit:
            return None
        # Moving window: a place frees when the oldest of the last ``limit`` attempts ages out.
        oldest: datetime = connection.execute(
            _OLDEST, {"key": key, "since": since, "offset": count - limit}
        ).scalar_one()
        return max(0.0, (oldest + timedelta(seconds=window) - now).total_seconds())

    def wait(self, key: str, limit: int, window: int) -> float | None:
        with self.db.read() as session:
            return self._wait(session.connection(), key, limit, window)

    def reserve(self, key: str, limit: int, window: int) -> tuple[float | None, int]:
        with self.db.write() as session:
            connection = session.connection()
            if not self.db.is_sqlite:
                connection.execute(_LOCK, {"lock": _lock_number(key)})
            now = clock.now()
            prune = _PRUNE_SQLITE if self.db.is_sqlite else _PRUNE_POSTGRESQL
            connection.execute(prune, {"since": now - timedelta(seconds=window)})
            waiting = self._wait(connection, key, limit, window)
            if waiting is not None:
                return waiting, 0
            connection.execute(_ADD, {"key": key, "at": now})
            since = now - timedelta(seconds=window)
            count = int(connection.execute(_COUNT, {"key": key, "since": since}).scalar_one())
            return None, max(0, limit - count)

    def add(self, key: str, limit: int, window: int) -> int:
        with self.db.write() as session:
            connection = session.connection()
            now = clock.now()
            connection.execute(_ADD, {"key": key, "at": now})
            since = now - timedelta(seconds=window)
            count = int(connection.execute(_COUNT, {"key": key, "since": since}).scalar_one())
            return limit - count

    def clear(self, key: str, limit: int, window: int) -> None:
        with self.db.write() as session:
            session.connection().execute(_CLEAR, {"key": key})


def _lock_number(key: str) -> int:
    """A signed 64-bit advisory-lock number for ``key``."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class RedisAttempts:
    """Counts in Redis through ``limits``' moving window (atomic Lua scripts)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.storage = RedisStorage(
            url,
            key_prefix=prefix,
            wrap_exceptions=True,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
        )
        self.limiter = MovingWindowRateLimiter(self.storage)

    @staticmethod
    def _item(limit: int, window: int) -> RateLimitItemPerSecond:
        return RateLimitItemPerSecond(limit, window, namespace="sign-in")

    def _until_free(self, item: RateLimitItemPerSecond, key: str) -> float:
        stats = self.limiter.get_window_stats(item, key)
        return max(0.0, stats.reset_time - time.time())

    def wait(self, key: str, limit: int, window: int) -> float | None:
        item = self._item(limit, window)
        try:
            if self.limiter.test(item, key):
                return None
            return self._until_free(item, key)
        except StorageError as exc:
            raise LimiterUnavailable(str(exc.storage_error)) from exc

    def reserve(self, key: str, limit: int, window: int) -> tuple[float | None, int]:
        item = self._item(limit, window)
        try:
            if not self.limiter.hit(item, key):
                return self._until_free(item, key), 0
            return None, self.limiter.get_window_stats(item, key).remaining
        except StorageError as exc:
            raise LimiterUnavailable(str(exc.storage_error)) from exc

    def add(self, key: str, limit: int, window: int) -> int:
        item = self._item(limit, window)
        try:
            if not self.limiter.hit(item, key):
                return -1
            return self.limiter.get_window_stats(item, key).remaining
        except StorageError as exc:
            raise LimiterUnavailable(str(exc.storage_error)) from exc

    def clear(self, key: str, limit: int, window: int) -> None:
        try:
            self.limiter.clear(self._item(limit, window), key)
        except StorageError as exc:
            raise LimiterUnavailable(str(exc.storage_error)) from exc


_redis_stores: dict[tuple[str, str], RedisAttempts] = {}
_redis_lock = threading.Lock()


def store_for(settings: Settings, db: Database) -> AttemptStore:
    """Redis when ``settings.redis_url`` is set (one client per URL and prefix), else the
    database."""
    if not settings.redis_url:
        return DatabaseAttempts(db)
    with _redis_lock:
        found = _redis_stores.get((settings.redis_url, settings.redis_prefix))
        if found is None:
            found = RedisAttempts(settings.redis_url, settings.redis_prefix)
            _redis_stores[(settings.redis_url, settings.redis_prefix)] = found
    return found


def _keyed(settings: Settings, kind: str, value: str) -> str:
    """``kind`` + a keyed hash of ``value`` (the stores never see the value itself)."""
    key = hashlib.sha256(b"foodmatch sign-in limits\x00" + settings.jwt_secret.encode()).digest()
    digest = hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:40]}"


def account_key(settings: Settings, email: str) -> str:
    """The counter key of an e-mail address (as ``authenticate`` normalises it)."""
    return _keyed(settings, "account", email.strip().lower())


def address_key(settings: Settings, address: str) -> str:
    """The counter key of a client address."""
    return _keyed(settings, "address", address)


def pseudonym(key: str) -> str:
    """A short, stable name for a counter key, fit for the audit trail and logs."""
    return key.split(":", 1)[1][:16]


def client_address(request: Request) -> str:
    """The client's address as the server saw it.

    ``foodmatch serve`` replaces the peer with the X-Forwarded-For client only for requests
    from the proxies in ``FOODMATCH_TRUSTED_PROXIES`` (none unless set), so a client cannot
    choose its own address by sending the header.
    """
    return request.client.host if request.client else "unknown"


def begin(settings: Settings, db: Database, email: str, address: str) -> Reservation:
    """Check both limits and count this attempt against the account; raises
    :class:`TooManyAttempts` (nothing counted) or :class:`LimiterUnavailable`."""
    store = store_for(settings, db)
    window = settings.sign_in_window_s
    address = address_key(settings, address)
    waiting = store.wait(address, settings.sign_in_address_failures, window)
    if waiting is not None:
        raise TooManyAttempts("address", waiting)
    account = account_key(settings, email)
    waiting, left = store.reserve(account, settings.sign_in_account_failures, window)
    if waiting is not None:
        raise TooManyAttempts("account", waiting)
    return Reservation(account, address, last_allowed=left == 0)


def succeeded(settings: Settings, db: Database, reservation: Reservation) -> None:
    """The password was right: the account's count starts afresh (the address's does not)."""
    store = store_for(settings, db)
    store.clear(
        reservation.account_key, settings.sign_in_account_failures, settings.sign_in_window_s
    )


def failed(settings: Settings, db: Database, reservation: Reservation) -> list[Scope]:
    """The password was wrong: count it against the address too. Returns the scopes this
    failure has just locked (for the audit trail)."""
    store = store_for(settings, db)
    left = store.add(
        reservation.address_key, settings.sign_in_address_failures, settings.sign_in_window_s
    )
    locked: list[Scope] = []
    if reservation.last_allowed:
        locked.append("account")
    if left == 0:
        locked.append("address")
    return locked
