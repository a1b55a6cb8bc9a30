"""The stages of one component's search: each tier's count, then the distance.

Each stage has the earlier stages' optima as floors. A count stage is proven at once when
the incumbent meets the flow relaxation's count (every higher tier having met its own);
otherwise its LP (:class:`~matching.engine.staged.ComponentSearch`) gives a bound, a rounding
of the LP usually meets it, and a MIP shrunk by LP reduced-cost fixing settles the rest in
the time given. Then the same for the total distance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from matching.engine.budget import Deadline, Progress, Watch
from matching.engine.model import COST_UNITS_PER_KM
from matching.engine.staged import (
    _TOL,
    COUNT_LP,
    COUNT_PROOF_SHARE,
    LARGE_COLUMNS,
    LARGE_COST_LP,
    ComponentSearch,
    FloatArray,
    IntArray,
    StageReport,
    _Lp,
)


def search_component(
    search: ComponentSearch,
    start: IntArray,
    deadline: Deadline,
    relaxed: dict[int, int],
    *,
    gap: float = 0.0,
    watch: Watch | None = None,
    names: Mapping[int, str] | None = None,
    label: str = "",
) -> StageReport:
    """Run the stages on one component, starting from ``start`` (a feasible solution).

    ``relaxed`` holds the component's counts per rank in the flow relaxation: the bound
    reported for a rank whose LP could not be solved in the time left, and a proof on its
    own when the incumbent meets it and every higher rank met its own. A stage ends as soon
    as its incumbent is within ``gap`` (relative) of its bound. Every better answer is
    posted to ``watch`` (so an interrupted run can still hand it out) with a progress report.
    """
    best = search.fill(search.to_columns(start))
    proven = True
    rank_bound: dict[int, int] = {}
    cost_bound: float | None = None
    at_relaxation = True  # every higher rank so far matched its flow-relaxation count

    def tier(rank: int) -> str:
        return (names or {}).get(rank, f"rank {rank}")

    def tell(stage: str, rank: int | None, value: float, bound: float | None) -> None:
        if watch is not None:
            name = "distance" if rank is None else tier(rank)
            shown = value if rank is not None else value / COST_UNITS_PER_KM
            top = bound if bound is None or rank is not None else bound / COST_UNITS_PER_KM
            watch.report(Progress(stage, name, shown, top, label))

    def consider(y: FloatArray | None) -> None:
        nonlocal best
        if y is not None and search.key(y) < search.key(best):
            best = y
            if watch is not None:
                watch.post(search.to_arcs(best, start))

    def short(value: float, bound: float) -> bool:
        """Whether a count ``value`` is still worth improving towards ``bound``."""
        return value < bound - max(_TOL, gap * bound)

    if watch is not None:
        watch.post(search.to_arcs(best, start))
    for rank in search.ranks:
        objective = (search.col_rank == rank).astype(np.float64)
        value = float(objective @ best)
        if at_relaxation and value >= relaxed.get(rank, 0) - _TOL:
            # The flow relaxation allows no more of this rank given the ranks above: proven.
            rank_bound[rank] = relaxed.get(rank, 0)
            search.floors[rank] = float(round(value))
            tell("proven by the flow relaxation", rank, value, relaxed.get(rank, 0))
            continue
        at_relaxation = False
        tell("LP bound", rank, value, relaxed.get(rank))
        # The LP also breaks ties by cost, by a weight too small to give up a whole item
        # (epsilon times the costliest total stays below one), so its rounding is already
        # near the cost optimum and the cost stage starts close to its own LP.
        # On large components that LP is several times slower than the plain count LP
        # (measured: 5.2 s against 0.7 s at 90k columns), so they go without it.
        costliest = float(search.class_count @ _class_max(search))
        epsilon = 1.0 / (costliest + 2.0) if search.n_cols <= LARGE_COLUMNS else 0.0
        lp = search.lp(objective - epsilon * search.col_cost, True, f"rank{rank}.lp", COUNT_LP,
                       deadline)  # fmt: skip
        if lp is None:  # out of time: the LP always has the feasible point best
            proven = False
            rank_bound[rank] = relaxed.get(rank, 0)
            search.floors[rank] = float(objective @ best)
            continue
        # Any solution's count is at most the LP value plus what its cost term can take away.
        bound = math.floor(lp.value + epsilon * costliest + _TOL)
        rank_bound[rank] = bound
        # The rounding and the proof of a count stage may take a part of the time left
        # (counted after its LP); the cost stage, which needs its LP and rounding to give
        # sensible distances at all, keeps the rest.
        left = deadline.left()
        stage = deadline.share(None if left is None else left * COUNT_PROOF_SHARE)
        # The MIPs also keep as many lower-rank items as they can (worth less than one of
        # this rank in all), so a stage cut short by the deadline does not drop them.
        lower_ranks = (search.col_rank < rank).astype(np.float64)
        weighted = objective * (float(search.class_count.sum()) + 1.0) + lower_ranks
        if short(objective @ best, bound) and not deadline.expired():
            tell("rounding the LP", rank, float(objective @ best), bound)
            consider(search.rounding(lp, weighted, True, f"rank{rank}.round", stage, best))
        if short(objective @ best, bound) and not stage.expired():
            tell("MIP", rank, float(objective @ best), bound)
            # Columns that cannot appear in (or leave) a solution one better than best.
            # A solution one item better is worth at least this in the LP's own objective.
            need = objective @ best + 1.0 - epsilon * costliest
            lower, upper = _reduced_cost_bounds(search, lp, need, maximise=True)
            y, exact = search.mip(
                weighted, True, f"rank{rank}.mip", stage, lower=lower, upper=upper, hint=best
            )
            if y is not None:
                consider(search.fill(y))
            if not exact:
                proven = False
            elif objective @ best < bound - _TOL:
                rank_bound[rank] = round(float(objective @ best))
        elif objective @ best < bound - _TOL:
            proven = False
        search.floors[rank] = float(round(float(objective @ best)))
        tell("settled", rank, float(objective @ best), rank_bound[rank])

    cost = search.col_cost
    tell("LP bound", None, float(cost @ best), None)
    solver_name = LARGE_COST_LP if search.n_cols > LARGE_COLUMNS else COUNT_LP
    lp = search.lp(cost, False, "cost.lp", solver_name, deadline)
    if lp is None:  # out of time, as above
        return _report(search, best, start, False, rank_bound, None)
    bound = math.ceil(lp.value - _TOL * max(1.0, abs(lp.value)))
    cost_bound = lp.value

    def costly() -> bool:
        return bool(cost @ best > bound + max(_TOL, gap * abs(bound)))

    if costly() and not deadline.expired():
        tell("rounding the LP", None, float(cost @ best), cost_bound)
        consider(search.rounding(lp, cost, False, "cost.round", deadline, best))
    if costly():
        if deadline.expired():
            proven = False
        else:
            tell("MIP", None, float(cost @ best), cost_bound)
            lower, upper = _reduced_cost_bounds(search, lp, float(cost @ best) - 1.0, False)
            y, exact = search.mip(
                cost, False, "cost.mip", deadline, lower=lower, upper=upper, hint=best
            )
            consider(y)
            proven = proven and exact
    elif cost @ best > bound + _TOL:
        proven = False
    final = float(cost @ best) if proven else cost_bound
    tell("settled", None, float(cost @ best), final)
    return _report(search, best, start, proven, rank_bound, final)


def _class_max(search: ComponentSearch) -> FloatArray:
    """The costliest column of each class."""
    most = np.zeros(search.n_classes)
    np.maximum.at(most, search.col_class, search.col_cost)
    return most


def _reduced_cost_bounds(
    search: ComponentSearch, lp: _Lp, need: float, maximise: bool
) -> tuple[FloatArray, FloatArray]:
    """Column bounds that every solution at least as good as ``need`` satisfies.

    For a maximisation, a solution with column ``j`` raised by ``t`` from the LP value at its
    lower bound is worth at most ``lp.value + t * reduced_j`` (``reduced_j <= 0``); if even
    ``t = 1`` falls short of ``need``, ``j`` stays where the LP has it. The same holds for
    columns at their upper bound, and mirrored for a minimisation.
    """
    lower = np.zeros(search.n_cols)
    upper = search.col_ub.copy()
    if lp.reduced is None:
        return lower, upper
    gap = (lp.value - need) if maximise else (need - lp.value)
    reduced = lp.reduced if maximise else -lp.reduced
    at_lower = lp.x < _TOL
    at_upper = lp.x > search.col_ub - _TOL
    slack = 1e-7 * max(1.0, abs(lp.value))
    # Raising an at-lower column by one loses at least -reduced (>= 0).
    fix_low = at_lower & (-reduced > gap + slack)
    upper[fix_low] = 0.0
    # Lowering an at-upper column by one loses at least reduced (>= 0).
    fix_up = at_upper & (reduced > gap + slack)
    lower[fix_up] = search.col_ub[fix_up]
    return lower, upper


def _report(
    search: ComponentSearch,
    best: FloatArray,
    start: IntArray,
    proven: bool,
    rank_bound: dict[int, int],
    cost_bound: float | None,
) -> StageReport:
    return StageReport(
        chosen=search.to_arcs(best, start),
        proven=proven,
        rank_bound=rank_bound,
        cost_bound=cost_bound,
        times=search.times,
        classes=search.n_classes,
        columns=search.n_cols,
    )
