"""OR-Library / Yagiura generalised assignment (GAP) instances, solved by the engine's core.

The engine's assignment core (:func:`matching.engine.solve_assignment`) is generic:
items choose at most one arc under weighted capacity rows, most items first, then least
cost. A GAP instance maps onto it directly: jobs are items (all of one rank), agents are
bins with one capacity row each, and every agent-job pair whose weight fits the agent is an
arc. Matching every job first and then minimising cost is exactly the GAP (for the Max
sense, cost ``cmax - c``). A run that leaves a job unassigned found no feasible GAP solution.

Data: ``tests/data/gap/`` holds the 66 small instances the tests use; the full set of 117
(with ``bounds.txt``) is read from ``--data`` at benchmark time only.

Usage::

    python -m benchmarks.gap [--data DIR] [--time-limit S] [--sense Min] [--json FILE] [names]
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.summary import write_json

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = REPO / "tests" / "data" / "gap"


def default_data() -> Path:
    """The full instance set: ``$FOODMATCH_GAP_DATA``, else ``../shared/benchmarks/gap``
    beside the checkout (read at benchmark time only, never shipped)."""
    override = os.environ.get("FOODMATCH_GAP_DATA")
    return Path(override) if override else REPO.parent / "shared" / "benchmarks" / "gap"


IntArray = npt.NDArray[np.int64]
SMALL = re.compile(r"^(c\d{4}_\d|a\d+)$")
"""The OR-Library gap1-gap12 problems and type a: small, and all proven optimal."""


@dataclass(frozen=True)
class GapInstance:
    """One GAP problem: ``cost[i, j]`` and ``weight[i, j]`` of job j on agent i, capacities."""

    name: str
    cost: IntArray
    weight: IntArray
    capacity: IntArray

    @property
    def agents(self) -> int:
        return int(self.capacity.size)

    @property
    def jobs(self) -> int:
        return int(self.cost.shape[1])


def load_instance(path: Path) -> GapInstance:
    """Read a zipped instance (``m n``, costs, weights, capacities; one member)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.namelist()
        if len(members) != 1:
            raise ValueError(f"{path}: expected one file inside, found {members}")
        values = np.array(archive.read(members[0]).split(), dtype=np.int64)
    m, n = int(values[0]), int(values[1])
    if values.size != 2 + 2 * m * n + m:
        raise ValueError(f"{path}: {values.size} numbers, expected {2 + 2 * m * n + m}")
    cost = values[2 : 2 + m * n].reshape(m, n)
    weight = values[2 + m * n : 2 + 2 * m * n].reshape(m, n)
    capacity = values[2 + 2 * m * n :]
    return GapInstance(path.name.removesuffix(".zip"), cost, weight, capacity)


def load_bounds(path: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """``bounds.txt``: (instance, "Min" | "Max") -> (lower bound, upper bound)."""
    bounds: dict[tuple[str, str], tuple[int, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        key, low, high = line.split()
        name, sense = key.rsplit("_", 1)
        bounds[name, sense] = (int(low), int(high))
    return bounds


def instance_names(directory: Path) -> list[str]:
    """Instance names in a folder, in a natural order (``c0515_1`` .. ``e801600``)."""

    def key(name: str) -> tuple[object, ...]:
        return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))

    return sorted((p.name.removesuffix(".zip") for p in directory.glob("*.zip")), key=key)


def solver_entry_point() -> Callable[..., Any] | None:
    """The engine's generic assignment solver, or None if this checkout does not have it."""
    for module in ("matching.engine", "matching.assignment"):
        try:
            found = getattr(importlib.import_module(module), "solve_assignment", None)
        except ImportError:
            continue
        if found is not None:
            return found  # type: ignore[no-any-return]
    return None


def assignment_model(instance: GapInstance, sense: str) -> Any:
    """The instance as a :class:`matching.engine.model.AssignmentModel` (items = jobs)."""
    from matching.engine.model import AssignmentModel

    agent, job = np.nonzero(instance.weight <= instance.capacity[:, None])
    cost = instance.cost[agent, job]
    if sense == "Max":
        cost = instance.cost.max() - cost
    elif sense != "Min":
        raise ValueError(f"sense must be Min or Max, not {sense!r}")
    arcs = np.arange(agent.size, dtype=np.int64)
    return AssignmentModel(
        n_items=instance.jobs,
        item_rank=np.ones(instance.jobs, dtype=np.int64),
        arc_item=job.astype(np.int64),
        arc_bin=agent.astype(np.int64),
        arc_cost=cost.astype(np.int64),
        row_bin=np.arange(instance.agents, dtype=np.int64),
        row_capacity=instance.capacity.astype(np.int64),
        entry_row=agent.astype(np.int64),
        entry_arc=arcs,
        entry_weight=instance.weight[agent, job].astype(np.int64),
    )


@dataclass
class GapRun:
    """One instance solved by the engine's core, against the published bounds."""

    name: str
    sense: str
    agents: int
    jobs: int
    value: int | None
    """Objective of the assignment found (None: some job left unassigned)."""
    lower: int | None
    upper: int | None
    proven: bool
    method: str
    seconds: float

    @property
    def best_known(self) -> int | None:
        """The best published value: ub for Min, lb for Max."""
        return self.upper if self.sense == "Min" else self.lower

    @property
    def gap_percent(self) -> float | None:
        """How much worse than the best published value, in percent (0 = equal or better)."""
        if self.value is None or not self.best_known:
            return None
        worse = (
            self.value - self.best_known if self.sense == "Min" else self.best_known - self.value
        )
        return 100.0 * worse / self.best_known


def solve_instance(
    instance: GapInstance,
    sense: str,
    bounds: dict[tuple[str, str], tuple[int, int]],
    *,
    time_limit: float,
) -> GapRun:
    """Solve one instance with the engine's assignment core and compare with the bounds."""
    solve = solver_entry_point()
    if solve is None:
        raise RuntimeError("matching.engine.solve_assignment is not available")
    model = assignment_model(instance, sense)
    started = time.perf_counter()
    solution = solve(model, time_limit=time_limit)
    seconds = time.perf_counter() - started
    chosen = np.asarray(solution.chosen)
    value: int | None = None
    if (chosen >= 0).all():
        agents = model.arc_bin[chosen]
        value = int(instance.cost[agents, np.arange(instance.jobs)].sum())
        loads = np.bincount(agents, weights=instance.weight[agents, np.arange(instance.jobs)])
        if (loads > instance.capacity[: loads.size]).any():
            raise AssertionError(f"{instance.name}: capacity exceeded by the solver's answer")
    low, high = bounds.get((instance.name, sense), (None, None))
    return GapRun(
        instance.name,
        sense,
        instance.agents,
        instance.jobs,
        value,
        low,
        high,
        bool(solution.proven),
        str(solution.method),
        seconds,
    )


def run(
    names: Sequence[str], data: Path, *, sense: str, time_limit: float, verbose: bool = True
) -> list[GapRun]:
    """Solve the named instances from ``data`` (which also holds ``bounds.txt``)."""
    bounds = load_bounds(data / "bounds.txt")
    runs = []
    for name in names:
        outcome = solve_instance(
            load_instance(data / f"{name}.zip"), sense, bounds, time_limit=time_limit
        )
        runs.append(outcome)
        if verbose:
            print(
                f"{name} {sense}: value {outcome.value} bounds [{outcome.lower}, {outcome.upper}] "
                f"proven {outcome.proven} {outcome.seconds:.1f} s",
                flush=True,
            )
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: solve instances (default: every large one) and write JSON results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gap")
    parser.add_argument("names", nargs="*", help="instances (default: all but the small ones)")
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--sense", choices=("Min", "Max"), default="Min")
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if solver_entry_point() is None:
        print("skipped: the engine's solve_assignment is not available in this checkout")
        if args.json:
            write_json({"skipped": "solve_assignment not available", "runs": []}, args.json)
        return 0
    names = args.names or [n for n in instance_names(args.data) if not SMALL.match(n)]
    runs = run(names, args.data, sense=args.sense, time_limit=args.time_limit)
    if args.json:
        write_json(
            {
                "sense": args.sense,
                "time_limit": args.time_limit,
                "runs": [vars(r) | {"gap_percent": r.gap_percent} for r in runs],
            },
            args.json,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
