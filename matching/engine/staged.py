"""The exact search for a part of the model that is not a network (a generalised assignment).

A household's size against a site's ``people_capacity``, or two dietary stocks drawn by one
household, make rows that no flow can express. For one connected component of such a model:

1. *Aggregation* (exact): households with identical options — the same rank and, arc for
   arc, the same site, cost and row weights — are one class with a count; a column is the
   number of a class's households on one option. Households placed at the same postcode
   district centroid with the same needs collapse this way, which removes the symmetry that
   makes branch and bound slow.
2. *Stages*, one per rank (most important first), then the cost. Each stage has the earlier
   stages' optima as floors. Its LP relaxation (GLOP) gives a bound; a rounding of the LP
   (fix the integral part, solve the small MIP over the fractional columns, fill what room is
   left) usually meets that bound, which proves the stage at once.
3. Otherwise a MIP (SCIP) settles the stage, seeded with the best solution known and shrunk
   by LP reduced-cost fixing: a column whose reduced cost alone uses up the gap between the
   LP bound and that solution cannot change in any better one. It stops at the deadline with
   the best solution found, and then says that the stage is not proven.

Models are handed to OR-Tools as sparse matrices (``fill_model_from_sparse_data``), so
building them costs milliseconds, not a Python loop per coefficient.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh

from matching.engine import highs
from matching.engine.budget import Deadline
from matching.engine.classes import group_items, mix64
from matching.engine.model import AssignmentModel

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_TOL = 1e-6
BOX_COLUMNS = 10_000
"""The most free columns a rounding box may have; a larger one is left to the stage's MIP
(on the 10k benchmark a 46k-column box found nothing in 10 s)."""
MIP_SOLVER = os.environ.get("FOODMATCH_MIP", "mixed")
"""Which MIP solver settles a stage: ``mixed`` (the default) gives the distance stage of a
one-tier component (a plain generalised assignment) to HiGHS and every other stage to SCIP.
Measured (docs/engine.md): on the OR-Library/Yagiura GAP instances HiGHS finds far better
answers in 20 s (e20200: 22,422 against SCIP's 23,237); on the sample region SCIP proves the
distance stage in 4.6 s where HiGHS took 10.5 s. ``scip`` and ``highs`` force one solver."""
MIP_THREADS = 1
COUNT_PROOF_SHARE = 0.15
"""Under a time limit, the part of the time left that one count stage's MIP may use."""
COUNT_LP = "glop"
LARGE_COST_LP = "highs"
LARGE_COLUMNS = 30_000
"""Measured on the 10k benchmark's largest component (90k columns, 6k rows): the count LPs
took GLOP 0.1-1.1 s and HiGHS' dual simplex up to 30 s; the cost LP, GLOP 5.3 s and HiGHS'
dual simplex 1.3 s. HiGHS gives no usable duals through this interface, so it solves the
cost LP only of components above ``LARGE_COLUMNS`` columns, where reduced-cost fixing is
given up for speed."""


@dataclass
class StageReport:
    """What one component's search proved and found."""

    chosen: IntArray
    """The chosen arc per item of the whole model (items outside the component unchanged)."""
    proven: bool
    rank_bound: dict[int, int] = field(default_factory=dict)
    cost_bound: float | None = None
    times: dict[str, float] = field(default_factory=dict)
    classes: int = 0
    columns: int = 0


@dataclass
class _Lp:
    value: float
    x: FloatArray
    reduced: FloatArray | None
    """Reduced costs ``c - A^T duals`` (GLOP's sign convention), when the solver gives duals."""


class ComponentSearch:
    """The aggregated staged search over one component (``arcs``: its live arcs)."""

    def __init__(
        self,
        model: AssignmentModel,
        arcs: IntArray,
        row_alive: BoolArray,
        entries_of_arc: sp.csr_matrix,
    ) -> None:
        self.model = model
        self.times: dict[str, float] = {}
        mark = time.perf_counter()
        items_of_arc = model.arc_item[arcs]
        # The binding-row entries of each arc: (local row, weight) pairs.
        sub = entries_of_arc[arcs]
        sub = sub[:, np.flatnonzero(row_alive)]
        sub.sort_indices()
        rows_used = np.unique(sub.indices)
        local_row = np.full(sub.shape[1], -1, dtype=np.int64)
        local_row[rows_used] = np.arange(rows_used.size)
        self.row_capacity = model.row_capacity[np.flatnonzero(row_alive)[rows_used]].astype(
            np.float64
        )
        # Hash each arc's entries, then sort arcs by (item, bin, cost, entries).
        entry_hash = mix64(
            (sub.indices.astype(np.uint64) << np.uint64(24)) ^ sub.data.astype(np.uint64)
        )
        arc_of_entry = np.repeat(np.arange(arcs.size), np.diff(sub.indptr))
        ehash = np.zeros(arcs.size, dtype=np.uint64)
        np.add.at(ehash, arc_of_entry, entry_hash)
        cost = model.arc_cost[arcs]
        bins = model.arc_bin[arcs]
        order = np.lexsort((ehash, cost, bins, items_of_arc))
        arcs, items_of_arc, cost, bins = (a[order] for a in (arcs, items_of_arc, cost, bins))
        ehash = ehash[order]
        sub = sub[order]
        # Each distinct (bin, cost, entries) is an arc type; each item a sequence of types.
        keys = np.column_stack((bins, cost, ehash.view(np.int64)))
        _, arc_type = np.unique(keys, axis=0, return_inverse=True)
        arc_type = arc_type.ravel().astype(np.int64)
        classes = group_items(items_of_arc, arc_type, model.item_rank)
        group = classes.item_class
        first_arc, n_arcs, position = classes.first_arc, classes.n_arcs, classes.position
        item_index = np.repeat(np.arange(classes.items.size), n_arcs)
        self.items = classes.items
        self.item_class = group
        self.n_classes = classes.n_classes
        self.class_count = classes.count.astype(np.float64)
        self.class_rank = model.item_rank[classes.items[classes.representative]]
        self.arcs = arcs
        self.item_first_arc = first_arc
        # Columns: the representative's arcs of each class.
        lengths = n_arcs[classes.representative]
        col_start = np.concatenate(([0], np.cumsum(lengths)))[:-1]
        self.class_col_start = col_start
        rep_arcs_local = classes.representative_arcs()
        self.n_cols = int(rep_arcs_local.size)
        self.col_class = np.repeat(np.arange(self.n_classes), lengths)
        self.col_rank = self.class_rank[self.col_class]
        self.col_cost = cost[rep_arcs_local].astype(np.float64)
        self.col_ub = self.class_count[self.col_class]
        # Column of each arc (for mapping a solution into column space).
        self.col_of_arc = col_start[group[item_index]] + position
        # Constraint matrix: class rows, then the binding rows.
        col_entries = sub[rep_arcs_local]
        col_entries.sort_indices()
        ent_cols = np.repeat(np.arange(self.n_cols), np.diff(col_entries.indptr))
        n_rows = self.n_classes + rows_used.size
        self.matrix = sp.csr_matrix(
            (
                np.concatenate((np.ones(self.n_cols), col_entries.data.astype(np.float64))),
                (
                    np.concatenate(
                        (self.col_class, self.n_classes + local_row[col_entries.indices])
                    ),
                    np.concatenate((np.arange(self.n_cols), ent_cols)),
                ),
            ),
            shape=(n_rows, self.n_cols),
        )
        self.row_ub = np.concatenate((self.class_count, self.row_capacity))
        self.floors: dict[int, float] = {}
        self.ranks = sorted({int(r) for r in self.class_rank.tolist()}, reverse=True)
        self._time("aggregate", time.perf_counter() - mark)

    # ----------------------------------------------------------------- bookkeeping
    def _time(self, key: str, seconds: float) -> None:
        self.times[key] = self.times.get(key, 0.0) + seconds

    def to_columns(self, chosen: IntArray) -> FloatArray:
        """Column values of a solution given as the chosen arc per item."""
        local = np.full(self.model.n_arcs, -1, dtype=np.int64)
        local[self.arcs] = np.arange(self.arcs.size)
        picked = chosen[self.items]
        picked = picked[picked >= 0]
        at = local[picked]
        at = at[at >= 0]
        return np.bincount(self.col_of_arc[at], minlength=self.n_cols).astype(np.float64)

    def to_arcs(self, y: FloatArray, chosen: IntArray) -> IntArray:
        """``chosen`` with this component's items set from column values ``y``."""
        result = chosen.copy()
        result[self.items] = -1
        counts = np.rint(y).astype(np.int64)
        members = np.argsort(self.item_class, kind="stable")
        member_start = np.concatenate(([0], np.cumsum(self.class_count.astype(np.int64))))
        taken = np.zeros(self.n_classes, dtype=np.int64)
        for col in np.flatnonzero(counts > 0).tolist():
            cls = int(self.col_class[col])
            pos = col - int(self.class_col_start[cls])
            k = int(counts[col])
            start = int(member_start[cls]) + int(taken[cls])
            who = members[start : start + k]
            taken[cls] += k
            result[self.items[who]] = self.arcs[self.item_first_arc[who] + pos]
        return result

    def key(self, y: FloatArray) -> tuple[float, ...]:
        """Smaller is better: minus the count per rank (highest first), then the cost."""
        counts = tuple(-float(y[self.col_rank == r].sum()) for r in self.ranks)
        return (*counts, float(self.col_cost @ y))

    def feasible(self, y: FloatArray) -> bool:
        return bool(
            (y >= -_TOL).all()
            and (y <= self.col_ub + _TOL).all()
            and (np.asarray(self.matrix @ y) <= self.row_ub + _TOL).all()
        )

    # ----------------------------------------------------------------- solving
    def _rows(self) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
        """The constraint matrix with the floors of settled stages, and its row bounds."""
        matrix, row_lb, row_ub = self.matrix, np.full(self.matrix.shape[0], -np.inf), self.row_ub
        if self.floors:
            floor_rows = sp.csr_matrix(
                np.array([(self.col_rank == r).astype(np.float64) for r in self.floors])
            )
            matrix = sp.vstack((matrix, floor_rows)).tocsr()
            row_lb = np.concatenate((row_lb, np.array(list(self.floors.values()))))
            row_ub = np.concatenate((row_ub, np.full(len(self.floors), np.inf)))
        return matrix, row_lb, row_ub

    def _model(
        self,
        objective: FloatArray,
        maximise: bool,
        lower: FloatArray | None = None,
        upper: FloatArray | None = None,
        columns: IntArray | None = None,
    ) -> mbh.ModelBuilderHelper:
        """The stage model, over every column or only over ``columns``."""
        matrix, row_lb, row_ub = self._rows()
        low = np.zeros(self.n_cols) if lower is None else lower
        high = self.col_ub if upper is None else upper
        if columns is not None:
            matrix = matrix.tocsc()[:, columns].tocsr()
            low, high, objective = low[columns], high[columns], objective[columns]
        helper: Any = mbh.ModelBuilderHelper()  # its stubs mistype numpy arrays
        helper.fill_model_from_sparse_data(low, high, objective, row_lb, row_ub, matrix)
        helper.set_maximize(maximise)
        return helper  # type: ignore[no-any-return]

    def _solver(self, name: str, seconds: float | None) -> mbh.ModelSolverHelper:
        solver = mbh.ModelSolverHelper(name)
        if seconds is not None:
            solver.set_time_limit_in_seconds(max(seconds, 0.01))
        if name == "highs":
            solver.set_solver_specific_parameters(
                "solver=simplex\nsimplex_strategy=1\noutput_flag=false\n"
            )
        if name == "scip":
            # Proof means proof: objectives are integral, so no gap tolerance.
            solver.set_solver_specific_parameters("limits/gap = 0\nlimits/absgap = 0\n")
        return solver

    def lp(
        self,
        objective: FloatArray,
        maximise: bool,
        key: str,
        solver_name: str,
        deadline: Deadline,
    ) -> _Lp | None:
        """The stage's LP optimum, its values and reduced costs (``c - A^T duals``)."""
        mark = time.perf_counter()
        helper = self._model(objective, maximise)
        solver = self._solver(solver_name, deadline.left())
        solver.solve(helper)
        self._time(key, time.perf_counter() - mark)
        if solver.status() != mbh.SolveStatus.OPTIMAL:
            return None
        reduced: FloatArray | None = None
        if solver_name == "glop":  # HiGHS' duals through this interface are not usable
            duals = np.asarray(solver.dual_values(), dtype=np.float64)
            matrix, _, _ = self._rows()
            reduced = objective - np.asarray(matrix.T @ duals, dtype=np.float64)
        return _Lp(
            float(solver.objective_value()),
            np.asarray(solver.variable_values(), dtype=np.float64),
            reduced,
        )

    def mip(
        self,
        objective: FloatArray,
        maximise: bool,
        key: str,
        deadline: Deadline,
        *,
        lower: FloatArray | None = None,
        upper: FloatArray | None = None,
        hint: FloatArray | None = None,
    ) -> tuple[FloatArray | None, bool]:
        """Integer optimum under the given column bounds: (solution or None, proven)."""
        mark = time.perf_counter()
        low = np.zeros(self.n_cols) if lower is None else lower
        high = self.col_ub if upper is None else upper
        free = np.flatnonzero(high > low + 0.5)
        if free.size == 0:
            y = low.copy()
            self._time(key, time.perf_counter() - mark)
            ok = self.feasible(y) and all(
                y[self.col_rank == r].sum() >= f - _TOL for r, f in self.floors.items()
            )
            return (y if ok else None), ok
        # Only the free columns go to the solver; the fixed ones shift the row bounds.
        matrix, row_lb, row_ub = self._rows()
        fixed = low.copy()
        fixed[free] = 0.0
        activity = np.asarray(matrix @ fixed, dtype=np.float64)
        sub = matrix.tocsc()[:, free].tocsr()
        used = np.diff(sub.indptr) > 0
        if ((activity > row_ub + _TOL) | (activity < row_lb - _TOL))[~used].any():
            self._time(key, time.perf_counter() - mark)
            return None, True  # the fixed columns alone break a row no free one touches
        start = None
        if hint is not None:
            inside = (hint[free] >= low[free] - _TOL) & (hint[free] <= high[free] + _TOL)
            if inside.all() and self.feasible(hint):
                start = hint[free]
        if MIP_SOLVER == "highs" or (
            MIP_SOLVER == "mixed" and key.startswith("cost") and len(self.ranks) == 1
        ):
            run = highs.solve(
                objective[free],
                maximise,
                low[free],
                high[free],
                (row_lb - activity)[used],
                (row_ub - activity)[used],
                sub[used],
                integer=True,
                seconds=deadline.left(),
                threads=MIP_THREADS,
            )
            self._time(key, time.perf_counter() - mark)
            if run.x is None:
                return None, run.outcome is highs.Outcome.INFEASIBLE
            y = fixed
            y[free] = np.rint(run.x)
            if not self.feasible(y):  # pragma: no cover - the solver honours its rows
                return None, False
            # A proof only when HiGHS' own objective is that of the values it returned.
            agrees = abs(float(objective[free] @ y[free]) - run.objective) <= 1e-6 * max(
                1.0, abs(run.objective)
            )
            return y, run.outcome is highs.Outcome.OPTIMAL and agrees
        helper: Any = mbh.ModelBuilderHelper()
        helper.fill_model_from_sparse_data(
            low[free],
            high[free],
            objective[free],
            (row_lb - activity)[used],
            (row_ub - activity)[used],
            sub[used],
        )
        helper.set_maximize(maximise)
        for k in range(free.size):
            helper.set_var_integrality(k, True)
        if start is not None:
            for k, value in enumerate(start.tolist()):
                helper.add_hint(k, float(value))
        solver = self._solver("scip", deadline.left())
        solver.solve(helper)
        self._time(key, time.perf_counter() - mark)
        status = solver.status()
        if status not in (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE):
            return None, status == mbh.SolveStatus.INFEASIBLE
        y = fixed
        y[free] = np.rint(np.asarray(solver.variable_values(), dtype=np.float64))
        if not self.feasible(y):  # pragma: no cover - the solver honours its rows
            return None, False
        return y, status == mbh.SolveStatus.OPTIMAL

    def fill(self, y: FloatArray) -> FloatArray:
        """Place what still fits: columns by rank (highest first), then cost, greedily."""
        y = y.copy()
        slack = self.row_ub - self.matrix @ y
        csc = self.matrix.tocsc()
        left = self.class_count - np.bincount(self.col_class, weights=y, minlength=self.n_classes)
        open_cols = np.flatnonzero(left[self.col_class] > 0.5)
        order = open_cols[np.lexsort((self.col_cost[open_cols], -self.col_rank[open_cols]))]
        for j in order.tolist():
            cls = int(self.col_class[j])
            if left[cls] < 0.5:
                continue
            lo, hi = csc.indptr[j], csc.indptr[j + 1]
            rows, weights = csc.indices[lo:hi], csc.data[lo:hi]
            room = math.floor(min((slack[rows] / weights).min(), left[cls]) + _TOL)
            if room >= 1:
                y[j] += room
                slack[rows] -= room * weights
                left[cls] -= room
        return y

    def rounding(
        self,
        lp: _Lp,
        objective: FloatArray,
        maximise: bool,
        key: str,
        deadline: Deadline,
        incumbent: FloatArray,
    ) -> FloatArray | None:
        """A solution next to the LP optimum that meets the floors, filled greedily.

        First the LP's integral part is fixed and a small MIP settles the few fractional
        columns. When no such rounding meets the floors, the MIP may also lower any column of
        the LP's support; then the floors are dropped (the result is kept only if it is still
        better than the incumbent); last, the box spanned by the LP optimum and the incumbent
        is searched (seeded with the incumbent, so never infeasible), if it is small enough
        to pay off (``BOX_COLUMNS``).
        """
        lower = np.floor(lp.x + _TOL)
        upper = np.minimum(np.ceil(lp.x - _TOL), self.col_ub)
        y, _ = self.mip(objective, maximise, key, deadline, lower=lower, upper=upper)
        if y is None and not deadline.expired():
            # Within the LP's support: any column may also drop to zero.
            support = np.zeros(self.n_cols)
            y, _ = self.mip(objective, maximise, key, deadline, lower=support, upper=upper)
        if y is None and self.floors and not deadline.expired():
            y = self._round_without_floors(objective, maximise, key, deadline, lower, upper)
            if y is not None and self.key(y) >= self.key(incumbent):
                y = None
        if y is None and not deadline.expired():
            lower = np.minimum(lower, incumbent)
            upper = np.minimum(np.maximum(upper, incumbent), self.col_ub)
            if int((upper > lower + 0.5).sum()) <= BOX_COLUMNS:
                y, _ = self.mip(
                    objective, maximise, key, deadline, lower=lower, upper=upper, hint=incumbent
                )
        return None if y is None else self.fill(y)

    def _round_without_floors(
        self,
        objective: FloatArray,
        maximise: bool,
        key: str,
        deadline: Deadline,
        lower: FloatArray,
        upper: FloatArray,
    ) -> FloatArray | None:
        """The same rounding with the floors dropped: keep the most items rank by rank
        (highest first), then the best objective; then fill. It may fall short of a floor;
        the caller keeps it only if it is lexicographically better all the same."""
        floors, self.floors = self.floors, {}
        try:
            free = int((upper > lower + 0.5).sum()) + 1
            step = float(np.abs(objective).max(initial=0.0)) * free + 1.0
            weight = np.zeros(self.n_cols)
            for level, rank in enumerate(sorted(self.ranks)):
                weight[self.col_rank == rank] = step * float(free) ** level
            sign = 1.0 if maximise else -1.0
            y, _ = self.mip(
                weight + sign * objective, True, key, deadline, lower=lower, upper=upper
            )
        finally:
            self.floors = floors
        if y is None:
            return None
        y = self.fill(y)
        short = [r for r, f in floors.items() if y[self.col_rank == r].sum() < f - _TOL]
        if not short or deadline.expired():
            return y
        # Trade places: households of the short ranks may come in wherever they reach, and
        # anyone held at the sites they reach may leave, to meet the floors.
        left = self.class_count - np.bincount(self.col_class, weights=y, minlength=self.n_classes)
        wanted = np.isin(self.col_rank, short) & (left[self.col_class] > 0.5)
        rows = np.unique(self.matrix.tocsc()[:, np.flatnonzero(wanted)].indices)
        touched = np.zeros(self.n_cols, dtype=bool)
        touched[self.matrix[rows[rows >= self.n_classes]].indices] = True
        low = np.where(touched & (y > 0.5), 0.0, y)
        high = np.where(wanted, self.col_ub, y)
        traded, _ = self.mip(objective, maximise, key, deadline, lower=low, upper=high)
        return None if traded is None else self.fill(traded)
