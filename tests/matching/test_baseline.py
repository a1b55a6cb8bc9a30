"""First-come-first-served baseline: hand-checked tiny regions.

Every site sits ``km_north`` of the households' point on one meridian, so distances are
simple: a site ``k`` km north of a household is ``k`` km away (great circle along a meridian).
"""

from __future__ import annotations

import math
from pathlib import Path

from matching.baseline import METHOD, first_come_first_served
from matching.geo import distance_km
from matching.io import read_problem
from matching.models import (
    Match,
    MatchResult,
    Mode,
    Provider,
    Reason,
    Referral,
    SolveStatus,
    Urgency,
)
from tests.matching.builders import problem_from, provider, referral


def run(referrals: list[Referral], providers: list[Provider]) -> MatchResult:
    """The baseline's answer for these referrals and providers, in this order."""
    return first_come_first_served(problem_from(referrals, providers))


def placed(result: MatchResult) -> dict[str, str | None]:
    """Each referral's provider (``None``: unmatched)."""
    return {m.referral_id: m.provider_id for m in result.matches}


def reasons(result: MatchResult) -> dict[str, Reason]:
    """Each referral's reason code."""
    return {m.referral_id: m.reason for m in result.matches}


def test_input_order_wins_over_urgency() -> None:
    """The earlier referral takes the last parcel even when a later one is an emergency."""
    result = run(
        [referral("A", outcode="LS9"), referral("B", urgency=Urgency.EMERGENCY, outcode="LS9")],
        [provider("P", km_north=1.0, capacity=1)],
    )
    assert placed(result) == {"A": "P", "B": None}
    assert reasons(result)["B"] is Reason.CAPACITY_EXHAUSTED
    assert result.matched.standard == 1 and result.matched.emergency == 0


def test_reversing_the_order_reverses_who_is_served() -> None:
    """Same region, referrals in the other order: now the emergency is served."""
    result = run(
        [referral("B", urgency=Urgency.EMERGENCY, outcode="LS9"), referral("A", outcode="LS9")],
        [provider("P", km_north=1.0, capacity=1)],
    )
    assert placed(result) == {"B": "P", "A": None}


def test_nearest_provider_first_then_the_next_nearest() -> None:
    """Each referral takes the nearest site with room; once it is full, the next nearest."""
    providers = [
        provider("FAR", km_north=4.0, capacity=5),
        provider("NEAR", km_north=1.0, capacity=1),
    ]
    result = run([referral("A", outcode="LS9"), referral("B", outcode="LS9")], providers)
    assert placed(result) == {"A": "NEAR", "B": "FAR"}
    by_id = {m.referral_id: m for m in result.matches}
    assert by_id["A"].distance_km is not None and math.isclose(by_id["A"].distance_km, 1.0)
    assert by_id["B"].distance_km is not None and math.isclose(by_id["B"].distance_km, 4.0)
    assert math.isclose(result.total_distance_km, 5.0)
    assert by_id["B"].considered == ("NEAR",)


def test_greedy_is_not_optimal() -> None:
    """A takes the only site B can reach although A could have gone further: B is left out."""
    # A (at 0 km) reaches NEAR (2 km north) and FAR (3 km south); B (3.5 km north, travel
    # 2 km) reaches only NEAR. The optimum would send A to FAR and B to NEAR.
    result = run(
        [
            referral("A", outcode="LS9"),
            referral("B", km_north=3.5, max_travel_km=2.0, outcode="LS9"),
        ],
        [provider("NEAR", km_north=2.0, capacity=1), provider("FAR", km_north=-3.0, capacity=1)],
    )
    assert placed(result) == {"A": "NEAR", "B": None}
    assert reasons(result)["B"] is Reason.CAPACITY_EXHAUSTED


def test_people_capacity_counts_household_size() -> None:
    """A household that would overflow a site's people capacity goes to the next site."""
    providers = [
        provider("NEAR", km_north=1.0, capacity=5, people_capacity=5),
        provider("FAR", km_north=3.0, capacity=10),
    ]
    result = run(
        [
            referral("A", household_size=4, outcode="LS9"),
            referral("B", household_size=2, outcode="LS9"),
            referral("C", household_size=1, outcode="LS9"),
        ],
        providers,
    )
    # 4 people fit at NEAR, 2 more would make 6 > 5, but 1 more still fits.
    assert placed(result) == {"A": "NEAR", "B": "FAR", "C": "NEAR"}


def test_household_larger_than_any_people_capacity_is_capacity_exhausted() -> None:
    """A feasible pair that can never fit is still reported as capacity_exhausted."""
    result = run(
        [referral("A", household_size=7, outcode="LS9")],
        [provider("P", km_north=1.0, capacity=10, people_capacity=6)],
    )
    assert reasons(result) == {"A": Reason.CAPACITY_EXHAUSTED}


def test_dietary_limit_is_respected() -> None:
    """halal:1 lets one halal household in; the next halal one goes on, others still fit."""
    halal = frozenset({"halal"})
    providers = [
        provider("NEAR", km_north=1.0, capacity=10, dietary={"halal": 1}),
        provider("FAR", km_north=3.0, capacity=10, dietary={"halal": None}),
    ]
    result = run(
        [
            referral("A", dietary=halal, outcode="LS9"),
            referral("B", dietary=halal, outcode="LS9"),
            referral("C", outcode="LS9"),
        ],
        providers,
    )
    assert placed(result) == {"A": "NEAR", "B": "FAR", "C": "NEAR"}


def test_tag_zero_lists_the_tag_but_takes_nobody_with_it() -> None:
    """``baby:0``: the pair is feasible but there is no stock, so capacity_exhausted."""
    result = run(
        [referral("A", dietary=frozenset({"baby"}), outcode="LS9")],
        [provider("P", km_north=1.0, capacity=10, dietary={"baby": 0})],
    )
    assert reasons(result) == {"A": Reason.CAPACITY_EXHAUSTED}


def test_multi_tag_household_needs_every_tag_and_every_limit() -> None:
    """A halal+baby household skips a site listing only halal and one whose baby stock is gone."""
    need = frozenset({"halal", "baby"})
    providers = [
        provider("HALAL_ONLY", km_north=0.5, capacity=10, dietary={"halal": None}),
        provider("NO_BABY_LEFT", km_north=1.0, capacity=10, dietary={"halal": None, "baby": 1}),
        provider("BOTH", km_north=2.0, capacity=10, dietary={"halal": None, "baby": None}),
    ]
    result = run(
        [referral("A", dietary=need, outcode="LS9"), referral("B", dietary=need, outcode="LS9")],
        providers,
    )
    assert placed(result) == {"A": "NO_BABY_LEFT", "B": "BOTH"}


def test_delivery_capacity_and_modes() -> None:
    """Delivery households are only delivered to, within the radius and delivery capacity."""
    providers = [
        provider("COLLECT_ONLY", km_north=0.5, capacity=10),
        provider("VAN", km_north=6.0, capacity=10, delivery_capacity=1, delivery_radius_km=8.0),
    ]
    result = run(
        [
            referral("D1", needs_delivery=True, outcode="LS9"),
            referral("D2", needs_delivery=True, outcode="LS9"),
            referral("C", outcode="LS9"),
        ],
        providers,
    )
    by_id = {m.referral_id: m for m in result.matches}
    assert placed(result) == {"D1": "VAN", "D2": None, "C": "COLLECT_ONLY"}
    assert by_id["D1"].mode is Mode.DELIVER and by_id["C"].mode is Mode.COLLECT
    assert by_id["D2"].reason is Reason.CAPACITY_EXHAUSTED


def test_delivery_outside_radius_is_out_of_reach() -> None:
    """A delivery household beyond every delivery radius has no provider in reach."""
    result = run(
        [referral("D", needs_delivery=True, outcode="LS9")],
        [
            provider("NEAR", km_north=0.5, capacity=10),
            provider("VAN", km_north=6.0, capacity=1, delivery_capacity=1),
        ],
    )
    # VAN delivers but its radius is 0 km; NEAR is close but does not deliver.
    assert reasons(result) == {"D": Reason.NO_PROVIDER_IN_REACH}


def test_reason_codes_in_contract_order() -> None:
    """Unmatched reasons: out of reach, then dietary, then service area, then capacity."""
    providers = [
        provider(
            "GF_LS9_ONLY",
            km_north=1.0,
            dietary={"gluten_free": None},
            service_area=frozenset({"LS9"}),
            capacity=10,
        ),
        provider("PLAIN", km_north=2.0, capacity=0),
    ]
    referrals = [
        referral("FAR", km_north=20.0, outcode="LS9"),
        referral("VEGAN", dietary=frozenset({"vegan"}), outcode="LS9"),
        referral("GF_LS8", dietary=frozenset({"gluten_free"}), outcode="LS8"),
        referral("GF_NO_POSTCODE", dietary=frozenset({"gluten_free"}), outcode=None),
        referral("GF_AREA", dietary=frozenset({"gluten_free"}), outcode="LS9"),
        referral("ANY_LS8", outcode="LS8"),
    ]
    result = run(referrals, providers)
    assert reasons(result) == {
        "FAR": Reason.NO_PROVIDER_IN_REACH,
        "VEGAN": Reason.DIETARY_UNAVAILABLE,
        "GF_LS8": Reason.NOT_ELIGIBLE,
        "GF_NO_POSTCODE": Reason.NOT_ELIGIBLE,
        "GF_AREA": Reason.MATCHED,
        # PLAIN is feasible for it (no tags needed, no service area) but has no capacity.
        "ANY_LS8": Reason.CAPACITY_EXHAUSTED,
    }


def test_service_area_by_postcode_area() -> None:
    """A service area ``LS`` takes every LS district but not a household with no postcode."""
    providers = [provider("LEEDS", km_north=1.0, service_area=frozenset({"LS"}), capacity=10)]
    result = run([referral("IN", outcode="LS27"), referral("NONE", outcode=None)], providers)
    assert reasons(result) == {"IN": Reason.MATCHED, "NONE": Reason.NOT_ELIGIBLE}


def test_result_shape() -> None:
    """One match per referral in input order, FEASIBLE status, the baseline's method name."""
    referrals = [referral(f"R{k}", urgency=u, outcode="LS9") for k, u in enumerate(Urgency)] + [
        referral("X", km_north=30.0, outcode="LS9")
    ]
    result = run(referrals, [provider("P", km_north=1.0, capacity=2)])
    assert [m.referral_id for m in result.matches] == ["R0", "R1", "R2", "X"]
    assert result.status is SolveStatus.FEASIBLE
    assert result.method == METHOD
    assert result.matched.as_dict() == {"emergency": 1, "urgent": 1, "standard": 0}
    assert result.unmatched_by_reason == {"capacity_exhausted": 1, "no_provider_in_reach": 1}
    unmatched = [m for m in result.matches if not m.matched]
    assert all(
        m.provider_id is None and m.mode is None and m.distance_km is None for m in unmatched
    )
    assert all(m.explanation for m in result.matches)


def test_empty_inputs() -> None:
    """No referrals, or no providers, gives an empty or all-unmatched result, never an error."""
    empty = run([], [provider("P", km_north=1.0, capacity=10)])
    assert empty.matches == () and empty.matched.total == 0
    no_sites = run([referral("A", outcode="LS9")], [])
    assert no_sites.matches == (
        Match("A", Reason.NO_PROVIDER_IN_REACH, explanation=no_sites.matches[0].explanation),
    )


def test_sample_region_result_is_valid_and_maximal() -> None:
    """On the shipped sample: only feasible pairs, every limit kept, nobody could be added."""
    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    problem = read_problem(sample / "referrals.csv", sample / "providers.csv")
    result = first_come_first_served(problem)
    providers = {p.provider_id: p for p in problem.providers}

    def feasible(r: Referral, p: Provider) -> bool:
        d = distance_km(r.latitude, r.longitude, p.latitude, p.longitude)
        if r.needs_delivery:
            reach = p.delivery_capacity > 0 and d <= p.delivery_radius_km
        else:
            reach = d <= r.max_travel_km
        area = not p.service_area or (
            r.outcode is not None
            and (r.outcode in p.service_area or r.outcode.rstrip("0123456789") in p.service_area)
        )
        return reach and r.dietary <= set(p.dietary) and area

    load = {pid: 0 for pid in providers}
    people = dict(load)
    delivered = dict(load)
    tagged: dict[tuple[str, str], int] = {}
    for r, m in zip(problem.referrals, result.matches, strict=True):
        assert m.referral_id == r.referral_id
        if m.provider_id is None:
            continue
        p = providers[m.provider_id]
        assert feasible(r, p)
        assert m.mode is (Mode.DELIVER if r.needs_delivery else Mode.COLLECT)
        load[p.provider_id] += 1
        people[p.provider_id] += r.household_size
        delivered[p.provider_id] += r.needs_delivery
        for tag in r.dietary:
            tagged[p.provider_id, tag] = tagged.get((p.provider_id, tag), 0) + 1

    def has_room(r: Referral, p: Provider) -> bool:
        pid = p.provider_id
        return (
            load[pid] < p.capacity
            and (p.people_capacity is None or people[pid] + r.household_size <= p.people_capacity)
            and (not r.needs_delivery or delivered[pid] < p.delivery_capacity)
            and all(
                p.dietary[t] is None or tagged.get((pid, t), 0) < (p.dietary[t] or 0)
                for t in r.dietary
            )
        )

    for p in problem.providers:
        assert load[p.provider_id] <= p.capacity
        assert p.people_capacity is None or people[p.provider_id] <= p.people_capacity
        assert delivered[p.provider_id] <= p.delivery_capacity
        for tag, limit in p.dietary.items():
            assert limit is None or tagged.get((p.provider_id, tag), 0) <= limit
    for r, m in zip(problem.referrals, result.matches, strict=True):
        if m.reason is Reason.CAPACITY_EXHAUSTED:
            options = [p for p in problem.providers if feasible(r, p)]
            assert options and not any(has_room(r, p) for p in options)
    assert result.matched.total > 0
    assert set(result.unmatched_by_reason) == {
        "no_provider_in_reach",
        "dietary_unavailable",
        "not_eligible",
        "capacity_exhausted",
    }
