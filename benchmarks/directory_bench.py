"""Directory benchmark: importing an ORUK feed, and answering the public /oruk/ API.

``python -m benchmarks.directory_bench [--sites 500 2000] [--database-url URL]`` builds a
synthetic ORUK feed of N food services in West Yorkshire (one physical location each, fixed
seed), imports it into a fresh database (then again: nothing changes), gives every site a
capacity figure, and times the published API in-process (FastAPI TestClient, median of 15
requests after a warm-up). Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPEATS = 15


def _feed(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    services = []
    for n in range(count):

        def ident(kind: str, n: int = n) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{kind}:{n}"))

        services.append(
            {
                "id": ident("service"),
                "name": f"Food bank {n}",
                "status": "active",
                "description": "Food parcels for referred households.",
                "organization": {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench:org:{n % 50}")),
                    "name": f"Charity {n % 50}",
                    "description": "A food charity.",
                },
                "service_at_locations": [
                    {
                        "id": ident("sal"),
                        "location": {
                            "id": ident("location"),
                            "location_type": "physical",
                            "latitude": round(53.55 + rng.random() * 0.45, 6),
                            "longitude": round(-2.05 + rng.random() * 0.75, 6),
                        },
                    }
                ],
                "attributes": [
                    {"id": ident("attr"), "taxonomy_term": {"id": ident("term"), "name": "Halal",
                                                            "description": "", "term": "halal"}}
                ] if n % 3 == 0 else [],
            }
        )  # fmt: skip
    return services


def _median_ms(call: Any) -> float:
    call()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run(count: int, url: str | None) -> list[str]:
    """Measure one feed size; the Markdown table rows."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.core.config import Settings
    from api.core.db import Database
    from api.core.migrate import upgrade
    from api.core.tables import Capacity, Provider
    from api.demo.seed import current_week
    from api.directory.service import import_source
    from api.directory.sources import feed_from_json

    with tempfile.TemporaryDirectory() as folder:
        database_url = url or f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(database_url)
        db = Database.from_url(database_url)
        feed = feed_from_json(
            {"total_items": count, "total_pages": 1, "page_number": 1, "contents": _feed(count)},
            "bench.json",
        )
        start = time.perf_counter()
        first = import_source(db, None, feed)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        again = import_source(db, None, feed)
        again_s = time.perf_counter() - start
        assert len(first.added) == count and again.unchanged == count
        week_start, week_end = current_week()
        with db.write() as session:
            for provider_id in session.scalars(
                Provider.__table__.select().with_only_columns(Provider.id)
            ):
                session.add(Capacity(provider_id=provider_id, period_start=week_start,
                                     period_end=week_end, parcels=10, people=None, delivery=1,
                                     dietary={"halal": None}))  # fmt: skip
        logging.disable(logging.CRITICAL)
        app = create_app(Settings(database_url=database_url, log_level="ERROR"), db)
        client = TestClient(app)
        one = client.get("/oruk/services", params={"per_page": 1}).json()["contents"][0]["id"]
        near = {"postcode": "LS9", "proximity": 5000, "per_page": 50}
        calls = {
            "`GET /oruk/services?per_page=50`": lambda: client.get(
                "/oruk/services", params={"per_page": 50}
            ),
            "`GET /oruk/service_at_locations?postcode=LS9&proximity=5000&per_page=50`": (
                lambda: client.get("/oruk/service_at_locations", params=near)
            ),
            "`GET /oruk/services/{id}`": lambda: client.get(f"/oruk/services/{one}"),
        }
        rows = [
            f"| {count:,} | import (first) | {first_s:.2f} s |",
            f"| {count:,} | import again (nothing changes) | {again_s:.2f} s |",
        ]
        for label, call in calls.items():
            rows.append(f"| {count:,} | {label} | {_median_ms(call):.1f} ms |")
        logging.disable(logging.NOTSET)
        db.dispose()
    return rows


def main() -> None:
    """Run the sizes asked for and print the section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite)")
    args = parser.parse_args()
    rows = [row for count in args.sites for row in run(count, args.database_url)]
    backend = (args.database_url or "sqlite").split(":")[0]
    load = os.getloadavg()[0]
    print("## Directory (ORUK import and the /oruk/ API)\n")
    print(
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), shared with other work (load average "
        f"{load:.2f}); {backend}; `python -m benchmarks.directory_bench`. Inputs: a synthetic feed "
        "of food services in West Yorkshire (one physical location each, 50 charities, a third "
        "tagged halal), every site then given a capacity figure. Requests in-process (TestClient), "
        f"median of {REPEATS} after one warm-up.\n"
    )
    print("| sites | operation | time |\n|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
