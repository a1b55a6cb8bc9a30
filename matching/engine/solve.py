"""Problem -> MatchResult: the optimal assignment of referrals to providers, explained.

The objective is the contract's, lexicographic: the most emergency referrals matched, then
urgent, then standard, then the least total distance. Distances enter the model in whole
centimetres, so the total is optimal to within half a centimetre per matched referral.

How the model is solved, fastest first, each step exact where it claims to be:

1. *Preprocessing*: an arc heavier than one of its rows is dropped (it can never fit); a row
   whose arcs together can never exceed it is dropped (it can never bind).
2. *Network* (:mod:`matching.engine.network`): when every remaining row has unit weights and
   each bin's rows nest, the model is a min-cost flow, solved exactly.
3. *Relaxation certificate*: otherwise the flow over a laminar subset of the rows is a
   relaxation. When its optimum happens to satisfy every row, it is optimal for the full model.
4. *Staged search* (:mod:`matching.engine.staged`): otherwise a repaired version of the
   relaxed solution seeds the staged LP/MIP search of each troubled component.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matching.candidates import Candidates, candidate_pairs
from matching.engine.budget import Deadline, Progress, Watch
from matching.engine.model import (
    COST_UNITS_PER_KM,
    AssignmentModel,
    AssignmentSolution,
    build_model,
)
from matching.engine.network import (
    cheapest_arcs,
    components,
    laminar_family,
    lex_key,
    priced_flows,
    prune,
    rank_counts,
    rank_counts_where,
    repair,
    solve_flow,
    violated_rows,
)
from matching.engine.staged import ComponentSearch
from matching.engine.stages import search_component
from matching.explain import Usage, explain
from matching.models import Match, MatchResult, Problem, SolveStatus, TierCounts, Urgency

MAX_SEARCH_ARCS = 1_500_000
"""Components with more live arcs than this are not searched whole (their LP alone would
take minutes here) but over each household's ``RESTRICTED_ARCS_PER_ITEM`` cheapest options:
the answer is feasible and reported as not proven."""
RESTRICTED_ARCS_PER_ITEM = 6
PRICED_ROUNDS = 3
"""At most this many priced flows (fewer when the time left is short: at most about half
of it goes to them)."""
SEARCH_SECONDS_PER_ARC = 5e-6
"""Grouping a component's households costs about this per live arc (measured: 3.7 s for
574k arcs, 0.5 s for 122k); a component the time left cannot even group is not searched."""


def solve_assignment(
    model: AssignmentModel,
    *,
    time_limit: float | None = None,
    gap: float = 0.0,
    watch: Watch | None = None,
    names: Mapping[int, str] | None = None,
) -> AssignmentSolution:
    """Lexicographically optimal assignment, or the best found within ``time_limit`` seconds.

    ``gap`` (relative, 0 = exact) ends each stage as soon as its incumbent is that close to
    its bound; ``watch`` follows the run (progress, best answer so far) and can stop it.
    Never raises for an empty or infeasible model: every item may stay unmatched.
    """
    deadline = Deadline(time_limit, watch)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def tell(stage: str, detail: str = "") -> None:
        if watch is not None:
            watch.report(Progress(stage, detail=detail))

    if model.n_items == 0 or model.n_arcs == 0:
        return AssignmentSolution(np.full(model.n_items, -1, dtype=np.int64), True, "empty")
    tell("presolve", f"{model.n_items:,} households, {model.n_arcs:,} feasible pairs")
    arc_alive, row_alive = prune(model)
    family, laminar = laminar_family(model, arc_alive, row_alive)
    timings["presolve"] = time.perf_counter() - started

    started = time.perf_counter()
    tell("min-cost flow")
    chosen = solve_flow(model, arc_alive, family)
    timings["flow"] = time.perf_counter() - started
    rank_bound = rank_counts(model, chosen)
    if laminar:
        return AssignmentSolution(chosen, True, "min-cost flow", rank_bound, None, timings)
    violated = violated_rows(model, chosen, row_alive)
    if not violated.size:
        return AssignmentSolution(
            chosen, True, "min-cost flow (relaxation feasible)", rank_bound, None, timings
        )

    started = time.perf_counter()
    entries = sp.csr_matrix(
        (model.entry_weight.astype(np.float64), (model.entry_arc, model.entry_row)),
        shape=(model.n_arcs, model.n_rows),
    )
    best = repair(model, chosen, arc_alive, row_alive, entries)
    if watch is not None:
        watch.post(best, rank_bound)
    timings["repair"] = time.perf_counter() - started
    if lex_key(model, best)[:-1] != lex_key(model, chosen)[:-1] and not deadline.expired():
        # The repair lost households: a few priced flows usually lose far fewer.
        started = time.perf_counter()
        tell("priced flows", "pricing the limits a flow cannot hold")
        flow_seconds = timings["flow"]
        rounds = PRICED_ROUNDS
        left = deadline.left()
        if left is not None:
            rounds = min(rounds, int(left / (2 * flow_seconds + 1e-3)))
        best = priced_flows(
            model, arc_alive, row_alive, family, entries, chosen, best, rounds, deadline.left
        )
        if watch is not None:
            watch.post(best, rank_bound)
        timings["priced"] = time.perf_counter() - started
    started = time.perf_counter()
    component = components(model, arc_alive)
    troubled = sorted({int(component[b]) for b in model.row_bin[violated].tolist()})
    arcs_of = {label: np.flatnonzero(arc_alive & (component[model.arc_bin] == label))
               for label in troubled}  # fmt: skip
    remaining = sum(a.size for a in arcs_of.values())
    proven = True
    searched_labels: list[int] = []
    restricted = 0
    cost_bound: float | None = 0.0
    bounds: dict[int, int] = {}
    # Smallest first: small components settle in milliseconds, and each gets its share of
    # the time left by size, but never less than a quarter of it (up to 2 s).
    for number, label in enumerate(sorted(troubled, key=lambda k: arcs_of[k].size), 1):
        arcs = arcs_of[label]
        left = deadline.left()
        share = None
        if left is not None:
            share = max(left * arcs.size / max(remaining, 1), min(left / 4, 2.0))
        remaining -= arcs.size
        items = np.zeros(model.n_items, dtype=bool)
        items[model.arc_item[arcs]] = True
        relaxed_here = rank_counts_where(model, chosen, items)
        whole = arcs.size <= MAX_SEARCH_ARCS
        if not whole:
            # Too large to search whole: search each household's few cheapest options (and
            # the current one). That answer is feasible, but its LP bounds are not bounds of
            # the whole, so the flow relaxation's counts are reported instead.
            arcs = cheapest_arcs(model, arcs, best, RESTRICTED_ARCS_PER_ITEM)
            restricted += 1
        where = f"part {number} of {len(troubled)} ({int(items.sum()):,} households)"
        if share is not None and share < SEARCH_SECONDS_PER_ARC * arcs.size:
            proven = False
            for rank, value in relaxed_here.items():
                bounds[rank] = bounds.get(rank, 0) + value
            cost_bound = None
            searched_labels.append(label)
            continue
        tell("grouping households", where)
        search = ComponentSearch(model, arcs, row_alive, entries)
        report = search_component(
            search,
            best,
            deadline.share(share),
            relaxed_here,
            gap=gap,
            watch=watch,
            names=names,
            label=where,
        )
        searched_labels.append(label)
        best = report.chosen
        proven = proven and report.proven and whole
        for rank, value in (report.rank_bound if whole else relaxed_here).items():
            bounds[rank] = bounds.get(rank, 0) + value
        cost_bound = (
            None
            if cost_bound is None or report.cost_bound is None or not whole
            else cost_bound + report.cost_bound
        )
        for key, seconds in report.times.items():
            timings[f"mip.{key}"] = timings.get(f"mip.{key}", 0.0) + seconds
    timings["mip"] = time.perf_counter() - started
    searched = len(searched_labels)
    method = (
        f"min-cost flow + aggregated staged LP/MIP (GLOP, SCIP, HiGHS) on {searched} of "
        f"{int(component.max()) + 1} components"
    )
    if restricted:
        method += (
            f"; {restricted} too large to search whole, searched over each household's "
            f"{RESTRICTED_ARCS_PER_ITEM} cheapest options"
        )
    if proven:
        return AssignmentSolution(best, True, method, rank_counts(model, best), None, timings)
    # What is proven about the whole: searched components by their LP bounds, components
    # without trouble by their (optimal) flow answer, the rest by the flow relaxation.
    searched_bins = np.isin(component, searched_labels)
    outside = ~searched_bins[model.arc_bin[np.maximum(chosen, 0)]]
    relaxed = rank_counts_where(model, chosen, outside)
    rank_bound = {r: bounds.get(r, 0) + relaxed.get(r, 0) for r in rank_bound}
    if cost_bound is not None:
        untroubled = ~np.isin(component, troubled)[model.arc_bin[np.maximum(chosen, 0)]]
        picked = chosen[(chosen >= 0) & untroubled]
        cost_bound += float(model.arc_cost[picked].sum())
    return AssignmentSolution(best, False, method, rank_bound, cost_bound, timings)


TIER_NAMES = {u.rank: u.value for u in Urgency}


@dataclass
class Run:
    """What a caller needs to finish a run itself (after an interrupt): set by :func:`solve`."""

    problem: Problem
    candidates: Candidates


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    gap: float = 0.0,
    watch: Watch | None = None,
) -> MatchResult:
    """Match referrals to providers optimally (or best found within ``time_limit`` seconds).

    ``gap`` stops each tier as soon as it is within that relative gap of its bound (then the
    status says so); ``watch`` follows the run and may stop it (status ``interrupted``).
    Never raises on an empty or infeasible problem: unmatched referrals carry a reason.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if watch is not None:
        watch.report(Progress("finding who can reach which site"))
    candidates = candidate_pairs(problem)
    timings["candidates"] = time.perf_counter() - started
    if watch is not None:
        watch.context = Run(problem, candidates)

    mark = time.perf_counter()
    model = build_model(problem, candidates)
    timings["build"] = time.perf_counter() - mark

    mark = time.perf_counter()
    left = None if time_limit is None else max(time_limit - (mark - started), 0.0)
    solution = solve_assignment(model, time_limit=left, gap=gap, watch=watch, names=TIER_NAMES)
    timings["solve"] = time.perf_counter() - mark
    for phase, seconds in solution.timings.items():
        timings[f"solve.{phase}"] = seconds

    status = SolveStatus.OPTIMAL if solution.proven else SolveStatus.FEASIBLE
    if watch is not None and watch.stopped and not solution.proven:
        status = SolveStatus.INTERRUPTED
    elif gap > 0 and not solution.proven and (left is None or time.perf_counter() - mark < left):
        status = SolveStatus.WITHIN_GAP
    return _finish(problem, candidates, solution, status, started, timings)


def interrupted_result(watch: Watch) -> MatchResult:
    """The best answer ``watch`` has seen, as a result with status ``interrupted``.

    For a caller that stops a run and does not wait for the engine to return; before any
    answer was posted every household is unmatched (with its reason).
    """
    started = time.perf_counter()
    context = watch.context
    if context is None:
        raise RuntimeError("the run had not started")
    n = len(context.problem.referrals)
    with watch.lock:
        chosen = np.full(n, -1, dtype=np.int64) if watch.best is None else watch.best.copy()
        bound = dict(watch.rank_bound)
    solution = AssignmentSolution(chosen, False, "interrupted", bound, None, {})
    timings = {"elapsed": time.perf_counter() - watch.started}
    return _finish(
        context.problem, context.candidates, solution, SolveStatus.INTERRUPTED, started, timings
    )


def _finish(
    problem: Problem,
    candidates: Candidates,
    solution: AssignmentSolution,
    status: SolveStatus,
    started: float,
    timings: dict[str, float],
) -> MatchResult:
    """Explain the chosen arcs and count what they achieve."""
    mark = time.perf_counter()
    feasible_index = np.flatnonzero(candidates.feasible)
    chosen_pair = np.full(len(problem.referrals), -1, dtype=np.int64)
    matched = solution.chosen >= 0
    chosen_pair[matched] = feasible_index[solution.chosen[matched]]
    usage = Usage.of(problem, candidates, chosen_pair)
    matches = explain(problem, candidates, chosen_pair, usage, proven=solution.proven)
    timings["explain"] = time.perf_counter() - mark
    return _result(problem, matches, solution, status, time.perf_counter() - started, timings)


def _result(
    problem: Problem,
    matches: list[Match],
    solution: AssignmentSolution,
    status: SolveStatus,
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
        status=status,
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
