"""Where things are: offline postcode geocoding, great-circle distance, candidate pairs.

Postcodes are geocoded to their district (outward code) centroid from the shipped table
``data/uk-postcode-outcodes.csv`` — no network. Candidate referral-provider pairs are found
with a k-d tree over points on the unit sphere, so the cost grows with the pairs that are in
reach, not with referrals x providers.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from geopy.distance import EARTH_RADIUS
from scipy.spatial import cKDTree

from matching.models import DIETARY_TAGS, Problem

EARTH_RADIUS_KM: float = float(EARTH_RADIUS)
"""Mean Earth radius used by ``geopy.distance.great_circle`` (the contract's distance)."""

_OUTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_AREA = re.compile(r"^[A-Z]{1,2}$")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def data_dir() -> Path:
    """The folder holding shipped data (``FOODMATCH_DATA_DIR`` overrides it)."""
    override = os.environ.get("FOODMATCH_DATA_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "data"


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
    p1, l1, p2, l2 = (np.radians(a) for a in (lat1, lon1, lat2, lon2))
    sin1, cos1, sin2, cos2 = np.sin(p1), np.cos(p1), np.sin(p2), np.cos(p2)
    dl = l2 - l1
    cos_dl, sin_dl = np.cos(dl), np.sin(dl)
    num = np.sqrt((cos2 * sin_dl) ** 2 + (cos1 * sin2 - sin1 * cos2 * cos_dl) ** 2)
    den = sin1 * sin2 + cos1 * cos2 * cos_dl
    return np.asarray(EARTH_RADIUS_KM * np.arctan2(num, den), dtype=np.float64)


def _unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def _chord(radius_km: FloatArray) -> FloatArray:
    """Chord length on the unit sphere for a great-circle radius, padded against rounding."""
    angle = np.minimum(np.asarray(radius_km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return np.asarray(2.0 * np.sin(angle / 2.0) * (1.0 + 1e-9) + 1e-12, dtype=np.float64)


def dietary_mask(tags: frozenset[str] | set[str] | list[str]) -> int:
    """Bit mask of dietary tags (bit ``i`` = ``DIETARY_TAGS[i]``)."""
    mask = 0
    for tag in tags:
        mask |= 1 << DIETARY_TAGS.index(tag)
    return mask


# Status of an in-reach pair, in the order the contract's reason codes are tested.
PAIR_FEASIBLE = 0
PAIR_LACKS_DIET = 1
PAIR_OUT_OF_AREA = 2


@dataclass(frozen=True)
class Candidates:
    """Every referral-provider pair in reach, and which of them are feasible.

    Arrays are parallel, sorted by referral then distance. ``status`` is ``PAIR_FEASIBLE``,
    ``PAIR_LACKS_DIET`` (the provider does not list all the referral's tags) or
    ``PAIR_OUT_OF_AREA`` (tags fine, but the service area excludes the referral).
    ``deliver`` says whether the pair is a delivery (else collection).
    """

    ref: IntArray
    prov: IntArray
    distance_km: FloatArray
    deliver: BoolArray
    status: npt.NDArray[np.int8]
    n_referrals: int

    @property
    def feasible(self) -> BoolArray:
        return np.asarray(self.status == PAIR_FEASIBLE)

    def first_reason_codes(self) -> npt.NDArray[np.int8]:
        """Per referral: 0 = has a feasible provider, 1 = none in reach, 2 = dietary, 3 = area."""
        n = self.n_referrals
        any_reach = np.bincount(self.ref, minlength=n) > 0
        diet_ok = np.bincount(self.ref[self.status != PAIR_LACKS_DIET], minlength=n) > 0
        feasible = np.bincount(self.ref[self.status == PAIR_FEASIBLE], minlength=n) > 0
        codes = np.zeros(n, dtype=np.int8)
        codes[~feasible] = 3
        codes[~diet_ok] = 2
        codes[~any_reach] = 1
        return codes


def candidate_pairs(problem: Problem) -> Candidates:
    """All pairs in reach by the mode each referral needs, classified per the contract.

    Collection: distance <= the referral's ``max_travel_km``. Delivery: the provider delivers
    (``delivery_capacity`` > 0) and distance <= its ``delivery_radius_km``.
    """
    referrals, providers = problem.referrals, problem.providers
    n, m = len(referrals), len(providers)
    if n == 0 or m == 0:
        return _no_candidates(n)
    r_lat = np.fromiter((r.latitude for r in referrals), dtype=np.float64, count=n)
    r_lon = np.fromiter((r.longitude for r in referrals), dtype=np.float64, count=n)
    p_lat = np.fromiter((p.latitude for p in providers), dtype=np.float64, count=m)
    p_lon = np.fromiter((p.longitude for p in providers), dtype=np.float64, count=m)
    needs_delivery = np.fromiter((r.needs_delivery for r in referrals), dtype=bool, count=n)
    r_xyz, p_xyz = _unit_vectors(r_lat, r_lon), _unit_vectors(p_lat, p_lon)

    refs: list[IntArray] = []
    provs: list[IntArray] = []
    # Collection: each collecting referral looks for providers within its own travel limit.
    collectors = np.flatnonzero(~needs_delivery)
    if collectors.size:
        travel = np.fromiter(
            (referrals[i].max_travel_km for i in collectors),
            dtype=np.float64,
            count=collectors.size,
        )
        hits = cKDTree(p_xyz).query_ball_point(r_xyz[collectors], _chord(travel))
        lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        if lengths.sum():
            refs.append(np.repeat(collectors, lengths))
            provs.append(np.concatenate([np.asarray(h, dtype=np.int64) for h in hits if h]))
    # Delivery: each delivering provider looks for delivery referrals within its radius.
    deliverers = np.flatnonzero(needs_delivery)
    if deliverers.size:
        tree = cKDTree(r_xyz[deliverers])
        for j, provider in enumerate(providers):
            if provider.delivery_capacity > 0 and provider.delivery_radius_km >= 0:
                found = tree.query_ball_point(
                    p_xyz[j], float(_chord(np.array([provider.delivery_radius_km]))[0])
                )
                if found:
                    refs.append(deliverers[np.asarray(found, dtype=np.int64)])
                    provs.append(np.full(len(found), j, dtype=np.int64))
    if not refs:
        return _no_candidates(n)

    ref = np.concatenate(refs)
    prov = np.concatenate(provs)
    dist = great_circle_km(r_lat[ref], r_lon[ref], p_lat[prov], p_lon[prov])
    deliver = needs_delivery[ref]
    limit = np.where(
        deliver,
        np.fromiter((p.delivery_radius_km for p in providers), dtype=np.float64, count=m)[prov],
        np.fromiter((r.max_travel_km for r in referrals), dtype=np.float64, count=n)[ref],
    )
    keep = dist <= limit
    ref, prov, dist, deliver = ref[keep], prov[keep], dist[keep], deliver[keep]
    order = np.lexsort((prov, dist, ref))
    ref, prov, dist, deliver = ref[order], prov[order], dist[order], deliver[order]

    status = np.full(ref.size, PAIR_FEASIBLE, dtype=np.int8)
    status[~_service_area_allows(problem, ref, prov)] = PAIR_OUT_OF_AREA
    r_mask = np.fromiter((dietary_mask(r.dietary) for r in referrals), dtype=np.int64, count=n)
    p_mask = np.fromiter((dietary_mask(set(p.dietary)) for p in providers), dtype=np.int64, count=m)
    status[(r_mask[ref] & ~p_mask[prov]) != 0] = PAIR_LACKS_DIET
    return Candidates(ref, prov, dist, deliver, status, n)


def _no_candidates(n: int) -> Candidates:
    none = np.zeros(0, dtype=np.int64)
    return Candidates(none, none, np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0, np.int8), n)


def _service_area_allows(problem: Problem, ref: IntArray, prov: IntArray) -> BoolArray:
    """Whether each pair passes the provider's service area (empty area = anyone)."""
    restricted = [j for j, p in enumerate(problem.providers) if p.service_area]
    allowed = np.ones(ref.size, dtype=bool)
    if not restricted:
        return allowed
    codes: dict[str | None, int] = {None: 0}
    r_code = np.fromiter(
        (codes.setdefault(r.outcode, len(codes)) for r in problem.referrals),
        dtype=np.int64,
        count=len(problem.referrals),
    )
    names: list[str | None] = [None] * len(codes)
    for name, idx in codes.items():
        names[idx] = name
    row_of = {j: k for k, j in enumerate(restricted)}
    table = np.zeros((len(restricted), len(codes)), dtype=bool)
    for j in restricted:
        entries = problem.providers[j].service_area
        for idx, name in enumerate(names):
            if name is not None and (name in entries or postcode_area(name) in entries):
                table[row_of[j], idx] = True
    row_index = np.full(len(problem.providers), -1, dtype=np.int64)
    row_index[restricted] = np.arange(len(restricted))
    rows = row_index[prov]
    limited = rows >= 0
    allowed[limited] = table[rows[limited], r_code[ref[limited]]]
    return allowed
