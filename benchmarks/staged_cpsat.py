"""A straightforward staged CP-SAT model of the matching contract, for comparison only.

This is the naive design the engine improves on, kept so the benchmark table can show
what the engine's formulation buys. One boolean per feasible referral-provider pair (the
same pairs the engine sees, from :func:`matching.candidates.candidate_pairs`), and per provider
the contract's rows: parcels, people, deliveries and each dietary limit. The lexicographic
objective is solved the textbook way, one stage at a time:

1. maximise matched emergencies; fix that count as a lower bound;
2. maximise matched urgent referrals; fix;
3. maximise matched standard referrals; fix;
4. minimise total distance (whole metres).

Each stage is hinted with the previous stage's solution and capped at the same time limit
(so up to four times the limit in all). A stage stopped by the limit fixes the best count it
found, so the result is then feasible but not proven optimal; a stage that finds nothing in
time ends the run with the previous stage's solution.

Usage::

    python -m benchmarks.staged_cpsat REFERRALS.csv PROVIDERS.csv --time-limit 60 \\
        [--summary-json FILE] [--max-arcs N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from benchmarks.summary import assignment_of, check, write_json
from matching.candidates import Candidates, candidate_pairs
from matching.io import read_problem
from matching.models import (
    URGENCY_ORDER,
    Match,
    MatchResult,
    Mode,
    Problem,
    Reason,
    SolveStatus,
    TierCounts,
    Urgency,
)

METHOD = "staged CP-SAT"
DEFAULT_MAX_ARCS = 2_000_000
"""Above this many feasible pairs the model is not built: CP-SAT's memory grows past what a
shared 2-core benchmark machine can give it (7.4 GB at 1.46 M arcs in the solver notes)."""


@dataclass
class StageReport:
    """How one stage ended."""

    name: str
    status: str
    value: float | None
    bound: float | None
    seconds: float


@dataclass
class StagedResult:
    """The staged model's answer and how each stage went."""

    result: MatchResult
    stages: list[StageReport] = field(default_factory=list)
    arcs: int = 0


def solve_staged(
    problem: Problem,
    *,
    stage_limit: float = 60.0,
    workers: int = 2,
    candidates: Candidates | None = None,
) -> StagedResult:
    """Solve the contract with the staged CP-SAT model, each stage capped at ``stage_limit`` s."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    cands = candidate_pairs(problem) if candidates is None else candidates
    timings["candidates"] = time.perf_counter() - started

    mark = time.perf_counter()
    feasible = np.flatnonzero(cands.feasible)
    ref = cands.ref[feasible]
    prov = cands.prov[feasible]
    metres = np.rint(cands.distance_km[feasible] * 1000).astype(np.int64)
    n_arcs = int(feasible.size)

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in range(n_arcs)]
    # One provider per referral.
    starts = np.searchsorted(ref, np.arange(len(problem.referrals) + 1))
    for i in range(len(problem.referrals)):
        lo, hi = int(starts[i]), int(starts[i + 1])
        if hi - lo > 1:
            model.add_at_most_one(x[lo:hi])
    # Provider rows.
    order = np.argsort(prov, kind="stable")
    bounds = np.searchsorted(prov[order], np.arange(len(problem.providers) + 1))
    sizes = np.fromiter((r.household_size for r in problem.referrals), np.int64)
    needs_delivery = np.fromiter((r.needs_delivery for r in problem.referrals), bool)
    tag_sets = [r.dietary for r in problem.referrals]
    for j, provider in enumerate(problem.providers):
        arcs = order[bounds[j] : bounds[j + 1]]
        if arcs.size == 0:
            continue
        xs = [x[a] for a in arcs.tolist()]
        refs = ref[arcs]
        if arcs.size > provider.capacity:
            model.add(cp_model.LinearExpr.sum(xs) <= provider.capacity)
        if provider.people_capacity is not None and sizes[refs].sum() > provider.people_capacity:
            model.add(
                cp_model.LinearExpr.weighted_sum(xs, sizes[refs].tolist())
                <= provider.people_capacity
            )
        delivering = [v for v, r in zip(xs, refs.tolist(), strict=True) if needs_delivery[r]]
        if len(delivering) > provider.delivery_capacity:
            model.add(cp_model.LinearExpr.sum(delivering) <= provider.delivery_capacity)
        for tag, limit in provider.dietary.items():
            if limit is None:
                continue
            with_tag = [v for v, r in zip(xs, refs.tolist(), strict=True) if tag in tag_sets[r]]
            if len(with_tag) > limit:
                model.add(cp_model.LinearExpr.sum(with_tag) <= limit)
    tier_of = np.fromiter((r.urgency.rank for r in problem.referrals), np.int64)[ref]
    timings["build"] = time.perf_counter() - mark

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    stages: list[StageReport] = []
    proven = True
    best: list[int] = []  # the last solution found (0/1 per arc); empty = none yet
    objectives = [
        (f"max {u.value}", np.flatnonzero(tier_of == u.rank).tolist()) for u in URGENCY_ORDER
    ]
    for name, tier_arcs in [*objectives, ("min distance", None)]:
        if tier_arcs is None:
            model.minimize(cp_model.LinearExpr.weighted_sum(x, metres.tolist()))
        else:
            model.maximize(cp_model.LinearExpr.sum([x[a] for a in tier_arcs]))
        report, found = _run_stage(solver, model, x, name, stage_limit)
        stages.append(report)
        proven &= report.status == "OPTIMAL"
        if found is None:
            break  # nothing found in the time left: keep the previous stage's solution
        best = found
        if tier_arcs is not None and report.value is not None:
            # Fix this tier's count (the proven optimum, or the best found) for later stages.
            model.add(cp_model.LinearExpr.sum([x[a] for a in tier_arcs]) >= round(report.value))
    for report in stages:
        timings[f"solve.{report.name}"] = report.seconds
    timings["solve"] = sum(r.seconds for r in stages)

    chosen = np.full(len(problem.referrals), -1, dtype=np.int64)
    picked = np.flatnonzero(np.asarray(best, dtype=bool)) if best else np.zeros(0, np.int64)
    chosen[ref[picked]] = feasible[picked]
    result = _match_result(problem, cands, chosen, proven, time.perf_counter() - started, timings)
    return StagedResult(result, stages, n_arcs)


def _run_stage(
    solver: cp_model.CpSolver,
    model: cp_model.CpModel,
    x: list[cp_model.IntVar],
    name: str,
    limit: float,
) -> tuple[StageReport, list[int] | None]:
    """Solve one stage within ``limit`` seconds; on success, hint the next stage with it."""
    solver.parameters.max_time_in_seconds = limit
    mark = time.perf_counter()
    status = solver.solve(model)
    seconds = time.perf_counter() - mark
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return StageReport(name, solver.status_name(status), None, None, seconds), None
    found = [int(solver.boolean_value(v)) for v in x]
    model.clear_hints()  # type: ignore[no-untyped-call]
    for v, hint in zip(x, found, strict=True):
        model.add_hint(v, hint)
    report = StageReport(
        name,
        solver.status_name(status),
        solver.objective_value,
        solver.best_objective_bound,
        seconds,
    )
    return report, found


def _match_result(
    problem: Problem,
    cands: Candidates,
    chosen_pair: np.ndarray,
    proven: bool,
    seconds: float,
    timings: dict[str, float],
) -> MatchResult:
    """The chosen pairs as a MatchResult (reasons by the contract's rules, no explanations)."""
    reasons = cands.unmatched_reasons()
    counts = dict.fromkeys(Urgency, 0)
    total = 0.0
    matches: list[Match] = []
    for i, referral in enumerate(problem.referrals):
        a = int(chosen_pair[i])
        if a < 0:
            matches.append(Match(referral.referral_id, reasons[i]))
            continue
        distance = float(cands.distance_km[a])
        matches.append(
            Match(
                referral.referral_id,
                Reason.MATCHED,
                provider_id=problem.providers[int(cands.prov[a])].provider_id,
                mode=Mode.DELIVER if bool(cands.deliver[a]) else Mode.COLLECT,
                distance_km=distance,
            )
        )
        counts[referral.urgency] += 1
        total += distance
    return MatchResult(
        status=SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
        matches=tuple(matches),
        matched=TierCounts(
            counts[Urgency.EMERGENCY], counts[Urgency.URGENT], counts[Urgency.STANDARD]
        ),
        total_distance_km=round(total, 3),
        seconds=seconds,
        method=METHOD,
        timings=timings,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: solve one instance and write a summary in the CLI's JSON shape."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.staged_cpsat")
    parser.add_argument("referrals", type=Path)
    parser.add_argument("providers", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per stage")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-arcs", type=int, default=DEFAULT_MAX_ARCS)
    parser.add_argument("--summary-json", type=Path)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    problem = read_problem(args.referrals, args.providers)
    read_seconds = time.perf_counter() - started
    mark = time.perf_counter()
    cands = candidate_pairs(problem)
    candidate_seconds = time.perf_counter() - mark
    arcs = int(cands.feasible.sum())
    summary: dict[str, Any]
    if arcs > args.max_arcs:
        summary = {
            "status": "not run",
            "method": METHOD,
            "note": f"{arcs:,} feasible pairs > --max-arcs {args.max_arcs:,}",
            "arcs": arcs,
        }
    else:
        staged = solve_staged(
            problem, stage_limit=args.time_limit, workers=args.workers, candidates=cands
        )
        result = staged.result
        verdict = check(problem, assignment_of(result))
        summary = {
            "status": result.status.value,
            "method": METHOD,
            "matched": result.matched.as_dict(),
            "matched_total": result.matched.total,
            "unmatched": result.unmatched_by_reason,
            "total_distance_km": result.total_distance_km,
            "seconds": round(read_seconds + candidate_seconds + result.seconds, 3),
            "timings": {k: round(v, 4) for k, v in result.timings.items()}
            | {"read": round(read_seconds, 4), "candidates": round(candidate_seconds, 4)},
            "stages": [vars(s) for s in staged.stages],
            "arcs": arcs,
            "valid": verdict.valid,
            "errors": verdict.errors,
        }
    if args.summary_json:
        write_json(summary, args.summary_json)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
