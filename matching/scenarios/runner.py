"""Many scenario runs at once (serially, or fanned out on Dask distributed) and sweeps.

Each scenario run is a pure function (base problem + scenario -> KPIs), so the same inputs
give the same numbers wherever they run: in this process, on a ``LocalCluster`` started
here, or on a real cluster reached through its scheduler address (``--scheduler`` or the
``FOODMATCH_DASK_SCHEDULER`` setting). Results always come back in input order.

A *sweep* is a Monte Carlo study of one scenario: it is drawn ``draws`` times (seeds
derived from one ``seed`` with :class:`numpy.random.SeedSequence`); each draw resamples
the households and draws every uncertain factor from its stated distribution, to show the
spread of outcomes rather than one lucky or unlucky draw.

Dask is imported only when a run is parallel, so serial use needs only the core packages.
A local cluster binds no fixed port: its scheduler and its (disabled) dashboard listen on
ports the system picks, on this machine only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from matching.models import Problem
from matching.scenarios.edits import Scenario
from matching.scenarios.kpis import DEFAULT_MIN_DISTRICT_HOUSEHOLDS, ScenarioKPIs, run_scenario

__all__ = [
    "PLANNING_EXTRA",
    "SCHEDULER_ENV",
    "ClusterError",
    "Draw",
    "draw_seeds",
    "local_cluster",
    "run_draws",
    "run_many",
    "scheduler_from_env",
    "summarise_sweep",
    "sweep",
]

Progress = Callable[[int], None]
"""Called with a scenario's position in the input each time one finishes."""

SCHEDULER_ENV = "FOODMATCH_DASK_SCHEDULER"
"""The setting naming a running Dask scheduler (``tcp://host:8786``) to send runs to."""

PLANNING_EXTRA = "pip install 'foodmatch[planning]'"
"""How to install Dask and the notebooks' libraries."""

CONNECT_TIMEOUT_S = 20.0
"""How long to try reaching a scheduler before saying it cannot be reached."""


class ClusterError(RuntimeError):
    """Runs cannot go to Dask: it is not installed, or the scheduler cannot be reached."""


def scheduler_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The scheduler address set in ``FOODMATCH_DASK_SCHEDULER``, or None when unset or blank."""
    value = (os.environ if environ is None else environ).get(SCHEDULER_ENV, "").strip()
    return value or None


def _distributed() -> Any:
    """The ``distributed`` package, or a ClusterError saying which extra to install."""
    try:
        import distributed
    except ImportError as err:
        raise ClusterError(
            f"running on Dask (--parallel, --scheduler) needs the planning extra: {PLANNING_EXTRA}"
        ) from err
    return distributed


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A Dask ``LocalCluster`` of ``workers`` single-threaded processes, on free local ports.

    The scheduler listens on 127.0.0.1 on a port the system picks, and so does its HTTP
    server (health checks only: the dashboard is off), so two clusters, or anything
    already on Dask's usual 8786/8787, never clash.
    """
    distributed = _distributed()
    with distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        silence_logs=40,  # errors only: a planner's terminal is not a log
    ) as cluster:
        yield cluster


@contextmanager
def _client(parallel: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` when given, else to a fresh local cluster."""
    distributed = _distributed()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, ValueError) as err:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({err}); expected a running "
                "scheduler (`dask scheduler`), or leave out --scheduler and "
                f"{SCHEDULER_ENV} to run here"
            ) from err
        with client:
            yield client
        return
    with local_cluster(parallel) as cluster, distributed.Client(cluster) as client:
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
    processes; ``scheduler`` (``tcp://host:8786``) uses an existing cluster instead (see
    :func:`scheduler_from_env`). Either way the results equal a serial run's. Raises
    :class:`ClusterError` when Dask is needed but not installed, or cannot be reached.
    """
    if parallel < 1:
        raise ValueError(f"parallel must be at least 1, got {parallel}")
    scheduler = (scheduler or "").strip() or None  # a blank setting means none
    if parallel == 1 and scheduler is None:
        results = []
        for index, scenario in enumerate(scenarios):
            results.append(_run_one(base, scenario, time_limit, min_district_households))
            if progress is not None:
                progress(index)
        return results
    with _client(parallel, scheduler) as client:
        from distributed import as_completed

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


def draw_seeds(seed: int, draws: int) -> list[int]:
    """``draws`` independent draw seeds derived reproducibly from one ``seed``."""
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    children = np.random.SeedSequence(seed).spawn(draws)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


@dataclass(frozen=True, slots=True)
class Draw:
    """One Monte Carlo draw: its number, its seed, the factors drawn and its run's KPIs."""

    index: int
    seed: int
    factors: Mapping[str, float]
    kpis: ScenarioKPIs


def run_draws(
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
) -> list[Draw]:
    """Run ``draws`` Monte Carlo draws of ``scenario`` (see :meth:`Scenario.draw`), in order.

    The scenario must vary from draw to draw: it scales demand (the households are
    resampled) or states an uncertain factor. Same ``seed`` and ``draws``: same draws,
    serially or on Dask.
    """
    if not scenario.varies:
        raise ValueError(
            f"scenario {scenario.name!r} does not scale demand or state an uncertain factor, "
            "so every draw would be the same; expected a scenario with a 'demand' edit or a "
            "distribution"
        )
    seeds = draw_seeds(seed, draws)
    drawn = [scenario.draw(s) for s in seeds]
    results = run_many(
        base,
        [variant for variant, _ in drawn],
        time_limit=time_limit,
        min_district_households=min_district_households,
        parallel=parallel,
        scheduler=scheduler,
        progress=progress,
    )
    return [
        Draw(index, s, factors, kpis)
        for index, (s, (_, factors), kpis) in enumerate(zip(seeds, drawn, results, strict=True))
    ]


def draws_frame(draws: Sequence[Draw]) -> pd.DataFrame:
    """One row per draw (index ``draw``): ``seed``, the factors drawn, then every scalar KPI."""
    rows = [{"draw": d.index, "seed": d.seed, **d.factors, **d.kpis.summary()} for d in draws]
    return pd.DataFrame(rows).set_index("draw")


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
    """A Monte Carlo sweep: the scenario's KPIs over ``draws`` draws, one row per draw.

    Columns: ``seed``, one column per uncertain factor (``demand_factor``,
    ``capacity_factor``: the value drawn), then every scalar KPI of
    :meth:`ScenarioKPIs.summary`. Same ``seed`` and ``draws``: same table, serially or on
    Dask. :func:`matching.scenarios.monte_carlo` adds the district view and the summary.
    """
    return draws_frame(
        run_draws(
            base,
            scenario,
            draws=draws,
            seed=seed,
            time_limit=time_limit,
            min_district_households=min_district_households,
            parallel=parallel,
            scheduler=scheduler,
            progress=progress,
        )
    )


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
