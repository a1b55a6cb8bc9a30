"""The assignment core reproduces published optima of OR-Library generalized assignment problems.

Instances and bounds are in ``tests/data/gap`` (origin and licence in its README). Every job
must be assigned, so they test the core's exact search on a classic hard structure: weights
that differ per agent, which no network model can express.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.gap import load_bounds, load_instance, solve_instance

DATA = Path(__file__).resolve().parent.parent / "data" / "gap"
BOUNDS = load_bounds(DATA / "bounds.txt")
ORLIB = sorted(p.stem for p in DATA.glob("c[0-9][0-9][0-9][0-9]_*.zip"))
TYPE_A = sorted(p.stem for p in DATA.glob("a*.zip"))
_ALL = [(name, sense) for name in ORLIB for sense in ("Min", "Max")]
_ALL += [(name, "Min") for name in TYPE_A]
FAST = {("c0515_1", "Min"), ("c0824_1", "Max"), ("c1060_1", "Min"), ("a05100", "Min")}
"""A few in the fast tier (``-m "not slow"``); the rest are marked slow."""
CASES = [
    pytest.param(name, sense, marks=() if (name, sense) in FAST else pytest.mark.slow)
    for name, sense in _ALL
]


def test_instances_are_present() -> None:
    """All 60 OR-Library gap1-gap12 problems and the 6 type-a problems are shipped."""
    assert len(ORLIB) == 60
    assert len(TYPE_A) == 6


@pytest.mark.parametrize(("name", "sense"), CASES)
def test_reaches_published_optimum(name: str, sense: str) -> None:
    """The core proves the published optimal value of the instance."""
    low, high = BOUNDS[(name, sense)]
    assert low == high, "only instances with a proven optimum are used here"
    run = solve_instance(load_instance(DATA / f"{name}.zip"), sense, BOUNDS, time_limit=120)
    assert run.proven
    assert run.value == low
