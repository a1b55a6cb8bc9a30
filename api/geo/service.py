"""Loading the postcode directory, locating a postcode with it, and each council's area.

:func:`locate` is the one place a referral's or a site's postcode becomes a position:

- a full postcode found live in the directory: its own centroid (``located_by`` postcode);
- found but terminated, or not found while a directory is loaded: refused, saying which
  and what to do (:class:`NotLocated`), so a made-up postcode never gets a place;
- a bare district, a postcode the directory lists without a position, or any postcode while
  no directory is loaded: its district's centre (``located_by`` district), and every
  distance from it is shown as approximate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from api.core.db import Database
from api.core.tables import DISTRICT, POSTCODE, Organisation
from api.geo import formats
from api.geo.tables import PostcodeEntry
from api.match_runs import adapter as convert
from api.record.trail import audit
from matching.geo import is_service_area_entry, postcode_area, split_postcode


@dataclass(frozen=True)
class Located:
    """Where a postcode is, and how precisely."""

    latitude: float
    longitude: float
    outcode: str
    located_by: str

    @property
    def approximate(self) -> bool:
        """Placed at its district's centre rather than its own centroid."""
        return self.located_by != POSTCODE


class NotLocated(ValueError):
    """A postcode that cannot be placed; ``str()`` says why in plain words."""


@dataclass
class ImportReport:
    """What one directory import stored."""

    source: str
    format: str
    postcodes: int = 0
    live: int = 0
    terminated: int = 0
    without_position: int = 0
    areas: set[str] = field(default_factory=set)
    seconds: float = 0.0


def import_directory(
    db: Database, path: Path, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Replace the directory with the file's postcodes, in one transaction.

    The whole file is read and checked as it is stored; a bad row raises
    :class:`api.geo.formats.GeoInputError` and the transaction is rolled back, so the
    directory as it was stays in place.
    """
    started = time.perf_counter()
    kind, batches = formats.read(path)
    report = ImportReport(source=path.name, format=kind)
    seen: set[str] = set()
    with db.write() as session:
        session.execute(delete(PostcodeEntry))
        for batch in batches:
            rows = []
            for entry in batch:
                if entry.postcode in seen:
                    continue  # published files repeat nothing; a concatenation might
                seen.add(entry.postcode)
                rows.append(entry.__dict__)
                report.terminated += entry.terminated is not None
                report.without_position += entry.latitude is None
                report.areas.add(postcode_area(entry.outcode))
            if rows:
                session.execute(insert(PostcodeEntry), rows)
            report.postcodes += len(rows)
            if progress is not None:
                progress(report.postcodes)
        report.live = report.postcodes - report.terminated
        audit(session, None, action="postcodes.imported", entity_type="postcode_directory",
              entity_id=path.name[:100], after={"format": kind, "postcodes": report.postcodes,
              "terminated": report.terminated})  # fmt: skip
    report.seconds = time.perf_counter() - started
    return report


def directory_size(session: Session) -> int:
    """How many postcodes the loaded directory holds (0: none loaded)."""
    return int(session.scalar(select(func.count()).select_from(PostcodeEntry)) or 0)


def _has_directory(session: Session) -> bool:
    return session.scalar(select(PostcodeEntry.postcode).limit(1)) is not None


def locate(db: Database, postcode: str) -> Located:
    """Where ``postcode`` is (see the module's rules), or :class:`NotLocated` saying why."""
    parts = split_postcode(postcode)
    if parts is None:
        raise NotLocated(f"{postcode!r} is not a UK postcode (like LS9 7AB) or district (LS9)")
    outcode, inward = parts
    shown = f"{outcode} {inward}" if inward else outcode
    if inward is not None:
        with db.read() as session:
            row = session.get(PostcodeEntry, outcode + inward)
            loaded = row is not None or _has_directory(session)
        if row is not None and row.terminated is not None:
            raise NotLocated(f"{shown} is no longer in use (it ended in {row.terminated}); "
                             "ask the household for their current postcode")  # fmt: skip
        if row is not None and row.latitude is not None and row.longitude is not None:
            return Located(row.latitude, row.longitude, outcode, POSTCODE)
        if row is None and loaded:
            raise NotLocated(f"{shown} is not in the postcode directory; check it with the "
                             "household (a new postcode may be missing until the next "
                             "directory is imported)")  # fmt: skip
    centre = convert.locate(outcode)
    if centre is None:
        raise NotLocated(f"{shown} is not a known UK postcode district")
    return Located(centre[0], centre[1], centre[2], DISTRICT)


def area_entries(organisation: Organisation) -> list[str]:
    """The council's area as a list (empty: anywhere)."""
    return [a for a in organisation.area.split(";") if a]


def in_area(outcode: str, area: Sequence[str]) -> bool:
    """Whether a district lies in an area given as districts and postcode areas."""
    return not area or outcode in area or postcode_area(outcode) in area


def _council(session: Session, name: str) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        raise ValueError(f"No organisation is called {name!r}.")
    if found.kind.value != "council":
        raise ValueError(f"{name} is a charity; only a council has an area.")
    return found


def show_area(db: Database, name: str) -> list[str]:
    """The area of the council named ``name`` (ValueError if there is none such)."""
    with db.read() as session:
        return area_entries(_council(session, name))


def set_area(db: Database, name: str, entries: Iterable[str]) -> list[str]:
    """Give the council named ``name`` its area; the cleaned entries, or ValueError."""
    cleaned = sorted({e.strip().upper() for e in entries if e.strip()})
    wrong = [e for e in cleaned if not is_service_area_entry(e)]
    if wrong:
        raise ValueError(f"Not a district (like LS9) or postcode area (like LS): "
                         f"{', '.join(wrong)}. Nothing was changed.")  # fmt: skip
    with db.write() as session:
        council = _council(session, name)
        before = area_entries(council)
        council.area = ";".join(cleaned)
        audit(session, None, action="council.area_set", entity_type="organisation",
              entity_id=council.id, before={"area": before}, after={"area": cleaned})  # fmt: skip
    return cleaned
