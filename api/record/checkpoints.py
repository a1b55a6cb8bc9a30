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
"""

from __future__ import annotations

import atexit
import base64
import binascii
import hashlib
import heapq
import json
import logging
import os
import re
import stat
import threading
import time
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import bindparam, select
from sqlalchemy.engine import URL, make_url

from api.record.audit import VerifyResult, canonical_json, verify_chain
from api.record.settings import RecordSettings, get_record_settings
from api.record.tables import AuditEvent

if TYPE_CHECKING:
    from api.core.db import Database

log = logging.getLogger("foodmatch.audit.checkpoints")

FORMAT_VERSION = 1
SIGNING_CONTEXT = b"foodmatch audit checkpoint v1\n"
"""Prefixed to what is signed, so a signature over anything else can never pass as one."""
STORE_FILE = "checkpoints.jsonl"
_HASH = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = frozenset({"v", "kind", "event_id", "count", "head_hash", "signed_at", "key_id",
                     "signature"})  # fmt: skip
COMPARE_BATCH = 1000
"""Checkpoints compared with the database per query."""
RETRY_SECONDS = 5.0
"""After a failed write (a full disk, a wrong permission), wait this long before the next."""
MAX_REPORTED = 5
"""Disagreeing checkpoints whose signatures are checked and described; the rest are counted."""


class CheckpointKind(StrEnum):
    """Who wrote a checkpoint."""

    APPEND = "append"
    """The service, after events it appended were committed."""
    VERIFIED = "verified"
    """``foodmatch audit verify``, after the chain up to it passed every check."""


class CheckpointError(ValueError):
    """A checkpoint, store or key that cannot be used; the message says what and where."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed statement: event ``event_id`` (of ``count``) was the head, with this hash."""

    kind: CheckpointKind
    event_id: int
    count: int
    head_hash: str
    signed_at: str
    key_id: str
    signature: str
    where: str = ""
    """The file and line it was read from (not signed)."""

    def signed_fields(self) -> dict[str, Any]:
        """Everything the signature covers."""
        return {
            "v": FORMAT_VERSION,
            "kind": self.kind.value,
            "event_id": self.event_id,
            "count": self.count,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
        }

    def message(self) -> bytes:
        """The exact bytes that are signed."""
        return SIGNING_CONTEXT + canonical_json(self.signed_fields()).encode("utf-8")

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as stored (one JSON object)."""
        return {**self.signed_fields(), "signature": self.signature}

    def to_line(self) -> str:
        """The checkpoint as one line of the store."""
        return canonical_json(self.to_json()) + "\n"

    def describe(self) -> str:
        """``event 12 (hash 3fa4…, signed 2026-12-02T10:00:00.000000Z)``."""
        return f"event {self.event_id} (hash {self.head_hash[:12]}…, signed {self.signed_at})"


def parse_checkpoint(value: Any, where: str) -> Checkpoint:
    """A checkpoint from its stored JSON object; :class:`CheckpointError` naming the problem."""
    if not isinstance(value, dict):
        raise CheckpointError(f"{where}: expected a JSON object, found {type(value).__name__}")
    missing = sorted(_FIELDS - value.keys())
    if missing:
        raise CheckpointError(f"{where}: not a checkpoint (missing {', '.join(missing)})")
    if value["v"] != FORMAT_VERSION:
        raise CheckpointError(f"{where}: checkpoint format {value['v']!r}, expected 1")
    try:
        kind = CheckpointKind(value["kind"])
    except ValueError:
        raise CheckpointError(
            f"{where}: kind {value['kind']!r} is neither append nor verified"
        ) from None
    event_id, count = value["event_id"], value["count"]
    if not isinstance(event_id, int) or isinstance(event_id, bool) or event_id < 1:
        raise CheckpointError(f"{where}: event_id must be a whole number from 1")
    if count != event_id:
        raise CheckpointError(f"{where}: count {count!r} differs from event_id {event_id}")
    if not isinstance(value["head_hash"], str) or not _HASH.match(value["head_hash"]):
        raise CheckpointError(f"{where}: head_hash must be 64 lower-case hex digits")
    for name in ("signed_at", "key_id", "signature"):
        if not isinstance(value[name], str) or not value[name]:
            raise CheckpointError(f"{where}: {name} must be a non-empty string")
    return Checkpoint(
        kind=kind,
        event_id=event_id,
        count=count,
        head_hash=value["head_hash"],
        signed_at=value["signed_at"],
        key_id=value["key_id"],
        signature=value["signature"],
        where=where,
    )


# --- keys ----------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name for a public key: ``ed25519:`` and 16 hex digits of its SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM text (safe to publish)."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _check_owner_only(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise CheckpointError(
            f"the audit signing key {path} can be read by other users (mode {mode:o}); "
            f"make it owner-only: chmod 600 {path}"
        )


def _create_key(path: Path) -> None:
    """Write a new key to ``path`` (owner-only), unless another process got there first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(partial, path)  # atomic, and never replaces a key that exists
    except FileExistsError:
        pass
    finally:
        partial.unlink()


def load_signing_key(path: Path, *, create: bool) -> Ed25519PrivateKey:
    """The private key at ``path``, made there first (owner-only) when ``create`` and absent."""
    if not path.exists():
        if not create:
            raise CheckpointError(f"the audit signing key {path} does not exist")
        _create_key(path)
    _check_owner_only(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} holds a {type(key).__name__}, expected an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The public key in the PEM file ``path`` (a public key, or the private key itself)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read the audit public key {path}: {exc.strerror}") from exc
    if b"PRIVATE KEY" in data:
        return load_signing_key(path, create=False).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} holds a {type(key).__name__}, expected an Ed25519 key")
    return key


class Signer:
    """Signs checkpoints with one private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def sign(
        self, kind: CheckpointKind, event_id: int, head_hash: str, *, now: datetime | None = None
    ) -> Checkpoint:
        """A checkpoint of event ``event_id`` with ``head_hash``, signed now."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        unsigned = Checkpoint(
            kind=kind,
            event_id=event_id,
            count=event_id,  # ids run 1, 2, 3, ... without gaps: the head's id is the count
            head_hash=head_hash,
            signed_at=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            key_id=self.key_id,
            signature="",
        )
        signature = base64.b64encode(self._key.sign(unsigned.message())).decode("ascii")
        return Checkpoint(**{**_as_kwargs(unsigned), "signature": signature})


def _as_kwargs(checkpoint: Checkpoint) -> dict[str, Any]:
    return {name: getattr(checkpoint, name) for name in Checkpoint.__slots__}


def signature_holds(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """Whether ``checkpoint`` was signed by the private half of ``public_key``."""
    try:
        public_key.verify(base64.b64decode(checkpoint.signature, validate=True),
                          checkpoint.message())  # fmt: skip
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


# --- the store -----------------------------------------------------------------------------


class CheckpointStore:
    """An append-only file of checkpoints: a directory (its ``checkpoints.jsonl``) or a file.

    A file may also be a service log (JSON lines): the checkpoints it logged are read, the
    other lines skipped.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped = 0
        """Lines the last :meth:`read` passed over unparsed (its ``keep`` said no)."""

    @property
    def file(self) -> Path:
        """The file the checkpoints are in."""
        return self.path if self.path.is_file() else self.path / STORE_FILE

    def exists(self) -> bool:
        """Whether the file exists."""
        return self.file.is_file()

    def size(self) -> int:
        """The file's length in bytes (0 if absent): what a verification will read."""
        try:
            return self.file.stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, checkpoint: Checkpoint) -> None:
        """Append one line with a single write (whole lines even from several processes),
        then flush it to disk."""
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = checkpoint.to_line().encode("utf-8")
        fd = os.open(self.file, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a line cut short by a crash stays a line of its own
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(
        self, limit: int | None = None, *, keep: Callable[[bytes], bool] | None = None
    ) -> Iterator[Checkpoint | CheckpointError]:
        """Every checkpoint in the first ``limit`` bytes, in file order; a line that is not a
        readable checkpoint comes as a :class:`CheckpointError` saying where and why.

        ``keep`` may pass over lines before they are parsed (a quick look at the raw bytes).
        """
        self.skipped = 0
        if not self.exists():
            return
        name = str(self.file)
        offset = 0
        with self.file.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                offset += len(raw)
                if limit is not None and offset > limit:
                    return
                text = raw.strip()
                if not text:
                    continue
                if keep is not None and not keep(text):
                    self.skipped += 1
                    continue
                where = f"{name}:{number}"
                try:
                    value = json.loads(text)
                except ValueError:
                    yield CheckpointError(f"{where}: not JSON (a line cut short?)")
                    continue
                if isinstance(value, dict) and "logger" in value and "signature" not in value:
                    value = value.get("checkpoint")  # a log line: its checkpoint, if it has one
                    if value is None:
                        continue
                try:
                    yield parse_checkpoint(value, where)
                except CheckpointError as exc:
                    yield exc


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchorConfig:
    """Where one database's checkpoints go and which key signs and checks them."""

    store: Path | None
    """``None``: no checkpoint store (the chain can only be checked against itself)."""
    key_file: Path | None
    public_key_file: Path | None = None
    interval_s: float = 1.0
    origin: str = ""
    """Where the store's location came from, for messages."""


def database_identity(database_url: str | URL) -> str | None:
    """One database's name across URLs (user and password aside); ``None`` for in-memory."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return "sqlite:" + str(Path(database).expanduser().resolve())
    return f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{url.database or ''}"


_explicit: dict[str, AnchorConfig] = {}


def anchor_config(
    database_url: str | URL,
    settings: RecordSettings | None = None,
    *,
    store: Path | None = None,
    key_file: Path | None = None,
    public_key_file: Path | None = None,
) -> AnchorConfig:
    """The checkpoint set-up for a database: explicit arguments, then :func:`configure`, then
    the ``FOODMATCH_AUDIT_*`` settings, then the default beside a SQLite file."""
    identity = database_identity(database_url)
    base = _explicit.get(identity) if identity else None
    if base is None:
        settings = settings or get_record_settings()
        origin = "FOODMATCH_AUDIT_CHECKPOINTS"
        directory = settings.audit_checkpoints
        if directory is None and identity and identity.startswith("sqlite:"):
            database = Path(identity.removeprefix("sqlite:"))
            directory = database.with_name(database.stem + "-audit")
            origin = "the default beside the SQLite file"
        base = AnchorConfig(
            store=directory,
            key_file=settings.audit_key_file or _default_key(directory),
            public_key_file=settings.audit_public_key,
            interval_s=settings.audit_checkpoint_seconds,
            origin=origin if directory else "",
        )
    if store is None and key_file is None and public_key_file is None:
        return base
    chosen = store or base.store
    return AnchorConfig(
        store=chosen,
        key_file=key_file or (base.key_file if store is None else _default_key(chosen)),
        public_key_file=public_key_file or base.public_key_file,
        interval_s=base.interval_s,
        origin="--checkpoints" if store else base.origin,
    )


def _default_key(directory: Path | None) -> Path | None:
    return None if directory is None else directory.with_name(directory.name + "-key.pem")


def configure(database_url: str | URL, config: AnchorConfig) -> None:
    """Use ``config`` for this database in this process (before the settings)."""
    identity = database_identity(database_url)
    if identity is None:
        raise CheckpointError("an in-memory SQLite database has no checkpoint store")
    with _registry_lock:
        _explicit[identity] = config
        _writers_by_url.clear()
        _writers.pop(identity, None)


# --- writing from the service --------------------------------------------------------------


class CheckpointWriter:
    """Signs and appends checkpoints of the newest committed event of one database.

    :meth:`note` is all the request path pays; the background thread calls :meth:`flush` at
    most once per ``interval_s`` (at once after a quiet spell).
    """

    def __init__(self, config: AnchorConfig) -> None:
        assert config.store is not None and config.key_file is not None
        self.config = config
        self.store = CheckpointStore(config.store)
        self.key_file = config.key_file
        self.interval_s = config.interval_s
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: tuple[int, str] | None = None
        self._scheduled = False
        self._last_write = float("-inf")
        self._written_id = 0
        self._signer: Signer | None = None
        self.last_error: str | None = None

    def signer(self) -> Signer:
        """The signer (the key is read, or made, on first use)."""
        if self._signer is None:
            self._signer = Signer(load_signing_key(self.key_file, create=True))
        return self._signer

    def prepare(self) -> Signer:
        """Make the key and the store's directory now, so a wrong path or permission shows at
        start-up instead of in the log later."""
        signer = self.signer()
        self.store.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not os.access(self.store.path, os.W_OK):
            raise CheckpointError(f"the checkpoint store {self.store.path} is not writable")
        return signer

    def note(self, event_id: int, head_hash: str) -> None:
        """Event ``event_id`` (hash ``head_hash``) is committed: checkpoint it soon."""
        with self._lock:
            if self._pending is None or event_id > self._pending[0]:
                self._pending = (event_id, head_hash)
            if self._scheduled:
                return
            self._scheduled = True
            due = max(time.monotonic(), self._last_write + self.interval_s)
        _SCHEDULER.schedule(self, due)

    def _retry(self, pending: tuple[int, str]) -> None:
        """Keep ``pending`` (unless a newer event came) and try again in a while."""
        with self._lock:
            if self._pending is None or self._pending[0] < pending[0]:
                self._pending = pending
            if self._scheduled:
                return
            self._scheduled = True
        _SCHEDULER.schedule(self, time.monotonic() + max(self.interval_s, RETRY_SECONDS))

    def flush(self) -> Checkpoint | None:
        """Sign and append the pending checkpoint now (``None`` if there is none)."""
        with self._write_lock:
            with self._lock:
                pending, self._pending, self._scheduled = self._pending, None, False
                self._last_write = time.monotonic()
            if pending is None or pending[0] <= self._written_id:
                return None
            try:
                checkpoint = self.signer().sign(CheckpointKind.APPEND, *pending)
                self.store.append(checkpoint)
            except (OSError, CheckpointError) as exc:
                self.last_error = str(exc)
                log.error("audit checkpoint not written", extra={"error": str(exc)[:300]})
                self._retry(pending)
                return None
            self._written_id = pending[0]
            self.last_error = None
        log.info("audit checkpoint", extra={"checkpoint": checkpoint.to_json()})
        return checkpoint


class _Scheduler:
    """One daemon thread per process that runs writers' flushes when they fall due."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, CheckpointWriter]] = []
        self._sequence = 0
        self._thread: threading.Thread | None = None

    def schedule(self, writer: CheckpointWriter, due: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (due, self._sequence, writer))
            self._sequence += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="audit-checkpoints", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                _, _, writer = heapq.heappop(self._heap)
            try:
                writer.flush()
            except Exception:  # pragma: no cover - flush logs its own errors
                log.exception("audit checkpoint writer failed")


_SCHEDULER = _Scheduler()
_registry_lock = threading.Lock()
_writers: dict[str, CheckpointWriter | None] = {}
_writers_by_url: dict[URL, CheckpointWriter | None] = {}


def writer_for(database_url: str | URL) -> CheckpointWriter | None:
    """This process's writer for a database (``None`` when it has no checkpoint store)."""
    url = make_url(database_url)
    try:
        return _writers_by_url[url]
    except KeyError:
        pass
    with _registry_lock:
        identity = database_identity(url)
        writer: CheckpointWriter | None = None
        if identity is not None:
            if identity not in _writers:
                config = anchor_config(url)
                usable = config.store is not None and config.key_file is not None
                _writers[identity] = CheckpointWriter(config) if usable else None
            writer = _writers[identity]
        _writers_by_url[url] = writer
        return writer


def note_commit(database_url: URL, event_id: int, head_hash: str) -> None:
    """Called after a transaction that appended events commits (see ``api.record.audit``)."""
    writer = writer_for(database_url)
    if writer is not None:
        writer.note(event_id, head_hash)


def flush(database_url: str | URL) -> Checkpoint | None:
    """Write this process's pending checkpoint of a database now."""
    writer = writer_for(database_url)
    return writer.flush() if writer is not None else None


@atexit.register
def flush_all() -> None:
    """Write every pending checkpoint of this process (also run at exit)."""
    with _registry_lock:
        writers = [writer for writer in _writers.values() if writer is not None]
    for writer in writers:
        writer.flush()


# --- verification --------------------------------------------------------------------------


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


@dataclass
class _Comparison:
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


def _public_key(config: AnchorConfig) -> Ed25519PublicKey | None:
    if config.public_key_file is not None:
        return load_public_key(config.public_key_file)
    if config.key_file is not None and config.key_file.exists():
        return load_signing_key(config.key_file, create=False).public_key()
    return None


def _verified_start(
    store: CheckpointStore, limit: int, comparison: _Comparison
) -> Checkpoint | None:
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


def _compare(
    db: Database, store: CheckpointStore, limit: int, chain: VerifyResult, comparison: _Comparison
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


def _compare_batch(db: Database, batch: list[Checkpoint], comparison: _Comparison) -> None:
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
            public_key = _public_key(config)
        except CheckpointError as exc:
            key_problem = str(exc)
    comparison = _Comparison(
        public_key, key_id(public_key) if public_key else None, 0, all_signatures
    )
    has_checkpoints = limit > 0
    start: Checkpoint | None = None
    warnings: list[str] = []
    unreadable_store: str | None = None
    if incremental and store is not None and has_checkpoints and public_key is not None:
        try:
            start = _verified_start(store, limit, comparison)
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
                _compare(db, store, limit, chain, comparison)
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


def _judge(comparison: _Comparison, chain: VerifyResult) -> tuple[list[str], AnchorStatus]:
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
    comparison: _Comparison,
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
