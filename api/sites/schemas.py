"""Capacity by week: the weeks ahead of a site and copying last week's figure."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from api.core.schemas import CapacityRead, Input


class WeekCapacity(BaseModel):
    """One Monday-to-Sunday week of a site and the figure recorded for it, if any."""

    period_start: date
    period_end: date
    current: bool = Field(description="Whether this is the week that is running now.")
    capacity: CapacityRead | None = Field(description="The live figure; null if none is set.")


class CapacityCopy(Input):
    """Copy the figure of the week before ``week_start`` into that week."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"week_start": "2026-01-12"}]}
    )

    week_start: date = Field(
        description="The Monday of the week to fill in: this week or a later one. The figures "
        "(parcels, people, deliveries, dietary stock) of the week before are copied; places "
        "already offered in the target week are kept."
    )
