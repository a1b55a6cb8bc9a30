"""Benchmark families: instances that vary what real regions vary, from seeds.

``benchmarks/generate.py`` writes one kind of instance (West Yorkshire, short travel limits,
one way of drawing every field), and an engine measured only on it can be tuned to it. This
module draws from other choices, written apart from it: a *family* fixes a region (real
postcode districts from ``data/uk-postcode-outcodes.csv``) and the ranges its instances
draw from; each seed then draws its own values inside those ranges (how far households can
travel, how tight capacity, people limits and dietary stocks are, how many sites have a
service area, how locations are given), and then the households and sites.

Families (see :data:`FAMILIES`):

- ``london``: Greater London (E, EC, N, NW, SE, SW, W, WC): dense, sites close together,
  travel limits 3-10 km, so each household reaches many sites;
- ``london-short``: the same city with short reach (2-4 km) and scarce capacity (60-75%);
- ``west-yorkshire``: a mixed metropolitan county (LS, BD, WF, HX, HD), travel limits up to
  10 km;
- ``west-yorkshire-tight``: the same county with tight people limits and dietary stocks;
- ``rural``: sparse districts (SY, LD, HR, TR, LA, CA), travel limits 5-15 km;
- ``postcodes``: every location a postcode only (households at their district's centre);
- ``coordinates``: every household located by its own coordinates (no two at one point);
- ``unit-demand``: West Yorkshire with parcels and delivery slots only (a pure network).

Sizes: ``2k`` (2,000 referrals x 60 sites), ``10k`` (10,000 x 250), ``50k`` (50,000 x
1,500). Everything comes from ``numpy.random.default_rng(seed)``: the same family, size and
seed always give the same files.

Usage::

    python -m benchmarks.families london 10k 3 --out DIR     # write one instance
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.generate import (
    OUTCODES_CSV,
    PROVIDER_COLUMNS,
    REFERRAL_COLUMNS,
    haversine_km,
)

SIZES: dict[str, tuple[int, int]] = {
    "2k": (2_000, 60),
    "10k": (10_000, 250),
    "50k": (50_000, 1_500),
}
"""Referrals x sites per size."""

Range = tuple[float, float]


@dataclass(frozen=True)
class Family:
    """A region and the ranges its instances draw from (each seed draws its own values).

    Shares are of households or of sites; ``travel_km`` bounds the travel limits households
    state (some leave it empty: the contract's default of 5 km); ``people_ratio`` is a
    people limit as a multiple of the site's parcels (households average about 2.3 people,
    so 2 is tight and 3 loose); ``dietary_cap`` caps a capped stock at up to this share of
    the site's parcels.
    """

    name: str
    areas: tuple[str, ...]
    description: str
    travel_km: Range = (3.0, 10.0)
    default_travel_share: Range = (0.2, 0.4)
    capacity: Range = (0.7, 0.9)
    people_share: Range = (0.4, 0.6)
    people_ratio: Range = (1.8, 3.0)
    capped_share: Range = (0.2, 0.4)
    dietary_cap: Range = (0.0, 0.125)
    service_area_share: Range = (0.1, 0.3)
    postcode_only: Range = (0.2, 0.4)
    """Share of households given by postcode only (the rest by coordinates, most also with
    a postcode); 1.0 puts everyone at a district centre, 0.0 nobody."""
    coordinates_only: float = 0.1
    """Of the households with coordinates, the share that gives no postcode at all."""
    delivery_share: Range = (0.05, 0.1)
    unit_demand: bool = False
    """No people limits, dietary needs or service areas: every household uses one unit of
    a site's parcels (and of its delivery slots), so the whole model is a network."""


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "london",
            ("E", "EC", "N", "NW", "SE", "SW", "W", "WC"),
            "Greater London: dense, wide reach",
        ),
        Family(
            "london-short",
            ("E", "EC", "N", "NW", "SE", "SW", "W", "WC"),
            "Greater London: short reach, scarce capacity",
            travel_km=(2.0, 4.0),
            default_travel_share=(0.0, 0.1),
            capacity=(0.6, 0.75),
        ),
        Family(
            "west-yorkshire",
            ("LS", "BD", "WF", "HX", "HD"),
            "West Yorkshire: mixed metropolitan county, wide reach",
        ),
        Family(
            "west-yorkshire-tight",
            ("LS", "BD", "WF", "HX", "HD"),
            "West Yorkshire: tight people limits and dietary stocks",
            travel_km=(2.0, 6.0),
            capacity=(0.6, 0.8),
            people_share=(0.6, 0.9),
            people_ratio=(1.6, 2.2),
            capped_share=(0.4, 0.6),
            dietary_cap=(0.0, 0.06),
        ),
        Family(
            "rural",
            ("SY", "LD", "HR", "TR", "LA", "CA"),
            "Rural: sparse districts, long reach",
            travel_km=(5.0, 15.0),
            default_travel_share=(0.0, 0.2),
            capacity=(0.8, 1.0),
        ),
        Family(
            "postcodes",
            ("LS", "BD", "WF", "HX", "HD"),
            "West Yorkshire, every location a postcode only",
            postcode_only=(1.0, 1.0),
            coordinates_only=0.0,
        ),
        Family(
            "unit-demand",
            ("LS", "BD", "WF", "HX", "HD"),
            "West Yorkshire, unit demand (parcels and delivery slots only)",
            unit_demand=True,
        ),
        Family(
            "coordinates",
            ("LS", "BD", "WF", "HX", "HD"),
            "West Yorkshire, every household at its own coordinates",
            travel_km=(2.0, 8.0),
            postcode_only=(0.0, 0.0),
            coordinates_only=0.0,
        ),
    )
}

_SIZE_WEIGHTS = np.array([0.36, 0.24, 0.15, 0.11, 0.07, 0.04, 0.02, 0.01])
"""Household sizes 1-8, weighted to small (mean about 2.4)."""
_NEED_RATE = {
    "halal": 0.10,
    "kosher": 0.005,
    "vegetarian": 0.06,
    "vegan": 0.02,
    "gluten_free": 0.03,
    "dairy_free": 0.02,
    "nut_free": 0.01,
    "diabetic": 0.03,
    "baby": 0.06,
}
_STOCK_RATE = {
    "halal": 0.6,
    "kosher": 0.15,
    "vegetarian": 0.9,
    "vegan": 0.5,
    "gluten_free": 0.6,
    "dairy_free": 0.5,
    "nut_free": 0.4,
    "diabetic": 0.5,
    "baby": 0.7,
}
_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
_KM_PER_DEGREE = 111.2


@dataclass(frozen=True)
class Drawn:
    """The values one seed drew from its family's ranges (reported with the results)."""

    travel_low: float
    travel_high: float
    default_travel_share: float
    capacity: float
    people_share: float
    people_ratio: tuple[float, float]
    capped_share: float
    dietary_cap: float
    service_area_share: float
    postcode_only: float
    delivery_share: float


@dataclass
class FamilyInstance:
    """One generated instance: contract CSV columns (all strings) and what was drawn."""

    family: Family
    size: str
    seed: int
    drawn: Drawn
    referrals: pd.DataFrame
    providers: pd.DataFrame

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write ``referrals.csv`` and ``providers.csv`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = directory / "referrals.csv", directory / "providers.csv"
        self.referrals.to_csv(paths[0], index=False, lineterminator="\n")
        self.providers.to_csv(paths[1], index=False, lineterminator="\n")
        return paths


def districts_of(areas: Sequence[str], table: pd.DataFrame) -> pd.DataFrame:
    """The geographic districts of the given postcode areas.

    Left out: PO-box and bulk-mail districts (a number of 50 or more, or a trailing ``P``
    or ``W`` after the number, as ``EC1P`` and ``NW1W``, except ``E1W``, Wapping) and
    centroids more than 60 km from the area's median point.
    """
    parts = table["outcode"].str.extract(r"^([A-Z]{1,2})(\d+)([A-Z]?)$")
    keep = parts[0].isin(list(areas)) & (pd.to_numeric(parts[1], errors="coerce") < 50)
    keep &= ~parts[2].isin(["P", "W"]) | (table["outcode"] == "E1W")
    rows = table.loc[keep].copy()
    rows["area"] = parts.loc[keep, 0]
    kept = []
    for _, group in rows.groupby("area"):
        lat, lon = group["latitude"].median(), group["longitude"].median()
        kept.append(group[haversine_km(group["latitude"], group["longitude"], lat, lon) < 60])
    out = pd.concat(kept).sort_values("outcode").reset_index(drop=True)
    if out.empty:
        raise ValueError(f"no districts for areas {list(areas)}")
    return out


def _uniform(rng: np.random.Generator, bounds: Range) -> float:
    low, high = bounds
    return float(low if high <= low else rng.uniform(low, high))


def draw(family: Family, rng: np.random.Generator) -> Drawn:
    """This seed's values inside the family's ranges."""
    low, high = family.travel_km
    travel_low = _uniform(rng, (low, low + (high - low) / 3))
    ratio_low = _uniform(rng, family.people_ratio)
    return Drawn(
        travel_low=round(travel_low, 1),
        travel_high=round(_uniform(rng, (max(travel_low + 1, (low + high) / 2), high)), 1),
        default_travel_share=_uniform(rng, family.default_travel_share),
        capacity=_uniform(rng, family.capacity),
        people_share=_uniform(rng, family.people_share),
        people_ratio=(ratio_low, max(ratio_low, _uniform(rng, family.people_ratio))),
        capped_share=_uniform(rng, family.capped_share),
        dietary_cap=_uniform(rng, family.dietary_cap),
        service_area_share=_uniform(rng, family.service_area_share),
        postcode_only=_uniform(rng, family.postcode_only),
        delivery_share=_uniform(rng, family.delivery_share),
    )


def _spread_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Per district, half the distance to its nearest neighbour (how far its homes spread)."""
    d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(d, np.inf)
    return np.asarray(np.clip(d.min(axis=1) / 2, 0.3, 6.0))


def _scatter(
    lat: np.ndarray, lon: np.ndarray, radius_km: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in a disc of ``radius_km`` around each given point."""
    r = radius_km * np.sqrt(rng.random(lat.size))
    angle = rng.uniform(0, 2 * np.pi, lat.size)
    new_lat = lat + r * np.sin(angle) / _KM_PER_DEGREE
    new_lon = lon + r * np.cos(angle) / (_KM_PER_DEGREE * np.cos(np.radians(lat)))
    return new_lat, new_lon


def _postcodes(outcodes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Full postcodes shaped like real ones inside the given districts (invented units)."""
    digit = rng.integers(0, 10, outcodes.size).astype(str)
    pair = _LETTERS[rng.integers(0, _LETTERS.size, (outcodes.size, 2))]
    inward = np.char.add(np.char.add(digit, pair[:, 0]), pair[:, 1])
    return np.asarray(np.char.add(np.char.add(outcodes.astype(str), " "), inward), dtype=object)


def _coords(values: np.ndarray, given: np.ndarray) -> np.ndarray:
    text = np.array([f"{v:.5f}" for v in values], dtype=object)
    text[~given] = ""
    return text


def _referrals(
    family: Family, drawn: Drawn, n: int, districts: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    demand = rng.gamma(1.2, 1.0, len(districts))
    demand /= demand.sum()
    home = rng.choice(len(districts), n, p=demand)
    outcode = districts["outcode"].to_numpy()[home]
    spread = _spread_km(districts["latitude"].to_numpy(), districts["longitude"].to_numpy())
    lat, lon = _scatter(
        districts["latitude"].to_numpy()[home],
        districts["longitude"].to_numpy()[home],
        spread[home],
        rng,
    )
    postcode_only = rng.random(n) < drawn.postcode_only
    no_postcode = ~postcode_only & (rng.random(n) < family.coordinates_only)
    postcode = np.where(rng.random(n) < 0.85, _postcodes(outcode, rng), outcode).astype(object)
    postcode[no_postcode] = ""
    size = rng.choice(np.arange(1, 9), n, p=_SIZE_WEIGHTS / _SIZE_WEIGHTS.sum())
    tags = list(_NEED_RATE)
    need = rng.random((n, len(tags))) < np.array(list(_NEED_RATE.values()))
    need[:, tags.index("kosher")] &= ~need[:, tags.index("halal")]
    need[:, tags.index("vegetarian")] &= ~need[:, tags.index("vegan")]
    need[:, tags.index("baby")] &= size >= 2
    dietary = np.array([";".join(t for t, on in zip(tags, row, strict=True) if on) for row in need])
    urgency = rng.choice(["emergency", "urgent", "standard"], n, p=[0.12, 0.26, 0.62])
    delivery = rng.random(n) < drawn.delivery_share
    steps = np.arange(drawn.travel_low, drawn.travel_high + 0.01, 0.5)
    travel = np.array([f"{t:g}" for t in rng.choice(steps, n)], dtype=object)
    travel[(rng.random(n) < drawn.default_travel_share) | delivery] = ""
    frame = pd.DataFrame(
        {
            "referral_id": [f"H-{i:06d}" for i in range(n)],
            "postcode": postcode,
            "latitude": _coords(lat, ~postcode_only),
            "longitude": _coords(lon, ~postcode_only),
            "household_size": size.astype(str),
            "dietary": dietary,
            "urgency": urgency,
            "max_travel_km": travel,
            "needs_delivery": np.where(delivery, "yes", "no"),
        },
        columns=list(REFERRAL_COLUMNS),
    )
    return frame, demand


def _providers(
    drawn: Drawn,
    m: int,
    n: int,
    districts: pd.DataFrame,
    demand: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    weight = demand**0.6
    at = rng.choice(len(districts), m, p=weight / weight.sum())
    d_lat, d_lon = districts["latitude"].to_numpy(), districts["longitude"].to_numpy()
    lat, lon = _scatter(d_lat[at], d_lon[at], _spread_km(d_lat, d_lon)[at], rng)
    outcode = districts["outcode"].to_numpy()[at]
    share = rng.lognormal(0.0, 0.7, m)
    capacity = np.maximum(1, np.round(share / share.sum() * drawn.capacity * n)).astype(int)
    low, high = drawn.people_ratio
    people = np.round(capacity * rng.uniform(low, high, m)).astype(int).astype(object)
    people[rng.random(m) >= drawn.people_share] = ""
    dietary = []
    for j in range(m):
        entries = []
        for tag, rate in _STOCK_RATE.items():
            if rng.random() >= rate:
                continue
            if rng.random() < drawn.capped_share:
                cap = int(rng.integers(0, int(capacity[j] * drawn.dietary_cap) + 1))
                entries.append(f"{tag}:{cap}")
            else:
                entries.append(tag)
        dietary.append(";".join(entries))
    delivers = rng.random(m) < 0.25
    delivery_cap = np.where(
        delivers, np.maximum(1, np.round(capacity * rng.uniform(0.1, 0.3, m))), 0
    ).astype(int)
    radius = rng.uniform(3.0, 10.0, m)
    areas = np.full(m, "", dtype=object)
    codes, area_of = districts["outcode"].to_numpy(), districts["area"].to_numpy()
    for j in np.flatnonzero(rng.random(m) < drawn.service_area_share).tolist():
        if rng.random() < 0.3:
            areas[j] = area_of[at[j]]
        else:
            near = haversine_km(d_lat, d_lon, d_lat[at[j]], d_lon[at[j]]) <= rng.uniform(2, 6)
            areas[j] = ";".join(codes[near])
    given = rng.random(m) < 0.5
    return pd.DataFrame(
        {
            "provider_id": [f"S{j:04d}" for j in range(m)],
            "name": [f"Site {j} ({outcode[j]})" for j in range(m)],
            "postcode": _postcodes(outcode, rng),
            "latitude": _coords(lat, given),
            "longitude": _coords(lon, given),
            "capacity": capacity.astype(str),
            "people_capacity": people,
            "dietary": dietary,
            "delivery_capacity": np.where(delivers, delivery_cap.astype(str), ""),
            "delivery_radius_km": np.where(delivers, np.char.mod("%.1f", radius), ""),
            "service_area": areas,
        },
        columns=list(PROVIDER_COLUMNS),
    )


def generate(
    family: Family | str, size: str, seed: int, table: pd.DataFrame | None = None
) -> FamilyInstance:
    """One instance of ``family`` at ``size`` (a key of :data:`SIZES`) for ``seed``."""
    fam = FAMILIES[family] if isinstance(family, str) else family
    n, m = SIZES[size]
    outcodes = pd.read_csv(OUTCODES_CSV, dtype={"outcode": str}) if table is None else table
    districts = districts_of(fam.areas, outcodes)
    # One stream per (family, size, seed), independent of the others.
    key = [seed, n, m, *(ord(c) for c in fam.name)]
    rng = np.random.default_rng(key)
    drawn = draw(fam, rng)
    referrals, demand = _referrals(fam, drawn, n, districts, rng)
    providers = _providers(drawn, m, n, districts, demand, rng)
    if fam.unit_demand:
        referrals["dietary"] = ""
        providers["people_capacity"] = ""
        providers["dietary"] = ""
        providers["service_area"] = ""
    return FamilyInstance(fam, size, seed, drawn, referrals, providers)


def _name(text: str) -> str:
    if not re.fullmatch(r"[a-z-]+", text) or text not in FAMILIES:
        raise argparse.ArgumentTypeError(f"unknown family {text!r}; one of {list(FAMILIES)}")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write one family instance."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.families", description=__doc__)
    parser.add_argument("family", type=_name)
    parser.add_argument("size", choices=list(SIZES))
    parser.add_argument("seed", type=int)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    instance = generate(args.family, args.size, args.seed)
    ref, prov = instance.write(args.out)
    print(f"wrote {ref} and {prov}; drawn: {instance.drawn}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
