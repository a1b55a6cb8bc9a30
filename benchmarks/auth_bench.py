"""What checking the caller costs: authenticated requests in-process, per request.

For each database (SQLite file, PostgreSQL on loopback) it builds a fresh database with one
council, one caseworker and one site, then drives the application in-process with
Starlette's TestClient (the real app: middleware, dependencies, services, database; no
network). It times, one request at a time and after a warm-up:

- ``GET /auth/me``: the cheapest authenticated request (mostly the credential check);
- ``POST /referrals``: the service's busiest write, with a fresh body each time;
- on trees that have it, the account check alone (``api.auth.tokens.live_principal``), called
  directly 2,000 times.

Each figure is the median, over ``--batches`` batches, of the mean time per request in a
batch of ``--batch`` requests: wall-clock, and the process's CPU time (steadier on a busy
machine). Run it on two trees to compare them: it uses only
``create_app``, ``Settings``, ``issue_token`` and the seed helpers. Usage::

    python -m benchmarks.auth_bench [--backends sqlite postgresql] [--batch 100]
        [--batches 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth.tokens import hash_password, issue_token
from api.core.config import Settings
from api.core.db import Database
from api.core.vocabulary import OrganisationKind, Role
from api.demo.seed import add_organisation, add_user
from benchmarks.databases import fresh_database

SECRET = "benchmark-secret-that-is-long-enough-for-hs256"
WARM_UP = 50


def _body(i: int) -> dict[str, Any]:
    return {
        "household_size": 1 + i % 6,
        "dietary": [],
        "urgency": ("emergency", "urgent", "standard", "standard")[i % 4],
        "postcode": ("LS6 1AA", "LS9 7AB", "LS11 5QP")[i % 3],
        "consent_to_share": True,
        "name": f"Bench household {i}",
    }


def _timed(client: TestClient, calls: list[tuple[str, str, dict[str, Any]]]) -> tuple[float, float]:
    """Mean wall-clock and process-CPU seconds per request over ``calls`` (every answer must
    be a success). CPU time counts every thread of this process (app, client, thread pool)
    and is far less disturbed than wall time by other work on a shared machine."""
    started, cpu = time.perf_counter(), time.process_time()
    for method, path, kwargs in calls:
        response = client.request(method, path, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
    return (
        (time.perf_counter() - started) / len(calls),
        (time.process_time() - cpu) / len(calls),
    )


def _check_alone(db: Database, user_id: int, rounds: int = 2000) -> dict[str, float] | None:
    """Microseconds per call of the account check alone (trees that have it)."""
    import api.auth.tokens

    check = getattr(api.auth.tokens, "live_principal", None)
    if check is None:
        return None
    for _ in range(100):
        check(db, user_id, 0)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        check(db, user_id, 0)
    return {
        "wall_us": round((time.perf_counter() - started) / rounds * 1e6, 1),
        "cpu_us": round((time.process_time() - cpu) / rounds * 1e6, 1),
    }


def measure(backend: str, batch: int, batches: int) -> dict[str, Any]:
    """Median per-request milliseconds for ``GET /auth/me`` and ``POST /referrals``."""
    with fresh_database(backend, prefix="authbench") as url:
        settings = Settings(
            database_url=url, jwt_secret=SECRET, log_level="WARNING", token_minutes=120
        )
        db = Database.from_url(url)
        try:
            with db.write() as session:
                council = add_organisation(session, "Bench Council", OrganisationKind.COUNCIL)
                user = add_user(
                    session,
                    council,
                    "caseworker@bench.test",
                    Role.CASEWORKER,
                    "",
                    password_hash=hash_password("bench password"),
                )
                session.refresh(user, ["organisation"])
                token, _ = issue_token(user, settings)
            auth = {"Authorization": f"Bearer {token}"}
            app = create_app(settings, db)
            results: dict[str, Any] = {}
            with TestClient(app) as client:
                counter = 0
                for name, make in (
                    ("GET /auth/me", lambda _i: ("GET", "/auth/me", {"headers": auth})),
                    (
                        "POST /referrals",
                        lambda i: ("POST", "/referrals", {"json": _body(i), "headers": auth}),
                    ),
                ):
                    _timed(client, [make(counter + i) for i in range(WARM_UP)])
                    counter += WARM_UP
                    walls, cpus = [], []
                    for _ in range(batches):
                        wall, cpu = _timed(client, [make(counter + i) for i in range(batch)])
                        walls.append(wall)
                        cpus.append(cpu)
                        counter += batch
                    results[name] = {
                        "median_ms": round(statistics.median(walls) * 1000, 3),
                        "min_ms": round(min(walls) * 1000, 3),
                        "max_ms": round(max(walls) * 1000, 3),
                        "cpu_median_ms": round(statistics.median(cpus) * 1000, 3),
                    }
            alone = _check_alone(db, user.id)
            if alone is not None:
                results["account check alone"] = alone
            return results
        finally:
            db.dispose()


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "batch": args.batch,
        "batches": args.batches,
        "results": {},
    }
    for backend in args.backends:
        report["results"][backend] = measure(backend, args.batch, args.batches)
        for name, figures in report["results"][backend].items():
            if "wall_us" in figures:
                print(
                    f"{backend:<11} {name:<20} {figures['wall_us']:.1f} us wall, "
                    f"{figures['cpu_us']:.1f} us CPU per call"
                )
                continue
            print(
                f"{backend:<11} {name:<20} median {figures['median_ms']:.3f} ms "
                f"(batches {figures['min_ms']:.3f}-{figures['max_ms']:.3f}), "
                f"CPU {figures['cpu_median_ms']:.3f} ms"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
