"""Working days for FOI deadlines: England and Wales bank holidays, computed offline.

FOIA s.10 gives a public authority twenty working days after the date of receipt. The
product must not depend on the network at run time, so bank holidays are computed from the
rules (fixed dates with substitute days, Easter, the May and August Mondays) plus a short
table of one-off proclamations. Future one-off holidays can be passed in as ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

FIRST_SUPPORTED_YEAR = 1978
"""The first year the current pattern (early-May Monday) applies."""

# Days proclaimed one at a time (royal events, millennium) and days moved from their usual
# Monday. Keyed by year: (days added, days removed from the regular rules).
_ONE_OFF: dict[int, tuple[tuple[date, ...], tuple[date, ...]]] = {
    1995: ((date(1995, 5, 8),), (date(1995, 5, 1),)),
    1999: ((date(1999, 12, 31),), ()),
    2002: ((date(2002, 6, 3), date(2002, 6, 4)), (date(2002, 5, 27),)),
    2011: ((date(2011, 4, 29),), ()),
    2012: ((date(2012, 6, 4), date(2012, 6, 5)), (date(2012, 5, 28),)),
    2020: ((date(2020, 5, 8),), (date(2020, 5, 4),)),
    2022: ((date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19)), (date(2022, 5, 30),)),
    2023: ((date(2023, 5, 8),), ()),
}

_SATURDAY = 5
_SUNDAY = 6
_MONDAY = 0


def easter_sunday(year: int) -> date:
    """Return Easter Sunday of ``year`` in the Gregorian calendar (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(_MONDAY - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - _MONDAY) % 7)


def _new_year(year: int) -> date:
    day = date(year, 1, 1)
    if day.weekday() == _SATURDAY:
        return day + timedelta(days=2)
    if day.weekday() == _SUNDAY:
        return day + timedelta(days=1)
    return day


def _christmas(year: int) -> tuple[date, date]:
    """Christmas Day and Boxing Day, or their substitute weekdays."""
    christmas = date(year, 12, 25)
    weekday = christmas.weekday()
    if weekday == _SATURDAY:  # Mon 27 for Christmas, Tue 28 for Boxing Day
        return date(year, 12, 27), date(year, 12, 28)
    if weekday == _SUNDAY:  # Boxing Day Mon 26, Christmas substitute Tue 27
        return date(year, 12, 26), date(year, 12, 27)
    if weekday == 4:  # Friday: Boxing Day falls on Saturday, substitute Mon 28
        return christmas, date(year, 12, 28)
    return christmas, date(year, 12, 26)


@lru_cache(maxsize=256)
def bank_holidays(year: int) -> frozenset[date]:
    """Bank holidays observed in England and Wales in ``year``.

    Raises ``ValueError`` for years before 1978, when the present pattern began.
    """
    if year < FIRST_SUPPORTED_YEAR:
        raise ValueError(
            f"bank holidays are computed from {FIRST_SUPPORTED_YEAR} onwards; got year {year}"
        )
    easter = easter_sunday(year)
    days = {
        _new_year(year),
        easter - timedelta(days=2),  # Good Friday
        easter + timedelta(days=1),  # Easter Monday
        _first_monday(year, 5),  # early May bank holiday
        _last_monday(year, 5),  # spring bank holiday
        _last_monday(year, 8),  # summer bank holiday
        *_christmas(year),
    }
    added, removed = _ONE_OFF.get(year, ((), ()))
    days.difference_update(removed)
    days.update(added)
    return frozenset(days)


def is_working_day(day: date, extra: Iterable[date] = ()) -> bool:
    """True for a weekday that is not a bank holiday (nor one of ``extra``)."""
    if day.weekday() >= _SATURDAY:
        return False
    return day not in bank_holidays(day.year) and day not in set(extra)


def add_working_days(start: date, count: int, extra: Iterable[date] = ()) -> date:
    """Return the ``count``-th working day after ``start`` (``start`` itself never counts)."""
    if count < 0:
        raise ValueError(f"count must be zero or more; got {count}")
    extra_days = frozenset(extra)
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day, extra_days):
            remaining -= 1
    return day


FOI_WORKING_DAYS = 20


def foi_due_date(received: date, extra: Iterable[date] = ()) -> date:
    """Due date of an FOI request: the twentieth working day following the date of receipt.

    The day of receipt never counts, whether or not it is a working day; the first working day
    after it is day one (FOIA s.10(1) and s.10(6)).
    """
    return add_working_days(received, FOI_WORKING_DAYS, extra)
