"""Settings of the record, read from ``FOODMATCH_*`` environment variables."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RecordSettings(BaseSettings):
    """What an operator may change about retention, FOI deadlines and audit checkpoints."""

    model_config = SettingsConfigDict(env_prefix="FOODMATCH_", extra="ignore")

    retention_months: int = Field(
        default=6,
        ge=1,
        le=120,
        description="Months after a referral closes before its personal data is erased.",
    )
    extra_bank_holidays: list[date] = Field(
        default_factory=list,
        description=(
            "Newly proclaimed bank holidays the built-in rules cannot know, as a JSON list: "
            '["2027-06-07"].'
        ),
    )
    audit_checkpoints: Path | None = Field(
        default=None,
        description=(
            "Where signed checkpoints of the audit chain are appended (a directory, outside "
            "the database). Default: beside a SQLite file (var/foodmatch-audit); none on "
            "PostgreSQL, where it must be set."
        ),
    )
    audit_key_file: Path | None = Field(
        default=None,
        description=(
            "The Ed25519 signing key (PEM, owner-only), made on first use. Default: the "
            "checkpoint directory's path with -key.pem added."
        ),
    )
    audit_public_key: Path | None = Field(
        default=None,
        description="A public key (PEM) to verify with, for a verifier without the signing key.",
    )
    audit_checkpoint_seconds: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description="At most one checkpoint per this many seconds per process (0: every commit).",
    )


@lru_cache(maxsize=1)
def get_record_settings() -> RecordSettings:
    """The process-wide record settings."""
    return RecordSettings()
