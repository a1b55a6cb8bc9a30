"""Hand-made referrals, providers, problems and scenario files for the engine's tests.

Every field is a keyword named as in :mod:`matching.models`, with the model's own default
where it has one, so a test spells out only what it is about. Places:

* ``at`` is a point ``(latitude, longitude)``, by default :data:`ORIGIN`, or the name of a
  district in :data:`DISTRICTS`: its centroid, and that outcode unless ``outcode`` names
  another (for one without a postcode there, give the point, ``at=LS9``);
* ``km_north`` moves the point due north along its meridian, exactly: a site ``k`` km north
  of a household on the same meridian is ``k`` km away (negative: south);
* ``km_east`` moves it east by ``km / 65.6`` degrees of longitude (about a km each at
  Leeds's latitude; negative: west).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypedDict

from matching.geo import EARTH_RADIUS_KM
from matching.models import DEFAULT_MAX_TRAVEL_KM, Problem, Provider, Referral, Urgency

Point = tuple[float, float]
"""A ``(latitude, longitude)`` pair in degrees."""

ORIGIN: Point = (53.8, -1.55)
"""A point in Leeds that the hand-made regions are measured from."""

LS9: Point = (53.796771, -1.50574)
"""The LS9 district centroid in the shipped postcode table."""

DISTRICTS: dict[str, Point] = {"LS9": LS9}
"""Districts a test may name as ``at``, with their centroids."""

KM_PER_DEGREE_EAST = 65.6
"""Kilometres per degree of longitude used by ``km_east`` (about right at 53.8°N)."""


def place(at: Point | str = ORIGIN, *, km_north: float = 0.0, km_east: float = 0.0) -> Point:
    """The point ``km_north`` km north and ``km_east`` km east of ``at`` (a point or district)."""
    latitude, longitude = DISTRICTS[at] if isinstance(at, str) else at
    return (
        latitude + math.degrees(km_north / EARTH_RADIUS_KM),
        longitude + km_east / KM_PER_DEGREE_EAST,
    )


class _Location(TypedDict):
    """Where a referral or provider is: the model fields both share."""

    latitude: float
    longitude: float
    outcode: str | None
    postcode: str | None


def _location(
    at: Point | str, km_north: float, km_east: float, outcode: str | None, postcode: str | None
) -> _Location:
    """The location fields of a model placed as ``place`` says; the outcode defaults to the
    district ``at`` names, if it names one."""
    latitude, longitude = place(at, km_north=km_north, km_east=km_east)
    if outcode is None and isinstance(at, str):
        outcode = at
    return _Location(latitude=latitude, longitude=longitude, outcode=outcode, postcode=postcode)


def referral(
    referral_id: str = "R",
    *,
    at: Point | str = ORIGIN,
    km_north: float = 0.0,
    km_east: float = 0.0,
    household_size: int = 1,
    urgency: Urgency = Urgency.STANDARD,
    dietary: Iterable[str] = (),
    max_travel_km: float = DEFAULT_MAX_TRAVEL_KM,
    needs_delivery: bool = False,
    outcode: str | None = None,
    postcode: str | None = None,
) -> Referral:
    """A household of one, standard urgency, no dietary need, collecting, at ``at``.

    ``outcode`` defaults to the district ``at`` names, if it names one, else none (a
    household located by coordinates only).
    """
    return Referral(
        referral_id=referral_id,
        household_size=household_size,
        urgency=urgency,
        dietary=frozenset(dietary),
        max_travel_km=max_travel_km,
        needs_delivery=needs_delivery,
        **_location(at, km_north, km_east, outcode, postcode),
    )


def provider(
    provider_id: str = "P",
    *,
    capacity: int = 1,
    at: Point | str = ORIGIN,
    km_north: float = 0.0,
    km_east: float = 0.0,
    name: str | None = None,
    people_capacity: int | None = None,
    dietary: Mapping[str, int | None] | Iterable[str] = (),
    delivery_capacity: int = 0,
    delivery_radius_km: float = 0.0,
    service_area: Iterable[str] = (),
    outcode: str | None = None,
    postcode: str | None = None,
) -> Provider:
    """A collection-only site named "<id> Food Bank" with one parcel to give, at ``at``.

    ``dietary`` maps each stocked tag to its cap, or lists tags stocked without a cap.
    ``outcode`` defaults to the district ``at`` names, if it names one.
    """
    return Provider(
        provider_id=provider_id,
        name=f"{provider_id} Food Bank" if name is None else name,
        capacity=capacity,
        people_capacity=people_capacity,
        dietary=dietary if isinstance(dietary, Mapping) else dict.fromkeys(dietary),
        delivery_capacity=delivery_capacity,
        delivery_radius_km=delivery_radius_km,
        service_area=frozenset(service_area),
        **_location(at, km_north, km_east, outcode, postcode),
    )


def problem_from(referrals: Iterable[Referral] = (), providers: Iterable[Provider] = ()) -> Problem:
    """The problem of placing ``referrals`` (a list, a tuple, any iterable) with ``providers``."""
    return Problem(tuple(referrals), tuple(providers))


def scenario_file(folder: Path, text: str) -> Path:
    """A scenario file in ``folder`` holding a ``[base]`` table and then ``text``.

    The base names two CSV files written beside it with a header and no rows.
    """
    (folder / "referrals.csv").write_text("referral_id\n")
    (folder / "providers.csv").write_text("provider_id\n")
    path = folder / "scenarios.toml"
    path.write_text('[base]\nreferrals = "referrals.csv"\nproviders = "providers.csv"\n' + text)
    return path
