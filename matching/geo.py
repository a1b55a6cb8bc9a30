"""Where things are: offline postcode geocoding and great-circle distance.

Postcodes are geocoded to their district (outward code) centroid from the shipped table
``data/uk-postcode-outcodes.csv`` — no network. The distance helpers work on whole arrays.
Who may go where (reach, dietary tags, service areas) is decided in :mod:`matching.candidates`.
"""

from __future__ import annotations

import csv
import importlib.resources
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from geopy.distance import EARTH_RADIUS

EARTH_RADIUS_KM: float = float(EARTH_RADIUS)
"""Mean Earth radius used by ``geopy.distance.great_circle`` (the contract's distance)."""

_OUTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_AREA = re.compile(r"^[A-Z]{1,2}$")

FloatArray = npt.NDArray[np.float64]


DATA_PACKAGE = "foodmatch_data"
"""The installed name of the repository's ``data/`` folder (mapped in setup.py)."""


def shipped_data_dir() -> Path:
    """The folder of the data installed with foodmatch, found with :mod:`importlib.resources`."""
    try:
        found = importlib.resources.files(DATA_PACKAGE)
    except ModuleNotFoundError as err:
        raise RuntimeError(
            f"foodmatch's data package {DATA_PACKAGE} is not installed; reinstall foodmatch "
            "(in a checkout: pip install -e .)."
        ) from err
    if not isinstance(found, Path):  # only an import from a zip file gives anything else
        raise RuntimeError(
            f"foodmatch's data ({DATA_PACKAGE}) is inside an archive at {found}; "
            "install foodmatch with pip, which unpacks it."
        )
    return found


def data_dir() -> Path:
    """The folder holding shipped data (``FOODMATCH_DATA_DIR`` overrides it)."""
    override = os.environ.get("FOODMATCH_DATA_DIR")
    if override:
        return Path(override)
    return shipped_data_dir()


def split_postcode(text: str) -> tuple[str, str | None] | None:
    """Split a UK postcode or bare outward code into ``(outcode, inward)``.

    Any case and spacing is accepted (``ls97ab``, ``LS9 7AB``, ``ls9``). Returns ``None``
    when the text is not shaped like a postcode; ``inward`` is ``None`` for a bare outcode.
    """
    compact = re.sub(r"\s+", "", text).upper()
    full = _FULL_POSTCODE.match(compact)
    if full:
        return full.group(1), full.group(2)
    if _OUTCODE.match(compact):
        return compact, None
    return None


def normalise_outcode(postcode: str) -> str | None:
    """The outward code (``LS9``) of a postcode, or ``None`` if it is not a postcode."""
    parts = split_postcode(postcode)
    return parts[0] if parts else None


def postcode_area(outcode: str) -> str:
    """The postcode area (leading letters) of an outward code: ``LS9`` -> ``LS``."""
    match = re.match(r"[A-Z]+", outcode)
    return match.group(0) if match else outcode


def is_service_area_entry(text: str) -> bool:
    """Whether ``text`` is a valid service-area entry: an outward code or a postcode area."""
    return bool(_OUTCODE.match(text) or _AREA.match(text))


@dataclass(frozen=True)
class Gazetteer:
    """Postcode district centroids, keyed by outward code."""

    centroids: dict[str, tuple[float, float]]

    @classmethod
    def from_csv(cls, path: Path) -> Gazetteer:
        """Read an ``outcode,latitude,longitude`` table."""
        with path.open(newline="", encoding="utf-8") as handle:
            rows = csv.DictReader(handle)
            table = {
                row["outcode"].strip().upper(): (float(row["latitude"]), float(row["longitude"]))
                for row in rows
            }
        return cls(table)

    @staticmethod
    def default() -> Gazetteer:
        """The shipped UK table (cached: it is read once per process)."""
        return _default_gazetteer(str(data_dir() / "uk-postcode-outcodes.csv"))

    def locate(self, postcode: str) -> tuple[float, float, str] | None:
        """``(latitude, longitude, outcode)`` of a postcode's district, or ``None`` if unknown."""
        outcode = normalise_outcode(postcode)
        if outcode is None:
            return None
        point = self.centroids.get(outcode)
        if point is None:
            return None
        return point[0], point[1], outcode


@lru_cache(maxsize=4)
def _default_gazetteer(path: str) -> Gazetteer:
    return Gazetteer.from_csv(Path(path))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km, as ``geopy.distance.great_circle`` computes it."""
    return float(
        great_circle_km(np.array([lat1]), np.array([lon1]), np.array([lat2]), np.array([lon2]))[0]
    )


def great_circle_km(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Vectorised great-circle distance (km), the same formula and radius as geopy."""
    return great_circle(spherical(lat1, lon1), spherical(lat2, lon2))


Spherical = tuple[FloatArray, FloatArray, FloatArray]
"""``(sin(latitude), cos(latitude), longitude)``, angles in radians, for :func:`great_circle`."""


def spherical(lat: FloatArray, lon: FloatArray) -> Spherical:
    """The per-point part of the distance formula, so a point shared by many pairs pays once."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.sin(phi), np.cos(phi), lam


def great_circle(a: Spherical, b: Spherical) -> FloatArray:
    """Great-circle distance (km) between points given by :func:`spherical`, pair by pair.

    Element by element the same arithmetic whether the parts were computed per pair or per
    point and then gathered, so the distances are identical to the last bit either way.
    """
    sin1, cos1, l1 = a
    sin2, cos2, l2 = b
    dl = l2 - l1
    cos_dl, sin_dl = np.cos(dl), np.sin(dl)
    num = np.sqrt((cos2 * sin_dl) ** 2 + (cos1 * sin2 - sin1 * cos2 * cos_dl) ** 2)
    den = sin1 * sin2 + cos1 * cos2 * cos_dl
    return np.asarray(EARTH_RADIUS_KM * np.arctan2(num, den), dtype=np.float64)
