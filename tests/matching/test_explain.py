"""Explanations name the nearest few providers and count every other one they stand for.

Sites sit due north of the household along one meridian, so a site ``k`` km north is ``k``
km away. Capacity 0 makes a site "full" without any other household.
"""

from __future__ import annotations

import dataclasses
import math

from matching.engine import solve
from matching.geo import EARTH_RADIUS_KM
from matching.models import Match, Problem, Provider, Reason, Referral, Urgency

LAT0, LON0 = 53.8, -1.55


def north(km: float) -> float:
    """Latitude ``km`` north of the origin along its meridian."""
    return LAT0 + math.degrees(km / EARTH_RADIUS_KM)


def household(*, dietary: frozenset[str] = frozenset(), outcode: str = "BD1") -> Referral:
    return Referral(
        referral_id="R",
        latitude=LAT0,
        longitude=LON0,
        household_size=1,
        urgency=Urgency.STANDARD,
        dietary=dietary,
        outcode=outcode,
    )


def site(
    pid: str, km: float, capacity: int = 0, *, halal: bool = True, area: str | None = None
) -> Provider:
    return Provider(
        provider_id=pid,
        name=f"{pid} Food Bank",
        latitude=north(km),
        longitude=LON0,
        capacity=capacity,
        dietary={"halal": None} if halal else {},
        service_area=frozenset({area}) if area else frozenset(),
    )


def only_match(referral: Referral, providers: list[Provider]) -> Match:
    (match,) = solve(Problem((referral,), tuple(providers))).matches
    return match


def test_matched_names_three_nearer_sites_and_counts_the_rest() -> None:
    """Five nearer sites passed over: the three nearest are named, the other two counted."""
    nearer = [site(f"N{k}", 0.1 * k) for k in range(1, 6)]
    match = only_match(household(), [*nearer, site("Far", 2.0, capacity=1)])
    assert match.provider_id == "Far"
    assert match.explanation == (
        "Far Food Bank, 2.0 km: the nearest provider with room. Nearer: N1 Food Bank was full; "
        "N2 Food Bank was full; N3 Food Bank was full; and 2 more."
    )
    assert match.considered == ("N1", "N2", "N3")


def test_capacity_exhausted_lists_only_sites_that_could_take_the_household() -> None:
    """A site without the household's stock is considered but not listed as having been full."""
    providers = [site("Plain", 0.05, halal=False), *(site(f"H{k}", 0.1 * k) for k in range(1, 5))]
    match = only_match(household(dietary=frozenset({"halal"})), providers)
    assert match.reason is Reason.CAPACITY_EXHAUSTED
    assert match.explanation.endswith(
        ": H1 Food Bank (0.1 km) was full; H2 Food Bank (0.2 km) was full; "
        "H3 Food Bank (0.3 km) was full; and 1 more."
    )
    assert match.considered == ("Plain", "H1", "H2")


def test_not_eligible_lists_only_sites_with_the_right_stock() -> None:
    """Out-of-area sites with the stock are listed and counted; the one without is skipped."""
    providers = [
        site("Plain", 0.05, capacity=1, halal=False),
        *(site(f"H{k}", 0.1 * k, capacity=1, area="LS") for k in range(1, 5)),
    ]
    match = only_match(household(dietary=frozenset({"halal"})), providers)
    assert match.reason is Reason.NOT_ELIGIBLE
    assert match.explanation == (
        "Providers in reach with the right stock do not serve BD1: H1 Food Bank (0.1 km); "
        "H2 Food Bank (0.2 km); H3 Food Bank (0.3 km); and 1 more."
    )
    assert match.considered == ("Plain", "H1", "H2")


def test_a_site_at_the_same_distance_is_not_called_nearer() -> None:
    """Two households, two sites with one place each at the same distance (and a full one
    nearer): whoever gets the second site in provider order is told of the full one only; the
    engine broke a tie, it did not pass a nearer site over."""
    first = household()
    second = dataclasses.replace(first, referral_id="R2", urgency=Urgency.EMERGENCY)
    providers = (site("Full", 0.5), site("A", 1.0, capacity=1), site("B", 1.0, capacity=1))
    matches = solve(Problem((first, second), providers)).matches
    assert sorted(m.provider_id or "" for m in matches) == ["A", "B"]
    to_b = next(m for m in matches if m.provider_id == "B")
    assert to_b.explanation == (
        "B Food Bank, 1.0 km: the nearest provider with room. Nearer: Full Food Bank was full."
    )
    alone = solve(Problem((first, second), providers[1:])).matches
    to_b = next(m for m in alone if m.provider_id == "B")
    assert to_b.explanation == "B Food Bank, 1.0 km: the nearest provider in reach."
