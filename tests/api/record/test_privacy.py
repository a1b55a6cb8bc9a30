"""Erasure, retention and subject access: no personal data left, the chain still verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from api.cli import app as cli
from api.core.db import Database
from api.core.tables import Referral, ReferralPersonal
from api.core.vocabulary import ReferralStatus, Role
from api.record.audit import verify_chain
from api.record.retention import months_before, run_retention
from api.record.tables import AuditEvent, Erasure
from tests.api.conftest import World, add_referral
from tests.api.record.helpers import tamper

CW, CH, ADMIN = Role.CASEWORKER, Role.CHARITY, Role.ADMIN
NAME, PHONE, POSTCODE = "Wilhelmina Ashdown", "07700 900468", "LS9 6QW"
ADDRESS = "14 Larkspur Close, Leeds"


def _everything(db: Database) -> str:
    """Every text value in every table, as one string (to look for leftovers)."""
    with db.read() as session:
        names = [
            "referral_personal", "messages", "message_threads", "search_documents", "offers",
            "audit_events", "idempotency_keys", "foi_exports", "erasures",
        ]  # fmt: skip
        chunks = []
        for name in names:
            for row in session.execute(text(f"SELECT * FROM {name}")):
                chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def _talk(client: TestClient, world: World, db: Database) -> None:
    """Give referral A a unique household and talk about it in every kind of thread."""
    referral = world.ids["referral_a"]
    with db.write() as session:
        personal = session.get(ReferralPersonal, referral)
        assert personal is not None
        personal.name, personal.phone, personal.postcode = NAME, PHONE, POSTCODE
        personal.address, personal.notes = ADDRESS, f"{NAME.split()[0]} prefers mornings"
    for org, role in (("A", CW), ("X", CH)):
        response = client.post(
            f"/referrals/{referral}/messages",
            json={"body": f"{NAME} at 14 Larkspur Close, {POSTCODE}, on {PHONE}"},
            headers=world.headers(org, role),
        )
        assert response.status_code == 201
    thread = client.post(
        "/threads",
        json={"counterpart_organisation_id": world.orgs["X"], "subject": "Ashdown family",
              "body": f"Any space for the {NAME.split()[0]} family?"},
        headers=world.headers("A", CW),
    )  # fmt: skip
    assert thread.status_code == 201


def test_erasure_leaves_no_personal_data_and_a_valid_chain(
    client: TestClient, world: World, db: Database
) -> None:
    """After erasure the household's name, phone, postcode and address are nowhere in the
    database, the anonymised record remains, a tombstone exists and the chain verifies."""
    _talk(client, world, db)
    referral = world.ids["referral_a"]
    assert NAME in _everything(db)
    erased = client.post(f"/admin/referrals/{referral}/erasure", headers=world.headers("A", ADMIN))
    assert erased.status_code == 200, erased.text
    assert erased.json()["messages_redacted"] >= 3
    leftovers = _everything(db)
    for value in (*NAME.split(), "Larkspur", PHONE, POSTCODE, "900468", "prefers mornings"):
        assert value not in leftovers, value
    with db.read() as session:
        assert session.get(ReferralPersonal, referral) is None
        assert session.get(Referral, referral) is not None  # the anonymised record stays
        assert session.scalar(select(Erasure.reason).where(Erasure.referral_id == referral)) == (
            "request"
        )
        assert verify_chain(session).ok
    messages = client.get(f"/referrals/{referral}/messages", headers=world.headers("A", CW))
    assert all(m["redacted"] for m in messages.json()["items"])
    again = client.post(f"/admin/referrals/{referral}/erasure", headers=world.headers("A", ADMIN))
    assert again.status_code == 409


def test_retention_erases_only_referrals_closed_long_enough(world: World, db: Database) -> None:
    """Fulfilled referrals closed over six months ago are erased; recent or open ones kept."""
    now = datetime(2026, 6, 30, 12, tzinfo=UTC)
    old = world.ids["referral_a"]
    recent = add_referral(db, world.orgs["A"], name="Recent Household")
    still_open = add_referral(db, world.orgs["A"], name="Open Household")
    with db.write() as session:
        for referral, closed in ((old, datetime(2025, 12, 1, tzinfo=UTC)),
                                 (recent, datetime(2026, 2, 1, tzinfo=UTC))):  # fmt: skip
            session.execute(
                update(Referral)
                .where(Referral.id == referral)
                .values(status=ReferralStatus.FULFILLED, updated_at=closed)
            )
        session.execute(
            update(Referral)
            .where(Referral.id == still_open)
            .values(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
        )
    assert run_retention(db, now=now, months=6) == [old]
    assert run_retention(db, now=now, months=6) == []  # nothing twice
    with db.read() as session:
        kept = set(session.scalars(select(ReferralPersonal.referral_id)))
        assert old not in kept and {recent, still_open} <= kept
        assert verify_chain(session).ok


def test_chain_verifies_after_erasure_but_not_after_tampering(
    client: TestClient, world: World, db: Database
) -> None:
    """Erasure never needs to touch the audit log, so a later tamper is still caught."""
    _talk(client, world, db)
    client.post(
        f"/admin/referrals/{world.ids['referral_a']}/erasure", headers=world.headers("A", ADMIN)
    )
    with db.read() as session:
        count = verify_chain(session).checked
    with tamper(db) as session:
        session.execute(text("UPDATE audit_events SET entity_id = '0' WHERE id = 2"))
    with db.read() as session:
        result = verify_chain(session)
    assert count >= 4 and result.first_broken_id == 2


def test_subject_access_returns_the_households_data(
    client: TestClient, world: World, db: Database
) -> None:
    """Subject access returns the household's own data, its threads' messages and the
    organisation-wide message that names it, and is audited."""
    _talk(client, world, db)
    report = client.get(
        f"/admin/referrals/{world.ids['referral_a']}/subject-access",
        headers=world.headers("A", ADMIN),
    )
    assert report.status_code == 200
    body = report.json()
    assert body["personal_data"]["name"] == NAME
    assert len(body["messages"]) == 3 and body["erasure"] is None
    kinds = [m["thread_kind"] for m in body["messages"]]
    assert kinds.count("referral") == 2 and kinds.count("organisation") == 1
    with db.read() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert "personal_data.subject_access" in actions
    assert (
        client.get(
            f"/admin/referrals/{world.ids['referral_a']}/subject-access",
            headers=world.headers("A", CW),
        ).status_code
        == 403
    )


def test_commands(client: TestClient, world: World, db: Database, db_url: str,
                  tmp_path: Path) -> None:  # fmt: skip
    """`foodmatch audit verify`, `privacy export`, `privacy erase` and `retention run` work and
    `audit verify` exits non-zero naming the first broken event."""
    _talk(client, world, db)
    runner = CliRunner()
    url = ["--database-url", db_url]
    ok = runner.invoke(cli, ["audit", "verify", *url])
    assert ok.exit_code == 0 and "OK" in ok.output
    out = tmp_path / "sar.json"
    exported = runner.invoke(
        cli, ["privacy", "export", "--referral", str(world.ids["referral_a"]), "-o", str(out), *url]
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["personal_data"]["phone"] == PHONE
    erased = runner.invoke(
        cli, ["privacy", "erase", "--referral", str(world.ids["referral_a"]), "--yes", *url]
    )
    assert erased.exit_code == 0, erased.output
    missing = runner.invoke(cli, ["privacy", "erase", "--referral", "999999", "--yes", *url])
    assert missing.exit_code == 2 and "999999" in missing.output
    retention = runner.invoke(cli, ["retention", "run", "--dry-run", *url])
    assert retention.exit_code == 0 and "0 referrals due" in retention.output
    assert NAME not in _everything(db)
    with tamper(db) as session:
        session.execute(text("UPDATE audit_events SET action = 'x' WHERE id = 3"))
    broken = runner.invoke(cli, ["audit", "verify", *url])
    assert broken.exit_code == 1 and "event 3" in broken.output


def test_months_before_clamps_to_month_end() -> None:
    """Six months before 31 August is the last day of February (leap years included)."""
    assert months_before(datetime(2026, 8, 31, tzinfo=UTC), 6).date().isoformat() == "2026-02-28"
    assert months_before(datetime(2024, 8, 31, tzinfo=UTC), 6).date().isoformat() == "2024-02-29"
    assert months_before(datetime(2026, 3, 15, tzinfo=UTC), 6).date().isoformat() == "2025-09-15"
