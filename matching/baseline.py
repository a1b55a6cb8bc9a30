"""First come, first served: the e-mail process the engine replaces, kept as a yardstick.

Referrals are taken strictly in input order (the order the e-mails arrived); each goes to
the nearest provider that is feasible for it under the contract (mode and distance, dietary
tags listed, service area) and still has room for it: a parcel left under ``capacity``,
enough ``people_capacity`` for the whole household, a parcel left under every dietary
``tag:limit`` it needs, and, for a delivery, ``delivery_capacity`` left. Nobody is ever
moved once placed, and urgency plays no part, which is exactly why it does worse than the
optimiser on the urgent tiers and on distance.

The result has the engine's shape (one :class:`Match` per referral, in input order, with
the contract's reason codes), so the demo and the benchmarks can put the two side by side.
It is not an optimiser, so its status is never ``OPTIMAL``.
"""

from __future__ import annotations

import time

import numpy as np

from matching.candidates import Candidates, candidate_pairs
from matching.models import (
    DIETARY_TAGS,
    Match,
    MatchResult,
    Mode,
    Problem,
    Reason,
    SolveStatus,
    TierCounts,
    Urgency,
)

METHOD = "first-come-first-served"

_NO_LIMIT = np.iinfo(np.int64).max // 4
_CONSIDERED = 3
"""How many nearby providers an explanation names."""

_UNMATCHED_TEXT = {
    Reason.NO_PROVIDER_IN_REACH: "No provider is within reach by the mode this household needs.",
    Reason.DIETARY_UNAVAILABLE: (
        "Providers are within reach, but none lists every dietary need of this household."
    ),
    Reason.NOT_ELIGIBLE: (
        "Providers within reach list its dietary needs, but none serves its area."
    ),
    Reason.CAPACITY_EXHAUSTED: (
        "Feasible providers exist, but their capacity had gone to earlier referrals "
        "when this one's turn came (first come, first served)."
    ),
}


def first_come_first_served(problem: Problem) -> MatchResult:
    """Place referrals in input order, each with the nearest feasible provider with room.

    Never raises on an empty problem; referrals that cannot be placed get the first reason
    code that applies, ``capacity_exhausted`` whenever some feasible provider exists.
    """
    started = time.perf_counter()
    candidates = candidate_pairs(problem)
    after_candidates = time.perf_counter()
    chosen = _assign(problem, candidates)
    after_assign = time.perf_counter()
    result = _result(problem, candidates, chosen)
    finished = time.perf_counter()
    return MatchResult(
        status=SolveStatus.FEASIBLE,
        matches=result[0],
        matched=result[1],
        total_distance_km=result[2],
        seconds=finished - started,
        method=METHOD,
        timings={
            "candidates": after_candidates - started,
            "solve": after_assign - after_candidates,
            "explain": finished - after_assign,
        },
    )


def _assign(problem: Problem, candidates: Candidates) -> list[int]:
    """For each referral, the index into ``candidates`` of its pair, or -1 if unplaced."""
    providers = problem.providers
    n, m = len(problem.referrals), len(providers)
    capacity = np.fromiter((p.capacity for p in providers), dtype=np.int64, count=m)
    people = np.fromiter(
        (_NO_LIMIT if p.people_capacity is None else p.people_capacity for p in providers),
        dtype=np.int64,
        count=m,
    )
    delivery = np.fromiter((p.delivery_capacity for p in providers), dtype=np.int64, count=m)
    # Per provider and tag: parcels that may still carry the tag (unlisted tags never get
    # this far: such pairs are not feasible).
    tag_left = np.full((m, len(DIETARY_TAGS)), _NO_LIMIT, dtype=np.int64)
    for j, provider in enumerate(providers):
        for tag, limit in provider.dietary.items():
            if limit is not None:
                tag_left[j, DIETARY_TAGS.index(tag)] = limit

    feasible = np.flatnonzero(candidates.feasible)
    f_ref = candidates.ref[feasible]
    f_prov = candidates.prov[feasible]
    bounds = np.searchsorted(f_ref, np.arange(n + 1)).tolist()

    check_people = any(p.people_capacity is not None for p in providers)
    chosen = [-1] * n
    for i, referral in enumerate(problem.referrals):
        lo, hi = bounds[i], bounds[i + 1]
        if lo == hi:
            continue
        provs = f_prov[lo:hi]
        room = capacity[provs] > 0
        if referral.needs_delivery:
            room &= delivery[provs] > 0
        if check_people:
            room &= people[provs] >= referral.household_size
        tags = [DIETARY_TAGS.index(t) for t in referral.dietary]
        for t in tags:
            room &= tag_left[provs, t] > 0
        k = int(room.argmax())
        if not room[k]:
            continue
        j = int(provs[k])
        capacity[j] -= 1
        people[j] -= referral.household_size
        if referral.needs_delivery:
            delivery[j] -= 1
        for t in tags:
            tag_left[j, t] -= 1
        chosen[i] = int(feasible[lo + k])
    return chosen


def _result(
    problem: Problem, candidates: Candidates, chosen: list[int]
) -> tuple[tuple[Match, ...], TierCounts, float]:
    """Matches with reasons and explanations, tier counts and total distance."""
    providers = problem.providers
    n = len(problem.referrals)
    reasons = candidates.unmatched_reasons()
    bounds = np.searchsorted(candidates.ref, np.arange(n + 1)).tolist()
    # Pair index per referral (0 stands in for "none"; with no pairs at all, nobody is placed
    # and these lists stay empty).
    safe = np.maximum(np.asarray(chosen, dtype=np.int64), 0)
    if candidates.ref.size == 0:
        safe = safe[:0]
    prov_of = candidates.prov[safe].tolist()
    dist_of = candidates.distance_km[safe].tolist()
    deliver_of = candidates.deliver[safe].tolist()
    # Feasible pairs nearer than the chosen one: the providers passed over for lack of room.
    feasible = np.flatnonzero(candidates.feasible)
    first_feasible = np.searchsorted(feasible, np.asarray(bounds[:-1], dtype=np.int64)).tolist()
    chosen_rank = np.searchsorted(feasible, safe).tolist()

    matches: list[Match] = []
    tiers = dict.fromkeys(Urgency, 0)
    total = 0.0
    for i, referral in enumerate(problem.referrals):
        lo, hi = bounds[i], bounds[i + 1]
        if chosen[i] >= 0:
            provider = providers[prov_of[i]]
            distance = dist_of[i]
            nearer = feasible[first_feasible[i] : min(chosen_rank[i], first_feasible[i] + 3)]
            skipped = tuple(providers[j].provider_id for j in candidates.prov[nearer].tolist())
            text = (
                f"{provider.name} was the nearest feasible provider with room when this "
                f"referral's turn came ({distance:.1f} km)."
            )
            if skipped:
                nearer_ids = ", ".join(skipped)
                text += f" Feasible providers as near or nearer had no room left: {nearer_ids}."
            matches.append(
                Match(
                    referral_id=referral.referral_id,
                    reason=Reason.MATCHED,
                    provider_id=provider.provider_id,
                    mode=Mode.DELIVER if deliver_of[i] else Mode.COLLECT,
                    distance_km=distance,
                    explanation=text,
                    considered=skipped,
                )
            )
            tiers[referral.urgency] += 1
            total += distance
            continue
        reason = reasons[i]
        nearest = tuple(
            providers[j].provider_id
            for j in candidates.prov[lo : min(hi, lo + _CONSIDERED)].tolist()
        )
        text = _UNMATCHED_TEXT[reason]
        if nearest:
            text += f" Nearest considered: {', '.join(nearest)}."
        matches.append(
            Match(
                referral_id=referral.referral_id,
                reason=reason,
                explanation=text,
                considered=nearest,
            )
        )
    counts = TierCounts(
        emergency=tiers[Urgency.EMERGENCY],
        urgent=tiers[Urgency.URGENT],
        standard=tiers[Urgency.STANDARD],
    )
    return tuple(matches), counts, total
