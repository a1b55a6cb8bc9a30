"""Summaries of match results: the run summary (``--summary-json``) and side-by-side tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from matching.baseline import METHOD as BASELINE_METHOD
from matching.models import MatchResult, Problem, Reason, SolveStatus, Urgency

if TYPE_CHECKING:  # pandas is imported where frames are made: `foodmatch match` never needs it
    import pandas as pd

_UNMATCHED = [r for r in Reason if r is not Reason.MATCHED]


def run_summary(
    result: MatchResult, problem: Problem, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A run's summary as JSON-able data: what ``foodmatch match --summary-json`` writes.

    ``seconds`` is the engine's own time here; a caller that timed more (reading and writing
    too) gives the whole run's in ``extra``, and the engine's stays as ``solve_seconds``.
    ``extra`` replaces keys in place or adds its own after them (the benchmark runners write
    the same summary with their own facts added).
    """
    summary: dict[str, Any] = {
        "status": result.status.value,
        "optimal": result.status is SolveStatus.OPTIMAL,
        "method": result.method,
        "referrals": len(problem.referrals),
        "providers": len(problem.providers),
        "matched": result.matched.as_dict(),
        "matched_total": result.matched.total,
        "unmatched": result.unmatched_by_reason,
        "total_distance_km": round(result.total_distance_km, 3),
        "seconds": round(result.seconds, 3),
        "solve_seconds": round(result.seconds, 3),
        "bound": dict(result.bound) if result.bound else None,
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
    }
    summary.update(extra or {})
    return summary


UNMATCHED_WORDS = {
    Reason.NO_PROVIDER_IN_REACH: "not matched: no site in reach",
    Reason.DIETARY_UNAVAILABLE: "not matched: no dietary stock in reach",
    Reason.NOT_ELIGIBLE: "not matched: outside every service area",
    Reason.CAPACITY_EXHAUSTED: "not matched: every site in reach full",
}
"""The table's rows for households left without a place, by the contract's reason codes."""


def comparison_frame(problem: Problem, results: Mapping[str, MatchResult]) -> pd.DataFrame:
    """One column per result: matched per tier, people served, distance, unmatched by reason."""
    import pandas as pd

    totals = {u: sum(1 for r in problem.referrals if r.urgency is u) for u in Urgency}
    sizes = {r.referral_id: r.household_size for r in problem.referrals}
    people_total = sum(sizes.values())
    columns: dict[str, list[str]] = {}
    index: list[str] = []
    for name, result in results.items():
        matched = [m for m in result.matches if m.matched]
        km = sum(float(m.distance_km or 0.0) for m in matched)
        people = sum(sizes[m.referral_id] for m in matched)
        rows: list[tuple[str, str]] = []
        for urgency in Urgency:
            count = getattr(result.matched, urgency.value)
            rows.append((f"{urgency.value} matched", f"{count} / {totals[urgency]}"))
        rows.append(("households matched", f"{len(matched)} / {len(problem.referrals)}"))
        rows.append(("people served", f"{people} / {people_total}"))
        rows.append(("total km", f"{km:,.1f}"))
        rows.append(("mean km", f"{km / len(matched):.2f}" if matched else "-"))
        unmatched = result.unmatched_by_reason
        for reason in _UNMATCHED:
            rows.append((UNMATCHED_WORDS[reason], str(unmatched.get(reason.value, 0))))
        rows.append(("status", _status(result)))
        index = [label for label, _ in rows]
        columns[name] = [value for _, value in rows]
    return pd.DataFrame(columns, index=index)


def _status(result: MatchResult) -> str:
    """The status row: a greedy replay makes no optimality claim, so it says so."""
    if result.method == BASELINE_METHOD:
        return "greedy (no claim)"
    return result.status.value


def comparison_table(problem: Problem, results: Mapping[str, MatchResult]) -> str:
    """:func:`comparison_frame` as a plain-text table."""
    frame = comparison_frame(problem, results)
    return frame.to_string()


def plain_method(result: MatchResult) -> str:
    """How the answer was found and what is proven, in words for a planner (no solver names)."""
    method = result.method
    if result.status is SolveStatus.OPTIMAL:
        proof = "the best possible assignment, proven"
    elif result.status is SolveStatus.INTERRUPTED:
        proof = "the best assignment found before the run was stopped (not proven best)"
    elif result.status is SolveStatus.WITHIN_GAP:
        proof = "an assignment within the requested distance of the best possible (not proven)"
    else:
        proof = "the best assignment found in the time allowed (not proven best)"
    if method == BASELINE_METHOD:
        return "each household in arrival order to the nearest site with room (no optimisation)"
    if method.startswith("min-cost flow +"):
        parts = method.split(" on ", 1)[1].split(" components", 1)[0] if " on " in method else ""
        groups = f" for {parts} groups of sites" if parts else ""
        how = (
            "a network calculation over every possible place, then a step-by-step "
            f"optimisation{groups} where household sizes or stock limits had to be weighed"
        )
    elif method.startswith("min-cost flow"):
        how = "a network calculation over every possible place"
    else:
        how = "no calculation was needed"
    return f"{proof}; found by {how}"


def trade_off(problem: Problem, optimal: MatchResult, baseline: MatchResult) -> str:
    """One plain sentence on what the optimum gains and gives up against the baseline."""
    sizes = {r.referral_id: r.household_size for r in problem.referrals}

    def people(result: MatchResult) -> int:
        return sum(sizes[m.referral_id] for m in result.matches if m.matched)

    gains: list[str] = []
    losses: list[str] = []
    for urgency in Urgency:
        diff = getattr(optimal.matched, urgency.value) - getattr(baseline.matched, urgency.value)
        if diff > 0:
            gains.append(f"{diff:,} more {urgency.value}")
        elif diff < 0:
            losses.append(f"{-diff:,} fewer {urgency.value}")
    more_people = people(optimal) - people(baseline)
    if not gains and not losses:
        text = "It matches as many households of each urgency as first come, first served"
    elif gains:
        text = f"It matches {' and '.join(gains)} households than first come, first served"
    else:
        text = f"It matches {' and '.join(losses)} households than first come, first served"
    if gains and losses:
        text += (
            f", and {' and '.join(losses)}: places go to the more urgent first, so fewer are "
            "left for the rest"
        )
    if more_people > 0:
        text += f"; it feeds {more_people:,} more people in all"
    elif more_people < 0:
        text += f"; it feeds {-more_people:,} fewer people in all"
    return text + "."
