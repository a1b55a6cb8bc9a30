"""Erasure reaches stored FOI exports and the database files; subject access reaches
organisation-wide threads. Each test runs on SQLite and PostgreSQL unless it says otherwise."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from api.cli import app as cli
from api.core.db import Database
from api.core.tables import ReferralPersonal
from api.core.vocabulary import Role
from api.record.audit import verify_chain
from api.record.retention import wait_for_purges
from api.record.tables import AuditEvent, FoiExport
from tests.api.conftest import World, add_referral

FOI, CW, PL, ADMIN = Role.FOI_OFFICER, Role.CASEWORKER, Role.PLANNER, Role.ADMIN
FIRST, LAST = "Zyxqiana", "Vqorthby"
# Checked in the raw bytes: the full-text index stores words with a shared prefix cut off,
# so the test looks for the part of each word after its first two letters.
MARKERS = (b"yxqian", b"orthb")


def _zip_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def _exports(db: Database) -> list[tuple[str, str]]:
    """Every stored export as (all its files' text, its parameters as JSON)."""
    with db.read() as session:
        rows = session.scalars(select(FoiExport)).all()
        return [(_zip_text(row.content), json.dumps(row.parameters)) for row in rows]


def _late_name_in_an_export(client: TestClient, world: World, db: Database) -> tuple[int, int]:
    """An organisation-wide message and an export that hold a name the service did not hold
    yet, then the household of that name: returns (its referral id, the export id)."""
    posted = client.post(
        "/threads",
        json={"counterpart_organisation_id": world.orgs["X"], "subject": "Hampers",
              "body": f"the {FIRST.lower()} {LAST.lower()} parcel is ready at the hub"},
        headers=world.headers("A", PL),
    )  # fmt: skip
    assert posted.status_code == 201, posted.text
    made = client.post(
        "/foi/exports", json={"keywords": f"{LAST.lower()} parcel"}, headers=world.headers("A", FOI)
    )
    assert made.status_code == 201, made.text
    assert any(LAST.lower() in content for content, _ in _exports(db))  # not a name, yet
    referral = add_referral(db, world.orgs["A"], name=f"{FIRST} {LAST}")
    return referral, int(made.json()["id"])


def test_a_name_typed_as_keywords_is_not_stored(
    client: TestClient, world: World, db: Database
) -> None:
    """An export searched by a household's name stores and shows "[name]", not the name."""
    add_referral(db, world.orgs["A"], name=f"{FIRST} {LAST}")
    made = client.post(
        "/foi/exports", json={"keywords": f"{FIRST} {LAST}"}, headers=world.headers("A", FOI)
    )
    assert made.status_code == 201, made.text
    assert made.json()["parameters"]["keywords"] == "[name]"
    for content, parameters in _exports(db):
        assert FIRST not in content and LAST not in content
        assert FIRST not in parameters and LAST not in parameters


def test_erasure_rewrites_stored_exports(
    client: TestClient, world: World, db: Database, db_url: str
) -> None:
    """After `foodmatch privacy erase`, no stored export holds the household's name (ZIP or
    parameters), the download does not carry it, the rewrite is audited and the chain holds."""
    referral, export_id = _late_name_in_an_export(client, world, db)
    erased = CliRunner().invoke(
        cli, ["privacy", "erase", "--referral", str(referral), "--yes", "--database-url", db_url]
    )
    assert erased.exit_code == 0, erased.output
    for content, parameters in _exports(db):
        for word in (FIRST, LAST):
            assert word.lower() not in content.lower(), word
            assert word.lower() not in parameters.lower(), word
    download = client.get(f"/foi/exports/{export_id}/download", headers=world.headers("A", FOI))
    assert download.status_code == 200
    assert LAST.lower() not in _zip_text(download.content).lower()
    with db.read() as session:
        rewrite = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "foi_export.redacted")
        )
        assert rewrite is not None and rewrite.entity_id == str(export_id)
        row = session.get(FoiExport, export_id)
        assert row is not None and row.sha256 in rewrite.after_json
        assert verify_chain(session).ok


def _file_bytes(db_url: str) -> bytes:
    path = Path(str(make_url(db_url).database))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _pg_pages(db: Database) -> bytes:
    """The raw pages of the search documents (table and GIN index) and messages tables."""
    chunks = []
    with db.write() as session:
        session.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        for relation in ("search_documents", "ix_search_documents_body_tsv", "messages"):
            pages = session.scalar(
                text("SELECT pg_relation_size(:r) / current_setting('block_size')::int"),
                {"r": relation},
            )
            for page in range(int(pages or 0)):
                chunks.append(
                    session.scalar(text("SELECT get_raw_page(:r, :p)"), {"r": relation, "p": page})
                )
    return b"".join(bytes(chunk) for chunk in chunks)


def test_erased_words_leave_the_database_files(
    client: TestClient, world: World, db: Database, db_url: str, backend: str
) -> None:
    """After erasure the erased name's words are in no byte of the database: on SQLite not in
    the file, the write-ahead log or the full-text index's shadow tables; on PostgreSQL not in
    the pages of the search table, its GIN index or the messages table."""
    referral, _ = _late_name_in_an_export(client, world, db)

    def raw_bytes() -> bytes:
        return _file_bytes(db_url) if backend == "sqlite" else _pg_pages(db)

    assert all(marker in raw_bytes() for marker in MARKERS)  # the check can see them
    erased = client.post(f"/admin/referrals/{referral}/erasure", headers=world.headers("A", ADMIN))
    assert erased.status_code == 200, erased.text
    assert wait_for_purges()  # the request answered before the maintenance ran
    raw = raw_bytes()
    for marker in MARKERS:
        assert marker not in raw, marker


def test_subject_access_includes_organisation_threads(
    client: TestClient, world: World, db: Database, db_url: str, tmp_path: Path
) -> None:
    """`foodmatch privacy export` includes the organisation-wide message that names the
    household (and not the thread's other messages about someone else)."""
    referral = world.ids["referral_a"]
    with db.write() as session:
        personal = session.get(ReferralPersonal, referral)
        assert personal is not None
        personal.name = f"{FIRST} {LAST}"
    thread = client.post(
        "/threads",
        json={"counterpart_organisation_id": world.orgs["X"], "subject": "Capacity",
              "body": "Thursday is full at the hub."},
        headers=world.headers("A", PL),
    ).json()  # fmt: skip
    named = client.post(
        f"/threads/{thread['id']}/messages",
        json={"body": f"Can {FIRST} {LAST} collect on Friday instead?"},
        headers=world.headers("A", PL),
    )
    assert named.status_code == 201, named.text
    out = tmp_path / "sar.json"
    done = CliRunner().invoke(
        cli,
        ["privacy", "export", "--referral", str(referral), "-o", str(out), "--database-url",
         db_url],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    report = json.loads(out.read_text())
    bodies = [m["body"] for m in report["messages"] if m["thread_kind"] == "organisation"]
    assert bodies == [f"Can {FIRST} {LAST} collect on Friday instead?"]


@pytest.mark.parametrize("where", ["another thread", "another note"])
def test_erasure_reaches_mentions_in_other_records(
    client: TestClient, world: World, db: Database, where: str
) -> None:
    """A household's name in another household's thread or notes is removed by its erasure,
    and only its name: the other household's own data stays."""
    referral = add_referral(db, world.orgs["A"], name=f"{FIRST} {LAST}")
    other = world.ids["referral_a"]
    mention = f"Neighbour {FIRST} {LAST} may collect; call 07700 900123 first."
    if where == "another thread":
        posted = client.post(
            f"/referrals/{other}/messages", json={"body": mention}, headers=world.headers("A", CW)
        )
        assert posted.status_code == 201, posted.text
    else:
        with db.write() as session:
            personal = session.get(ReferralPersonal, other)
            assert personal is not None
            personal.notes = mention
    erased = client.post(f"/admin/referrals/{referral}/erasure", headers=world.headers("A", ADMIN))
    assert erased.status_code == 200, erased.text
    with db.read() as session:
        texts = [
            str(value)
            for table in ("messages", "referral_personal", "search_documents")
            for row in session.execute(text(f"SELECT * FROM {table}"))
            for value in row
        ]
    assert not any(FIRST in value or LAST in value for value in texts)
    assert any("07700 900123" in value for value in texts)  # the other household's own phone
