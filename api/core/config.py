"""Service settings, read from the environment (``FOODMATCH_*`` and ``DATABASE_URL``).

One cached :class:`Settings` per process so every request sees the same configuration;
tests build their own instance and hand it to ``create_app``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.core.clock import DEFAULT_TIMEZONE, zone

DEFAULT_DATABASE_PATH = Path("var") / "foodmatch.db"

SECRET_VARIABLE = "FOODMATCH_JWT_SECRET"
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 10
PUBLISHED_SECRETS = frozenset({"change-me-in-production-this-is-only-for-local-use"})
"""Values that are public and so sign nothing, however long (the development value earlier
versions shipped as the default)."""
SECRET_ADVICE = (
    f"set {SECRET_VARIABLE} to a random value of at least {MIN_SECRET_LENGTH} characters, e.g. "
    "the output of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`, "
    "or run `foodmatch serve --demo` to try the service with a throw-away secret"
)


def default_database_url() -> str:
    """The embedded default: a SQLite file under ``./var`` (created on first use)."""
    return f"sqlite:///{DEFAULT_DATABASE_PATH.as_posix()}"


class Settings(BaseSettings):
    """Everything an operator may change without touching code."""

    model_config = SettingsConfigDict(env_prefix="FOODMATCH_", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        validation_alias=AliasChoices("DATABASE_URL", "FOODMATCH_DATABASE_URL"),
        description="SQLAlchemy URL; a local SQLite file unless set.",
    )
    jwt_secret: str = Field(
        default="",
        description=(
            "HMAC key for access tokens and page sessions (HS256): at least 32 characters, "
            "random. There is no default: the service refuses to start without one "
            "(`foodmatch serve --demo` makes a random one for that run)."
        ),
    )
    token_minutes: int = Field(default=15, ge=1, le=24 * 60, description="Access-token life.")
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    match_time_limit_s: float = Field(default=30.0, gt=0, description="Engine time limit.")
    place_time_limit_s: float = Field(default=5.0, gt=0)
    idempotency_hours: int = Field(default=24, ge=1, description="How long keys are honoured.")
    place_emergencies_on_submit: bool = Field(
        default=True,
        description="Offer an emergency referral the best free place as soon as it is submitted "
        "(it waits for the next match run if off, or if no place is free).",
    )
    session_minutes: int = Field(
        default=480,
        ge=5,
        le=24 * 60,
        description="Minutes a page session lasts after signing in; then the next page says "
        "the session ended and a form posted after it keeps its answers through signing in.",
    )
    offer_answer_hours: int = Field(
        default=48,
        ge=1,
        le=24 * 14,
        description="Hours a food bank has to answer an offer before the caseworker's list "
        "shows it as needing attention.",
    )
    log_level: str = Field(default="INFO")
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="IANA time zone whose calendar sets 'today' (capacity weeks, FOI dates).",
    )
    sign_in_window_s: int = Field(
        default=15 * 60,
        ge=1,
        le=24 * 3600,
        description="The window over which failed sign-ins are counted (seconds).",
    )
    sign_in_account_failures: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Failed sign-ins for one e-mail address within the window before it locks.",
    )
    sign_in_address_failures: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="Failed sign-ins from one client address within the window before it locks.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the sign-in limits (shared by every server); the database if unset.",
    )
    redis_prefix: str = Field(
        default="foodmatch",
        min_length=1,
        max_length=100,
        description="Prefix of the service's Redis keys (several installations may share one).",
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For "
            "names the client (`foodmatch serve`); none unless set."
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone(name)  # raises ValueError naming the variable and what was expected
        return name


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` may not sign tokens (unset, a published value, short or repetitive), or
    ``None`` if it will do."""
    if not secret:
        return f"{SECRET_VARIABLE} is not set"
    if secret.strip() in PUBLISHED_SECRETS:
        return f"{SECRET_VARIABLE} is a published example value"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"{SECRET_VARIABLE} is {len(secret)} characters long; at least {MIN_SECRET_LENGTH}"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return f"{SECRET_VARIABLE} repeats too few characters to be random"
    return None


class InsecureSecretError(ValueError):
    """The configured token secret would let anyone forge sign-ins."""


def require_strong_secret(settings: Settings) -> None:
    """Raise :class:`InsecureSecretError` (one line: what, and what to do) unless the
    settings' token secret is fit to sign tokens."""
    problem = secret_problem(settings.jwt_secret)
    if problem is not None:
        raise InsecureSecretError(f"{problem}: {SECRET_ADVICE}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
