"""Checkpoints and their signatures: the signed statement, its keys, signing and checking.

A :class:`Checkpoint` says "event M (of M) was the head, with hash H", signed with an
Ed25519 key over a fixed context and the canonical JSON of its fields; :func:`parse_checkpoint`
reads one back, :class:`Signer` signs and :func:`signature_holds` checks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from api.record.audit import canonical_json

FORMAT_VERSION = 1
SIGNING_CONTEXT = b"foodmatch audit checkpoint v1\n"
"""Prefixed to what is signed, so a signature over anything else can never pass as one."""


_HASH = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = frozenset({"v", "kind", "event_id", "count", "head_hash", "signed_at", "key_id",
                     "signature"})  # fmt: skip


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
