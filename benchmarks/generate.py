"""Deterministic synthetic referral/provider data in the matching contract's CSV format.

One generator serves two purposes:

- the demo region shipped in ``data/sample/`` (Leeds, about 1,500 referrals and 40 providers),
  which ``make demo`` runs the engine on;
- the benchmark instances (West Yorkshire, 2,000 to 50,000 referrals), written on demand
  to ``benchmarks/results/`` by ``python -m benchmarks.run``.

Everything is drawn from a seeded numpy generator, so the same command always writes the
same bytes. The households, sites and names are invented; only the postcode-district
centroids (``data/uk-postcode-outcodes.csv``) are real. Full postcodes are made up inside
real districts (``LS9 7AB``): the engine geocodes only the outward code, so they need not
exist.

Usage::

    python -m benchmarks.generate sample            # rewrite data/sample/
    python -m benchmarks.generate bench 2k 10k      # write benchmarks/results/<size>/
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matching.io import PROVIDER_COLUMNS, REFERRAL_COLUMNS

REPO = Path(__file__).resolve().parent.parent
OUTCODES_CSV = REPO / "data" / "uk-postcode-outcodes.csv"
SAMPLE_DIR = REPO / "data" / "sample"
RESULTS_DIR = REPO / "benchmarks" / "results"


# Letters a UK inward code may end in (C, I, K, M, O and V are never used there).
_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
_KM_PER_DEG_LAT = 111.32


@dataclass(frozen=True)
class Region:
    """A set of real postcode districts: each area's districts numbered 1..max.

    Numbers above the maximum are left out on purpose: in these areas they are either
    non-geographic (``LS88``, ``LS98``, ``BD97``..``BD99``: PO boxes and bulk mail) or lie
    outside the region (``BD23``/``BD24``: Skipton and Settle, North Yorkshire).
    """

    name: str
    areas: Mapping[str, int]
    centre: tuple[float, float]
    """A point in the region's main town; every district must lie within ``radius_km``."""
    radius_km: float

    def districts(self, table: pd.DataFrame) -> pd.DataFrame:
        """The region's rows of the outcode table, checked to be plausible, sorted by code."""
        parts = table["outcode"].str.extract(r"^([A-Z]{1,2})(\d+)$")
        area = parts[0]
        number = pd.to_numeric(parts[1], errors="coerce")
        keep = pd.Series(False, index=table.index)
        for code, top in self.areas.items():
            keep |= (area == code) & (number >= 1) & (number <= top)
        rows = table.loc[keep].copy()
        rows["area"] = area[keep]
        rows["number"] = number[keep].astype(int)
        rows = rows.sort_values(["area", "number"]).reset_index(drop=True)
        missing = {f"{a}{i}" for a, top in self.areas.items() for i in range(1, top + 1)}
        missing -= set(rows["outcode"])
        if missing:
            raise ValueError(f"{self.name}: districts missing from the table: {sorted(missing)}")
        far = rows.loc[
            haversine_km(rows["latitude"], rows["longitude"], *self.centre) > self.radius_km,
            "outcode",
        ]
        if len(far):
            raise ValueError(
                f"{self.name}: implausible centroids, over {self.radius_km} km from the "
                f"centre: {list(far)}"
            )
        return rows.drop(columns="number")


LEEDS = Region("Leeds", {"LS": 29}, centre=(53.7997, -1.5492), radius_km=30.0)
WEST_YORKSHIRE = Region(
    "West Yorkshire",
    {"LS": 29, "BD": 22, "WF": 17, "HX": 7, "HD": 9},
    centre=(53.745, -1.62),
    radius_km=40.0,
)


@dataclass(frozen=True)
class InstanceSpec:
    """What to generate: sizes, region, seed, and how much of the contract to exercise.

    ``unit_demand`` leaves out everything that makes a household use more than one unit
    of a shared resource or that restricts who may go where beyond distance: no
    ``people_capacity``, no dietary tags or limits, no service areas (delivery stays).
    """

    name: str
    n_referrals: int
    n_providers: int
    region: Region
    seed: int
    capacity_ratio: float = 0.78
    unit_demand: bool = False
    id_width: int = 5
    description: str = ""


SAMPLE = InstanceSpec(
    "sample",
    1500,
    40,
    LEEDS,
    seed=20255,  # among the first seeds tried, one where every reason code occurs
    capacity_ratio=0.77,
    description="Leeds demo region",
)

BENCH_SPECS: dict[str, InstanceSpec] = {
    spec.name: spec
    for spec in (
        InstanceSpec("2k", 2_000, 60, WEST_YORKSHIRE, seed=2_060, capacity_ratio=0.8),
        InstanceSpec("10k", 10_000, 250, WEST_YORKSHIRE, seed=10_250, capacity_ratio=0.8),
        InstanceSpec("50k", 50_000, 1_500, WEST_YORKSHIRE, seed=50_150, capacity_ratio=0.8),
        InstanceSpec(
            "50k-unit",
            50_000,
            1_500,
            WEST_YORKSHIRE,
            seed=50_151,
            capacity_ratio=0.8,
            unit_demand=True,
        ),
    )
}

# Household sizes 1..12 (UK food-bank referrals: single adults most common, a few large).
_SIZE_P = np.array([0.35, 0.22, 0.15, 0.12, 0.07, 0.045, 0.02, 0.01, 0.006, 0.004, 0.002, 0.003])
_SIZE_P = _SIZE_P / _SIZE_P.sum()

# Share of referrals with each dietary need (independent draws, then made consistent).
_DIET_RATE: dict[str, float] = {
    "halal": 0.09,
    "kosher": 0.004,
    "vegetarian": 0.05,
    "vegan": 0.02,
    "gluten_free": 0.03,
    "dairy_free": 0.02,
    "nut_free": 0.012,
    "diabetic": 0.04,
    "baby": 0.08,  # of households of two or more
}
# Share of providers stocking each tag.
_DIET_STOCKED: dict[str, float] = {
    "halal": 0.5,
    "kosher": 0.1,
    "vegetarian": 0.85,
    "vegan": 0.45,
    "gluten_free": 0.55,
    "dairy_free": 0.45,
    "nut_free": 0.35,
    "diabetic": 0.45,
    "baby": 0.6,
}

_NAME_WORDS = (
    "Hope",
    "Harvest",
    "Open Door",
    "Good Neighbour",
    "Bread of Life",
    "Riverside",
    "Kindness",
    "Open Table",
    "Loaves and Fishes",
    "Lighthouse",
    "Welcome",
    "Cornerstone",
    "New Leaf",
    "Hillside",
    "Sunrise",
    "Acorn",
    "Beacon",
    "Common Ground",
    "Fair Share",
    "Full Plate",
    "Helping Hands",
    "Haven",
    "Oak Tree",
    "Millstone",
    "Canal Side",
    "Willow",
    "Compass",
    "Good Measure",
    "Rainbow",
    "Bridge",
    "Silver Birch",
    "Daily Bread",
    "Meadow",
    "Ashfield",
    "Kirkgate",
    "Foundry",
    "St Aidan's",
    "St Columba's",
    "Holy Trinity",
    "Salem Chapel",
)
_NAME_KINDS = (
    "Food Bank",
    "Community Pantry",
    "Food Share",
    "Community Larder",
    "Community Kitchen",
    "Social Supermarket",
    "Food Hub",
    "Community Cupboard",
)


def haversine_km(
    lat1: pd.Series | np.ndarray | float,
    lon1: pd.Series | np.ndarray | float,
    lat2: pd.Series | np.ndarray | float,
    lon2: pd.Series | np.ndarray | float,
) -> np.ndarray:
    """Great-circle distance in km (mean Earth radius), vectorised; for plausibility checks."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def load_outcodes(path: Path = OUTCODES_CSV) -> pd.DataFrame:
    """The postcode-district centroid table (``outcode,latitude,longitude``)."""
    return pd.read_csv(path, dtype={"outcode": str, "latitude": float, "longitude": float})


@dataclass
class Instance:
    """Generated referrals and providers as contract CSV columns (all strings)."""

    spec: InstanceSpec
    referrals: pd.DataFrame
    providers: pd.DataFrame
    districts: pd.DataFrame = field(repr=False)

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write ``referrals.csv`` and ``providers.csv`` into ``directory``; return the paths."""
        directory.mkdir(parents=True, exist_ok=True)
        ref_path, prov_path = directory / "referrals.csv", directory / "providers.csv"
        self.referrals.to_csv(ref_path, index=False, lineterminator="\n")
        self.providers.to_csv(prov_path, index=False, lineterminator="\n")
        return ref_path, prov_path


def _district_weights(districts: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Relative demand per district (invented): urban districts (many close neighbours) weigh
    more, town-centre cores less, with random variation on top."""
    lat = districts["latitude"].to_numpy()
    lon = districts["longitude"].to_numpy()
    dist = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    neighbours = (dist < 4.0).sum(axis=1)  # counts itself, so >= 1
    weight = np.sqrt(neighbours) * rng.lognormal(0.0, 0.5, len(districts))
    # District 1 of an area is usually its town-centre core: shops and offices, few homes.
    weight[districts["outcode"].str.fullmatch(r"[A-Z]+1").to_numpy()] *= 0.3
    return np.asarray(weight / weight.sum())


def _postcodes(outcodes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Invented full postcodes inside the given districts (``LS9 7AB``)."""
    n = len(outcodes)
    digit = rng.integers(0, 10, n).astype(str)
    letters = _INWARD_LETTERS[rng.integers(0, len(_INWARD_LETTERS), (n, 2))]
    inward = np.char.add(np.char.add(digit, letters[:, 0]), letters[:, 1])
    return np.asarray(np.char.add(np.char.add(outcodes.astype(str), " "), inward))


def _jitter(
    lat: np.ndarray, lon: np.ndarray, sd_km: float, cap_km: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered around the given ones (normal, each axis capped at ``cap_km``)."""
    dy = np.clip(rng.normal(0.0, sd_km, len(lat)), -cap_km, cap_km)
    dx = np.clip(rng.normal(0.0, sd_km, len(lat)), -cap_km, cap_km)
    new_lat = lat + dy / _KM_PER_DEG_LAT
    new_lon = lon + dx / (_KM_PER_DEG_LAT * np.cos(np.radians(lat)))
    return new_lat, new_lon


def _fmt_coord(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Coordinates as 6-decimal strings, empty where ``present`` is false."""
    text = np.array([f"{v:.6f}" for v in values], dtype=object)
    text[~present] = ""
    return text


def _join_tags(flags: np.ndarray, tags: Sequence[str]) -> np.ndarray:
    """``;``-joined tag lists from a boolean (rows x tags) matrix."""
    out = np.empty(len(flags), dtype=object)
    for i, row in enumerate(flags):
        out[i] = ";".join(t for t, on in zip(tags, row, strict=True) if on)
    return out


def _referrals(
    spec: InstanceSpec, districts: pd.DataFrame, weight: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """The referral rows: who, where, how many, what they need and how urgently."""
    n = spec.n_referrals
    pick = rng.choice(len(districts), n, p=weight)
    outcode = districts["outcode"].to_numpy()[pick]
    base_lat = districts["latitude"].to_numpy()[pick]
    base_lon = districts["longitude"].to_numpy()[pick]

    # How the location arrives: full postcode (most), bare district, or coordinates.
    form = rng.choice(3, n, p=[0.80, 0.05, 0.15])
    has_coords = form == 2
    has_postcode = (form != 2) | (rng.random(n) < 0.5)
    postcode = np.where(form == 1, outcode, _postcodes(outcode, rng)).astype(object)
    postcode[~has_postcode] = ""
    lat, lon = _jitter(base_lat, base_lon, sd_km=1.0, cap_km=2.5, rng=rng)

    size = rng.choice(np.arange(1, len(_SIZE_P) + 1), n, p=_SIZE_P)

    tags = list(_DIET_RATE)
    if spec.unit_demand:
        dietary = np.full(n, "", dtype=object)
    else:
        flags = rng.random((n, len(tags))) < np.array([_DIET_RATE[t] for t in tags])
        col = {t: i for i, t in enumerate(tags)}
        flags[:, col["kosher"]] &= ~flags[:, col["halal"]]
        flags[:, col["vegetarian"]] &= ~flags[:, col["vegan"]]
        flags[:, col["baby"]] &= size >= 2
        dietary = _join_tags(flags, tags)

    urgency = rng.choice(np.array(["emergency", "urgent", "standard"]), n, p=[0.10, 0.25, 0.65])
    needs_delivery = rng.random(n) < 0.10

    travel = rng.choice(
        np.array(["", "3", "2", "2.5", "8"], dtype=object), n, p=[0.78, 0.10, 0.06, 0.03, 0.03]
    )
    travel[needs_delivery & (rng.random(n) < 0.95)] = ""

    width = max(spec.id_width, len(str(n)))
    return pd.DataFrame(
        {
            "referral_id": [f"R{i:0{width}d}" for i in range(1, n + 1)],
            "postcode": postcode,
            "latitude": _fmt_coord(lat, has_coords),
            "longitude": _fmt_coord(lon, has_coords),
            "household_size": size.astype(str),
            "dietary": dietary,
            "urgency": urgency,
            "max_travel_km": travel,
            "needs_delivery": np.where(needs_delivery, "true", "false"),
        },
        columns=list(REFERRAL_COLUMNS),
    )


def _provider_names(m: int, outcodes: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Invented, unique site names such as "Hope Food Bank" (district added on a clash)."""
    names: list[str] = []
    seen: set[str] = set()
    for i in range(m):
        word = _NAME_WORDS[rng.integers(len(_NAME_WORDS))]
        kind = _NAME_KINDS[rng.integers(len(_NAME_KINDS))]
        name = f"{word} {kind}"
        if name in seen:
            name = f"{word} {kind} {outcodes[i]}"
        k = 2
        base = name
        while name in seen:
            name = f"{base} {k}"
            k += 1
        seen.add(name)
        names.append(name)
    return names


def _service_areas(
    districts: pd.DataFrame, pick: np.ndarray, chosen: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Service areas for the chosen providers: a cluster of nearby districts or a whole area."""
    out = np.full(len(pick), "", dtype=object)
    lat = districts["latitude"].to_numpy()
    lon = districts["longitude"].to_numpy()
    codes = districts["outcode"].to_numpy()
    areas = districts["area"].to_numpy()
    for i in np.flatnonzero(chosen):
        d = pick[i]
        if rng.random() < 0.25:
            out[i] = areas[d]
        else:
            near = haversine_km(lat, lon, lat[d], lon[d]) <= rng.uniform(2.5, 5.0)
            out[i] = ";".join(sorted(codes[near], key=lambda c: (len(c), c)))
    return out


def _providers(
    spec: InstanceSpec,
    districts: pd.DataFrame,
    weight: np.ndarray,
    referrals: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The provider rows: where, how much, what stock, delivery and service area."""
    m = spec.n_providers
    # Sites follow demand, a little more evenly spread than the households themselves.
    site_weight = weight**0.8 / (weight**0.8).sum()
    pick = rng.choice(len(districts), m, p=site_weight)
    outcode = districts["outcode"].to_numpy()[pick]
    lat, lon = _jitter(
        districts["latitude"].to_numpy()[pick],
        districts["longitude"].to_numpy()[pick],
        sd_km=1.2,
        cap_km=3.0,
        rng=rng,
    )
    has_coords = rng.random(m) < 0.45
    postcode = _postcodes(outcode, rng).astype(object)

    # Capacity in households: skewed (a few big food banks, many small pantries), summing
    # to about capacity_ratio of the referrals.
    share = rng.gamma(2.0, 1.0, m)
    capacity = np.maximum(3, np.floor(share / share.sum() * spec.capacity_ratio * len(referrals)))
    capacity = capacity.astype(np.int64)

    mean_size = float(pd.to_numeric(referrals["household_size"]).mean())
    people = np.full(m, "", dtype=object)
    dietary = np.full(m, "", dtype=object)
    service_area = np.full(m, "", dtype=object)
    if not spec.unit_demand:
        limited = rng.random(m) < 0.4
        people_cap = np.round(capacity * mean_size * rng.uniform(0.8, 1.05, m)).astype(np.int64)
        people[limited] = people_cap[limited].astype(str)

        for i in range(m):
            entries = []
            for tag, stocked in _DIET_STOCKED.items():
                if rng.random() >= stocked:
                    continue
                if rng.random() < 0.3:
                    # About this site's fair share of the need for the tag among the sites
                    # that stock it; now and then a stock-out (tag:0).
                    share = capacity[i] * _DIET_RATE[tag] / stocked
                    limit = 0 if rng.random() < 0.05 else max(1, round(share * rng.uniform(0.6, 2)))
                    entries.append(f"{tag}:{limit}")
                else:
                    entries.append(tag)
            dietary[i] = ";".join(entries)
        service_area = _service_areas(districts, pick, rng.random(m) < 0.2, rng)

    n_deliver = max(3, round(0.25 * m))
    deliver = np.zeros(m, dtype=bool)
    deliver[rng.choice(m, n_deliver, replace=False)] = True
    delivery_capacity = np.where(
        deliver, np.maximum(2, np.round(capacity * rng.uniform(0.15, 0.4, m))), 0
    ).astype(np.int64)
    radius = np.round(rng.uniform(5.0, 12.0, m), 1)
    delivery_radius = np.array(
        [f"{r:.1f}" if d else "" for r, d in zip(radius, deliver, strict=True)]
    )

    width = max(3, len(str(m)))
    return pd.DataFrame(
        {
            "provider_id": [f"P{i:0{width}d}" for i in range(1, m + 1)],
            "name": _provider_names(m, outcode, rng),
            "postcode": postcode,
            "latitude": _fmt_coord(lat, has_coords),
            "longitude": _fmt_coord(lon, has_coords),
            "capacity": capacity.astype(str),
            "people_capacity": people,
            "dietary": dietary,
            "delivery_capacity": np.where(deliver, delivery_capacity.astype(str), ""),
            "delivery_radius_km": delivery_radius,
            "service_area": service_area,
        },
        columns=list(PROVIDER_COLUMNS),
    )


def generate(spec: InstanceSpec, outcodes: pd.DataFrame | None = None) -> Instance:
    """Generate one instance; the same spec always gives the same rows."""
    table = load_outcodes() if outcodes is None else outcodes
    districts = spec.region.districts(table)
    rng = np.random.default_rng(spec.seed)
    weight = _district_weights(districts, rng)
    referrals = _referrals(spec, districts, weight, rng)
    providers = _providers(spec, districts, weight, referrals, rng)
    return Instance(spec, referrals, providers, districts)


def describe(instance: Instance) -> dict[str, object]:
    """Headline figures of an instance (for READMEs and the benchmark report)."""
    ref, prov = instance.referrals, instance.providers
    size = pd.to_numeric(ref["household_size"])
    capacity = pd.to_numeric(prov["capacity"])
    return {
        "referrals": len(ref),
        "providers": len(prov),
        "districts": len(instance.districts),
        "people": int(size.sum()),
        "capacity": int(capacity.sum()),
        "capacity_share": round(float(capacity.sum()) / len(ref), 3),
        "urgency": ref["urgency"].value_counts().to_dict(),
        "with_dietary_need": int((ref["dietary"] != "").sum()),
        "multi_tag": int(ref["dietary"].str.contains(";").sum()),
        "needs_delivery": int((ref["needs_delivery"] == "true").sum()),
        "given_as_coordinates": int((ref["latitude"] != "").sum()),
        "with_people_capacity": int((prov["people_capacity"] != "").sum()),
        "with_dietary_limits": int(prov["dietary"].str.contains(":").sum()),
        "delivering": int((prov["delivery_capacity"] != "").sum()),
        "with_service_area": int((prov["service_area"] != "").sum()),
    }


def write_bench(names: Sequence[str], out: Path = RESULTS_DIR) -> dict[str, tuple[Path, Path]]:
    """Generate the named benchmark instances into ``out/<name>/``; return the file paths."""
    outcodes = load_outcodes()
    written: dict[str, tuple[Path, Path]] = {}
    for name in names:
        written[name] = generate(BENCH_SPECS[name], outcodes).write(out / name)
    return written


def _safe_name(name: str) -> str:
    """Reject size names that would escape the output folder."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise argparse.ArgumentTypeError(f"bad size name {name!r}")
    return name


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``sample`` rewrites data/sample/, ``bench`` writes benchmark instances."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    sample = sub.add_parser("sample", help="rewrite the demo region in data/sample/")
    sample.add_argument("--out", type=Path, default=SAMPLE_DIR)
    bench = sub.add_parser("bench", help="write benchmark instances")
    bench.add_argument("sizes", nargs="*", type=_safe_name, default=list(BENCH_SPECS))
    bench.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    if args.what == "sample":
        instance = generate(SAMPLE)
        paths = instance.write(args.out)
        print(f"wrote {paths[0]} and {paths[1]}")
        for key, value in describe(instance).items():
            print(f"  {key}: {value}")
        return
    unknown = [s for s in args.sizes if s not in BENCH_SPECS]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {list(BENCH_SPECS)}")
    for name, (ref_path, _) in write_bench(args.sizes, args.out).items():
        print(f"{name}: wrote {ref_path.parent}")


if __name__ == "__main__":
    main()
