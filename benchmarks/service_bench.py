"""Service benchmark: the HTTP API under load with 10,000 open referrals and 250 sites.

For each database (SQLite file, PostgreSQL) it builds a fresh database with the generator's
``10k`` instance (10,000 referrals, 250 providers, West Yorkshire), starts the real service
(uvicorn, one worker, its own process) on a free loopback port, and measures:

- ``POST /referrals``: throughput and p50/p99 latency at a fixed concurrency;
- ``POST /referrals/{id}/place``: p50/p99 latency (after 10 warm-up placements, one at a
  time, reported apart: the first placement after start loads the engine);
- ``POST /match-runs`` over every open referral, end to end (HTTP in, run stored, JSON out),
  next to ``foodmatch match`` (the engine's CLI) on exactly the same data.

Loopback only, bounded loops. Usage::

    python -m benchmarks.service_bench [--backends sqlite postgresql] [--posts 2000]
        [--places 300] [--concurrency 16] [--time-limit 60] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from api.core import clock
from api.core import repository as repo
from api.core.db import Database
from api.core.migrate import upgrade
from api.core.tables import Organisation, Referral
from api.core.vocabulary import ReferralStatus
from api.demo.seed import DEMO_PASSWORD, seed_demo
from api.match_runs import adapter as convert
from benchmarks.databases import fresh_database
from benchmarks.generate import write_bench
from matching.io import providers_frame, referrals_frame

SECRET = "benchmark-secret-that-is-long-enough-for-hs256"
PLACE_WARM_UP = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def _server(url: str) -> Iterator[str]:
    """The service in its own process on a free loopback port."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FOODMATCH_JWT_SECRET": SECRET,
        "FOODMATCH_LOG_LEVEL": "WARNING",
        "FOODMATCH_TOKEN_MINUTES": "120",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the service did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _timed_requests(
    base: str, calls: list[tuple[str, str, dict[str, Any]]], concurrency: int
) -> tuple[list[float], list[int], float]:
    """Run ``calls`` with at most ``concurrency`` in flight: latencies (s), statuses, wall (s)."""
    latencies: list[float] = []
    statuses: list[int] = []
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:

        async def one(method: str, path: str, kwargs: dict[str, Any]) -> None:
            async with semaphore:
                started = time.perf_counter()
                response = await http.request(method, path, **kwargs)
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(one(m, p, k) for m, p, k in calls))
        wall = time.perf_counter() - started
    return latencies, statuses, wall


def _summary(latencies: list[float], statuses: list[int], wall: float) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "wall_s": round(wall, 3),
        "per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        # The tail, to tell a slow kind of request (e.g. the 409s) from queueing.
        "slowest": [
            [round(seconds * 1000, 1), status]
            for seconds, status in sorted(zip(latencies, statuses, strict=True), reverse=True)[:5]
        ],
    }


def _referral_body(i: int) -> dict[str, Any]:
    districts = ("LS6 1AA", "LS9 7AB", "LS11 5QP", "BD3 9LH", "WF1 2EE", "HX1 5BD", "HD1 2QA")
    return {
        "household_size": 1 + i % 6,
        "dietary": ["halal"] if i % 9 == 0 else [],
        "urgency": ("emergency", "urgent", "standard", "standard")[i % 4],
        "postcode": districts[i % len(districts)],
        "consent_to_share": i % 3 != 0,
        "name": f"Bench household {i}",
    }


def _export_problem(db: Database, directory: Path) -> tuple[Path, Path, int, int]:
    """The service's current input to the engine, as contract CSVs (exact locations)."""
    with db.read() as session:
        council = session.query(Organisation).filter_by(kind="council").one()
        referrals = repo.open_referrals(session, council.id)
        supply = repo.current_supply(session, clock.today())
    problem = convert.problem(referrals, supply)
    refs = referrals_frame(problem.referrals)
    refs["latitude"] = [r.latitude for r in problem.referrals]
    refs["longitude"] = [r.longitude for r in problem.referrals]
    provs = providers_frame(problem.providers)
    provs["latitude"] = [p.latitude for p in problem.providers]
    provs["longitude"] = [p.longitude for p in problem.providers]
    ref_path, prov_path = directory / "open_referrals.csv", directory / "free_capacity.csv"
    refs.to_csv(ref_path, index=False)
    provs.to_csv(prov_path, index=False)
    return ref_path, prov_path, len(problem.referrals), len(problem.providers)


def bench_backend(
    backend: str,
    posts: int,
    places: int,
    concurrency: int,
    time_limit: float,
    workdir: Path,
    match_run: bool = True,
) -> dict[str, Any]:
    """All measurements on one database."""
    result: dict[str, Any] = {"backend": backend, "load_average_at_start": os.getloadavg()}
    instance_dir = workdir / "instance"
    ref_csv, prov_csv = write_bench(["10k"], instance_dir)["10k"]
    with fresh_database(backend, prefix="bench", migrate=False) as url:
        upgrade(url)
        db = Database.from_url(url)
        started = time.perf_counter()
        seed_demo(db, ref_csv, prov_csv)
        result["seed_s"] = round(time.perf_counter() - started, 2)
        with db.read() as session:
            result["open_referrals_before"] = session.query(Referral).count()
        with _server(url) as base:
            token = httpx.post(
                f"{base}/auth/token",
                data={"username": "caseworker@leeds.demo", "password": DEMO_PASSWORD},
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}

            warm = [
                ("POST", "/referrals", {"json": _referral_body(i), "headers": auth})
                for i in range(50)
            ]
            asyncio.run(_timed_requests(base, warm, concurrency))
            calls = [
                ("POST", "/referrals", {"json": _referral_body(i), "headers": auth})
                for i in range(posts)
            ]
            result["post_referrals"] = _summary(
                *asyncio.run(_timed_requests(base, calls, concurrency))
            )

            with db.read() as session:
                open_ids = list(
                    session.scalars(
                        Referral.__table__.select()
                        .with_only_columns(Referral.id)
                        .where(Referral.status == ReferralStatus.OPEN)
                        .order_by(Referral.id)
                        .limit(places + PLACE_WARM_UP)
                    )
                )
            place_calls = [
                ("POST", f"/referrals/{rid}/place", {"headers": auth}) for rid in open_ids
            ]
            # The first placements after start load the engine (OR-Tools, SciPy): reported
            # apart, one at a time, then left out of the steady-state figures.
            warm_up, place_calls = place_calls[:PLACE_WARM_UP], place_calls[PLACE_WARM_UP:]
            result["place_warm_up"] = _summary(*asyncio.run(_timed_requests(base, warm_up, 1)))
            result["place"] = _summary(
                *asyncio.run(_timed_requests(base, place_calls, min(concurrency, 8)))
            )

            if not match_run:
                db.dispose()
                return result
            ref_path, prov_path, n_ref, n_prov = _export_problem(db, workdir)
            result["match_run"] = {"open_referrals": n_ref, "sites": n_prov}
            started = time.perf_counter()
            run = httpx.post(
                f"{base}/match-runs",
                json={"time_limit_s": time_limit},
                headers=auth,
                timeout=time_limit * 4 + 120,
            )
            result["match_run"]["end_to_end_s"] = round(time.perf_counter() - started, 2)
            body = run.json()
            result["match_run"].update(
                status_code=run.status_code,
                engine_status=body.get("status"),
                engine_seconds=body.get("seconds"),
                matched=body.get("matched"),
                response_mb=round(len(run.content) / 1e6, 2),
            )
        started = time.perf_counter()
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "api.cli",
                "match",
                str(ref_path),
                str(prov_path),
                "--out",
                str(workdir / "cli_matches.csv"),
                "--time-limit",
                str(time_limit),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        result["engine_cli_s"] = round(time.perf_counter() - started, 2)
        result["engine_cli_exit"] = cli.returncode
        result["engine_cli_summary"] = cli.stdout.strip().splitlines()[:6]
        result["load_average_at_end"] = os.getloadavg()
        db.dispose()
    return result


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print (and optionally save) the results as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service_bench", description=__doc__)
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--places", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--no-match-run", action="store_true", help="measure only the request latencies"
    )
    args = parser.parse_args(argv)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "python": platform.python_version(),
        "posts": args.posts,
        "places": args.places,
        "concurrency": args.concurrency,
        "time_limit_s": args.time_limit,
    }
    results = []
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix="fm-service-bench-") as tmp:
            results.append(
                bench_backend(
                    backend,
                    args.posts,
                    args.places,
                    args.concurrency,
                    args.time_limit,
                    Path(tmp),
                    match_run=not args.no_match_run,
                )
            )
        print(json.dumps(results[-1], indent=2), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))


if __name__ == "__main__":
    main()
