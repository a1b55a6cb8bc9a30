"""The service's calendar: which day it is where the service is used.

Timestamps are stored in UTC (``api.core.tables.utcnow``), but days are local: a capacity period is
a Monday-to-Sunday week where the food bank is, and an FOI request's 20 working days count
from the local date it was received. Between midnight and 1 a.m. in British Summer Time the
UTC date is still yesterday, so "today" comes from here: the zone in ``FOODMATCH_TIMEZONE``
(an IANA name; default ``Europe/London``).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIMEZONE_VARIABLE = "FOODMATCH_TIMEZONE"
DEFAULT_TIMEZONE = "Europe/London"


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; ``ValueError`` naming it if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{TIMEZONE_VARIABLE}={name!r} is not a known time zone; expected an IANA name "
            f"such as {DEFAULT_TIMEZONE!r}"
        ) from exc


def service_zone() -> ZoneInfo:
    """The zone whose calendar the service keeps."""
    return zone(os.environ.get(TIMEZONE_VARIABLE) or DEFAULT_TIMEZONE)


def now() -> datetime:
    """The current instant, in UTC (one place for tests to set the clock)."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the service's time zone."""
    return now().astimezone(service_zone()).date()


def current_week(day: date | None = None) -> tuple[date, date]:
    """Monday..Sunday of the week containing ``day`` (default: today in the service's zone)."""
    day = day or today()
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)
