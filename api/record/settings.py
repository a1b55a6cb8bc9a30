"""Settings of the record, read from ``FOODMATCH_*`` environment variables."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RecordSettings(BaseSettings):
    """What an operator may change about retention and FOI deadlines."""

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


@lru_cache(maxsize=1)
def get_record_settings() -> RecordSettings:
    """The process-wide record settings."""
    return RecordSettings()
