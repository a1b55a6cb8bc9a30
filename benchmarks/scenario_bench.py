"""Scenario fan-out benchmark: N demand scenarios serially vs on a 2-worker local Dask cluster.

Usage::

    .venv/bin/python -m benchmarks.scenario_bench [--scenarios 100] [--workers 2]
        [--households 300] [--factor 1.2] [--seed 0]

The base is the first ``--households`` households of the Leeds sample (all 40 sites); the
scenarios are a Monte Carlo sweep of ``demand x factor`` (one seeded draw each), so every
scenario is a full match run of similar size. Prints wall-clock times (serial; Dask with and
without cluster start-up), whether both gave identical results, and a Markdown row for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import pandas as pd

from matching.io import read_problem
from matching.models import Problem
from matching.scenarios import ScaleDemand, Scenario, draw_seeds, run_many
from matching.scenarios.runner import local_cluster

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    """Command line: run the scenarios serially and on Dask, print times and a table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--factor", type=float, default=1.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sample = REPO / "data" / "sample"
    full = read_problem(sample / "referrals.csv", sample / "providers.csv")
    base = Problem(full.referrals[: args.households], full.providers)
    surge = Scenario("surge", (ScaleDemand(args.factor, 0),))
    scenarios: list[Scenario | None] = [
        surge.with_demand_seed(s) for s in draw_seeds(args.seed, args.scenarios)
    ]

    started = time.perf_counter()
    serial = run_many(base, scenarios)
    serial_s = time.perf_counter() - started

    from distributed import Client

    # The product's local cluster: scheduler and HTTP server on ports the system picks, on
    # 127.0.0.1, dashboard off (nothing binds Dask's usual 8786/8787).
    started = time.perf_counter()
    with local_cluster(args.workers) as cluster, Client(cluster):
        ready = time.perf_counter()
        on_dask = run_many(base, scenarios, scheduler=cluster.scheduler_address)
        done = time.perf_counter()
    startup_s, dask_s = ready - started, done - ready

    same = all(
        a.summary() == b.summary()
        and a.districts.equals(b.districts)
        and a.providers.equals(b.providers)
        for a, b in zip(serial, on_dask, strict=True)
    )
    optimal = sum(k.status == "optimal" for k in serial)
    sizes = pd.Series([k.households for k in serial])
    cpu = platform.processor() or platform.machine()
    print(f"date: {date.today()}  machine: {cpu}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"inputs: {args.scenarios} scenarios, demand x{args.factor} of the first "
          f"{args.households} sample households ({sizes.min()} households each), "
          f"{len(base.providers)} sites; {optimal} of {len(serial)} proven optimal")  # fmt: skip
    print(f"serial:             {serial_s:8.1f} s  ({serial_s / args.scenarios:.2f} s/scenario)")
    print(f"dask {args.workers} workers:     {dask_s:8.1f} s  (+{startup_s:.1f} s cluster start)")
    print(f"speed-up:           {serial_s / dask_s:8.2f}x  "
          f"({serial_s / (dask_s + startup_s):.2f}x with start-up)")  # fmt: skip
    print(f"identical results:  {same}")
    print(
        f"| {date.today()} | {args.scenarios} x ({sizes.min()} households, {len(base.providers)}"
        f" sites) | {serial_s:.1f} s | {dask_s:.1f} s (+{startup_s:.1f} s start) | "
        f"{serial_s / dask_s:.2f}x | {same} |"
    )


if __name__ == "__main__":
    main()
