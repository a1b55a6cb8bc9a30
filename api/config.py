"""Service settings, read from the environment (``FOODMATCH_*`` and ``DATABASE_URL``).

One cached :class:`Settings` per process so every request sees the same configuration;
tests build their own instance and hand it to ``create_app``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.clock import DEFAULT_TIMEZONE, zone

DEFAULT_DATABASE_PATH = Path("var") / "foodmatch.db"


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
        default="change-me-in-production-this-is-only-for-local-use",
        min_length=32,
        description="HMAC key for signing access tokens (HS256).",
    )
    token_minutes: int = Field(default=15, ge=1, le=24 * 60, description="Access-token life.")
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    match_time_limit_s: float = Field(default=30.0, gt=0, description="Engine time limit.")
    place_time_limit_s: float = Field(default=5.0, gt=0)
    idempotency_hours: int = Field(default=24, ge=1, description="How long keys are honoured.")
    log_level: str = Field(default="INFO")
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="IANA time zone whose calendar sets 'today' (capacity weeks, FOI dates).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone(name)  # raises ValueError naming the variable and what was expected
        return name


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
