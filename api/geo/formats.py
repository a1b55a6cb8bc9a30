"""Reading the published postcode directories councils hold, with no network.

- **ONS Postcode Directory (ONSPD)**: one CSV with a header row (``pcds`` or ``pcd``,
  ``doterm``, ``lat``, ``long``; later editions name the postcode column ``pcd7``/``pcd8``),
  given as the CSV or as the zip it is published in (its ``Data/`` CSV, or several
  ``multi_csv`` files). ``doterm`` holds ``YYYYMM`` for a terminated postcode; a postcode
  with no grid reference carries latitude ``99.999999``.
- **OS Code-Point Open**: a zip of header-less CSVs, one per postcode area
  (``Data/CSV/ls.csv``), columns as ``Doc/Code-Point_Open_Column_Headers.csv`` names them:
  postcode, positional quality, eastings, northings, and codes. Eastings and northings are
  on the British National Grid; they are turned into WGS84 degrees with pyproj (EPSG:27700 to
  EPSG:4326, the transformation PROJ picks without grid files, a few metres). Code-Point
  Open lists live postcodes only.

Every reader yields :class:`Entry` rows and raises :class:`GeoInputError` saying what is
wrong and where (file, line, column) before anything is stored.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from matching.geo import split_postcode

ONSPD = "ONS Postcode Directory"
CODE_POINT = "OS Code-Point Open"
_POSTCODE_COLUMNS = ("pcds", "pcd", "pcd8", "pcd7")
_NO_GRID_LATITUDE = 99.0
"""ONSPD's latitude for a postcode without a grid reference is 99.999999."""
_BATCH = 5000


class GeoInputError(ValueError):
    """A directory file that cannot be read: what, where, what was expected."""


@dataclass(frozen=True)
class Entry:
    """One postcode: compact form, district, WGS84 position (or none), end month."""

    postcode: str
    outcode: str
    latitude: float | None
    longitude: float | None
    terminated: str | None


def detect(path: Path) -> str:
    """Which published format ``path`` holds (:data:`ONSPD` or :data:`CODE_POINT`)."""
    if not path.is_file():
        raise GeoInputError(
            f"{path}: no such file (expected an ONSPD CSV or zip, or a Code-Point Open zip)"
        )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n.lower() for n in archive.namelist()]
        if any("code-point" in n or "codepo" in n for n in names) or any(
            n.startswith("data/csv/") for n in names
        ):
            return CODE_POINT
        if any(n.endswith(".csv") for n in names):
            return ONSPD
        raise GeoInputError(
            f"{path}: the zip holds no CSV file (expected ONSPD or Code-Point Open as published)"
        )
    if path.suffix.lower() != ".csv":
        raise GeoInputError(f"{path}: expected a .csv or .zip file, not {path.suffix or 'none'}")
    return ONSPD


def read(path: Path) -> tuple[str, Iterator[list[Entry]]]:
    """The format of ``path`` and its entries in batches (read lazily, checked as read)."""
    kind = detect(path)
    return kind, (_onspd(path) if kind == ONSPD else _code_point(path))


def _entry(where: str, raw: str, lat: float | None, lon: float | None, end: str | None) -> Entry:
    parts = split_postcode(raw)
    if parts is None or parts[1] is None:
        raise GeoInputError(f"{where}: {raw!r} is not a full UK postcode (like LS1 1AA)")
    return Entry(parts[0] + parts[1], parts[0], lat, lon, end)


def _number(where: str, column: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise GeoInputError(f"{where}, column {column}: {text!r} is not a number") from None


def _onspd_files(path: Path) -> Iterator[tuple[str, IO[str]]]:
    if not zipfile.is_zipfile(path):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield path.name, handle
        return
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.lower().endswith(".csv"))
        data = [n for n in names if "/data/" in f"/{n.lower()}"] or names
        # The published zip's Data folder holds the directory (one file, or one per area).
        for name in data:
            with archive.open(name) as raw:
                yield name, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _onspd(path: Path) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    for name, handle in _onspd_files(path):
        rows = csv.reader(handle)
        header = [h.strip().lower() for h in next(rows, [])]
        column = next((c for c in _POSTCODE_COLUMNS if c in header), None)
        missing = [c for c in ("lat", "long") if c not in header]
        if column is None or missing:
            wanted = ", ".join(([] if column else ["pcds"]) + missing)
            raise GeoInputError(
                f"{name}, line 1: not an ONS Postcode Directory header (missing {wanted})"
            )
        at_pc, at_lat, at_lon = header.index(column), header.index("lat"), header.index("long")
        at_end = header.index("doterm") if "doterm" in header else None
        for line, row in enumerate(rows, start=2):
            if not row:
                continue
            where = f"{name}, line {line}"
            if len(row) < len(header):
                raise GeoInputError(f"{where}: {len(row)} columns, the header has {len(header)}")
            lat = _number(where, "lat", row[at_lat])
            lon = _number(where, "long", row[at_lon])
            end = row[at_end].strip() if at_end is not None else ""
            if end and not (len(end) == 6 and end.isdigit()):
                raise GeoInputError(f"{where}, column doterm: {end!r} is not a month (YYYYMM)")
            placed = abs(lat) < _NO_GRID_LATITUDE and not (lat == 0 and lon == 0)
            month = f"{end[:4]}-{end[4:]}" if end else None
            if not placed:
                lat = lon = None  # type: ignore[assignment]
            batch.append(_entry(where, row[at_pc], lat, lon, month))
            if len(batch) >= _BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _code_point(path: Path) -> Iterator[list[Entry]]:
    from pyproj import Transformer  # only a Code-Point import needs the grid conversion

    grid = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    with zipfile.ZipFile(path) as archive:
        names = sorted(
            n
            for n in archive.namelist()
            if n.lower().endswith(".csv") and "/doc/" not in f"/{n.lower()}"
        )
        if not names:
            raise GeoInputError(f"{path}: no Data/CSV files in the Code-Point Open zip")
        for name in names:
            with archive.open(name) as raw:
                rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
                yield from _code_point_rows(name, rows, grid)


def _code_point_rows(name: str, rows: Iterator[list[str]], grid: object) -> Iterator[list[Entry]]:
    pending: list[tuple[str, str, float, float]] = []
    for line, row in enumerate(rows, start=1):
        if not row:
            continue
        where = f"{name}, line {line}"
        if len(row) < 4:
            raise GeoInputError(
                f"{where}: {len(row)} columns; expected postcode, quality, eastings, northings, ..."
            )
        if line == 1 and row[0].strip().lower() in ("postcode", "pc"):
            continue  # a file saved with its header row
        east = _number(where, "Eastings", row[2])
        north = _number(where, "Northings", row[3])
        pending.append((where, row[0], east, north))
        if len(pending) >= _BATCH:
            yield _converted(pending, grid)
            pending = []
    if pending:
        yield _converted(pending, grid)


def _converted(pending: Sequence[tuple[str, str, float, float]], grid: object) -> list[Entry]:
    lons, lats = grid.transform([p[2] for p in pending], [p[3] for p in pending])  # type: ignore[attr-defined]
    out = []
    for (where, raw, east, north), lat, lon in zip(pending, lats, lons, strict=True):
        placed = not (east == 0 and north == 0)  # Code-Point's "no position" is 0,0
        out.append(_entry(where, raw, lat if placed else None, lon if placed else None, None))
    return out
