"""Many scenarios at once: serially, or fanned out on Dask distributed.

Each scenario run is a pure function (base problem + scenario -> KPIs), so the same inputs
give the same numbers wherever they run: in this process, on a ``LocalCluster`` started
here, or on a real cluster reached through its scheduler address. Results always come
back in input order.

A *sweep* is a Monte Carlo study of one scenario: the demand draw is re-seeded ``draws``
times (seeds derived from one ``seed`` with :class:`numpy.random.SeedSequence`) to show
the spread of outcomes, not one lucky or unlucky draw.

Dask is imported only when a run is parallel, so serial use needs only the core packages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from matching.models import Problem
from matching.scenarios import (
    DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
    Scenario,
    ScenarioKPIs,
    run_scenario,
)

__all__ = ["draw_seeds", "run_many", "summarise_sweep", "sweep"]

Progress = Callable[[int], None]
"""Called with a scenario's position in the input each time one finishes."""


def _run_one(
    base: Problem,
    scenario: Scenario | None,
    time_limit: float | None,
    min_district_households: int,
) -> ScenarioKPIs:
    """One scenario's KPIs (the unit of work sent to a Dask worker)."""
    return run_scenario(
        base,
        scenario,
        time_limit=time_limit,
        min_district_households=min_district_households,
    )


@contextmanager
def _client(parallel: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` when given, else to a fresh local cluster."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=parallel,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,  # errors only: a planner's terminal is not a log
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def run_many(
    base: Problem,
    scenarios: Sequence[Scenario | None],
    *,
    time_limit: float | None = None,
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
    parallel: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[ScenarioKPIs]:
    """KPIs of each scenario (``None`` = the baseline), in input order.

    ``parallel`` > 1 runs on a Dask ``LocalCluster`` of that many single-threaded worker
    processes; ``scheduler`` (``tcp://host:8786``) uses an existing cluster instead. Either
    way the results equal a serial run's.
    """
    if parallel < 1:
        raise ValueError(f"parallel must be at least 1, got {parallel}")
    if parallel == 1 and scheduler is None:
        results = []
        for index, scenario in enumerate(scenarios):
            results.append(_run_one(base, scenario, time_limit, min_district_households))
            if progress is not None:
                progress(index)
        return results
    from distributed import as_completed

    with _client(parallel, scheduler) as client:
        shared = client.scatter(base, broadcast=True)
        futures = [
            client.submit(
                _run_one,
                shared,
                scenario,
                time_limit,
                min_district_households,
                pure=False,
            )
            for scenario in scenarios
        ]
        position = {future.key: index for index, future in enumerate(futures)}
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            if progress is not None:
                progress(position[future.key])
        gathered: list[ScenarioKPIs] = client.gather(futures)
    return gathered


def draw_seeds(seed: int, draws: int) -> list[int]:
    """``draws`` independent demand seeds derived reproducibly from one ``seed``."""
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    children = np.random.SeedSequence(seed).spawn(draws)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def sweep(
    base: Problem,
    scenario: Scenario,
    *,
    draws: int,
    seed: int = 0,
    time_limit: float | None = None,
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
    parallel: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """A Monte Carlo sweep: the scenario's KPIs over ``draws`` re-seeded demand draws.

    One row per draw (``draw``, ``seed``, then every scalar KPI of
    :meth:`ScenarioKPIs.summary`). The scenario must scale demand, since the demand draw is
    what varies. Same ``seed`` and ``draws``: same table, serially or on Dask.
    """
    if not scenario.has_demand:
        raise ValueError(
            f"scenario {scenario.name!r} does not scale demand, so every draw would be the "
            "same; expected a scenario with a 'demand' edit"
        )
    seeds = draw_seeds(seed, draws)
    variants = [scenario.with_demand_seed(s) for s in seeds]
    results = run_many(
        base,
        variants,
        time_limit=time_limit,
        min_district_households=min_district_households,
        parallel=parallel,
        scheduler=scheduler,
        progress=progress,
    )
    rows = [
        {"draw": index, "seed": s, **kpis.summary()}
        for index, (s, kpis) in enumerate(zip(seeds, results, strict=True))
    ]
    return pd.DataFrame(rows).set_index("draw")


SWEEP_QUANTILES = (0.05, 0.5, 0.95)


def summarise_sweep(frame: pd.DataFrame) -> pd.DataFrame:
    """The spread of each numeric KPI over a sweep's draws: mean, std, min, p5, p50, p95, max."""
    numeric = frame.drop(columns=["seed"], errors="ignore").apply(pd.to_numeric, errors="coerce")
    numeric = numeric.dropna(axis=1, how="all")
    table = pd.DataFrame(
        {
            "mean": numeric.mean(),
            "std": numeric.std(ddof=1) if len(numeric) > 1 else numeric.mean() * 0.0,
            "min": numeric.min(),
            **{f"p{round(q * 100)}": numeric.quantile(q) for q in SWEEP_QUANTILES},
            "max": numeric.max(),
        }
    )
    table.index.name = "kpi"
    return table
