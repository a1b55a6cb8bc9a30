"""An independent reading of the matching contract, for checking the engine in tests.

Feasibility is recomputed here with ``geopy.distance.great_circle`` directly (not the engine's
vectorised geometry), limits are checked from the contract's wording, and the optimum of a tiny
instance is found by enumerating every assignment.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from geopy.distance import great_circle
from hypothesis import strategies as st

from matching.models import MatchResult, Mode, Problem, Provider, Reason, Referral, Urgency
from tests.matching import builders

LEEDS = (53.7997, -1.5492)
OUTCODES = ("LS1", "LS2", "LS6", "BD1")
TAGS = ("halal", "baby", "vegan")


def pair_mode(referral: Referral, provider: Provider) -> Mode | None:
    """The contract's mode for a pair if it is in reach, else None."""
    distance = great_circle(
        (referral.latitude, referral.longitude), (provider.latitude, provider.longitude)
    ).km
    if referral.needs_delivery:
        if provider.delivery_capacity > 0 and distance <= provider.delivery_radius_km:
            return Mode.DELIVER
        return None
    return Mode.COLLECT if distance <= referral.max_travel_km else None


def in_area(referral: Referral, provider: Provider) -> bool:
    if not provider.service_area:
        return True
    if referral.outcode is None:
        return False
    area = "".join(ch for ch in referral.outcode if ch.isalpha())
    return referral.outcode in provider.service_area or area in provider.service_area


def feasible(referral: Referral, provider: Provider) -> bool:
    """Whether the contract allows this referral to go to this provider."""
    return (
        pair_mode(referral, provider) is not None
        and referral.dietary <= set(provider.dietary)
        and in_area(referral, provider)
    )


def distance(referral: Referral, provider: Provider) -> float:
    return float(
        great_circle(
            (referral.latitude, referral.longitude), (provider.latitude, provider.longitude)
        ).km
    )


def limits_respected(problem: Problem, assignment: Sequence[int | None]) -> bool:
    """Every provider's capacity, people, dietary caps and delivery slots hold."""
    for j, provider in enumerate(problem.providers):
        taken = [problem.referrals[i] for i, a in enumerate(assignment) if a == j]
        if len(taken) > provider.capacity:
            return False
        if (
            provider.people_capacity is not None
            and sum(r.household_size for r in taken) > provider.people_capacity
        ):
            return False
        if sum(r.needs_delivery for r in taken) > provider.delivery_capacity:
            return False
        for tag, limit in provider.dietary.items():
            if limit is not None and sum(tag in r.dietary for r in taken) > limit:
                return False
    return True


def lex_key(problem: Problem, assignment: Sequence[int | None]) -> tuple[float, ...]:
    """Smaller is better: minus matched per tier (emergency first), then total km."""
    counts = dict.fromkeys(Urgency, 0)
    km = 0.0
    for i, a in enumerate(assignment):
        if a is not None:
            counts[problem.referrals[i].urgency] += 1
            km += distance(problem.referrals[i], problem.providers[a])
    return (
        -counts[Urgency.EMERGENCY],
        -counts[Urgency.URGENT],
        -counts[Urgency.STANDARD],
        km,
    )


def brute_force(problem: Problem) -> tuple[float, ...]:
    """The lexicographic optimum by enumerating every assignment (tiny instances only)."""
    options = [
        [None, *[j for j, p in enumerate(problem.providers) if feasible(r, p)]]
        for r in problem.referrals
    ]
    best: tuple[float, ...] | None = None
    for assignment in itertools.product(*options):
        if limits_respected(problem, assignment):
            key = lex_key(problem, assignment)
            if best is None or key < best:
                best = key
    assert best is not None
    return best


def assignment_of(problem: Problem, result: MatchResult) -> list[int | None]:
    index = {p.provider_id: j for j, p in enumerate(problem.providers)}
    return [index[m.provider_id] if m.provider_id else None for m in result.matches]


def expected_reason(problem: Problem, i: int, matched: bool) -> Reason:
    """The contract's first applicable reason for referral ``i``."""
    if matched:
        return Reason.MATCHED
    referral = problem.referrals[i]
    reach = [p for p in problem.providers if pair_mode(referral, p) is not None]
    if not reach:
        return Reason.NO_PROVIDER_IN_REACH
    stocked = [p for p in reach if referral.dietary <= set(p.dietary)]
    if not stocked:
        return Reason.DIETARY_UNAVAILABLE
    if not any(in_area(referral, p) for p in stocked):
        return Reason.NOT_ELIGIBLE
    return Reason.CAPACITY_EXHAUSTED


def _point(offset: tuple[float, float]) -> tuple[float, float]:
    return LEEDS[0] + offset[0], LEEDS[1] + offset[1]


_offset = st.tuples(st.floats(-0.02, 0.02), st.floats(-0.03, 0.03))


@st.composite
def referrals(draw: st.DrawFn, index: int) -> Referral:
    return builders.referral(
        f"R{index}",
        at=_point(draw(_offset)),
        household_size=draw(st.integers(1, 6)),
        urgency=draw(st.sampled_from(list(Urgency))),
        dietary=draw(st.sampled_from([(), (), (), ("halal",), ("baby",), TAGS[:2]])),
        max_travel_km=draw(st.sampled_from([1.5, 3.0, 5.0, 8.0])),
        needs_delivery=draw(st.sampled_from([False, False, False, True])),
        outcode=draw(st.sampled_from([*OUTCODES, None])),
    )


@st.composite
def providers(draw: st.DrawFn, index: int, tight: bool = False) -> Provider:
    at = _point(draw(_offset))
    tags = draw(st.sampled_from([TAGS, TAGS, ("halal",), ("baby", "vegan"), ()]))
    stock = {t: draw(st.one_of(st.none(), st.integers(0, 2))) for t in sorted(tags)}
    return builders.provider(
        f"P{index}",
        name=f"Site {index}",
        at=at,
        capacity=draw(st.integers(0, 4)),
        people_capacity=draw(
            st.integers(2, 8) if tight else st.one_of(st.none(), st.integers(2, 9))
        ),
        dietary=stock,
        delivery_capacity=draw(st.integers(0, 2)),
        delivery_radius_km=draw(st.sampled_from([0.0, 3.0, 6.0])),
        service_area=draw(st.sampled_from([(), (), (), ("LS1", "LS6"), ("LS",), ("BD",)])),
    )


@st.composite
def problems(
    draw: st.DrawFn, max_referrals: int = 6, max_providers: int = 3, tight: bool = False
) -> Problem:
    """Small problems using every constraint type of the contract.

    ``tight``: at least four households, and every provider has a people limit, so most
    instances are generalised assignments rather than networks.
    """
    n = draw(st.integers(4 if tight else 0, max_referrals))
    m = draw(st.integers(1 if n else 0, max_providers))
    return Problem(
        tuple(draw(referrals(i)) for i in range(n)),
        tuple(draw(providers(j, tight)) for j in range(m)),
    )
