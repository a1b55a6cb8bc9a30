"""Problem -> MatchResult: the optimal assignment of referrals to providers, explained.

The objective is the contract's, lexicographic: the most emergency referrals matched, then
urgent, then standard, then the least total distance. Distances enter the model in whole
centimetres, so the total is optimal to within half a centimetre per matched referral.
The OR-Tools work lives in :mod:`matching.assignment`; this module translates the domain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.assignment import AssignmentModel, AssignmentSolution, solve_assignment
from matching.explain import Usage, explain
from matching.geo import Candidates, candidate_pairs, dietary_mask
from matching.models import (
    DIETARY_TAGS,
    MatchResult,
    Problem,
    SolveStatus,
    TierCounts,
    Urgency,
)

COST_UNITS_PER_KM = 100_000
"""Distances are optimised in whole centimetres: within half a centimetre per household of the
exact optimum, far below the metre that `distance_km` in matches.csv shows."""

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Layout:
    """Where each provider's rows sit in the model (for reading the usage back)."""

    model: AssignmentModel
    sizes: IntArray


def build_model(problem: Problem, candidates: Candidates) -> AssignmentModel:
    """The assignment model of a problem's feasible pairs and its providers' limits.

    Rows per provider: parcels (``capacity``), people (``people_capacity``), delivery slots
    (``delivery_capacity``) and one per capped dietary tag (``tag:limit``).
    """
    feasible = candidates.feasible
    ref = candidates.ref[feasible]
    prov = candidates.prov[feasible]
    deliver = candidates.deliver[feasible]
    cost = np.rint(candidates.distance_km[feasible] * COST_UNITS_PER_KM).astype(np.int64)
    n, m = len(problem.referrals), len(problem.providers)
    arcs = np.arange(ref.size, dtype=np.int64)
    sizes = np.fromiter((r.household_size for r in problem.referrals), np.int64, count=n)
    rank = np.fromiter((r.urgency.rank for r in problem.referrals), np.int64, count=n)
    masks = np.fromiter((dietary_mask(r.dietary) for r in problem.referrals), np.int64, count=n)

    row_bin: list[IntArray] = [np.arange(m, dtype=np.int64)]
    row_cap: list[IntArray] = [np.fromiter((p.capacity for p in problem.providers), np.int64, m)]
    e_row: list[IntArray] = [prov]
    e_arc: list[IntArray] = [arcs]
    e_weight: list[IntArray] = [np.ones(ref.size, dtype=np.int64)]
    next_row = m

    def add_rows(
        row_of_provider: IntArray,
        caps: list[int],
        selected: npt.NDArray[np.bool_],
        weights: IntArray,
        owners: list[int],
    ) -> None:
        nonlocal next_row
        row_bin.append(np.asarray(owners, dtype=np.int64))
        row_cap.append(np.asarray(caps, dtype=np.int64))
        take = selected & (row_of_provider[prov] >= 0)
        e_row.append(row_of_provider[prov[take]])
        e_arc.append(arcs[take])
        e_weight.append(weights[take])
        next_row += len(caps)

    people = [j for j, p in enumerate(problem.providers) if p.people_capacity is not None]
    if people:
        row_of = np.full(m, -1, dtype=np.int64)
        row_of[people] = next_row + np.arange(len(people))
        caps = [int(problem.providers[j].people_capacity or 0) for j in people]
        add_rows(row_of, caps, np.ones(ref.size, dtype=bool), sizes[ref], people)
    delivering = [j for j, p in enumerate(problem.providers) if p.delivery_capacity > 0]
    if delivering:
        row_of = np.full(m, -1, dtype=np.int64)
        row_of[delivering] = next_row + np.arange(len(delivering))
        caps = [problem.providers[j].delivery_capacity for j in delivering]
        add_rows(row_of, caps, deliver, np.ones(ref.size, dtype=np.int64), delivering)
    for bit, tag in enumerate(DIETARY_TAGS):
        capped = [j for j, p in enumerate(problem.providers) if p.dietary.get(tag) is not None]
        if not capped:
            continue
        row_of = np.full(m, -1, dtype=np.int64)
        row_of[capped] = next_row + np.arange(len(capped))
        caps = [int(problem.providers[j].dietary[tag] or 0) for j in capped]
        has_tag = ((masks[ref] >> bit) & 1).astype(bool)
        add_rows(row_of, caps, has_tag, np.ones(ref.size, dtype=np.int64), capped)

    return AssignmentModel(
        n_items=n,
        item_rank=rank,
        arc_item=ref,
        arc_bin=prov,
        arc_cost=cost,
        row_bin=np.concatenate(row_bin),
        row_capacity=np.concatenate(row_cap),
        entry_row=np.concatenate(e_row),
        entry_arc=np.concatenate(e_arc),
        entry_weight=np.concatenate(e_weight),
    )


def solve(problem: Problem, *, time_limit: float | None = None) -> MatchResult:
    """Match referrals to providers optimally (or best found within ``time_limit`` seconds).

    Never raises on an empty or infeasible problem: unmatched referrals carry a reason.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    candidates = candidate_pairs(problem)
    timings["candidates"] = time.perf_counter() - started

    mark = time.perf_counter()
    model = build_model(problem, candidates)
    timings["build"] = time.perf_counter() - mark

    mark = time.perf_counter()
    left = None if time_limit is None else max(time_limit - (mark - started), 0.0)
    solution = solve_assignment(model, time_limit=left)
    timings["solve"] = time.perf_counter() - mark
    for phase, seconds in solution.timings.items():
        timings[f"solve.{phase}"] = seconds

    mark = time.perf_counter()
    feasible_index = np.flatnonzero(candidates.feasible)
    chosen_pair = np.full(len(problem.referrals), -1, dtype=np.int64)
    matched = solution.chosen >= 0
    chosen_pair[matched] = feasible_index[solution.chosen[matched]]
    matches = explain(problem, candidates, chosen_pair, Usage.of(problem, candidates, chosen_pair))
    timings["explain"] = time.perf_counter() - mark
    return _result(problem, matches, solution, time.perf_counter() - started, timings)


def _result(
    problem: Problem,
    matches: list,  # type: ignore[type-arg]
    solution: AssignmentSolution,
    seconds: float,
    timings: dict[str, float],
) -> MatchResult:
    counts = {u: 0 for u in Urgency}
    total = 0.0
    for referral, match in zip(problem.referrals, matches, strict=True):
        if match.matched:
            counts[referral.urgency] += 1
            total += float(match.distance_km or 0.0)
    bound = None
    if not solution.proven:
        by_rank = {u.rank: u for u in Urgency}
        bound = {by_rank[r].value: float(v) for r, v in solution.rank_bound.items() if r in by_rank}
        if solution.cost_bound is not None:
            bound["total_distance_km"] = solution.cost_bound / COST_UNITS_PER_KM
    return MatchResult(
        status=SolveStatus.OPTIMAL if solution.proven else SolveStatus.FEASIBLE,
        matches=tuple(matches),
        matched=TierCounts(
            counts[Urgency.EMERGENCY], counts[Urgency.URGENT], counts[Urgency.STANDARD]
        ),
        total_distance_km=round(total, 3),  # the sum of the 3-decimal distances in matches.csv
        seconds=seconds,
        method=solution.method,
        bound=bound,
        timings=timings,
    )
