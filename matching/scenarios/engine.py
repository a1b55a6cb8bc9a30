"""The one door from what-if planning to the matching engine.

Every scenario, sweep and Monte Carlo draw is solved through :func:`solve_problem`, so the
planning code names the engine's entry point in this one place. The engine is imported
when a run starts, not when planning code is imported (it loads OR-Tools).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matching.models import MatchResult, Problem

__all__ = ["solve_problem"]


def solve_problem(problem: Problem, *, time_limit: float | None = None) -> MatchResult:
    """The engine's optimal matching of ``problem`` (within ``time_limit`` seconds, if any)."""
    from matching.engine import solve

    return solve(problem, time_limit=time_limit)
