"""Rows <-> engine models: the one module that knows both the tables and ``matching``.

The engine sees each site with what is *left* of its capacity (the figure minus the places
held by active offers), so a run or a placement can never promise a place twice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

from api.core.repository import Usage
from api.core.tables import POSTCODE, Capacity, Provider, Referral
from matching import models as m
from matching.engine import solve
from matching.engine.budget import Progress, Watch, default_time_limit
from matching.geo import Gazetteer

_GAZETTEERS: dict[str | None, Gazetteer] = {}
log = logging.getLogger("foodmatch.matching")
PROGRESS_LOG_EVERY = 2.0
"""Seconds between the engine's progress lines in the log during a match run."""


def _gazetteer() -> Gazetteer:
    """The shipped gazetteer, kept per ``FOODMATCH_DATA_DIR`` value.

    ``Gazetteer.default()`` caches the table already, but it resolves the data folder on the
    file system each call (tens of microseconds per submitted referral); the folder only
    changes with that variable.
    """
    key = os.environ.get("FOODMATCH_DATA_DIR")
    found = _GAZETTEERS.get(key)
    if found is None:
        found = _GAZETTEERS[key] = Gazetteer.default()
    return found


def locate(postcode: str) -> tuple[float, float, str] | None:
    """(latitude, longitude, district) of a postcode from the offline table, or ``None``."""
    return _gazetteer().locate(postcode)


def approximate(referral: Referral, provider: Provider) -> bool:
    """Whether their distance was measured from a district centre at either end."""
    return referral.located_by != POSTCODE or provider.located_by != POSTCODE


def referral_model(row: Referral) -> m.Referral:
    """The engine's view of a stored referral (no personal data: district only)."""
    return m.Referral(
        referral_id=str(row.id),
        latitude=row.latitude,
        longitude=row.longitude,
        household_size=row.household_size,
        urgency=m.Urgency(row.urgency),
        dietary=frozenset(row.dietary_tags),
        max_travel_km=row.max_travel_km,
        needs_delivery=row.needs_delivery,
        outcode=row.outcode,
        postcode=row.outcode,  # the district only: the full postcode stays personal
    )


def remaining(
    capacity: Capacity, usage: Usage
) -> tuple[int, int | None, int, dict[str, int | None]]:
    """What is left of a capacity figure: parcels, people, delivery, dietary caps."""
    parcels = max(capacity.parcels - usage.parcels, 0)
    people = None if capacity.people is None else max(capacity.people - usage.people, 0)
    delivery = max(capacity.delivery - usage.delivery, 0)
    dietary: dict[str, int | None] = {}
    for tag, cap in capacity.dietary.items():
        dietary[tag] = None if cap is None else max(int(cap) - usage.dietary.get(tag, 0), 0)
    return parcels, people, delivery, dietary


def provider_model(provider: Provider, capacity: Capacity, usage: Usage) -> m.Provider:
    """The engine's view of a site with the capacity still free this period."""
    parcels, people, delivery, dietary = remaining(capacity, usage)
    return m.Provider(
        provider_id=str(provider.id),
        name=provider.name,
        latitude=provider.latitude,
        longitude=provider.longitude,
        capacity=parcels,
        people_capacity=people,
        dietary=dietary,
        delivery_capacity=delivery,
        delivery_radius_km=provider.delivery_radius_km if delivery > 0 else 0.0,
        service_area=frozenset(filter(None, provider.service_area.split(";"))),
        outcode=provider.outcode,
        postcode=provider.postcode,
    )


def problem(
    referrals: Iterable[Referral],
    supply: Sequence[tuple[Provider, Capacity]],
) -> m.Problem:
    """An engine problem from stored referrals and each site's free capacity."""
    return m.Problem(
        referrals=tuple(referral_model(r) for r in referrals),
        providers=tuple(provider_model(p, c, usage_of(c)) for p, c in supply),
    )


def run_engine(problem_: m.Problem, time_limit: float | None) -> m.MatchResult:
    """Run the engine's any-time search, its progress in the log (never raises on an
    infeasible or empty problem). Without a limit it gets the engine's default budget."""
    budget = default_time_limit(len(problem_.referrals)) if time_limit is None else time_limit
    last = [0.0]

    def note(progress: Progress) -> None:
        if progress.elapsed - last[0] >= PROGRESS_LOG_EVERY:
            last[0] = progress.elapsed
            log.info("match run: %s", progress.line())

    return solve(problem_, time_limit=budget, watch=Watch(on_progress=note))


def fits(referral: Referral, capacity: Capacity, mode: str) -> str | None:
    """Why ``referral`` no longer fits the free capacity in ``mode`` (``None`` if it fits)."""
    parcels, people, delivery, dietary = remaining(capacity, usage_of(capacity))
    if parcels < 1:
        return "no parcels left"
    if people is not None and people < referral.household_size:
        return "not enough people capacity left"
    if mode == m.Mode.DELIVER.value and delivery < 1:
        return "no deliveries left"
    for tag in referral.dietary_tags:
        if tag not in dietary:
            return f"no longer lists {tag}"
        cap = dietary[tag]
        if cap is not None and cap < 1:
            return f"no {tag} stock left"
    return None


def usage_of(capacity: Capacity) -> Usage:
    """What the offers holding places at ``capacity`` use up (its booked counters)."""
    return Usage(
        parcels=capacity.parcels_booked,
        people=capacity.people_booked,
        delivery=capacity.delivery_booked,
        dietary={str(k): int(v) for k, v in capacity.dietary_booked.items()},
    )


def book(capacity: Capacity, referral: Referral, mode: str) -> None:
    """Count one more place held at ``capacity`` (caller holds the row lock)."""
    _shift(capacity, referral, mode, +1)


def release(capacity: Capacity, referral: Referral, mode: str) -> None:
    """Give back a place held at ``capacity`` (caller holds the row lock)."""
    _shift(capacity, referral, mode, -1)


def _shift(capacity: Capacity, referral: Referral, mode: str, step: int) -> None:
    capacity.parcels_booked += step
    capacity.people_booked += step * referral.household_size
    if mode == m.Mode.DELIVER.value:
        capacity.delivery_booked += step
    if referral.dietary_tags:
        dietary = {str(k): int(v) for k, v in capacity.dietary_booked.items()}
        for tag in referral.dietary_tags:
            dietary[tag] = dietary.get(tag, 0) + step
        capacity.dietary_booked = {k: v for k, v in dietary.items() if v}


def referral_fields(model: m.Referral) -> dict[str, Any]:
    """Table columns of a referral read from a contract file (matching fields only)."""
    return {
        "household_size": model.household_size,
        "dietary": ";".join(sorted(model.dietary)),
        "urgency": model.urgency.value,
        "outcode": model.outcode,
        "latitude": model.latitude,
        "longitude": model.longitude,
        "max_travel_km": model.max_travel_km,
        "needs_delivery": model.needs_delivery,
    }


def provider_fields(model: m.Provider) -> dict[str, Any]:
    """Table columns of a site read from a contract file."""
    return {
        "name": model.name,
        "postcode": model.postcode,
        "outcode": model.outcode,
        "latitude": model.latitude,
        "longitude": model.longitude,
        "service_area": ";".join(sorted(model.service_area)),
        "delivery_radius_km": model.delivery_radius_km,
    }


def capacity_fields(model: m.Provider) -> dict[str, Any]:
    """Capacity columns of a site read from a contract file."""
    return {
        "parcels": model.capacity,
        "people": model.people_capacity,
        "delivery": model.delivery_capacity,
        "dietary": dict(model.dietary),
    }
