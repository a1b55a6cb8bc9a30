"""Stable public UUIDs for objects made in foodmatch, and back again without a lookup table.

An imported object keeps the ORUK id its directory gave it (stored in ``directory_*``). An
object made here (a charity, a site, its location) is published under a UUID built from the
installation's random namespace, drawn once by the migration, the kind of object and its
row id: the same object always gets the same UUID, two installations never share one, and a
UUID handed back by a client (``/oruk/services/{id}``) gives the row id directly. The layout is
RFC 9562 version 8 (application-defined): bytes 0-7 the namespace's first 8 bytes (version
nibble overwritten), byte 8 the variant bits and the kind, bytes 9-15 the row id (56 bits).

Objects that are never looked up by id (service areas, attributes, capacity records) get a
name-based ``uuid5`` under their parent's UUID, which is just as stable.
"""

from __future__ import annotations

import uuid
from enum import IntEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.directory.tables import DirectoryInstallation

MAX_ROW_ID = (1 << 56) - 1


class Kind(IntEnum):
    """What a public UUID names (at most 63 kinds fit in byte 8)."""

    ORGANIZATION = 1
    SERVICE = 2
    LOCATION = 3
    SERVICE_AT_LOCATION = 4


def namespace(session: Session) -> uuid.UUID:
    """This installation's namespace (drawn by the migration that made the directory tables)."""
    value = session.scalar(
        select(DirectoryInstallation.namespace).order_by(DirectoryInstallation.id)
    )
    if value is None:
        raise RuntimeError("the directory namespace is missing: run `foodmatch db upgrade`")
    return uuid.UUID(value)


def encode(space: uuid.UUID, kind: Kind, row_id: int) -> uuid.UUID:
    """The public UUID of the row ``row_id`` of ``kind`` in the installation ``space``."""
    if not 0 < row_id <= MAX_ROW_ID:
        raise ValueError(f"row id {row_id} does not fit in a public UUID")
    raw = bytearray(space.bytes[:8] + bytes([0x80 | int(kind)]) + row_id.to_bytes(7, "big"))
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
    return uuid.UUID(bytes=bytes(raw))


def decode(space: uuid.UUID, value: uuid.UUID, kind: Kind) -> int | None:
    """The row id a public UUID of ``kind`` names in ``space``, or ``None`` if it is not one."""
    raw, prefix = value.bytes, space.bytes
    if raw[:6] != prefix[:6] or raw[7] != prefix[7] or raw[6] != (prefix[6] & 0x0F) | 0x80:
        return None
    if raw[8] != 0x80 | int(kind):
        return None
    row_id = int.from_bytes(raw[9:], "big")
    return row_id or None


def child(parent: uuid.UUID, name: str) -> uuid.UUID:
    """A stable UUID for a part of a published object (its service area, attribute, ...)."""
    return uuid.uuid5(parent, name)
