"""PostgreSQL: the service's own role cannot get past the audit log's rules, a superuser's
bypass is caught by the checkpoints, migrations stay with the owner, and `serve` refuses a
role that could change the log."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.core.config import Settings
from api.core.db import Database
from api.core.migrate import alembic_config, upgrade
from api.core.vocabulary import Role
from api.record import checkpoints
from api.record.audit import verify_chain
from api.record.checkpoints import AnchorConfig, AnchorStatus
from api.record.dbrole import role_report
from tests.api.conftest import PASSWORD, TEST_SECRET, World, free_port
from tests.api.record.helpers import append_events
from tests.api.record.test_audit_checkpoints import recompute_from
from tests.conftest import PG_ADMIN_URL, _pg_admin


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: SQLite has no roles (its file's permissions are the boundary)."""
    return "postgresql"


@pytest.fixture
def pg_url(db_url: str) -> str:
    """This test's PostgreSQL database."""
    return db_url


def _drop_role(database_url: str, role: str) -> None:
    with _pg_admin() as admin:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if not exists:
        return
    url = make_url(database_url)
    with psycopg.connect(host=url.host, port=url.port, user="postgres", dbname=url.database,
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f'DROP OWNED BY "{role}"')
    with _pg_admin() as admin:
        admin.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def service_url(pg_url: str) -> Iterator[str]:
    """A role made by `foodmatch db create-role` in this database; its URL (dropped after)."""
    role = f"fm_svc_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        made = CliRunner().invoke(cli, ["db", "create-role", role, "--database-url", pg_url])
        assert made.exit_code == 0, made.output
        assert f'REVOKE UPDATE, DELETE ON "public"."audit_events" FROM "{role}"' in made.output
        yield make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    finally:
        _drop_role(pg_url, role)


@pytest.fixture
def store(pg_url: str, tmp_path: Path) -> AnchorConfig:
    """A checkpoint store for this database (interval 0)."""
    config = AnchorConfig(store=tmp_path / "audit", key_file=tmp_path / "audit-key.pem",
                          interval_s=0.0)  # fmt: skip
    checkpoints.configure(pg_url, config)
    return config


ATTEMPTS = {
    "SET LOCAL session_replication_role = replica": "permission denied to set parameter",
    "UPDATE audit_events SET action = 'x'": "permission denied for table audit_events",
    "DELETE FROM audit_events": "permission denied for table audit_events",
    "TRUNCATE audit_events": "permission denied for table audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER USER": "must be owner of table audit_events",
    "DROP TRIGGER audit_events_refuse_change ON audit_events": "must be owner",
    "UPDATE alembic_version SET version_num = 'x'": "permission denied for table alembic_version",
}


@pytest.mark.parametrize("statement", sorted(ATTEMPTS))
def test_service_role_cannot_change_the_log(service_url: str, db: Database,
                                            statement: str) -> None:  # fmt: skip
    """Under the service role, skipping triggers, changing or removing audit events and
    rewriting the schema version are all refused by PostgreSQL; nothing changes."""
    append_events(db, 3)
    service = Database.from_url(service_url)
    try:
        with pytest.raises(DBAPIError, match=ATTEMPTS[statement]), service.write() as session:
            session.execute(text(statement))
        append_events(service, 2)  # appending still works
        with service.read() as session:
            assert verify_chain(session).checked == 5
        with service.engine.connect() as connection:
            report = role_report(connection)
        assert report is not None and not report.can_change_audit_events and not report.problems()
    finally:
        service.dispose()


def test_superuser_replica_bypass_is_caught(pg_url: str, db: Database, store: AnchorConfig) -> None:
    """The attack as reported: a superuser passes the triggers with SET LOCAL
    session_replication_role = replica, edits an event and recomputes every later hash. The
    chain alone verifies; the checkpoints expose it. Checkpoints are flushed at events 6 and 10
    (the writer otherwise coalesces by time, so which events get one would depend on load)."""
    append_events(db, 6)
    checkpoints.flush(pg_url)
    append_events(db, 4)
    checkpoints.flush(pg_url)
    with db.write() as session:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text("UPDATE audit_events SET action = 'nothing.happened' WHERE id = 4"))
        recompute_from(session, 4)
    with db.read() as session:
        assert verify_chain(session).ok
    result = checkpoints.verify_audit(db, store)
    assert result.status is AnchorStatus.REWRITTEN and not result.ok
    with db.write() as session:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text("DELETE FROM audit_events WHERE id > 6"))
    assert checkpoints.verify_audit(db, store).status is AnchorStatus.REWRITTEN
    code = CliRunner().invoke(cli, ["audit", "verify", "--database-url", pg_url]).exit_code
    assert code == 1


def test_service_works_under_its_role(
    service_url: str, world: World, db: Database, store: AnchorConfig
) -> None:
    """The service answers its everyday requests as the service role (submit, message,
    accept, erase, export, verify), and GET /audit/verify says the role cannot change the log."""
    settings = Settings(database_url=service_url, jwt_secret=TEST_SECRET, log_level="WARNING")
    app = create_app(settings)
    cw, admin = world.headers("A", Role.CASEWORKER), world.headers("A", Role.ADMIN)
    with TestClient(app, raise_server_exceptions=False) as client:
        submitted = client.post("/referrals", headers=cw, json={
            "household_size": 2, "urgency": "urgent", "postcode": "LS9 7AB",
            "consent_to_share": True, "name": "Role Test", "phone": "07700 900111",
        })  # fmt: skip
        assert submitted.status_code == 201, submitted.text
        message = client.post(f"/referrals/{world.ids['referral_a']}/messages",
                              json={"body": "Ring before noon"}, headers=cw)  # fmt: skip
        assert message.status_code == 201, message.text
        accepted = client.post(f"/offers/{world.ids['offer_a']}/accept",
                               headers=world.headers("X", Role.CHARITY))  # fmt: skip
        assert accepted.status_code == 200, accepted.text
        erased = client.post(f"/admin/referrals/{submitted.json()['id']}/erasure", headers=admin)
        assert erased.status_code == 200, erased.text
        officer = world.headers("A", Role.FOI_OFFICER)
        export = client.post("/foi/exports", json={"keywords": "noon"}, headers=officer)
        assert export.status_code == 201, export.text
        verified = client.get("/audit/verify", headers=admin).json()
    assert verified["ok"] is True and verified["anchor"]["status"] == "matched"
    assert verified["database_role"]["superuser"] is False
    assert verified["database_role"]["can_change_audit_events"] is False


def test_migrations_belong_to_the_owner(tmp_path: Path, pg_url: str) -> None:
    """A non-superuser owner runs the migrations and makes the service role; the service
    role's start-up upgrade is a no-op at head, and it cannot migrate a schema that is behind."""
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    owner, service, database = f"fm_own_{tag}", f"fm_app_{tag}", f"fm_mig_{tag}"
    base = make_url(PG_ADMIN_URL)
    owner_url = base.set(username=owner, database=database).render_as_string(False)
    service_url = base.set(username=service, database=database).render_as_string(False)
    with _pg_admin() as admin:
        admin.execute(f'CREATE ROLE "{owner}" LOGIN CREATEROLE')
        admin.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
    try:
        upgrade(owner_url)
        made = CliRunner().invoke(cli, ["db", "create-role", service, "--database-url", owner_url])
        assert made.exit_code == 0, made.output
        upgrade(service_url)  # already at head: reads the version only
        command.downgrade(alembic_config(owner_url), "-1")
        with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
            upgrade(service_url)
        upgrade(owner_url)
        engine = create_engine(service_url)
        try:
            with engine.connect() as connection:
                report = role_report(connection)
                assert report is not None and not report.problems()
        finally:
            engine.dispose()
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{service}"')
            admin.execute(f'DROP ROLE IF EXISTS "{owner}"')


def test_create_role_refuses_bad_input(pg_url: str, tmp_path: Path) -> None:
    """A bad role name, a superuser, or a SQLite database is refused with one clear line."""
    runner = CliRunner()
    bad = runner.invoke(cli, ["db", "create-role", "Robert'); --", "--database-url", pg_url])
    assert bad.exit_code == 2 and "expected lower-case letters" in bad.output
    superuser = runner.invoke(cli, ["db", "create-role", "postgres", "--database-url", pg_url])
    assert superuser.exit_code == 2 and "running this command" in superuser.output
    sqlite = runner.invoke(cli, ["db", "create-role", "app", "--database-url",
                                 f"sqlite:///{tmp_path / 'x.db'}"])  # fmt: skip
    assert sqlite.exit_code != 0


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _env(database_url: str, checkpoints_dir: Path | None) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "FOODMATCH_JWT_SECRET": secrets.token_urlsafe(48),
           "FOODMATCH_AUDIT_CHECKPOINT_SECONDS": "0"}  # fmt: skip
    if checkpoints_dir is not None:
        env["FOODMATCH_AUDIT_CHECKPOINTS"] = str(checkpoints_dir)
    return env


def test_serve_refuses_a_superuser_or_no_store(pg_url: str, tmp_path: Path) -> None:
    """`foodmatch serve` as a superuser, or without a checkpoint store, stops with exit 1
    before listening, and says why."""
    process = _serve(_env(pg_url, None), free_port())
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:  # it started serving after all
            process.kill()
            process.communicate()
    assert process.returncode == 1, output
    assert "refusing to serve: database role postgres can change the audit log" in output
    assert "it is a superuser" in output and "no audit checkpoint store" in output


def test_serve_under_the_service_role_end_to_end(
    service_url: str, pg_url: str, world: World, db: Database, tmp_path: Path
) -> None:
    """The real server, as the service role, writes checkpoints for the events of its
    requests; a superuser's later rewrite is then reported by GET /audit/verify and by
    `foodmatch audit verify`."""
    store = tmp_path / "audit"
    port = free_port()
    process = _serve(_env(service_url, store), port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        with httpx.Client(base_url=base, timeout=30) as http:
            token = http.post("/auth/token", data={"username": "caseworker@a.test",
                                                   "password": PASSWORD})  # fmt: skip
            assert token.status_code == 200, token.text
            cw = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for body in ("one", "two"):
                posted = http.post(f"/referrals/{world.ids['referral_a']}/messages",
                                   json={"body": body}, headers=cw)  # fmt: skip
                assert posted.status_code == 201, posted.text
            head = _wait_for_checkpoint(db, store)
            admin_token = http.post("/auth/token", data={"username": "admin@a.test",
                                                         "password": PASSWORD})  # fmt: skip
            admin = {"Authorization": f"Bearer {admin_token.json()['access_token']}"}
            answer = http.get("/audit/verify", headers=admin).json()
            assert answer["ok"] is True
            assert answer["anchor"]["latest_checkpoint"]["event_id"] == head
            assert answer["database_role"]["can_change_audit_events"] is False
            with db.write() as session:  # a superuser rewrites event 1 and covers it up
                session.execute(text("SET LOCAL session_replication_role = replica"))
                session.execute(text("UPDATE audit_events SET action = 'x.y' WHERE id = 1"))
                recompute_from(session, 1)
            broken = http.get("/audit/verify", headers=admin).json()
        assert broken["ok"] is False and broken["anchor"]["status"] == "rewritten"
    finally:
        process.terminate()
        process.communicate(timeout=30)
    result = CliRunner().invoke(cli, ["audit", "verify", "--database-url", service_url,
                                      "--checkpoints", str(store)])  # fmt: skip
    assert result.exit_code == 1 and "REWRITTEN" in result.output, result.output


def _wait_until_up(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output, _ = process.communicate()
            raise AssertionError(f"serve stopped: {output}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not start")


def _wait_for_checkpoint(db: Database, store: Path) -> int:
    """Wait until the server's checkpoint covers the newest event; that event's id."""
    with db.read() as session:
        head = int(session.scalar(text("SELECT max(id) FROM audit_events")) or 0)
    deadline = time.monotonic() + 20
    reader = checkpoints.CheckpointStore(store)
    while time.monotonic() < deadline:
        ids = [item.event_id for item in reader.read() if isinstance(item, checkpoints.Checkpoint)]
        if ids and max(ids) >= head:
            return head
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint of event {head} in {store}")
