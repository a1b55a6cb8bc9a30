"""Verification of the audit chain against itself and against the signed checkpoints.

:func:`verify_audit` walks the chain (from event 1, or from the newest genuine verified
checkpoint), compares the checkpoints with the events they name, and says what it found,
how, and whether it passes; it can record a verified checkpoint of the head it checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from api.record.audit import VerifyResult, record_event, verify_chain
from api.record.checkpoints.compare import Comparison, compare, verified_start, verifying_key
from api.record.checkpoints.signing import (
    Checkpoint,
    CheckpointError,
    CheckpointKind,
    Signer,
    key_id,
    load_signing_key,
)
from api.record.checkpoints.store import AnchorConfig, CheckpointStore
from api.record.checkpoints.writer import flush
from api.record.tables import AuditEvent
from api.record.trail import actor_label

if TYPE_CHECKING:
    from api.core.db import Database


class AnchorStatus(StrEnum):
    """What the checkpoints say about the database."""

    MATCHED = "matched"
    """Every checkpoint read agrees with the database."""
    NOTHING_TO_ANCHOR = "nothing_to_anchor"
    """No events and no checkpoints: a new installation."""
    NOT_CONFIGURED = "not_configured"
    """No store is configured: the chain was checked against itself only."""
    NOT_CHECKED = "not_checked"
    """The chain itself is broken; the checkpoints were not compared."""
    STORE_MISSING = "store_missing"
    KEY_MISSING = "key_missing"
    FORGED = "forged"
    TRUNCATED = "truncated"
    REWRITTEN = "rewritten"


FAILING = (
    AnchorStatus.REWRITTEN,
    AnchorStatus.TRUNCATED,
    AnchorStatus.FORGED,
    AnchorStatus.KEY_MISSING,
    AnchorStatus.STORE_MISSING,
)
"""Statuses that fail a verification, most serious first."""


@dataclass(frozen=True)
class AuditVerification:
    """The chain checked against itself and against the checkpoints, and how."""

    ok: bool
    mode: str
    chain: VerifyResult
    status: AnchorStatus
    store: str | None
    key_id: str | None
    checkpoints_read: int
    signatures_checked: int
    latest: Checkpoint | None
    start: Checkpoint | None
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    method: str
    detail: str
    recorded: Checkpoint | None = None

    @property
    def anchored(self) -> bool:
        """Whether checkpoints vouch for the chain (up to the latest one)."""
        return self.status is AnchorStatus.MATCHED

    @property
    def unanchored_events(self) -> int:
        """Events newer than the latest checkpoint (not yet covered by one)."""
        covered = self.latest.event_id if self.latest else 0
        return max(0, self.chain.head_id - covered)


def verify_audit(
    db: Database,
    config: AnchorConfig,
    *,
    incremental: bool = False,
    record: bool = False,
    adopt: bool = False,
    all_signatures: bool = False,
) -> AuditVerification:
    """Check the chain and compare it with the checkpoints; say what was found and how.

    ``incremental`` starts from the newest genuine *verified* checkpoint (checking that its
    event still has the signed hash) instead of event 1. ``record`` appends a verified
    checkpoint of the head when everything passed (needs the signing key). ``adopt`` also
    records one when the store is missing or empty (to start checkpoints for a chain that
    had none). ``all_signatures`` checks the signature of every checkpoint compared, not only
    of those the answer depends on.
    """
    flush(db.engine.url)  # this process's pending checkpoint, if it has one, first
    store = CheckpointStore(config.store) if config.store is not None else None
    limit = store.size() if store is not None else 0  # checkpoints written later: not read
    public_key: Ed25519PublicKey | None = None
    key_problem: str | None = None
    if store is not None:
        try:
            public_key = verifying_key(config)
        except CheckpointError as exc:
            key_problem = str(exc)
    comparison = Comparison(
        public_key, key_id(public_key) if public_key else None, 0, all_signatures
    )
    has_checkpoints = limit > 0
    start: Checkpoint | None = None
    warnings: list[str] = []
    unreadable_store: str | None = None
    if incremental and store is not None and has_checkpoints and public_key is not None:
        try:
            start = verified_start(store, limit, comparison)
        except OSError as exc:
            unreadable_store = f"cannot read the checkpoint store {store.file}: {exc.strerror}"
    if incremental and start is None:
        warnings.append("no verified checkpoint to start from: checked the whole chain")
    with db.read() as session:
        chain = verify_chain(session, start=(start.event_id, start.head_hash) if start else None)
    if start is not None:
        comparison.start_id = start.event_id
        comparison.latest = start
    status = AnchorStatus.MATCHED
    problems: list[str] = []
    if not chain.ok:
        status = {
            "start_missing": AnchorStatus.TRUNCATED,
            "start_rewritten": AnchorStatus.REWRITTEN,
        }.get(chain.reason or "", AnchorStatus.NOT_CHECKED)
    elif store is None:
        status = AnchorStatus.NOT_CONFIGURED
        warnings.append(
            "NOT ANCHORED: no checkpoint store is configured (FOODMATCH_AUDIT_CHECKPOINTS), so "
            "the chain was checked against itself only: a rewrite that recomputes every later "
            "hash, or a removed tail, would not be seen"
        )
    elif not has_checkpoints:
        if chain.head_id == 0 or adopt:
            status = AnchorStatus.NOTHING_TO_ANCHOR
        else:
            status = AnchorStatus.STORE_MISSING
            problems.append(
                f"the checkpoint store {store.file} "
                f"{'holds no checkpoints' if store.exists() else 'does not exist'}, yet the "
                f"chain has {chain.head_id} events: nothing outside the database vouches for "
                "them, so a rewrite or a removed tail could not be seen (if checkpoints were "
                "only just switched on, run `foodmatch audit checkpoint` once)"
            )
    elif public_key is None:
        status = AnchorStatus.KEY_MISSING
        problems.append(
            f"the store {store.file} holds checkpoints but their signatures cannot be checked: "
            + (key_problem or "neither a public key (FOODMATCH_AUDIT_PUBLIC_KEY) nor the "
               f"signing key {config.key_file} is there")
        )  # fmt: skip
    else:
        try:
            if unreadable_store is None:
                compare(db, store, limit, chain, comparison)
        except OSError as exc:
            unreadable_store = f"cannot read the checkpoint store {store.file}: {exc.strerror}"
        if unreadable_store is not None:
            status = AnchorStatus.STORE_MISSING
            problems.append(unreadable_store)
        else:
            if comparison.latest is not None and comparison.latest is not start:
                latest = comparison.latest
                if latest.event_id <= chain.head_id and not comparison.genuine(latest):
                    comparison.latest = start
            problems, status = _judge(comparison, chain)
    if comparison.forged and status is AnchorStatus.MATCHED:
        status = AnchorStatus.FORGED
    if not problems:
        problems = list(comparison.forged)
    warnings.extend(
        f"{line}; ignored (it carries no signed claim)" for line in comparison.unreadable[:5]
    )
    ok = chain.ok and status not in FAILING
    result = AuditVerification(
        ok=ok,
        mode="incremental" if start is not None else "full",
        chain=chain,
        status=status,
        store=str(store.file) if store is not None else None,
        key_id=comparison.key_id,
        checkpoints_read=comparison.read,
        signatures_checked=comparison.signatures,
        latest=comparison.latest,
        start=start,
        problems=tuple(problems),
        warnings=tuple(warnings),
        method=_method(chain, start, store, comparison),
        detail="",
    )
    result = _with_detail(result)
    if ok and (record or adopt) and store is not None and chain.head_id > 0:
        result = _record(result, config, create_key=adopt)
    return result


def _judge(comparison: Comparison, chain: VerifyResult) -> tuple[list[str], AnchorStatus]:
    problems: list[str] = []
    status = AnchorStatus.MATCHED
    if comparison.rewritten:
        status = AnchorStatus.REWRITTEN
        first, found = min(comparison.rewritten, key=lambda pair: pair[0].event_id)
        earlier = [event_id for event_id in comparison.agreeing if event_id < first.event_id]
        since = (f"after event {max(earlier)} (the last one a checkpoint still agrees on)"
                 if earlier else "at or after event 1")  # fmt: skip
        problems.append(
            f"REWRITTEN: the checkpoint at {first.where} signed that {first.describe()}, but "
            f"the database now holds hash {found[:12]}… for it: events {since} and up to "
            f"event {first.event_id} were changed and every later hash recomputed"
        )
        more = len(comparison.rewritten) - 1 + comparison.rewritten_more
        if more:
            problems.append(f"{more} more checkpoints disagree with the database")
    if comparison.truncated:
        if status is AnchorStatus.MATCHED:
            status = AnchorStatus.TRUNCATED
        furthest = max(comparison.truncated, key=lambda item: item.event_id)
        problems.append(
            f"TRUNCATED: the checkpoint at {furthest.where} signed that {furthest.describe()} "
            f"existed, but the chain now ends at event {chain.head_id}: events "
            f"{chain.head_id + 1} to {furthest.event_id} (at least) were removed"
        )
    if comparison.forged:
        if status is AnchorStatus.MATCHED:
            status = AnchorStatus.FORGED
        problems.extend(comparison.forged)
        if comparison.forged_more:
            problems.append(f"{comparison.forged_more} more checkpoints refused")
    return problems, status


def _method(
    chain: VerifyResult,
    start: Checkpoint | None,
    store: CheckpointStore | None,
    comparison: Comparison,
) -> str:
    if start is not None:
        walk = (
            f"Incremental: started from the verified checkpoint of {start.describe()} (its "
            f"signature checked); event {start.event_id}'s stored hash is the signed one and "
            f"its content still hashes to it; then recomputed the SHA-256 of events "
            f"{start.event_id + 1}-{chain.head_id} and checked each names the hash of the one "
            "before. Events before the start are vouched for by that checkpoint (run a full "
            "verification now and then)."
        )
    else:
        walk = (
            f"Full: recomputed the SHA-256 of events 1-{chain.head_id} and checked each names "
            "the hash of the one before."
        )
    if store is None:
        return walk + " No checkpoint store: nothing outside the database was consulted."
    if comparison.public_key is None:
        return walk + f" Checkpoints at {store.file} could not be checked (no key)."
    after = f" (those after event {start.event_id})" if start else ""
    return (
        f"{walk} Then read {comparison.read} checkpoints from {store.file}, compared "
        f"{comparison.compared}{after} with the events they name (same hash; the event still "
        f"there) and checked the Ed25519 signatures ({comparison.key_id}) of "
        f"{comparison.signatures}: "
        + (
            "every one compared."
            if comparison.all_signatures
            else "the latest, the start and any that disagree (one that agrees with the "
            "database cannot change the answer; --check-all-signatures checks them all)."
        )
    )


def _with_detail(result: AuditVerification) -> AuditVerification:
    chain = result.chain
    if not chain.ok:
        detail = chain.detail
    elif result.problems and not result.ok:
        detail = result.problems[0]
    elif result.status is AnchorStatus.MATCHED and result.latest is not None:
        detail = (
            f"events 1-{chain.head_id} intact; the latest checkpoint, {result.latest.describe()},"
            f" matches the database"
        )
        newer = result.unanchored_events
        if newer:
            detail += f" ({newer} newer event{'s' if newer != 1 else ''} not yet checkpointed)"
    elif result.status is AnchorStatus.NOT_CONFIGURED:
        detail = f"{chain.detail} (chain only: NOT ANCHORED, no checkpoint store configured)"
    else:
        detail = chain.detail
    return AuditVerification(**{**_fields(result), "detail": detail})


def _fields(result: AuditVerification) -> dict[str, Any]:
    return {name: getattr(result, name) for name in AuditVerification.__dataclass_fields__}


def _record(
    result: AuditVerification, config: AnchorConfig, *, create_key: bool
) -> AuditVerification:
    """Append a verified checkpoint of the head just checked (needs the signing key)."""
    assert config.store is not None
    if config.key_file is None or not (create_key or config.key_file.exists()):
        warning = "no signing key here, so no verified checkpoint was recorded"
        return AuditVerification(**{**_fields(result), "warnings": (*result.warnings, warning)})
    signer = Signer(load_signing_key(config.key_file, create=create_key))
    head = result.chain
    checkpoint = signer.sign(CheckpointKind.VERIFIED, head.head_id, head.head_hash)
    CheckpointStore(config.store).append(checkpoint)
    return AuditVerification(**{**_fields(result), "recorded": checkpoint})


@dataclass(frozen=True)
class LastCheck:
    """The newest check of the audit log made from an admin's page."""

    at: Any
    passed: bool
    events_checked: int


def note_check(db: Database, principal: Any, result: AuditVerification) -> None:
    """Keep an admin's check and its outcome in the audit log itself."""
    with db.write() as session:
        record_event(session, actor_user_id=principal.user_id,
                     organisation_id=principal.organisation_id, action="audit_log.checked",
                     entity_type="audit_log", entity_id="chain", before=None,
                     after={"passed": result.ok, "events_checked": result.chain.checked},
                     actor_label=actor_label(principal))  # fmt: skip


def last_check(db: Database) -> LastCheck | None:
    """The newest check noted by :func:`note_check`, by any admin (its outcome only)."""
    with db.read() as session:
        row = session.execute(
            select(AuditEvent.occurred_at, AuditEvent.after_json)
            .where(AuditEvent.action == "audit_log.checked")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    after = json.loads(row.after_json or "{}")
    return LastCheck(row.occurred_at, bool(after.get("passed")),
                     int(after.get("events_checked", 0)))  # fmt: skip
