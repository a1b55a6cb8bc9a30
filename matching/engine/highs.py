"""HiGHS (``highspy``) for the staged search's MIPs and LPs, called directly.

Through OR-Tools' model builder HiGHS gives no usable duals and no start solution; called
directly it takes both, and a time limit. Models arrive as the staged search builds them: a
sparse row matrix with row and column bounds.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]

INF = float(highspy.kHighsInf)


class Outcome(enum.Enum):
    """How a HiGHS run ended."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    """Stopped (time limit) with a solution that is not proven optimal."""
    INFEASIBLE = "infeasible"
    NONE = "none"
    """Stopped without any solution."""


@dataclass(frozen=True)
class Run:
    """A HiGHS result: the outcome, the values (when any), the objective and its best bound."""

    outcome: Outcome
    x: FloatArray | None
    objective: float
    bound: float
    duals: FloatArray | None = None


_BANNER_SHOWN = False


def _new_highs() -> highspy.Highs:
    """A HiGHS instance; the first one of a process prints a banner on stdout, which would
    end up in the command line's summary, so that one is made with stdout pointed away."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()  # type: ignore[no-untyped-call]
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            h = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        _BANNER_SHOWN = True
    return h


def _finite(values: FloatArray) -> FloatArray:
    return np.clip(values, -INF, INF)


def solve(
    objective: FloatArray,
    maximise: bool,
    lower: FloatArray,
    upper: FloatArray,
    row_lower: FloatArray,
    row_upper: FloatArray,
    matrix: sp.csr_matrix,
    *,
    integer: bool,
    seconds: float | None,
    start: FloatArray | None = None,
    threads: int = 1,
) -> Run:
    """Solve ``max/min objective @ x`` subject to the bounds, as a MIP or an LP.

    ``start`` (a feasible point) seeds a MIP. A MIP's proof is exact: no gap tolerance
    (objectives here are integral, so a gap below one unit is a proof anyway).
    """
    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    if seconds is not None:
        h.setOptionValue("time_limit", max(float(seconds), 0.01))
    if integer:
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.0)
    csc = sp.csc_matrix(matrix)
    lp = highspy.HighsLp()
    lp.num_col_ = int(objective.size)
    lp.num_row_ = int(csc.shape[0])
    lp.col_cost_ = np.asarray(objective, dtype=np.float64)
    lp.col_lower_ = _finite(np.asarray(lower, dtype=np.float64))
    lp.col_upper_ = _finite(np.asarray(upper, dtype=np.float64))
    lp.row_lower_ = _finite(np.asarray(row_lower, dtype=np.float64))
    lp.row_upper_ = _finite(np.asarray(row_upper, dtype=np.float64))
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * int(objective.size)
    h.passModel(lp)
    if start is not None and integer:
        solution = highspy.HighsSolution()
        solution.col_value = list(np.asarray(start, dtype=np.float64))
        solution.value_valid = True
        h.setSolution(solution)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        return Run(Outcome.INFEASIBLE, None, float("nan"), float("nan"))
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if not has_solution:
        return Run(Outcome.NONE, None, float("nan"), float("nan"))
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=np.float64)
    bound = float(info.mip_dual_bound) if integer else float(info.objective_function_value)
    outcome = Outcome.OPTIMAL if status == highspy.HighsModelStatus.kOptimal else Outcome.FEASIBLE
    duals = None if integer else np.asarray(sol.row_dual, dtype=np.float64)
    return Run(outcome, x, float(info.objective_function_value), bound, duals)
