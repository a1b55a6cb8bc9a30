"""Signed checkpoints outside the database expose what the hash chain alone cannot: an event
rewritten with every later hash recomputed, a removed tail, and forged checkpoints."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app as cli
from api.core.db import Database
from api.core.logs import JsonFormatter
from api.core.vocabulary import Role
from api.record import checkpoints
from api.record.audit import event_hash, record_event, verify_chain
from api.record.checkpoints import AnchorConfig, AnchorStatus, CheckpointKind, Signer
from api.record.tables import AuditEvent
from tests.api.conftest import World
from tests.api.record.helpers import append_events, tamper


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> AnchorConfig:
    """A checkpoint store and key in the test's folder, used for this database (interval 0)."""
    config = AnchorConfig(
        store=tmp_path / "audit",
        key_file=tmp_path / "audit-key.pem",
        interval_s=0.0,
        origin="test",
    )
    checkpoints.configure(db_url, config)
    return config


def recompute_from(session: Session, first_id: int) -> None:
    """Re-link and re-hash events ``first_id`` onward, as someone covering an edit would."""
    prev = session.scalar(text("SELECT hash FROM audit_events WHERE id = :i"), {"i": first_id - 1})
    last = session.scalar(text("SELECT max(id) FROM audit_events"))
    for event_id in range(first_id, int(last or 0) + 1):
        event = session.get(AuditEvent, event_id)
        assert event is not None
        event.prev_hash = prev or "0" * 64
        event.hash = event_hash(event)
        prev = event.hash
        session.flush()


def rewrite_event(db: Database, event_id: int) -> None:
    """Change event ``event_id`` and recompute every later hash (triggers bypassed)."""
    with tamper(db) as session:
        session.execute(
            text("UPDATE audit_events SET action = 'nothing.happened' WHERE id = :i"),
            {"i": event_id},
        )
        recompute_from(session, event_id)


def cut_tail(db: Database, keep: int) -> None:
    """Delete every event after ``keep`` (triggers bypassed)."""
    with tamper(db) as session:
        session.execute(text("DELETE FROM audit_events WHERE id > :k"), {"k": keep})


def verify_cli(db_url: str, *args: str) -> tuple[int, str]:
    """Run `foodmatch audit verify`; its exit code and everything it printed."""
    result = CliRunner().invoke(cli, ["audit", "verify", "--database-url", db_url, *args])
    return result.exit_code, result.output


def store_lines(config: AnchorConfig) -> list[dict[str, object]]:
    """The store's checkpoints as JSON objects."""
    assert config.store is not None
    path = config.store / checkpoints.STORE_FILE
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_rewrite_with_recomputed_hashes_is_caught(
    db: Database, db_url: str, store: AnchorConfig
) -> None:
    """An edited event with every later hash recomputed passes the chain check but not the
    checkpoints: `audit verify` exits 1 and says the chain was rewritten."""
    append_events(db, 10)
    checkpoints.flush(db_url)
    rewrite_event(db, 5)
    with db.read() as session:
        assert verify_chain(session).ok  # the chain alone cannot see it
    code, output = verify_cli(db_url)
    assert code == 1, output
    assert "REWRITTEN" in output and "recomputed" in output
    result = checkpoints.verify_audit(db, store)
    assert result.status is AnchorStatus.REWRITTEN and not result.ok
    assert result.signatures_checked >= 1


def test_tail_truncation_is_caught(db: Database, db_url: str, store: AnchorConfig) -> None:
    """Deleting the newest events leaves a valid shorter chain; the checkpoint of event 10
    shows that events 8 to 10 existed."""
    append_events(db, 10)
    checkpoints.flush(db_url)
    cut_tail(db, 7)
    code, output = verify_cli(db_url)
    assert code == 1, output
    assert "TRUNCATED" in output and "events 8 to 10" in output


def test_emptied_log_is_caught(db: Database, db_url: str, store: AnchorConfig) -> None:
    """Deleting every event is a truncation too, not a fresh installation."""
    append_events(db, 3)
    checkpoints.flush(db_url)
    cut_tail(db, 0)
    code, output = verify_cli(db_url)
    assert code == 1 and "events 1 to 3" in output, output


def test_intact_chain_is_anchored(db: Database, db_url: str, store: AnchorConfig) -> None:
    """An untouched chain verifies, names the latest checkpoint, says how, and records a
    verified checkpoint of its head."""
    append_events(db, 6)
    code, output = verify_cli(db_url)
    assert code == 0, output
    assert output.startswith("OK: events 1-6 intact; the latest checkpoint, event 6")
    assert "How: Full: recomputed the SHA-256 of events 1-6" in output
    assert "Recorded a verified checkpoint of event 6." in output
    kinds = [(line["kind"], line["event_id"]) for line in store_lines(store)]
    assert kinds[-1] == ("verified", 6)
    assert all(kind in ("append", "verified") for kind, _ in kinds)


def test_checkpoint_signed_with_another_key_is_refused(
    db: Database, db_url: str, store: AnchorConfig
) -> None:
    """A checkpoint signed with a key other than the installation's is refused, even when it
    agrees with the database (someone else is writing the store)."""
    append_events(db, 4)
    checkpoints.flush(db_url)
    intruder = Signer(Ed25519PrivateKey.generate())
    with db.read() as session:
        head = session.get(AuditEvent, 4)
        assert head is not None
    assert store.store is not None
    checkpoints.CheckpointStore(store.store).append(
        intruder.sign(CheckpointKind.VERIFIED, 4, head.hash)
    )
    code, output = verify_cli(db_url)
    assert code == 1, output
    assert "BROKEN (forged)" in output and intruder.key_id in output and "refused" in output


def test_altered_checkpoint_is_refused(db: Database, db_url: str, store: AnchorConfig) -> None:
    """Rewriting the chain and editing the checkpoints to the new hashes (keeping their
    signatures) does not pass: the latest checkpoint's signature no longer verifies."""
    append_events(db, 6)
    checkpoints.flush(db_url)
    rewrite_event(db, 5)
    with db.read() as session:
        new_hashes = {e.id: e.hash for e in session.query(AuditEvent).filter(AuditEvent.id >= 5)}
    _edit_store(store, lambda line: line.update(head_hash=new_hashes[_id(line)])
                if _id(line) >= 5 else None)  # fmt: skip
    code, output = verify_cli(db_url)
    assert code == 1, output
    assert "does not verify" in output and "forged or altered; refused" in output


def test_every_signature_can_be_checked(db: Database, db_url: str, store: AnchorConfig) -> None:
    """An edited checkpoint that happens to agree with the database is not needed for the
    answer; --check-all-signatures still refuses it."""
    append_events(db, 3)
    checkpoints.flush(db_url)  # a checkpoint at event 3 whatever the writer thread did
    append_events(db, 3)
    checkpoints.flush(db_url)
    with db.read() as session:
        first = session.get(AuditEvent, 1)
        assert first is not None
    _edit_store(store, lambda line: line.update(event_id=1, count=1, head_hash=first.hash)
                if _id(line) == 6 else None)  # fmt: skip
    assert verify_cli(db_url, "--no-record")[0] == 0  # the answer does not depend on it
    code, output = verify_cli(db_url, "--check-all-signatures")
    assert code == 1 and "forged or altered; refused" in output, output
    assert "every one compared" in output


def _id(line: dict[str, object]) -> int:
    return int(str(line["event_id"]))


def _edit_store(store: AnchorConfig, edit: Callable[[dict[str, object]], None]) -> None:
    """Rewrite the store's lines in place (an attacker who can rewrite the file)."""
    assert store.store is not None
    edited = []
    for line in store_lines(store):
        edit(line)
        edited.append(json.dumps(line))
    (store.store / checkpoints.STORE_FILE).write_text("\n".join(edited) + "\n")


def test_forged_verified_checkpoint_cannot_start_incremental(
    db: Database, db_url: str, store: AnchorConfig
) -> None:
    """A forged 'verified' checkpoint of a rewritten head (the right key id, a false
    signature) is refused as a starting point: incremental still finds the rewrite."""
    append_events(db, 8)
    assert verify_cli(db_url)[0] == 0
    rewrite_event(db, 6)
    with db.read() as session:
        head = session.get(AuditEvent, 8)
        assert head is not None
    forged = Signer(Ed25519PrivateKey.generate()).sign(CheckpointKind.VERIFIED, 8, head.hash)
    genuine_id = store_lines(store)[-1]["key_id"]
    assert store.store is not None
    with (store.store / checkpoints.STORE_FILE).open("a") as stream:
        stream.write(json.dumps({**forged.to_json(), "key_id": genuine_id}) + "\n")
    result = checkpoints.verify_audit(db, store, incremental=True)
    assert not result.ok and result.status is AnchorStatus.REWRITTEN
    assert result.start is None or result.start.head_hash != head.hash
    assert any("forged or altered; refused" in problem for problem in result.problems)


def test_missing_store_is_reported(db: Database, db_url: str, store: AnchorConfig) -> None:
    """A store that was removed (or never written) while the chain has events fails, naming
    the file and what it means."""
    append_events(db, 3)
    checkpoints.flush(db_url)
    assert store.store is not None
    (store.store / checkpoints.STORE_FILE).unlink()
    code, output = verify_cli(db_url)
    assert code == 1, output
    assert "BROKEN (store_missing)" in output
    assert f"{store.store / checkpoints.STORE_FILE} does not exist" in output
    assert "yet the chain has 3 events" in output
    (store.store / checkpoints.STORE_FILE).write_text("")
    code, output = verify_cli(db_url)
    assert code == 1 and "holds no checkpoints" in output, output


def test_checkpoint_command_starts_a_store(db: Database, db_url: str, store: AnchorConfig) -> None:
    """`foodmatch audit checkpoint` anchors a chain that has no checkpoints yet (saying its
    past was taken as found); verification then passes."""
    append_events(db, 3)
    checkpoints.flush(db_url)
    assert store.store is not None
    (store.store / checkpoints.STORE_FILE).unlink()
    result = CliRunner().invoke(cli, ["audit", "checkpoint", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "Started checkpoints" in result.output and "events 1-3" in result.output
    assert verify_cli(db_url)[0] == 0


def test_incremental_gives_the_same_answer_as_full(
    db: Database, db_url: str, store: AnchorConfig
) -> None:
    """From the latest verified checkpoint, incremental verification reaches the same head as
    a full one while recomputing only the events after it."""
    append_events(db, 20)
    assert verify_cli(db_url)[0] == 0  # records a verified checkpoint of event 20
    append_events(db, 10)
    checkpoints.flush(db_url)
    full = checkpoints.verify_audit(db, store)
    incremental = checkpoints.verify_audit(db, store, incremental=True)
    assert full.ok and incremental.ok
    assert full.status is incremental.status is AnchorStatus.MATCHED
    assert (full.chain.head_id, full.chain.head_hash) == (
        incremental.chain.head_id,
        incremental.chain.head_hash,
    )
    assert full.mode == "full" and full.chain.checked == 30
    assert incremental.mode == "incremental" and incremental.chain.checked == 11
    assert incremental.start is not None and incremental.start.event_id == 20
    code, output = verify_cli(db_url, "--incremental")
    assert code == 0 and "Incremental: started from the verified checkpoint of event 20" in output


def test_incremental_without_a_verified_checkpoint_checks_everything(
    db: Database, db_url: str, store: AnchorConfig
) -> None:
    """With no verified checkpoint yet, --incremental does a full check and says so."""
    append_events(db, 4)
    result = checkpoints.verify_audit(db, store, incremental=True)
    assert result.ok and result.mode == "full" and result.chain.checked == 4
    assert any("no verified checkpoint" in warning for warning in result.warnings)


@pytest.mark.parametrize("attack", ["edit", "rewrite_then_append", "truncate"])
def test_incremental_catches_tampering_after_its_start(
    db: Database, db_url: str, store: AnchorConfig, attack: str
) -> None:
    """After the verified checkpoint: an edited event, a rewrite (even with a new event
    appended and checkpointed on top of it) and a cut tail all fail incremental checks."""
    append_events(db, 20)
    assert verify_cli(db_url)[0] == 0
    append_events(db, 10)
    checkpoints.flush(db_url)
    if attack == "edit":
        with tamper(db) as session:
            session.execute(text("UPDATE audit_events SET action = 'x' WHERE id = 25"))
    elif attack == "rewrite_then_append":
        rewrite_event(db, 25)
        append_events(db, 1)  # the service carries on from the rewritten head and signs it
        checkpoints.flush(db_url)
    else:
        cut_tail(db, 26)
    result = checkpoints.verify_audit(db, store, incremental=True)
    assert result.mode == "incremental" and not result.ok
    if attack == "edit":
        assert result.chain.first_broken_id == 25
    elif attack == "rewrite_then_append":
        assert result.status is AnchorStatus.REWRITTEN
    else:
        assert result.status is AnchorStatus.TRUNCATED
    assert verify_cli(db_url, "--incremental")[0] == 1


def test_incremental_catches_a_rewrite_before_its_start(
    db: Database, db_url: str, store: AnchorConfig
) -> None:
    """Rewriting an event before the verified checkpoint changes the hash that checkpoint
    signed, so incremental verification fails at once."""
    append_events(db, 12)
    assert verify_cli(db_url)[0] == 0
    rewrite_event(db, 3)
    result = checkpoints.verify_audit(db, store, incremental=True)
    assert not result.ok and result.status is AnchorStatus.REWRITTEN
    assert "not the one the verified checkpoint signed" in result.detail


def test_rolled_back_event_is_never_checkpointed(
    db: Database, db_url: str, store: AnchorConfig
) -> None:
    """An event appended in a transaction that rolls back gets no checkpoint (one would later
    read as a removed tail)."""
    append_events(db, 2)
    checkpoints.flush(db_url)
    with Session(db.engine) as session:  # one session, used again after the rollback
        record_event(session, actor_user_id=None, organisation_id=None, action="x.y",
                     entity_type="capacity", entity_id=1, before=None, after=None)  # fmt: skip
        session.rollback()
        session.execute(text("SELECT 1"))
        session.commit()  # commits nothing of the audit log
    checkpoints.flush(db_url)
    assert max(int(str(line["event_id"])) for line in store_lines(store)) == 2
    assert checkpoints.verify_audit(db, store).ok


def test_service_requests_write_checkpoints(
    client: TestClient, world: World, db: Database, db_url: str, store: AnchorConfig
) -> None:
    """Audited requests leave checkpoints; GET /audit/verify reports the anchor and how it
    checked, and a cut tail makes it answer ok: false with status truncated."""
    admin = world.headers("A", Role.ADMIN)
    for body in ("first", "second", "third"):
        posted = client.post(
            f"/referrals/{world.ids['referral_a']}/messages",
            json={"body": body},
            headers=world.headers("A", Role.CASEWORKER),
        )
        assert posted.status_code == 201, posted.text
    answer = client.get("/audit/verify", headers=admin).json()
    assert answer["ok"] is True and answer["anchored"] is True and answer["mode"] == "full"
    assert answer["anchor"]["status"] == "matched"
    assert answer["anchor"]["latest_checkpoint"]["event_id"] == answer["head_id"]
    assert "Ed25519" in answer["method"]
    incremental = client.get("/audit/verify", params={"mode": "incremental"}, headers=admin)
    assert incremental.status_code == 200 and incremental.json()["ok"] is True
    assert client.get("/audit/verify", params={"mode": "quick"}, headers=admin).status_code == 422
    cut_tail(db, answer["head_id"] - 1)
    broken = client.get("/audit/verify", headers=admin).json()
    assert broken["ok"] is False and broken["anchor"]["status"] == "truncated"
    assert "TRUNCATED" in broken["detail"]


def test_unconfigured_store_says_not_anchored(db: Database, db_url: str) -> None:
    """Without a store the chain is checked against itself and the answer says it is NOT
    ANCHORED; --require-anchor turns that into exit 1."""
    checkpoints.configure(db_url, AnchorConfig(store=None, key_file=None))
    append_events(db, 2)
    code, output = verify_cli(db_url)
    assert code == 0 and "OK (NOT ANCHORED)" in output and "FOODMATCH_AUDIT_CHECKPOINTS" in output
    assert verify_cli(db_url, "--require-anchor")[0] == 1


def test_key_is_owner_only(db: Database, db_url: str, store: AnchorConfig) -> None:
    """The signing key made on first use is readable by its owner only; a key others can
    read is refused with the command that fixes it."""
    append_events(db, 1)
    checkpoints.flush(db_url)
    assert store.key_file is not None
    assert stat.S_IMODE(store.key_file.stat().st_mode) == 0o600
    os.chmod(store.key_file, 0o644)
    code, output = verify_cli(db_url)
    assert code == 1 and f"chmod 600 {store.key_file}" in output, output


def test_cut_short_line_is_ignored(db: Database, db_url: str, store: AnchorConfig) -> None:
    """A line cut short by a crash carries no claim: it is reported as a warning, and the
    next checkpoint still starts on a line of its own."""
    append_events(db, 2)
    checkpoints.flush(db_url)
    assert store.store is not None
    with (store.store / checkpoints.STORE_FILE).open("a") as stream:
        stream.write('{"count":3,"event_id":3,"head_ha')
    append_events(db, 1)
    checkpoints.flush(db_url)
    result = checkpoints.verify_audit(db, store)
    assert result.ok and result.latest is not None and result.latest.event_id == 3
    assert any("not JSON" in warning for warning in result.warnings)


@pytest.fixture
def checkpoint_log(tmp_path: Path) -> Iterator[Path]:
    """The service's checkpoint log lines, written as JSON to a file (as a log shipper would)."""
    path = tmp_path / "service.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("foodmatch.audit.checkpoints")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield path
    logger.removeHandler(handler)
    logger.setLevel(level)
    handler.close()


def test_service_log_serves_as_a_second_store(
    db: Database, db_url: str, store: AnchorConfig, checkpoint_log: Path
) -> None:
    """Each checkpoint is also logged; a log kept elsewhere can be verified against even after
    the store itself was cut back, and it shows the truncation."""
    append_events(db, 5)
    checkpoints.flush(db_url)
    with checkpoint_log.open("a") as stream:
        stream.write('{"logger": "foodmatch.access", "message": "GET /healthz"}\n')
    cut_tail(db, 3)
    assert store.store is not None
    (store.store / checkpoints.STORE_FILE).unlink()
    code, output = verify_cli(db_url, "--checkpoints", str(checkpoint_log), "--public-key",
                              str(_public_key_file(db_url, store)))  # fmt: skip
    assert code == 1 and "TRUNCATED" in output and "events 4 to 5" in output, output


def _public_key_file(db_url: str, store: AnchorConfig) -> Path:
    result = CliRunner().invoke(cli, ["audit", "public-key", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert store.store is not None
    path = store.store.parent / "public.pem"
    path.write_text(result.stdout)
    return path


def test_verifier_with_only_the_public_key(db: Database, db_url: str, store: AnchorConfig) -> None:
    """An auditor with the public key and a copy of the store verifies without the signing key
    (and records nothing)."""
    append_events(db, 4)
    checkpoints.flush(db_url)
    public = _public_key_file(db_url, store)
    assert "PUBLIC KEY" in public.read_text() and store.key_file is not None
    store.key_file.rename(store.key_file.with_suffix(".away"))
    code, output = verify_cli(db_url, "--public-key", str(public))
    assert code == 0 and "OK: events 1-4 intact" in output, output
    assert "no signing key here" in output


class _Errors(logging.Handler):
    """Counts the error records it is sent."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def test_failed_write_is_kept_and_retried(db: Database, db_url: str, tmp_path: Path) -> None:
    """A store that cannot be written loses no checkpoint and is not hammered: the error is
    kept (and logged), the next try waits, and the newest event is checkpointed once the
    store can be written again."""
    errors = _Errors()
    logger = logging.getLogger("foodmatch.audit.checkpoints")
    logger.addHandler(errors)
    try:
        _failed_write(db, db_url, tmp_path, errors)
    finally:
        logger.removeHandler(errors)


def _failed_write(db: Database, db_url: str, tmp_path: Path, errors: _Errors) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the store's directory should be")
    config = AnchorConfig(store=blocker / "audit", key_file=tmp_path / "key.pem", interval_s=0.0)
    checkpoints.configure(db_url, config)
    append_events(db, 3)
    writer = checkpoints.writer_for(db_url)
    assert writer is not None
    assert writer.flush() is None and writer.last_error is not None
    assert "blocker" in writer.last_error
    # The background thread may have tried once per commit before the first failure was
    # seen; after a failure it waits before trying again, so nothing more is logged.
    time.sleep(0.2)
    seen = errors.count
    assert seen >= 1
    time.sleep(0.5)
    assert errors.count == seen
    blocker.unlink()
    writer.flush()  # (the background thread may have retried first: either writes it)
    assert writer.last_error is None
    assert [line["event_id"] for line in store_lines(config)] == [3]
    assert checkpoints.verify_audit(db, config).ok
