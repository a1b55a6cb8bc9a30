"""Writing checkpoints from the service: one writer per database, one thread per process.

After a transaction that appended audit events commits, a session hook hands its newest
event to the database's :class:`CheckpointWriter` (:func:`note_commit`); the writer signs
and appends at most one checkpoint per interval on a background thread. :func:`install`
registers the hooks.
"""

from __future__ import annotations

import atexit
import heapq
import logging
import os
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, SessionTransaction

from api.record.audit import HEAD_KEY
from api.record.checkpoints.signing import (
    Checkpoint,
    CheckpointError,
    CheckpointKind,
    Signer,
    load_signing_key,
)
from api.record.checkpoints.store import (
    CONFIGURED,
    AnchorConfig,
    CheckpointStore,
    anchor_config,
    database_identity,
)

log = logging.getLogger("foodmatch.audit.checkpoints")


RETRY_SECONDS = 5.0
"""After a failed write (a full disk, a wrong permission), wait this long before the next."""


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
    """Called after a transaction that appended events commits (:func:`install`)."""
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


def configure(database_url: str | URL, config: AnchorConfig) -> None:
    """Use ``config`` for this database in this process (before the settings)."""
    identity = database_identity(database_url)
    if identity is None:
        raise CheckpointError("an in-memory SQLite database has no checkpoint store")
    with _registry_lock:
        CONFIGURED[identity] = config
        _writers_by_url.clear()
        _writers.pop(identity, None)


def _checkpoint_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint committed; the events count once the whole transaction does
    head = session.info.pop(HEAD_KEY, None)
    if head is not None:
        note_commit(*head)


def _forget_rolled_back(session: Session, _previous: SessionTransaction) -> None:
    # Even a savepoint's rollback forgets the head: a checkpoint of an event that was never
    # committed would later read as a removed tail, whereas one checkpoint less is harmless.
    session.info.pop(HEAD_KEY, None)


def install() -> None:
    """Hand each committed transaction's newest audit event to its database's writer: session
    hooks, process-wide (idempotent)."""
    if not event.contains(Session, "after_commit", _checkpoint_after_commit):
        event.listen(Session, "after_commit", _checkpoint_after_commit)
    if not event.contains(Session, "after_soft_rollback", _forget_rolled_back):
        event.listen(Session, "after_soft_rollback", _forget_rolled_back)
