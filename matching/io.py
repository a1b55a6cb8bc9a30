"""Contract files <-> models: read and validate referrals/providers, write matches.

Reading is all-or-nothing: every problem in a file is collected (file, 1-based row with the
header as row 1, column, what was expected) and raised together as :class:`InputError`;
nothing is returned from a file with any problem.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from matching.errors import ContractError, ContractProblem
from matching.geo import Gazetteer, is_service_area_entry, split_postcode

if TYPE_CHECKING:  # pandas is imported where frames are made: `foodmatch match` never needs it
    import pandas as pd
from matching.models import (
    DEFAULT_MAX_TRAVEL_KM,
    DIETARY_TAGS,
    MAX_HOUSEHOLD_SIZE,
    MIN_HOUSEHOLD_SIZE,
    Match,
    MatchResult,
    Problem,
    Provider,
    Referral,
    Urgency,
)

REFERRAL_COLUMNS: tuple[str, ...] = (
    "referral_id",
    "postcode",
    "latitude",
    "longitude",
    "household_size",
    "dietary",
    "urgency",
    "max_travel_km",
    "needs_delivery",
)
PROVIDER_COLUMNS: tuple[str, ...] = (
    "provider_id",
    "name",
    "postcode",
    "latitude",
    "longitude",
    "capacity",
    "people_capacity",
    "dietary",
    "delivery_capacity",
    "delivery_radius_km",
    "service_area",
)
MATCH_COLUMNS: tuple[str, ...] = ("referral_id", "provider_id", "mode", "distance_km", "reason")

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0", ""}

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class InputProblem(ContractProblem):
    """One thing wrong with a contract CSV: file, 1-based row (header = 1), column, message."""


class InputError(ContractError):
    """Bad contract CSVs: every problem found, so a user can fix them all in one pass."""

    subject = "the input"
    problems: tuple[InputProblem, ...]

    def __init__(self, problems: Sequence[InputProblem]) -> None:
        """Hold ``problems`` and read as a heading followed by one line per problem."""
        super().__init__(problems)


class _Row:
    """One data row being validated; collects problems instead of raising."""

    def __init__(self, source: str, number: int, values: Mapping[str, str]) -> None:
        self.source = source
        self.number = number
        self.values = values
        self.problems: list[InputProblem] = []

    def text(self, column: str) -> str:
        return (self.values.get(column) or "").strip()

    def fail(self, column: str | None, message: str) -> None:
        self.problems.append(InputProblem(self.source, self.number, column, message))

    def parse(self, column: str, convert: Callable[[str], T], expected: str, default: T) -> T:
        raw = self.text(column)
        if raw == "":
            return default
        try:
            return convert(raw)
        except ValueError:
            self.fail(column, f"expected {expected}, got {raw!r}")
            return default

    def required(self, column: str, convert: Callable[[str], T], expected: str, default: T) -> T:
        if self.text(column) == "":
            self.fail(column, f"is required: expected {expected}")
            return default
        return self.parse(column, convert, expected, default)


def _integer(low: int, high: int | None = None) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        value = float(raw)
        if not math.isfinite(value) or value != int(value):
            raise ValueError(raw)
        number = int(value)
        if number < low or (high is not None and number > high):
            raise ValueError(raw)
        return number

    return convert


def _real(low: float, high: float, *, strict_low: bool = False) -> Callable[[str], float]:
    def convert(raw: str) -> float:
        value = float(raw)
        if not math.isfinite(value) or value > high or value < low:
            raise ValueError(raw)
        if strict_low and value <= low:
            raise ValueError(raw)
        return value

    return convert


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(raw)


def _urgency(raw: str) -> Urgency:
    return Urgency(raw.lower())


def _split_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(";") if part.strip()]


def _location(
    row: _Row, gazetteer: Gazetteer
) -> tuple[float, float, str | None, str | None] | None:
    """Latitude, longitude, outcode and normalised postcode of a row, or None on problems."""
    postcode_raw = row.text("postcode")
    outcode: str | None = None
    postcode: str | None = None
    centroid: tuple[float, float] | None = None
    if postcode_raw:
        parts = split_postcode(postcode_raw)
        if parts is None:
            row.fail("postcode", f"expected a UK postcode or outward code, got {postcode_raw!r}")
        else:
            outcode = parts[0]
            postcode = outcode if parts[1] is None else f"{outcode} {parts[1]}"
            centroid = gazetteer.centroids.get(outcode)
    has_lat, has_lon = row.text("latitude") != "", row.text("longitude") != ""
    if has_lat != has_lon:
        missing = "longitude" if has_lat else "latitude"
        row.fail(missing, "latitude and longitude must be given together")
        return None
    if has_lat:
        lat = row.parse("latitude", _real(-90.0, 90.0), "a latitude in -90..90", math.nan)
        lon = row.parse("longitude", _real(-180.0, 180.0), "a longitude in -180..180", math.nan)
        if math.isnan(lat) or math.isnan(lon):
            return None
        return lat, lon, outcode, postcode
    if not postcode_raw:
        row.fail("postcode", "a location is required: give a postcode or latitude and longitude")
        return None
    if outcode is None:
        return None
    if centroid is None:
        row.fail("postcode", f"unknown postcode district {outcode!r} (not in the UK table)")
        return None
    return centroid[0], centroid[1], outcode, postcode


def _referral(row: _Row, gazetteer: Gazetteer) -> Referral | None:
    referral_id = row.text("referral_id")
    if not referral_id:
        row.fail("referral_id", "is required: expected a non-empty id")
    place = _location(row, gazetteer)
    size = row.required(
        "household_size",
        _integer(MIN_HOUSEHOLD_SIZE, MAX_HOUSEHOLD_SIZE),
        f"an integer {MIN_HOUSEHOLD_SIZE}..{MAX_HOUSEHOLD_SIZE}",
        0,
    )
    tags = _split_list(row.text("dietary"))
    for tag in tags:
        if tag not in DIETARY_TAGS:
            row.fail(
                "dietary", f"unknown dietary tag {tag!r}; expected any of {', '.join(DIETARY_TAGS)}"
            )
    urgency = row.required(
        "urgency", _urgency, "one of emergency, urgent, standard", Urgency.STANDARD
    )
    travel = row.parse(
        "max_travel_km",
        _real(0.0, 20_000.0, strict_low=True),
        "a distance in km greater than 0",
        DEFAULT_MAX_TRAVEL_KM,
    )
    delivery = row.parse("needs_delivery", _boolean, "true/false, yes/no or 1/0", False)
    if row.problems or place is None:
        return None
    lat, lon, outcode, postcode = place
    return Referral(
        referral_id=referral_id,
        latitude=lat,
        longitude=lon,
        household_size=size,
        urgency=urgency,
        dietary=frozenset(tags),
        max_travel_km=travel,
        needs_delivery=delivery,
        outcode=outcode,
        postcode=postcode,
    )


def _provider_dietary(row: _Row) -> dict[str, int | None]:
    stock: dict[str, int | None] = {}
    for entry in _split_list(row.text("dietary")):
        tag, _, limit_text = entry.partition(":")
        tag = tag.strip()
        if tag not in DIETARY_TAGS:
            row.fail(
                "dietary", f"unknown dietary tag {tag!r}; expected any of {', '.join(DIETARY_TAGS)}"
            )
            continue
        if tag in stock:
            row.fail("dietary", f"tag {tag!r} is listed twice")
            continue
        limit: int | None = None
        if ":" in entry:
            try:
                limit = _integer(0)(limit_text.strip())
            except ValueError:
                row.fail(
                    "dietary",
                    f"expected 'tag' or 'tag:limit' with an integer limit >= 0, got {entry!r}",
                )
                continue
        stock[tag] = limit
    return stock


def _provider(row: _Row, gazetteer: Gazetteer) -> Provider | None:
    provider_id = row.text("provider_id")
    if not provider_id:
        row.fail("provider_id", "is required: expected a non-empty id")
    name = row.text("name")
    if not name:
        row.fail("name", "is required: expected the site's display name")
    place = _location(row, gazetteer)
    capacity = row.required("capacity", _integer(0), "an integer >= 0", 0)
    people: int | None = row.parse("people_capacity", _integer(0), "an integer >= 0 or empty", None)
    stock = _provider_dietary(row)
    delivery = row.parse("delivery_capacity", _integer(0), "an integer >= 0", 0)
    radius = row.parse("delivery_radius_km", _real(0.0, 20_000.0), "a distance in km >= 0", 0.0)
    area = _split_list(row.text("service_area").upper())
    for entry in area:
        if not is_service_area_entry(entry):
            row.fail(
                "service_area",
                f"expected outward codes (LS9) or postcode areas (LS), got {entry!r}",
            )
    if row.problems or place is None:
        return None
    lat, lon, outcode, postcode = place
    return Provider(
        provider_id=provider_id,
        name=name,
        latitude=lat,
        longitude=lon,
        capacity=capacity,
        people_capacity=people,
        dietary=stock,
        delivery_capacity=delivery,
        delivery_radius_km=radius,
        service_area=frozenset(area),
        outcode=outcode,
        postcode=postcode,
    )


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems = []
        for number, line in enumerate(data.splitlines(), start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                problems.append(
                    InputProblem(
                        source,
                        number,
                        None,
                        f"is not valid UTF-8 (byte 0x{line[err.start]:02x} at position "
                        f"{err.start + 1}); save the file as UTF-8",
                    )
                )
        raise InputError(problems) from None


def _records(
    text: str, source: str, allowed: Sequence[str], required: Sequence[str], key: str
) -> list[_Row]:
    """Split CSV text into rows, checking the header; raises InputError on header problems."""
    if not text.strip():
        raise InputError(
            [InputProblem(source, None, None, "the file is empty: expected a header row")]
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader)]
    problems: list[InputProblem] = []
    expected = ", ".join(allowed)
    for column in header:
        if column not in allowed:
            problems.append(
                InputProblem(
                    source, 1, column, f"unknown column; expected columns from: {expected}"
                )
            )
    for column in {c for c in header if header.count(c) > 1}:
        problems.append(InputProblem(source, 1, column, "column appears more than once"))
    for column in required:
        if column not in header:
            problems.append(InputProblem(source, 1, column, "required column is missing"))
    if key == "referral_id" or key == "provider_id":
        has_location = "postcode" in header or ("latitude" in header and "longitude" in header)
        if not has_location:
            problems.append(
                InputProblem(
                    source, 1, "postcode", "need a 'postcode' column or 'latitude' and 'longitude'"
                )
            )
    if problems:
        raise InputError(problems)
    rows: list[_Row] = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            rows.append(_Row(source, number, {}))
            rows[-1].fail(None, f"has {len(cells)} fields, expected {len(header)} as in the header")
            continue
        rows.append(_Row(source, number, dict(zip(header, cells, strict=True))))
    return rows


def _build(
    rows: Iterable[_Row],
    key: str,
    make: Callable[[_Row], T | None],
    ids: Callable[[T], str],
) -> list[T]:
    problems: list[InputProblem] = []
    built: list[T] = []
    first_row: dict[str, int] = {}
    for row in rows:
        item = make(row)
        identifier = row.text(key)
        if identifier:
            if identifier in first_row:
                row.fail(
                    key, f"duplicate id {identifier!r} (first used in row {first_row[identifier]})"
                )
            else:
                first_row[identifier] = row.number
        problems.extend(row.problems)
        if item is not None and not row.problems:
            built.append(item)
    if problems:
        raise InputError(problems)
    return built


def parse_referrals(
    text: str, source: str = "referrals.csv", gazetteer: Gazetteer | None = None
) -> list[Referral]:
    """Referrals from contract CSV text (raises InputError listing every problem)."""
    gaz = gazetteer or Gazetteer.default()
    rows = _records(
        text, source, REFERRAL_COLUMNS, ("referral_id", "household_size", "urgency"), "referral_id"
    )
    return _build(rows, "referral_id", lambda row: _referral(row, gaz), lambda r: r.referral_id)


def parse_providers(
    text: str, source: str = "providers.csv", gazetteer: Gazetteer | None = None
) -> list[Provider]:
    """Providers from contract CSV text (raises InputError listing every problem)."""
    gaz = gazetteer or Gazetteer.default()
    rows = _records(
        text, source, PROVIDER_COLUMNS, ("provider_id", "name", "capacity"), "provider_id"
    )
    return _build(rows, "provider_id", lambda row: _provider(row, gaz), lambda p: p.provider_id)


def _read_text(path: str | os.PathLike[str]) -> tuple[str, str]:
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise InputError(
            [InputProblem(source, None, None, f"cannot be read: {err.strerror}")]
        ) from None
    return _decode(data, source), source


def read_referrals(path: str | os.PathLike[str]) -> list[Referral]:
    """Referrals from a contract CSV file."""
    text, source = _read_text(path)
    return parse_referrals(text, source)


def read_providers(path: str | os.PathLike[str]) -> list[Provider]:
    """Providers from a contract CSV file."""
    text, source = _read_text(path)
    return parse_providers(text, source)


def read_problem(
    referrals_path: str | os.PathLike[str], providers_path: str | os.PathLike[str]
) -> Problem:
    """Both files of a batch; problems in either (or both) are raised together."""
    problems: list[InputProblem] = []
    referrals: list[Referral] = []
    providers: list[Provider] = []
    try:
        referrals = read_referrals(referrals_path)
    except InputError as err:
        problems.extend(err.problems)
    try:
        providers = read_providers(providers_path)
    except InputError as err:
        problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    return Problem(tuple(referrals), tuple(providers))


def _frame_text(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    frame.astype(object).where(frame.notna(), "").to_csv(out, index=False)
    return out.getvalue()


def referrals_from_frame(frame: pd.DataFrame, source: str = "referrals") -> list[Referral]:
    """Referrals from a DataFrame with contract columns (same validation as the CSV)."""
    return parse_referrals(_frame_text(frame), source)


def providers_from_frame(frame: pd.DataFrame, source: str = "providers") -> list[Provider]:
    """Providers from a DataFrame with contract columns (same validation as the CSV)."""
    return parse_providers(_frame_text(frame), source)


def _location_cells(postcode: str | None, lat: float, lon: float) -> dict[str, object]:
    if postcode:
        return {"postcode": postcode, "latitude": "", "longitude": ""}
    return {"postcode": "", "latitude": lat, "longitude": lon}


def referrals_frame(referrals: Iterable[Referral]) -> pd.DataFrame:
    """Contract columns for referrals (a postcode when known, else the coordinates)."""
    import pandas as pd

    rows = []
    for r in referrals:
        rows.append(
            {
                "referral_id": r.referral_id,
                **_location_cells(r.postcode, r.latitude, r.longitude),
                "household_size": r.household_size,
                "dietary": ";".join(t for t in DIETARY_TAGS if t in r.dietary),
                "urgency": r.urgency.value,
                "max_travel_km": r.max_travel_km,
                "needs_delivery": "true" if r.needs_delivery else "false",
            }
        )
    return pd.DataFrame(rows, columns=list(REFERRAL_COLUMNS))


def providers_frame(providers: Iterable[Provider]) -> pd.DataFrame:
    """Contract columns for providers."""
    import pandas as pd

    rows = []
    for p in providers:
        diet = ";".join(
            tag if limit is None else f"{tag}:{limit}" for tag, limit in p.dietary.items()
        )
        rows.append(
            {
                "provider_id": p.provider_id,
                "name": p.name,
                **_location_cells(p.postcode, p.latitude, p.longitude),
                "capacity": p.capacity,
                "people_capacity": "" if p.people_capacity is None else p.people_capacity,
                "dietary": diet,
                "delivery_capacity": p.delivery_capacity,
                "delivery_radius_km": p.delivery_radius_km,
                "service_area": ";".join(sorted(p.service_area)),
            }
        )
    return pd.DataFrame(rows, columns=list(PROVIDER_COLUMNS))


def matches_frame(result: MatchResult) -> pd.DataFrame:
    """The matches table of the contract, one row per referral in input order."""
    import pandas as pd

    return pd.DataFrame([_match_row(m) for m in result.matches], columns=list(MATCH_COLUMNS))


def _match_row(m: Match) -> tuple[str, str, str, str, str]:
    """One matches.csv row: the contract's five columns."""
    distance = "" if m.distance_km is None else f"{m.distance_km:.3f}"
    return (m.referral_id, m.provider_id or "", m.mode.value if m.mode else "", distance,
            m.reason.value)  # fmt: skip


EXPLANATION_COLUMNS: tuple[str, ...] = ("referral_id", "provider_id", "reason", "explanation")
"""``--explain FILE``: why each referral got what it got, in the matches' order."""


def _write_rows(
    path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[str]]
) -> None:
    """Write a CSV atomically (a reader never sees a half-written file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".csv", dir=target.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_matches(result: MatchResult, path: str | os.PathLike[str]) -> None:
    """Write matches.csv (the contract's five columns) atomically."""
    _write_rows(path, MATCH_COLUMNS, (_match_row(m) for m in result.matches))


def write_explanations(result: MatchResult, path: str | os.PathLike[str]) -> None:
    """Write one explanation per referral (``EXPLANATION_COLUMNS``) atomically."""
    _write_rows(
        path,
        EXPLANATION_COLUMNS,
        (
            (m.referral_id, m.provider_id or "", m.reason.value, m.explanation)
            for m in result.matches
        ),
    )
