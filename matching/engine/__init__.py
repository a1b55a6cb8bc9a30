"""The optimisation engine: :func:`solve` takes a problem and returns the explained answer.

``from matching.engine import solve`` is the one public entry. Inside: :mod:`.model` (the
model and how a problem becomes one), :mod:`.network` (presolve and the min-cost flow),
:mod:`.classes` (interchangeable households), :mod:`.staged` and :mod:`.stages` (the LP/MIP
search of the parts that are not a network), :mod:`.highs` (HiGHS called directly),
:mod:`.budget` (time, progress, stopping) and :mod:`.solve` (the order of it all).
"""

from matching.engine.solve import solve, solve_assignment

__all__ = ["solve", "solve_assignment"]
