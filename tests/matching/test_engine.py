"""The engine's answers: optimal, feasible, complete, explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from matching.engine import solve
from matching.models import Mode, Problem, Reason, SolveStatus, Urgency
from tests.matching.builders import provider, referral
from tests.matching.oracle import (
    assignment_of,
    brute_force,
    expected_reason,
    feasible,
    lex_key,
    limits_respected,
    pair_mode,
    problems,
)

EAST_LEEDS = (53.8, -1.5)
"""Where the single-site tests put their site and households."""


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_optimal_on_small_instances_against_brute_force(problem: Problem) -> None:
    """The engine's answer is the lexicographic optimum found by enumerating every assignment."""
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    got = lex_key(problem, assignment_of(problem, result))
    best = brute_force(problem)
    assert got[:3] == best[:3]
    assert got[3] == pytest.approx(best[3], abs=1e-4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_referrals=7, max_providers=3, tight=True))
def test_optimal_on_tight_generalised_instances(problem: Problem) -> None:
    """With people limits everywhere (a generalised assignment) the answer is still optimal."""
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    got = lex_key(problem, assignment_of(problem, result))
    best = brute_force(problem)
    assert got[:3] == best[:3]
    assert got[3] == pytest.approx(best[3], abs=1e-4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_referrals=25, max_providers=6))
def test_invariants_hold(problem: Problem) -> None:
    """Only feasible pairs, every limit respected, one row per referral, contract reason codes."""
    result = solve(problem)
    assert [m.referral_id for m in result.matches] == [r.referral_id for r in problem.referrals]
    assignment = assignment_of(problem, result)
    assert limits_respected(problem, assignment)
    for i, (r, j) in enumerate(zip(problem.referrals, assignment, strict=True)):
        match = result.matches[i]
        assert match.reason is expected_reason(problem, i, j is not None)
        assert match.explanation
        if j is not None:
            site = problem.providers[j]
            assert feasible(r, site)
            assert match.mode is pair_mode(r, site)
    assert result.matched.total == sum(a is not None for a in assignment)


def test_empty_inputs_give_empty_results() -> None:
    """No referrals, or no providers, is a result, not an error."""
    assert solve(Problem((), ())).matches == ()
    lonely = solve(Problem((referral("R1"),), ()))
    assert lonely.status is SolveStatus.OPTIMAL
    assert lonely.matches[0].reason is Reason.NO_PROVIDER_IN_REACH


def test_emergency_beats_any_number_of_standard_households() -> None:
    """One emergency outranks several standard households sharing its only provider."""
    problem = Problem(
        (
            referral("S1", urgency=Urgency.STANDARD),
            referral("S2", urgency=Urgency.STANDARD, household_size=1),
            referral("E1", km_east=4.0, urgency=Urgency.EMERGENCY, household_size=3),
        ),
        (provider("P1", capacity=2, people_capacity=3),),
    )
    result = solve(problem)
    assert [m.reason for m in result.matches] == [
        Reason.CAPACITY_EXHAUSTED,
        Reason.CAPACITY_EXHAUSTED,
        Reason.MATCHED,
    ]


def test_shortest_total_travel_among_equal_coverage() -> None:
    """With the same households served, the engine picks the least total distance."""
    problem = Problem(
        (referral("A"), referral("B", km_east=2.0)),
        (provider("P0", km_east=0.5), provider("P2", km_east=2.1)),
    )
    result = solve(problem)
    assert [m.provider_id for m in result.matches] == ["P0", "P2"]


def test_better_than_greedy_when_order_misleads() -> None:
    """A nearest-first choice would strand a household that the optimum serves."""
    problem = Problem(
        (referral("A", km_east=1.0, max_travel_km=5.0), referral("B", max_travel_km=0.5)),
        (provider("Near"), provider("Far", km_east=4.0)),
    )
    result = solve(problem)
    assert result.matched.total == 2
    assert [m.provider_id for m in result.matches] == ["Far", "Near"]


def test_delivery_only_to_households_that_need_it() -> None:
    """A delivering site delivers within its radius and slots; collectors still collect."""
    problem = Problem(
        (
            referral("D1", km_east=3.0, needs_delivery=True),
            referral("D2", km_east=3.0, needs_delivery=True),
            referral("C1", km_east=0.2),
        ),
        (provider("P", capacity=3, delivery_capacity=1, delivery_radius_km=5.0),),
    )
    result = solve(problem)
    modes = {m.referral_id: (m.reason, m.mode) for m in result.matches}
    assert modes["C1"] == (Reason.MATCHED, Mode.COLLECT)
    assert sorted(r for r, _ in (modes["D1"], modes["D2"])) == sorted(
        [Reason.MATCHED, Reason.CAPACITY_EXHAUSTED]
    )


def test_reason_codes_in_contract_order() -> None:
    """Each unmatched referral gets the first reason that applies."""
    problem = Problem(
        (
            referral("far", km_east=30.0),
            referral("halal", dietary=frozenset({"halal"})),
            referral("outside", outcode="BD1"),
            referral("crowded", outcode="LS1", urgency=Urgency.STANDARD),
            referral("first", km_east=0.1, outcode="LS1", urgency=Urgency.EMERGENCY),
        ),
        (provider("P", service_area=frozenset({"LS"})),),
    )
    reasons = [m.reason for m in solve(problem).matches]
    assert reasons == [
        Reason.NO_PROVIDER_IN_REACH,
        Reason.DIETARY_UNAVAILABLE,
        Reason.NOT_ELIGIBLE,
        Reason.CAPACITY_EXHAUSTED,
        Reason.MATCHED,
    ]


def test_explanations_name_nearer_providers_and_why() -> None:
    """A matched household's explanation says why nearer sites were passed over."""
    problem = Problem(
        (
            referral("R", dietary=frozenset({"halal"}), urgency=Urgency.URGENT),
            referral("E", km_east=0.2, urgency=Urgency.EMERGENCY, max_travel_km=0.05),
        ),
        (
            provider("Plain", km_east=0.1, dietary={}),
            provider("Busy", km_east=0.2, dietary={"halal": None}),
            provider("Hope", km_east=1.2, dietary={"halal": None}),
        ),
    )
    result = solve(problem)
    text = result.matches[0].explanation
    assert result.matches[0].provider_id == "Hope"
    assert "Hope Food Bank, 1.2 km" in text
    assert "Plain Food Bank does not stock halal" in text
    assert "Busy Food Bank was full" in text


def test_unmatched_explanation_lists_considered_providers() -> None:
    """An unmatched household's explanation names the providers that were considered."""
    problem = Problem(
        (referral("E", urgency=Urgency.EMERGENCY), referral("S", km_east=0.3)),
        (provider("Only", km_east=0.1),),
    )
    loser = solve(problem).matches[1]
    assert loser.reason is Reason.CAPACITY_EXHAUSTED
    assert loser.considered == ("Only",)
    assert "Only Food Bank (0.2 km) was full" in loser.explanation


def test_people_capacity_makes_it_a_generalised_assignment() -> None:
    """People limits are respected and still solved to proven optimality."""
    problem = Problem(
        tuple(
            referral(f"R{i}", km_east=0.1 * i, household_size=size, urgency=Urgency.STANDARD)
            for i, size in enumerate([5, 2, 2, 2, 4, 1])
        ),
        (
            provider("A", capacity=3, people_capacity=6),
            provider("B", km_east=0.6, capacity=2, people_capacity=5),
        ),
    )
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    assert limits_respected(problem, assignment_of(problem, result))
    assert lex_key(problem, assignment_of(problem, result))[:3] == brute_force(problem)[:3]


def test_time_limit_returns_best_found_and_says_not_proven() -> None:
    """A zero-length limit still returns a valid answer, marked as not proven optimal."""
    problem = Problem(
        tuple(
            referral(
                f"R{i}", km_east=0.05 * i, household_size=1 + i % 5, urgency=list(Urgency)[i % 3]
            )
            for i in range(60)
        ),
        tuple(provider(f"P{j}", km_east=0.4 * j, capacity=4, people_capacity=7) for j in range(8)),
    )
    result = solve(problem, time_limit=1e-9)
    assert result.status is SolveStatus.FEASIBLE
    assert result.bound is not None
    assert limits_respected(problem, assignment_of(problem, result))


def test_delivery_limit_holds_when_every_candidate_is_a_delivery() -> None:
    """A site's delivery slots bind even when its parcel limit covers the very same households."""
    site = provider(
        "P0", name="Site P0", at=EAST_LEEDS, capacity=2, delivery_capacity=1,
        delivery_radius_km=3.0,
    )  # fmt: skip
    households = tuple(
        referral(f"R{i}", at=EAST_LEEDS, urgency=Urgency.EMERGENCY, needs_delivery=True)
        for i in range(3)
    )
    result = solve(Problem(households, (site,)))
    assert result.status is SolveStatus.OPTIMAL
    assert result.matched.emergency == 1
    assert [m.reason for m in result.matches].count(Reason.CAPACITY_EXHAUSTED) == 2


def test_equal_nested_limits_all_bind() -> None:
    """Parcels, delivery slots and a dietary cap over the same households: the tightest wins."""
    site = provider(
        "P0", name="Site P0", at=EAST_LEEDS, capacity=3, delivery_capacity=2,
        delivery_radius_km=3.0, dietary={"halal": 1},
    )  # fmt: skip
    households = tuple(
        referral(
            f"R{i}", at=EAST_LEEDS, urgency=Urgency.URGENT, dietary={"halal"}, needs_delivery=True
        )
        for i in range(4)
    )
    result = solve(Problem(households, (site,)))
    assert result.status is SolveStatus.OPTIMAL
    assert result.matched.urgent == 1


SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.mark.slow
def test_gap_stops_each_tier_within_the_requested_gap() -> None:
    """With ``gap``, a run not proven optimal says so and every tier is within that gap."""
    from matching.io import read_problem

    problem = read_problem(SAMPLE / "referrals.csv", SAMPLE / "providers.csv")
    result = solve(problem, gap=0.05, time_limit=120)
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.WITHIN_GAP)
    if result.status is SolveStatus.WITHIN_GAP:
        assert result.bound is not None
        for tier, found in result.matched.as_dict().items():
            assert found >= (1 - 0.05) * result.bound[tier] - 1e-9


def test_a_stopped_watch_ends_the_search_with_a_valid_answer() -> None:
    """Stopped before it starts, the search still returns a complete answer that respects
    every limit, with status ``interrupted`` unless it was already proven optimal."""
    from matching.engine.budget import Watch
    from matching.engine.solve import interrupted_result
    from matching.io import read_problem

    problem = read_problem(SAMPLE / "referrals.csv", SAMPLE / "providers.csv")
    watch = Watch()
    watch.stop()
    result = solve(problem, watch=watch)
    assert result.status in (SolveStatus.INTERRUPTED, SolveStatus.OPTIMAL)
    assert limits_respected(problem, assignment_of(problem, result))
    posted = interrupted_result(watch)
    assert posted.status is SolveStatus.INTERRUPTED
    assert limits_respected(problem, assignment_of(problem, posted))
    assert len(posted.matches) == len(problem.referrals)
