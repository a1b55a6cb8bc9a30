"""Explanations name the nearest few providers and count every other one they stand for.

Sites sit due north of the household along one meridian, so a site ``k`` km north is ``k``
km away. Capacity 0 makes a site "full" without any other household.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings

from matching.engine import solve
from matching.models import (
    Limit,
    Match,
    MatchResult,
    Mode,
    Problem,
    Provider,
    Reason,
    Referral,
    SolveStatus,
    Urgency,
)
from tests.matching.builders import problem_from, provider, referral
from tests.matching.oracle import distance, in_area, pair_mode, problems


def only_match(household: Referral, providers: list[Provider]) -> Match:
    """The engine's one match when ``household`` is the only referral."""
    (match,) = solve(problem_from([household], providers)).matches
    return match


def test_matched_names_three_nearer_sites_and_counts_the_rest() -> None:
    """Five nearer sites passed over: the three nearest are named, the other two counted."""
    nearer = [
        provider(f"N{k}", km_north=0.1 * k, capacity=0, dietary={"halal"}) for k in range(1, 6)
    ]
    match = only_match(
        referral(outcode="BD1"),
        [*nearer, provider("Far", km_north=2.0, capacity=1, dietary={"halal"})],
    )
    assert match.provider_id == "Far"
    assert match.explanation == (
        "Far Food Bank, 2.0 km: the nearest provider with room. Nearer: N1 Food Bank was full; "
        "N2 Food Bank was full; N3 Food Bank was full; and 2 more."
    )
    assert match.considered == ("N1", "N2", "N3")


def test_capacity_exhausted_lists_only_sites_that_could_take_the_household() -> None:
    """A site without the household's stock is considered but not listed as having been full."""
    providers = [
        provider("Plain", km_north=0.05, capacity=0),
        *(provider(f"H{k}", km_north=0.1 * k, capacity=0, dietary={"halal"}) for k in range(1, 5)),
    ]
    match = only_match(referral(dietary=frozenset({"halal"}), outcode="BD1"), providers)
    assert match.reason is Reason.CAPACITY_EXHAUSTED
    assert match.explanation.endswith(
        ": H1 Food Bank (0.1 km) was full; H2 Food Bank (0.2 km) was full; "
        "H3 Food Bank (0.3 km) was full; and 1 more."
    )
    assert match.considered == ("Plain", "H1", "H2")


def test_not_eligible_lists_only_sites_with_the_right_stock() -> None:
    """Out-of-area sites with the stock are listed and counted; the one without is skipped."""
    providers = [
        provider("Plain", km_north=0.05, capacity=1),
        *(
            provider(f"H{k}", km_north=0.1 * k, capacity=1, service_area={"LS"}, dietary={"halal"})
            for k in range(1, 5)
        ),
    ]
    match = only_match(referral(dietary=frozenset({"halal"}), outcode="BD1"), providers)
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
    first = referral(outcode="BD1")
    second = referral("R2", urgency=Urgency.EMERGENCY, outcode="BD1")
    providers = (
        provider("Full", km_north=0.5, capacity=0, dietary={"halal"}),
        provider("A", km_north=1.0, capacity=1, dietary={"halal"}),
        provider("B", km_north=1.0, capacity=1, dietary={"halal"}),
    )
    matches = solve(Problem((first, second), providers)).matches
    assert sorted(m.provider_id or "" for m in matches) == ["A", "B"]
    to_b = next(m for m in matches if m.provider_id == "B")
    assert to_b.explanation == (
        "B Food Bank, 1.0 km: the nearest provider with room. Nearer: Full Food Bank was full."
    )
    alone = solve(Problem((first, second), providers[1:])).matches
    to_b = next(m for m in alone if m.provider_id == "B")
    assert to_b.explanation == "B Food Bank, 1.0 km: the nearest provider in reach."


@dataclass
class _Use:
    parcels: int = 0
    people: int = 0
    deliveries: int = 0
    tags: dict[str, int] = field(default_factory=dict)
    held: set[Urgency] = field(default_factory=set)


def _usage(problem: Problem, result: MatchResult) -> dict[str, _Use]:
    """Each site's use in the answer, recounted here from the matches alone."""
    by_id = {r.referral_id: r for r in problem.referrals}
    use = {p.provider_id: _Use() for p in problem.providers}
    for m in result.matches:
        if m.provider_id is None:
            continue
        r, u = by_id[m.referral_id], use[m.provider_id]
        u.parcels += 1
        u.people += r.household_size
        u.deliveries += int(m.mode is Mode.DELIVER)
        for tag in r.dietary:
            u.tags[tag] = u.tags.get(tag, 0) + 1
        u.held.add(r.urgency)
    return use


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_referrals=12, max_providers=5))
def test_every_claim_is_true_of_the_final_answer(problem: Problem) -> None:
    """Each site an explanation names is in reach at the distance shown, and every limit,
    missing tag, area and occupancy it states holds in the final answer (recounted here)."""
    result = solve(problem)
    use = _usage(problem, result)
    sites = {p.provider_id: p for p in problem.providers}
    for household, m in zip(problem.referrals, result.matches, strict=True):
        for claim in m.claims:
            site, u = sites[claim.provider_id], use[claim.provider_id]
            assert pair_mode(household, site) is not None
            assert claim.distance_km == pytest.approx(distance(household, site), abs=1e-9)
            assert f"{names_of(problem)[claim.provider_id]}" in m.explanation
            for limit in claim.limits:
                if limit is Limit.FULL:
                    assert u.parcels == site.capacity
                elif limit is Limit.PEOPLE:
                    assert site.people_capacity is not None
                    assert u.people + household.household_size > site.people_capacity
                elif limit is Limit.DELIVERY:
                    assert household.needs_delivery
                    assert u.deliveries >= site.delivery_capacity
                elif limit is Limit.STOCK:
                    assert claim.tags
                    for tag in claim.tags:
                        cap = site.dietary[tag]
                        assert cap is not None and u.tags.get(tag, 0) >= cap
                elif limit is Limit.LACKS_TAGS:
                    assert set(claim.tags) == set(household.dietary) - set(site.dietary)
                    assert claim.tags
                elif limit is Limit.OUT_OF_AREA:
                    assert household.outcode is not None and not in_area(household, site)
                elif limit is Limit.NO_POSTCODE:
                    assert household.outcode is None and site.service_area
                else:
                    assert limit is Limit.ROOM and result.status is not SolveStatus.OPTIMAL
            if m.matched:
                chosen = sites[m.provider_id or ""]
                assert round(claim.distance_km * 1000) < round(distance(household, chosen) * 1000)
            else:
                most = max(u.held, key=lambda x: x.rank) if u.held else None
                if claim.limits and claim.limits[0] not in (
                    Limit.LACKS_TAGS,
                    Limit.OUT_OF_AREA,
                    Limit.NO_POSTCODE,
                ):
                    assert claim.most_urgent_held == most
                    if "more urgent" in m.explanation:
                        assert most is not None and most.rank > household.urgency.rank
        if m.matched:
            exact = distance(household, sites[m.provider_id or ""])
            shown = "under 0.1 km" if exact < 0.05 else f"{exact:.1f} km"  # never "0.0 km"
            assert m.explanation.startswith(f"{names_of(problem)[m.provider_id or '']}, {shown}")


def names_of(problem: Problem) -> dict[str, str]:
    return {p.provider_id: p.name for p in problem.providers}


def test_distance_is_rounded_once_from_the_exact_value() -> None:
    """A site 1.74989 km away reads "1.7 km" (not 1.750 rounded again to "1.8")."""
    match = only_match(
        referral(outcode="BD1"), [provider("A", km_north=1.74989, capacity=1, dietary={"halal"})]
    )
    assert match.distance_km == 1.75
    assert match.explanation.startswith("A Food Bank, 1.7 km:")


def test_delivery_slots_are_named_when_they_bind() -> None:
    """A delivery household passed over at a nearer site whose parcels and delivery slots are
    both used up is told both, not only that the site "was full"."""
    taker = referral(
        "T", km_north=-1.0, urgency=Urgency.EMERGENCY, needs_delivery=True, outcode="BD1"
    )
    me = referral(needs_delivery=True, outcode="BD1")
    near = provider("Near", km_north=0.5, capacity=1, dietary={"halal"},
                    delivery_capacity=1, delivery_radius_km=5.0)  # fmt: skip
    far = provider("Far", km_north=2.0, capacity=5, dietary={"halal"},
                   delivery_capacity=1, delivery_radius_km=2.5)  # fmt: skip
    matches = solve(Problem((taker, me), (near, far))).matches
    mine = next(m for m in matches if m.referral_id == "R")
    assert mine.provider_id == "Far"
    assert "Near Food Bank was full and had no delivery slots left" in mine.explanation


def test_only_the_missing_tags_are_named() -> None:
    """A site with vegan but not halal stock "does not stock halal", not "halal and vegan"."""
    needs = frozenset({"halal", "vegan"})
    vegan_only = provider("V", km_north=0.5, capacity=1, dietary=["vegan"])
    both = provider("B", km_north=1.0, capacity=1, dietary=["halal", "vegan"])
    match = only_match(referral(dietary=needs, outcode="BD1"), [vegan_only, both])
    assert "V Food Bank does not stock halal." in match.explanation


def test_more_urgent_only_when_true_else_the_tie_break_is_named() -> None:
    """Unmatched for lack of room at a site holding a household of the same tier: no claim of
    "more urgent"; at one holding an emergency, the emergency is named."""
    rival = referral("X", outcode="BD1")
    me = referral(km_north=-1.0, outcode="BD1")
    matches = solve(
        Problem((rival, me), (provider("A", km_north=0.2, capacity=1, dietary={"halal"}),))
    ).matches
    mine = next(m for m in matches if m.referral_id == "R")
    assert mine.reason is Reason.CAPACITY_EXHAUSTED
    assert "more urgent" not in mine.explanation
    assert "holding standard households like this one" in mine.explanation
    assert "least total distance" in mine.explanation
    urgent = referral("X", km_north=-1.0, urgency=Urgency.EMERGENCY, outcode="BD1")
    me = referral(outcode="BD1")
    matches = solve(
        Problem((urgent, me), (provider("A", km_north=0.2, capacity=1, dietary={"halal"}),))
    ).matches
    mine = next(m for m in matches if m.referral_id == "R")
    assert "holding emergency households" in mine.explanation


def test_a_household_without_postcode_is_told_why_an_area_excludes_it() -> None:
    """Located by coordinates only, a household is told that the site serves listed districts
    and it gave no postcode, not that the site does not serve "this location"."""
    me = referral()
    match = only_match(
        me, [provider("A", km_north=0.2, capacity=1, service_area={"BD"}, dietary={"halal"})]
    )
    assert match.reason is Reason.NOT_ELIGIBLE
    assert "this location" not in match.explanation
    assert "gave no postcode" in match.explanation
