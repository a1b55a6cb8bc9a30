"""Signed checkpoints of the audit chain's head, kept outside the database.

The hash chain shows that no event was changed *on its own*; it cannot show that someone who
controls the database did not rewrite an event and recompute every later hash, or delete the
newest events. A checkpoint records "event M was the head, with hash H" signed with an
Ed25519 key the database never holds, and is appended to a file outside the database. A later
verification that finds event M missing (the tail was cut) or with another hash (the chain
was rewritten) therefore has proof signed before the change.

- **Who writes them.** The service notes the newest event it has committed (an after-commit
  hook, microseconds on the request path); one background thread per process signs and
  appends at most one checkpoint per ``FOODMATCH_AUDIT_CHECKPOINT_SECONDS`` (default 1 s),
  the first after a quiet spell at once. ``foodmatch audit verify`` appends a *verified*
  checkpoint when a verification passes; incremental verification starts from the newest of
  those.
- **Where.** ``checkpoints.jsonl`` in ``FOODMATCH_AUDIT_CHECKPOINTS`` (a directory outside
  the database; beside the file for SQLite by default), one JSON line each, only ever
  appended. Each is also logged (logger ``foodmatch.audit.checkpoints``), so a log shipped
  elsewhere is a second copy the verifier can read.
- **The key.** ``FOODMATCH_AUDIT_KEY_FILE`` (made on first use, owner-only). A verifier needs
  only the public key (``foodmatch audit public-key``, ``FOODMATCH_AUDIT_PUBLIC_KEY``).

What checkpoints cannot catch: a change to events newer than the newest checkpoint written
before the change (at most the last interval's events, plus any a crashed process had not
yet written).

Ed25519 (the ``cryptography`` package, OpenSSL underneath) rather than an HMAC: the verifier
holds no secret, so whoever checks the record (an auditor, the Information Commissioner)
cannot also forge checkpoints, and the public key can be published.

The modules: ``signing`` (the checkpoint, keys, signatures), ``store`` (the file and each
database's set-up), ``writer`` (writing from the service, and its session hooks), ``compare``
(the pass over the store) and ``verify`` (:func:`verify_audit`).
"""

from api.record.checkpoints.compare import COMPARE_BATCH, MAX_REPORTED
from api.record.checkpoints.signing import (
    FORMAT_VERSION,
    SIGNING_CONTEXT,
    Checkpoint,
    CheckpointError,
    CheckpointKind,
    Signer,
    key_id,
    load_public_key,
    load_signing_key,
    parse_checkpoint,
    public_key_pem,
    signature_holds,
)
from api.record.checkpoints.store import (
    STORE_FILE,
    AnchorConfig,
    CheckpointStore,
    anchor_config,
    database_identity,
)
from api.record.checkpoints.verify import (
    FAILING,
    AnchorStatus,
    AuditVerification,
    LastCheck,
    last_check,
    note_check,
    verify_audit,
)
from api.record.checkpoints.writer import (
    RETRY_SECONDS,
    CheckpointWriter,
    configure,
    flush,
    flush_all,
    note_commit,
    writer_for,
)

__all__ = [
    "COMPARE_BATCH",
    "FAILING",
    "FORMAT_VERSION",
    "MAX_REPORTED",
    "RETRY_SECONDS",
    "SIGNING_CONTEXT",
    "STORE_FILE",
    "AnchorConfig",
    "AnchorStatus",
    "AuditVerification",
    "Checkpoint",
    "CheckpointError",
    "CheckpointKind",
    "CheckpointStore",
    "CheckpointWriter",
    "LastCheck",
    "Signer",
    "anchor_config",
    "configure",
    "database_identity",
    "flush",
    "flush_all",
    "key_id",
    "last_check",
    "load_public_key",
    "load_signing_key",
    "note_check",
    "note_commit",
    "parse_checkpoint",
    "public_key_pem",
    "signature_holds",
    "verify_audit",
    "writer_for",
]
