"""Where checkpoints are kept and how each database's checkpoints are set up.

:class:`CheckpointStore` is the append-only file (or a service log of JSON lines);
:func:`anchor_config` says, for a database, which store and keys to use: those set with
``configure``, else the ``FOODMATCH_AUDIT_*`` settings, else the default beside a SQLite file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from api.record.checkpoints.signing import Checkpoint, CheckpointError, parse_checkpoint
from api.record.settings import RecordSettings, get_record_settings

STORE_FILE = "checkpoints.jsonl"


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


CONFIGURED: dict[str, AnchorConfig] = {}
"""Set-ups given with ``configure`` in this process, by database identity."""


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
    base = CONFIGURED.get(identity) if identity else None
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
