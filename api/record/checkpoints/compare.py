"""The pass over the checkpoint store that compares each checkpoint with the database.

:func:`compare` reads the store once, checks each checkpoint's key, and compares the hash it
signed with the stored event's (in batches); :class:`Comparison` collects what disagrees.
Only the signatures the answer depends on are checked, unless all are asked for.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import bindparam, select

from api.record.audit import VerifyResult
from api.record.checkpoints.signing import (
    Checkpoint,
    CheckpointError,
    CheckpointKind,
    load_public_key,
    load_signing_key,
    signature_holds,
)
from api.record.checkpoints.store import AnchorConfig, CheckpointStore
from api.record.tables import AuditEvent

if TYPE_CHECKING:
    from api.core.db import Database


COMPARE_BATCH = 1000
"""Checkpoints compared with the database per query."""
MAX_REPORTED = 5
"""Disagreeing checkpoints whose signatures are checked and described; the rest are counted."""


@dataclass
class Comparison:
    """What the pass over the store found."""

    public_key: Ed25519PublicKey | None
    key_id: str | None
    start_id: int
    all_signatures: bool = False
    read: int = 0
    compared: int = 0
    signatures: int = 0
    latest: Checkpoint | None = None
    agreeing: array[int] = field(default_factory=lambda: array("q"))
    rewritten: list[tuple[Checkpoint, str]] = field(default_factory=list)
    rewritten_more: int = 0
    truncated: list[Checkpoint] = field(default_factory=list)
    truncated_more: int = 0
    forged: list[str] = field(default_factory=list)
    forged_more: int = 0
    unreadable: list[str] = field(default_factory=list)

    def genuine(self, checkpoint: Checkpoint) -> bool:
        """Check the signature (counted); a false one is recorded as forged."""
        assert self.public_key is not None
        self.signatures += 1
        if signature_holds(checkpoint, self.public_key):
            return True
        self.forge(f"{checkpoint.where}: the signature of the checkpoint of "
                   f"{checkpoint.describe()} does not verify with key {self.key_id}: "
                   "forged or altered; refused")  # fmt: skip
        return False

    def forge(self, message: str) -> None:
        if len(self.forged) < MAX_REPORTED:
            self.forged.append(message)
        else:
            self.forged_more += 1


def verifying_key(config: AnchorConfig) -> Ed25519PublicKey | None:
    if config.public_key_file is not None:
        return load_public_key(config.public_key_file)
    if config.key_file is not None and config.key_file.exists():
        return load_signing_key(config.key_file, create=False).public_key()
    return None


def verified_start(store: CheckpointStore, limit: int, comparison: Comparison) -> Checkpoint | None:
    """The newest genuine verified checkpoint (the others of its kind that fail are forged)."""
    verified = [
        item
        for item in store.read(limit, keep=lambda raw: b'"verified"' in raw)
        if isinstance(item, Checkpoint) and item.kind is CheckpointKind.VERIFIED
    ]
    # Highest event first; of equal ones the later line first, so none is passed over.
    for candidate in sorted(reversed(verified), key=lambda item: item.event_id, reverse=True):
        if candidate.key_id != comparison.key_id:
            comparison.forge(f"{candidate.where}: the verified checkpoint of "
                             f"{candidate.describe()} names key {candidate.key_id}, not "
                             f"{comparison.key_id}: refused")  # fmt: skip
            continue
        if comparison.genuine(candidate):
            return candidate
    return None


def compare(
    db: Database, store: CheckpointStore, limit: int, chain: VerifyResult, comparison: Comparison
) -> None:
    """Compare every checkpoint after the start with the event it names."""
    batch: list[Checkpoint] = []
    start_id = comparison.start_id

    def after_start(raw: bytes) -> bool:
        """Lines naming an event at or before the start need no parsing (it vouches for
        them); a line this cannot read is parsed, and reported if it is no checkpoint."""
        found = _EVENT_ID.search(raw)
        return found is None or int(found.group(1)) > start_id

    for item in store.read(limit, keep=after_start if start_id else None):
        if isinstance(item, CheckpointError):
            comparison.unreadable.append(str(item))
            continue
        comparison.read += 1
        if item.key_id != comparison.key_id:
            comparison.forge(f"{item.where}: the checkpoint of {item.describe()} names key "
                             f"{item.key_id}, not {comparison.key_id}: refused")  # fmt: skip
            continue
        if item.event_id <= comparison.start_id:
            continue  # vouched for by the verified checkpoint the walk started from
        comparison.compared += 1
        if comparison.all_signatures and not comparison.genuine(item):
            continue
        newest = comparison.latest is None or item.event_id > comparison.latest.event_id
        if item.event_id > chain.head_id:
            if len(comparison.truncated) >= MAX_REPORTED:
                comparison.truncated_more += 1
            elif comparison.genuine(item):
                comparison.truncated.append(item)
                if newest:
                    comparison.latest = item  # its signature is checked: it may be reported
            continue
        if newest:
            comparison.latest = item  # its signature is checked at the end
        batch.append(item)
        if len(batch) >= COMPARE_BATCH:
            _compare_batch(db, batch, comparison)
            batch = []
    if batch:
        _compare_batch(db, batch, comparison)
    comparison.read += store.skipped


_EVENT_ID = re.compile(rb'"event_id":\s*([0-9]{1,18})\b')
_HASHES = (
    select(AuditEvent.id, AuditEvent.hash)
    .where(AuditEvent.id.in_(bindparam("ids", expanding=True)))
)  # fmt: skip


def _compare_batch(db: Database, batch: list[Checkpoint], comparison: Comparison) -> None:
    """Compare checkpoints with the stored hashes (the walk has just checked those)."""
    with db.read() as session:
        rows = session.execute(_HASHES, {"ids": sorted({cp.event_id for cp in batch})})
        stored: dict[int, str] = {row.id: row.hash for row in rows}
    for checkpoint in batch:
        found = stored.get(checkpoint.event_id)
        if found == checkpoint.head_hash:
            comparison.agreeing.append(checkpoint.event_id)
        elif len(comparison.rewritten) >= MAX_REPORTED:
            comparison.rewritten_more += 1
        elif comparison.genuine(checkpoint):
            comparison.rewritten.append((checkpoint, found or "(missing)"))
