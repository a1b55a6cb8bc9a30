"""Pages benchmark: server-side render time of every page with the sample region loaded.

Builds a fresh database (SQLite file by default; ``--backends sqlite postgresql``), seeds the
Leeds sample region (1,500 referrals, 40 sites, demo users), runs one match run so charities
have offers, adds a placed referral with a message thread, a finished what-if run and an FOI
request with an export. Then requests each page in-process through the ASGI app (Starlette's
TestClient: routing, session check, services, database and template, no network) ``--repeat``
times after a warm-up, and reports p50/p95/max per page. Writes the "Pages" section of
docs/benchmarks.md with ``--write``.

Usage::

    python -m benchmarks.pages_bench [--repeat 200] [--backends sqlite] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from api.core import clock
from api.core.config import Settings
from api.core.db import Database
from api.demo.seed import DEMO_PASSWORD, seed_demo
from benchmarks.databases import fresh_database
from matching.geo import data_dir

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
SECRET = "benchmark-secret-that-is-long-enough-for-hs256"
BUDGET_MS = 100.0


@dataclass
class Timing:
    """One page's render times."""

    role: str
    page: str
    status: int
    millis: list[float]

    def pct(self, q: float) -> float:
        """The ``q`` quantile in milliseconds (nearest rank)."""
        ordered = sorted(self.millis)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token"
    return found.group(1)


def _client(app: object, email: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://127.0.0.1")  # type: ignore[arg-type]
    form = client.get("/app/sign-in")
    signed = client.post(
        "/app/sign-in",
        data={"email": email, "password": DEMO_PASSWORD, "csrf_token": _csrf(form.text)},
    )
    assert signed.status_code == 200, signed.status_code
    return client, _csrf(signed.text)


def _time(call: Callable[[], int], repeat: int, warm: int = 5) -> tuple[int, list[float]]:
    status = 0
    for _ in range(warm):
        status = call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        status = call()
        times.append((time.perf_counter() - start) * 1000)
    return status, times


def _place_some(db: Database, settings: Settings, count: int) -> int:
    """Place up to ``count`` open referrals one at a time (the 'place now' service)."""
    from sqlalchemy import select

    from api.core.errors import ProblemError
    from api.core.tables import Referral
    from api.core.vocabulary import ReferralStatus
    from api.match_runs.service import place

    with db.read() as session:
        ids = list(
            session.scalars(
                select(Referral.id)
                .where(Referral.status == ReferralStatus.OPEN)
                .order_by(Referral.id)
                .limit(count)
            ).all()
        )
    placed = 0
    for referral_id in ids:
        try:
            place(db, settings, referral_id)
            placed += 1
        except ProblemError:
            pass
    return placed


def measure(backend: str, repeat: int) -> tuple[list[Timing], dict[str, str]]:
    """Seed the sample region on ``backend`` and time every page."""
    from api.match_runs.service import run_matching
    from api.scenarios.runs import live_problem
    from api.scenarios.store import RUNS

    facts: dict[str, str] = {}
    with fresh_database(backend, prefix="pages") as url:
        settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
        db = Database.from_url(url)
        sample = data_dir() / "sample"
        seed_demo(db, sample / "referrals.csv", sample / "providers.csv")
        app = create_app(settings, db)
        caseworker, cw_csrf = _client(app, "caseworker@leeds.demo")
        principal = None
        from sqlalchemy import select

        from api.auth.tokens import Principal
        from api.core.tables import Organisation, User
        from api.core.vocabulary import OrganisationKind, Role

        with db.read() as session:
            user = session.scalar(select(User).where(User.email == "caseworker@leeds.demo"))
            assert user is not None
            principal = Principal(
                user.organisation_id, OrganisationKind.COUNCIL, Role.CASEWORKER, user.id
            )
        answers = {
            "postcode": "LS9 7AB", "household_size": "3", "dietary": "halal",
            "urgency": "emergency", "delivery": "collect", "max_travel_km": "5",
            "consent": "yes", "name": "Bench Household", "phone": "07700 900000",
            "notes": "", "csrf_token": cw_csrf,
        }  # fmt: skip
        checked = caseworker.post("/app/caseworker/referrals/new", data=answers)
        key = re.search(r'name="idempotency_key" value="([^"]+)"', checked.text)
        assert key
        made = caseworker.post(
            "/app/caseworker/referrals/new/confirm",
            data=answers | {"idempotency_key": key.group(1)},
        )
        referral_path = str(made.url.path)
        caseworker.post(referral_path + "/place", data={"csrf_token": cw_csrf})
        for i in range(5):
            caseworker.post(
                referral_path + "/messages",
                data={"csrf_token": cw_csrf, "message": f"Message {i}: call before noon."},
            )
        started = time.perf_counter()
        try:
            run = run_matching(db, settings, principal, 20)
            facts["match run"] = (
                f"{sum(run.matched.model_dump().values())} of {run.referral_count} referrals "
                f"offered in {time.perf_counter() - started:.1f} s"
            )
        except DBAPIError as err:
            # Fall back to placing households one by one so charities still have offers.
            facts["match run"] = f"failed ({type(err.orig).__name__}: {str(err.orig)[:80]})"
            placed = _place_some(db, settings, 300)
            facts["instead"] = f"{placed} of the first 300 open referrals placed one by one"
        site = re.search(r"\((Demo Charity \d+)\)", caseworker.get(referral_path).text)
        assert site, "the bench referral was not placed"
        number = site.group(1).rsplit(" ", 1)[1]
        charity, _ = _client(app, f"charity{number}@charity.demo")
        home = charity.get("/app/charity").text
        offer = re.search(r'href="(/app/charity/offers/\d+)"', home)
        capacity = re.search(r'href="(/app/charity/sites/\d+/capacity)"', home)
        assert offer and capacity
        with db.read() as session:
            council = session.scalar(select(Organisation.id).where(Organisation.kind == "council"))
        assert council is not None
        base = live_problem(db, principal.organisation_id)
        scenario = RUNS.start(
            organisation_id=council, title="bench", base=base,
            spec={"scenario": [{"name": "close-first", "close": [base.providers[0].provider_id]}]},
            seconds=2,
        )  # fmt: skip
        while not scenario.finished:
            time.sleep(0.2)
        assert scenario.state == "done", scenario.error
        plan, _ = _client(app, "planner@leeds.demo")
        foi_client, foi_csrf = _client(app, "foi-officer@leeds.demo")
        today = clock.today()
        foi_client.post(
            "/app/foi/requests",
            data={
                "csrf_token": foi_csrf, "reference": "BENCH-1", "summary": "Everything.",
                "received-day": str(today.day), "received-month": str(today.month),
                "received-year": str(today.year),
            },
        )  # fmt: skip
        export = foi_client.post("/app/foi/exports", data={"csrf_token": foi_csrf})
        export_path = str(export.url.path)
        anonymous = TestClient(app, base_url="http://127.0.0.1")
        bad_form = {"csrf_token": cw_csrf, "postcode": "", "household_size": "x"}
        runs = f"/app/planner/runs/{scenario.id}"
        new = "/app/caseworker/referrals/new"
        pages: list[tuple[str, str, TestClient, str, dict[str, str] | None]] = [
            ("anyone", "sign in", anonymous, "/app/sign-in", None),
            ("caseworker", "referrals (page 1 of 31)", caseworker, "/app/caseworker/referrals",
             None),
            ("caseworker", "referrals, offered only", caseworker,
             "/app/caseworker/referrals?status=offered", None),
            ("caseworker", "refer a household (form)", caseworker, new, None),
            ("caseworker", "form with errors (POST)", caseworker, new, bad_form),
            ("caseworker", "check your answers (POST)", caseworker, new, answers),
            ("caseworker", "referral with match and thread", caseworker, referral_path, None),
            ("charity", "offers and sites", charity, "/app/charity", None),
            ("charity", "offer", charity, offer.group(1), None),
            ("charity", "capacity form", charity, capacity.group(1), None),
            ("planner", "what-if scenarios", plan, "/app/planner", None),
            ("planner", "run results (table, plots, map)", plan, runs, None),
            ("planner", "comparison CSV", plan, f"{runs}/comparison.csv", None),
            ("FOI officer", "search the record", foi_client, "/app/foi?q=noon", None),
            ("FOI officer", "request register", foi_client, "/app/foi/requests", None),
            ("FOI officer", "export", foi_client, export_path, None),
        ]  # fmt: skip
        timings = []
        for role, name, client, path, data in pages:

            def call(
                client: TestClient = client, path: str = path, data: dict[str, str] | None = data
            ) -> int:
                if data is None:
                    return client.get(path).status_code
                return client.post(path, data=data).status_code

            status, millis = _time(call, repeat)
            timings.append(Timing(role, name, status, millis))
        for client in (caseworker, charity, plan, foi_client, anonymous):
            client.close()
        db.dispose()
    return timings, facts


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), shared with other work (load average {load}); "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def report(results: dict[str, tuple[list[Timing], dict[str, str]]], repeat: int) -> str:
    """The Pages section of docs/benchmarks.md."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Pages",
        "",
        f"Measured {now} by `python -m benchmarks.pages_bench --write`, commit {_commit()}.",
        f"Machine: {_machine()}.",
        "",
        "Inputs: the Leeds sample region (`data/sample`: 1,500 referrals, 40 sites in 10 demo "
        "charities) seeded with `seed_demo`, one match run over every open referral, one "
        "placed referral with a 5-message thread, one finished what-if run (baseline and one "
        "closure, 2 s per run), one FOI request with an export.",
        "",
        "Method: each page is requested in-process through the ASGI app with Starlette's "
        "TestClient, signed in as its role (session cookie check, services, database, "
        f"template: everything server-side, no network), {repeat} times after 5 warm-up "
        "requests, one at a time; times are wall-clock per request. Budget: p95 under "
        f"{BUDGET_MS:.0f} ms.",
        "",
    ]
    for backend, (timings, facts) in results.items():
        worst = max(t.pct(0.95) for t in timings)
        verdict = "all within budget" if worst < BUDGET_MS else "OVER BUDGET"
        lines += [
            f"### {'SQLite file' if backend == 'sqlite' else 'PostgreSQL'}",
            "",
            "Setup: " + "; ".join(f"{k}: {v}" for k, v in facts.items()) + ".",
            f"Worst p95 {worst:.1f} ms: {verdict}.",
            "",
            "| role | page | status | p50 ms | p95 ms | max ms |",
            "|---|---|---|---|---|---|",
        ]
        for t in timings:
            lines.append(
                f"| {t.role} | {t.page} | {t.status} | {statistics.median(t.millis):.1f} | "
                f"{t.pct(0.95):.1f} | {max(t.millis):.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_section(body: str) -> None:
    """Replace (or append) the Pages section of docs/benchmarks.md, leaving others alone."""
    begin, end = "<!-- BEGIN pages (benchmarks/pages_bench.py) -->", "<!-- END pages -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the section; write it with ``--write``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    results = {backend: measure(backend, args.repeat) for backend in args.backends}
    body = report(results, args.repeat)
    print(body)
    if args.write:
        write_section(body)
        print(f"wrote the Pages section of {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
