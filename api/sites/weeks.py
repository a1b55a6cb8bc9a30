"""A site's capacity week by week: this week and the weeks ahead, and "copy last week".

A capacity period is a Monday-to-Sunday week where the food bank is
(:func:`api.core.clock.current_week`). Matching only ever uses the figure of the week that is
running, so a figure for a later week waits until its Monday. Copying takes the live figure
of the week before the chosen one (parcels, people, deliveries and dietary stock) and records
it through :func:`api.sites.service.set_capacity`, so the same rules apply as to a figure
typed in: within the rules, not below places already offered, not overlapping another period.
"""

from __future__ import annotations

from datetime import date, timedelta

from api.auth.tokens import Principal
from api.core import clock
from api.core import repository as repo
from api.core.db import Database
from api.core.errors import conflict, invalid
from api.core.schemas import CapacityRead, CapacityUpdate
from api.core.tables import Capacity
from api.core.views import capacity_read
from api.sites.schemas import WeekCapacity
from api.sites.service import _own_provider, set_capacity

MAX_WEEKS_AHEAD = 52
"""How far ahead a week may be set or copied (a year of Mondays after this one)."""


def _covering(live: list[Capacity], start: date, end: date) -> Capacity | None:
    """The live figure whose period overlaps the week ``start``..``end``, if any."""
    for capacity in live:
        if capacity.period_start <= end and start <= capacity.period_end:
            return capacity
    return None


def check_week(week_start: date, field: str = "week_start") -> tuple[date, date]:
    """The week starting ``week_start`` if it is a Monday from this week on; 422 otherwise."""
    this_monday, _ = clock.current_week()
    if week_start.weekday() != 0:
        raise invalid(
            field,
            f"{week_start.isoformat()} is a {week_start:%A}; expected the Monday a week starts "
            f"on, such as {(week_start - timedelta(days=week_start.weekday())).isoformat()}",
        )
    if week_start < this_monday:
        raise invalid(
            field,
            f"the week of {week_start.isoformat()} has ended; expected this week "
            f"({this_monday.isoformat()}) or a later one",
        )
    if week_start > this_monday + timedelta(weeks=MAX_WEEKS_AHEAD):
        raise invalid(field, f"expected a week at most {MAX_WEEKS_AHEAD} weeks after this one")
    return week_start, week_start + timedelta(days=6)


def capacity_weeks(
    db: Database, principal: Principal, provider_id: int, count: int
) -> list[WeekCapacity]:
    """This week and the ``count - 1`` weeks after it, each with its live figure (or none)."""
    return capacity_weeks_from(db, principal, provider_id, clock.current_week()[0], count)


def capacity_weeks_from(
    db: Database, principal: Principal, provider_id: int, first: date, count: int
) -> list[WeekCapacity]:
    """``count`` weeks from the one containing ``first``, each with its live figure."""
    this_monday, _ = clock.current_week()
    monday = first - timedelta(days=first.weekday())
    with db.read() as session:
        _own_provider(repo.get_provider(session, provider_id), principal, provider_id)
        live = repo.live_rows_for_provider(session, provider_id, lock=False)
        found = []
        for index in range(count):
            start = monday + timedelta(weeks=index)
            end = start + timedelta(days=6)
            figure = _covering(live, start, end)
            found.append(
                WeekCapacity(
                    period_start=start,
                    period_end=end,
                    current=start == this_monday,
                    capacity=capacity_read(figure) if figure is not None else None,
                )
            )
    return found


def copy_previous_week(
    db: Database, principal: Principal, provider_id: int, week_start: date
) -> CapacityRead:
    """Record the week starting ``week_start`` with the figures of the week before it."""
    with db.read() as session:
        # The site first: another organisation's site is a 404 whatever the week says.
        _own_provider(repo.get_provider(session, provider_id), principal, provider_id)
        start, end = check_week(week_start)
        before_start, before_end = start - timedelta(days=7), start - timedelta(days=1)
        live = repo.live_rows_for_provider(session, provider_id, lock=False)
        previous = _covering(live, before_start, before_end)
        if previous is None:
            raise conflict(
                f"week_start: no capacity is recorded for the week of "
                f"{before_start.isoformat()} to copy; enter this week's figures instead.",
                reason="nothing_to_copy",
            )
        body = CapacityUpdate(
            period_start=start,
            period_end=end,
            parcels=previous.parcels,
            people=previous.people,
            delivery=previous.delivery,
            dietary=dict(previous.dietary or {}),
        )
    return set_capacity(db, principal, provider_id, body)
