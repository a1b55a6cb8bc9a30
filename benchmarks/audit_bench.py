"""Audit-chain benchmark: `audit verify` over N events, full and incremental, time and memory.

For each database it builds a fresh database (PostgreSQL: a new database, dropped at the end),
seeds ``--events`` audit events of the shapes the service writes (hash-chained exactly as
``record_event`` chains them, inserted in bulk; their search documents are left out, as
verification never reads them) with one signed checkpoint every ``--checkpoint-every``
events, then measures, each in a fresh child process (wall time and peak RSS):

- a **full** verification (every event re-hashed, every checkpoint compared), which also
  records a verified checkpoint of the head;
- ``--append`` more events (with their checkpoints), then an **incremental** verification
  from that verified checkpoint;
- a baseline child that only imports the verifier and connects (its RSS is the floor).

``--hot-path N`` also times N audited write transactions in this process with checkpoints
off and on (the cost the request path pays), and N ``POST /referrals`` in-process.

Usage::

    python -m benchmarks.audit_bench                        # 20,000 events, both databases
    python -m benchmarks.audit_bench --backends postgresql --events 1000000
    python -m benchmarks.audit_bench --backends sqlite --events 200000
    python -m benchmarks.audit_bench --events 5000 --hot-path 2000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.databases import fresh_database

SECRET = "benchmark-secret-that-is-long-enough-for-hs256"
ACTIONS = (
    ("referral.created", "referral"),
    ("offer.created", "offer"),
    ("offer.accepted", "offer"),
    ("capacity.changed", "capacity"),
    ("message.posted", "message"),
    ("offer.collected", "offer"),
)
COLUMNS = ("id", "occurred_at", "actor_user_id", "actor_label", "organisation_id", "action",
           "entity_type", "entity_id", "referral_id", "before_json", "after_json", "prev_hash",
           "hash")  # fmt: skip


class _Row:
    """An event as ``event_hash`` reads it."""

    __slots__ = COLUMNS

    def __init__(self, **values: Any) -> None:
        for key, value in values.items():
            setattr(self, key, value)


def _events(first_id: int, count: int, prev_hash: str, start: datetime) -> Iterator[_Row]:
    """``count`` chained events from ``first_id``, shaped like the service's."""
    from api.record.audit import canonical_json, event_hash

    for offset in range(count):
        event_id = first_id + offset
        action, entity = ACTIONS[event_id % len(ACTIONS)]
        referral = 1 + event_id // 7
        before = {"status": "open", "urgency": "urgent", "household_size": 1 + event_id % 6}
        after = {**before, "status": "offered", "provider_id": event_id % 250,
                 "name": "[personal data held by reference]"}  # fmt: skip
        row = _Row(
            id=event_id,
            occurred_at=start + timedelta(seconds=event_id * 3),
            actor_user_id=1 + event_id % 40,
            actor_label="user",
            organisation_id=1 + event_id % 12,
            action=action,
            entity_type=entity,
            entity_id=str(referral if entity == "referral" else event_id),
            referral_id=referral,
            before_json=canonical_json(before),
            after_json=canonical_json(after),
            prev_hash=prev_hash,
            hash="",
        )
        row.hash = event_hash(row)  # type: ignore[arg-type]
        prev_hash = row.hash
        yield row


def _head(url: str) -> tuple[int, str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")
            ).first()
    finally:
        engine.dispose()
    return (0, "0" * 64) if row is None else (int(row[0]), str(row[1]))


def seed(url: str, count: int, checkpoint_every: int, store: Path, key: Path) -> float:
    """Append ``count`` events (and a checkpoint every ``checkpoint_every``); seconds taken."""
    from sqlalchemy import create_engine, insert

    from api.record.checkpoints import CheckpointKind, CheckpointStore, Signer, load_signing_key
    from api.record.tables import AuditEvent

    started = time.perf_counter()
    engine = create_engine(url)
    head_id, head_hash = _head(url)
    signer = Signer(load_signing_key(key, create=True))
    lines: list[str] = []
    batch: list[_Row] = []
    moment = datetime(2024, 1, 1, tzinfo=UTC)

    def flush_rows(rows: list[_Row]) -> None:
        if url.startswith("sqlite"):  # through SQLAlchemy, so timestamps are stored as usual
            with engine.begin() as connection:
                connection.execute(
                    insert(AuditEvent.__table__),
                    [{c: getattr(r, c) for c in COLUMNS} for r in rows],
                )
            return
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        statement = f"COPY audit_events ({', '.join(COLUMNS)}) FROM STDIN"
        with psycopg.connect(dsn) as conn, conn.cursor() as cursor, cursor.copy(statement) as copy:
            for r in rows:
                copy.write_row(tuple(getattr(r, c) for c in COLUMNS))

    for row in _events(head_id + 1, count, head_hash, moment):
        batch.append(row)
        if row.id % checkpoint_every == 0 or row.id == head_id + count:
            lines.append(signer.sign(CheckpointKind.APPEND, row.id, row.hash).to_line())
        if len(batch) >= 20_000:
            flush_rows(batch)
            batch = []
    if batch:
        flush_rows(batch)
    engine.dispose()
    store.mkdir(parents=True, exist_ok=True)
    with (store / "checkpoints.jsonl").open("a", encoding="utf-8") as stream:
        stream.write("".join(lines))
    # Checked against the real checkpoint file format: the store reads what we wrote.
    assert any(True for _ in CheckpointStore(store).read(limit=4096))
    return time.perf_counter() - started


def child(url: str, store: Path, key: Path, mode: str) -> dict[str, Any]:
    """One measurement in this (fresh) process: full, incremental or baseline."""
    from api.core.db import Database
    from api.record.checkpoints import AnchorConfig, verify_audit

    db = Database.from_url(url)
    config = AnchorConfig(store=store, key_file=key, interval_s=1.0)
    started = time.perf_counter()
    try:
        if mode == "baseline":
            db.ping()
            out: dict[str, Any] = {"ok": True}
        else:
            result = verify_audit(db, config, incremental=mode == "incremental", record=True)
            out = {
                "ok": result.ok,
                "mode": result.mode,
                "status": result.status.value,
                "checked": result.chain.checked,
                "head_id": result.chain.head_id,
                "checkpoints_read": result.checkpoints_read,
                "signatures_checked": result.signatures_checked,
                "detail": result.detail,
            }
    finally:
        db.dispose()
    out["seconds"] = time.perf_counter() - started
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux: VmHWM (``ru_maxrss`` would still count the
    parent's pages from before ``exec``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_child(url: str, store: Path, key: Path, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.audit_bench", "--child", mode, "--url", url,
         "--store", str(store), "--key", str(key)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def hot_path(url: str, transactions: int, workdir: Path, rounds: int) -> dict[str, Any]:
    """Audited write transactions and POST /referrals, with checkpoints off and on (``rounds``
    alternations of ``transactions`` each), and the cost of noting one commit."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth.tokens import issue_token
    from api.core.config import Settings
    from api.core.db import Database
    from api.core.vocabulary import OrganisationKind, Role
    from api.demo.seed import add_organisation, add_user
    from api.record import checkpoints
    from api.record.audit import record_event

    db = Database.from_url(url)
    with db.write() as session:
        council = add_organisation(session, f"Bench council {uuid.uuid4().hex[:6]}",
                                   OrganisationKind.COUNCIL)  # fmt: skip
        user = add_user(session, council, f"cw-{uuid.uuid4().hex[:6]}@bench.test",
                        Role.CASEWORKER, "bench password that is long enough")  # fmt: skip
        session.refresh(user, ["organisation"])
    settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
    headers = {"Authorization": f"Bearer {issue_token(user, settings)[0]}"}
    body = {"household_size": 3, "urgency": "urgent", "postcode": "LS9 7AB",
            "consent_to_share": True, "name": "Bench Household"}  # fmt: skip
    results: dict[str, Any] = {}
    settings_on = checkpoints.AnchorConfig(
        store=workdir / f"hot-{uuid.uuid4().hex[:6]}", key_file=workdir / "hot-key.pem",
        interval_s=1.0,
    )  # fmt: skip
    configs = {
        "off": checkpoints.AnchorConfig(store=None, key_file=None),
        "on (1 s)": settings_on,
        "on (every commit)": checkpoints.AnchorConfig(
            store=settings_on.store, key_file=settings_on.key_file, interval_s=0.0
        ),
    }
    app = create_app(settings, db)
    with TestClient(app) as client:
        for _round in range(rounds):  # alternate, so drift in machine load hits all alike
            for label, config in configs.items():
                checkpoints.configure(url, config)
                times = []
                for number in range(transactions):
                    began = time.perf_counter()
                    with db.write() as session:
                        record_event(session, actor_user_id=None, organisation_id=None,
                                     action="capacity.changed", entity_type="capacity",
                                     entity_id=number, before={"parcels": number},
                                     after={"parcels": number + 1})  # fmt: skip
                    times.append(time.perf_counter() - began)
                posts = []
                for _ in range(max(1, transactions // 4)):
                    began = time.perf_counter()
                    response = client.post("/referrals", json=body, headers=headers)
                    posts.append(time.perf_counter() - began)
                    assert response.status_code == 201, response.text
                checkpoints.flush(url)
                entry = results.setdefault(label, {"transaction_ms": [], "post_referrals_ms": []})
                entry["transaction_ms"].extend(t * 1000 for t in times)
                entry["post_referrals_ms"].extend(t * 1000 for t in posts)
    throwaway = checkpoints.AnchorConfig(  # its one checkpoint names no real event
        store=workdir / "note-bench", key_file=workdir / "note-key.pem", interval_s=3600
    )
    checkpoints.configure(url, throwaway)
    calls = 100_000
    began = time.perf_counter()
    for number in range(calls):  # what the after-commit hook does for one commit
        checkpoints.note_commit(db.engine.url, 10**9 + number, "0" * 64)
    note_us = (time.perf_counter() - began) / calls * 1e6
    checkpoints.configure(url, configs["off"])
    db.dispose()
    summary: dict[str, Any] = {"note_commit_us": note_us}
    for label, entry in results.items():
        summary[label] = {
            name: {
                "n": len(values),
                "mean": statistics.fmean(values),
                "p50": statistics.median(values),
                "p99": sorted(values)[int(0.99 * (len(values) - 1))],
            }
            for name, values in entry.items()
        }
    return summary


def bench(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement on one database."""
    with (
        tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp,
        fresh_database(backend, prefix="audit_bench") as url,
    ):
        workdir = Path(tmp)
        store, key = workdir / "checkpoints", workdir / "checkpoints-key.pem"
        out: dict[str, Any] = {"backend": backend, "events": args.events,
                               "checkpoint_every": args.checkpoint_every}  # fmt: skip
        out["seed_seconds"] = seed(url, args.events, args.checkpoint_every, store, key)
        out["store_bytes"] = (store / "checkpoints.jsonl").stat().st_size
        print(f"[{backend}] seeded {args.events:,} events in {out['seed_seconds']:.1f} s",
              file=sys.stderr, flush=True)  # fmt: skip
        out["baseline"] = _run_child(url, store, key, "baseline")
        out["full"] = _run_child(url, store, key, "full")
        print(f"[{backend}] full: {out['full']}", file=sys.stderr, flush=True)
        assert out["full"]["ok"], out["full"]["detail"]
        out["append_seconds"] = seed(url, args.append, args.checkpoint_every, store, key)
        out["incremental"] = _run_child(url, store, key, "incremental")
        print(f"[{backend}] incremental: {out['incremental']}", file=sys.stderr, flush=True)
        assert out["incremental"]["ok"], out["incremental"]["detail"]
        if args.hot_path:
            out["hot_path"] = hot_path(url, args.hot_path, workdir, args.rounds)
            print(f"[{backend}] hot path: {json.dumps(out['hot_path'])}", file=sys.stderr)
        return out


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--checkpoint-every", type=int, default=10,
                        help="one checkpoint per this many events (default 10)")  # fmt: skip
    parser.add_argument("--append", type=int, default=1_000,
                        help="events added before the incremental verification")  # fmt: skip
    parser.add_argument("--hot-path", type=int, default=0,
                        help="also time this many audited writes, checkpoints off/on")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2,
                        help="hot path: alternations of off/on (default 2)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--child", choices=["full", "incremental", "baseline"],
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--key", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.url, args.store, args.key, args.child)))
        return
    if args.events < 1 or args.checkpoint_every < 1 or args.append < 1:
        parser.error("--events, --checkpoint-every and --append must be at least 1")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}",
        "load_average_at_start": os.getloadavg(),
        "results": [bench(backend, args) for backend in args.backends],
    }
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
