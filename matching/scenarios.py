"""What-if planning: scenario files, edits on a Problem, KPIs and comparison tables.

A planner asks "what if this site closed?", "what if demand rose by a fifth?" and wants
the answer next to today's. This module keeps every step a pure function:

- a *scenario* is a name plus a tuple of *edits* (close providers, scale capacity, set
  delivery, open a site, change travel limits, scale demand), declared in a small TOML
  file (see ``docs/scenarios.md``) and parsed by :func:`load_scenario_file` or
  :func:`parse_scenarios`;
- :func:`apply_scenario` turns the base :class:`~matching.models.Problem` into the
  scenario's Problem; it never changes the base;
- :func:`compute_kpis` reads a Problem and the engine's :class:`MatchResult` and gives the
  planner's numbers (:class:`ScenarioKPIs`); :func:`compare` puts the baseline and every
  scenario side by side with differences, as a pandas DataFrame.

Only aggregates leave this module's KPIs (counts by tier, district and provider): no
referral id, postcode or household ever appears in a KPI or a comparison table.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from matching.geo import Gazetteer, is_service_area_entry, postcode_area
from matching.models import (
    DIETARY_TAGS,
    URGENCY_ORDER,
    MatchResult,
    Mode,
    Problem,
    Provider,
    Referral,
    Urgency,
)

__all__ = [
    "ChangeTravel",
    "CloseProviders",
    "Edit",
    "OpenSite",
    "ScaleCapacity",
    "ScaleDemand",
    "Scenario",
    "ScenarioError",
    "ScenarioFile",
    "ScenarioKPIs",
    "ScenarioProblem",
    "SetDelivery",
    "apply_edit",
    "apply_scenario",
    "check_scenarios",
    "compare",
    "comparison_csv",
    "compute_kpis",
    "load_scenario_file",
    "parse_scenarios",
    "run_scenario",
]

MAX_DEMAND_FACTOR = 20.0
"""The largest demand factor a scenario may ask for (x20 of a region is already a national
batch; anything bigger is almost surely a typo)."""

DEFAULT_MIN_DISTRICT_HOUSEHOLDS = 5
"""Districts with fewer referred households are left out of the fairness measures: one
unmatched household in a district of two would otherwise read as a 50% served rate."""

NO_DISTRICT = "(no postcode)"
"""The district label for referrals given by coordinates only."""


# --------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """One thing wrong with a scenario file: where it is, which key, what was expected."""

    message: str
    source: str = "scenarios"
    line: int | None = None
    scenario: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = [self.source]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.scenario is not None:
            where.append(f"scenario {self.scenario!r}")
        if self.key is not None:
            where.append(f"key {self.key!r}")
        return f"{', '.join(where)}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file or spec that cannot be run; ``problems`` lists every fault found."""

    def __init__(self, problems: Sequence[ScenarioProblem]) -> None:
        self.problems: tuple[ScenarioProblem, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the scenarios:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


# --------------------------------------------------------------------------------------
# Edits: small frozen records, each applied by a pure function


@dataclass(frozen=True, slots=True)
class CloseProviders:
    """Close these sites: they take no referrals in the scenario."""

    provider_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScaleCapacity:
    """Scale capacity (households, people, dietary caps) by ``factor`` then add ``add`` parcels.

    Applies to the sites in ``provider_ids`` and to those whose postcode district is in
    ``areas`` (``LS9`` or a whole area ``LS``); to every site when both are empty.
    """

    factor: float = 1.0
    add: int = 0
    provider_ids: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SetDelivery:
    """Give sites a delivery capacity and/or radius (e.g. a van); ``None`` keeps the value."""

    provider_ids: tuple[str, ...]
    delivery_capacity: int | None = None
    delivery_radius_km: float | None = None


@dataclass(frozen=True, slots=True)
class OpenSite:
    """Open a new site, located already (postcodes are geocoded when the file is read)."""

    provider_id: str
    name: str
    latitude: float
    longitude: float
    capacity: int
    people_capacity: int | None = None
    dietary: tuple[tuple[str, int | None], ...] = ()
    delivery_capacity: int = 0
    delivery_radius_km: float = 0.0
    service_area: tuple[str, ...] = ()
    outcode: str | None = None
    postcode: str | None = None

    def provider(self) -> Provider:
        """The new site as an engine :class:`Provider`."""
        return Provider(
            provider_id=self.provider_id,
            name=self.name,
            latitude=self.latitude,
            longitude=self.longitude,
            capacity=self.capacity,
            people_capacity=self.people_capacity,
            dietary=dict(self.dietary),
            delivery_capacity=self.delivery_capacity,
            delivery_radius_km=self.delivery_radius_km,
            service_area=frozenset(self.service_area),
            outcode=self.outcode,
            postcode=self.postcode,
        )


@dataclass(frozen=True, slots=True)
class ChangeTravel:
    """Change how far households can travel to collect.

    ``max_travel_km`` sets the limit; otherwise ``factor`` scales it. Restricted to
    referrals of the given ``urgencies`` and postcode ``areas`` when those are non-empty.
    """

    max_travel_km: float | None = None
    factor: float = 1.0
    urgencies: tuple[Urgency, ...] = ()
    areas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScaleDemand:
    """Scale the number of referred households by ``factor``, reproducibly from ``seed``.

    The base households are kept (``factor`` >= 1) and extra households are drawn from them
    with replacement; below 1 a random subset is kept. ``factor`` 1.0 is the base exactly.
    """

    factor: float
    seed: int = 0


Edit = CloseProviders | ScaleCapacity | SetDelivery | OpenSite | ChangeTravel | ScaleDemand
"""Any one scenario edit."""


def _in_areas(outcode: str | None, areas: Iterable[str]) -> bool:
    """Whether a postcode district is in ``areas`` (districts ``LS9`` or whole areas ``LS``)."""
    if outcode is None:
        return False
    area = postcode_area(outcode)
    return any(entry in (outcode, area) for entry in areas)


def _scaled(value: int, factor: float, add: int) -> int:
    """``value * factor + add`` rounded half up, never below zero."""
    return max(0, math.floor(value * factor + 0.5) + add)


def close_providers(problem: Problem, provider_ids: Iterable[str]) -> Problem:
    """The problem without the given sites (unknown ids are ignored here; see check_scenarios)."""
    closed = set(provider_ids)
    kept = tuple(p for p in problem.providers if p.provider_id not in closed)
    return replace(problem, providers=kept)


def scale_capacity(
    problem: Problem,
    *,
    factor: float = 1.0,
    add: int = 0,
    provider_ids: Iterable[str] = (),
    areas: Iterable[str] = (),
) -> Problem:
    """The problem with the chosen sites' capacity scaled by ``factor`` plus ``add`` parcels.

    ``people_capacity`` and dietary caps scale by the same factor (they are the same stock);
    ``add`` adds households and, in proportion to the site's people per parcel, people.
    Delivery capacity is a van, not stock: use :func:`set_delivery` for it.
    """
    ids = set(provider_ids)
    area_list = tuple(areas)
    everyone = not ids and not area_list

    def chosen(p: Provider) -> bool:
        return everyone or p.provider_id in ids or _in_areas(p.outcode, area_list)

    providers = []
    for p in problem.providers:
        if not chosen(p):
            providers.append(p)
            continue
        capacity = _scaled(p.capacity, factor, add)
        people: int | None = None
        if p.people_capacity is not None:
            per_parcel = p.people_capacity / p.capacity if p.capacity else 0.0
            people = _scaled(p.people_capacity, factor, math.floor(add * per_parcel + 0.5))
        dietary = {
            tag: None if cap is None else _scaled(cap, factor, 0) for tag, cap in p.dietary.items()
        }
        providers.append(replace(p, capacity=capacity, people_capacity=people, dietary=dietary))
    return replace(problem, providers=tuple(providers))


def set_delivery(
    problem: Problem,
    provider_ids: Iterable[str],
    *,
    delivery_capacity: int | None = None,
    delivery_radius_km: float | None = None,
) -> Problem:
    """The problem with the given sites' delivery capacity and/or radius set."""
    ids = set(provider_ids)
    providers = []
    for p in problem.providers:
        if p.provider_id in ids:
            p = replace(
                p,
                delivery_capacity=(
                    p.delivery_capacity if delivery_capacity is None else delivery_capacity
                ),
                delivery_radius_km=(
                    p.delivery_radius_km if delivery_radius_km is None else delivery_radius_km
                ),
            )
        providers.append(p)
    return replace(problem, providers=tuple(providers))


def open_site(problem: Problem, site: OpenSite) -> Problem:
    """The problem with one more site, placed after the existing ones."""
    return replace(problem, providers=(*problem.providers, site.provider()))


def change_travel(
    problem: Problem,
    *,
    max_travel_km: float | None = None,
    factor: float = 1.0,
    urgencies: Iterable[Urgency] = (),
    areas: Iterable[str] = (),
) -> Problem:
    """The problem with chosen households' travel limit set (or scaled by ``factor``)."""
    tiers = set(urgencies)
    area_list = tuple(areas)
    referrals = []
    for r in problem.referrals:
        if (not tiers or r.urgency in tiers) and (not area_list or _in_areas(r.outcode, area_list)):
            limit = max_travel_km if max_travel_km is not None else r.max_travel_km * factor
            r = replace(r, max_travel_km=limit)
        referrals.append(r)
    return replace(problem, referrals=tuple(referrals))


def scale_demand(problem: Problem, factor: float, seed: int = 0) -> Problem:
    """The problem with ``round(factor * n)`` households, resampled reproducibly from the base.

    With ``factor`` >= 1 every base household is kept, in order, and the extra ones are
    copies of base households drawn with replacement (a copy of ``R17`` is ``R17~1``,
    ``R17~2``, ...), appended after them. With ``factor`` < 1 a random subset is kept in input
    order. The same ``seed`` always gives the same households; 1.0 returns the base as is.
    """
    base = problem.referrals
    n = len(base)
    target = math.floor(factor * n + 0.5)
    if target == n or n == 0:
        return problem
    rng = np.random.default_rng(seed)
    if target < n:
        keep = np.sort(rng.choice(n, size=target, replace=False))
        return replace(problem, referrals=tuple(base[int(i)] for i in keep))
    taken = {r.referral_id for r in base}
    copies: dict[str, int] = {}
    extra: list[Referral] = []
    for index in rng.integers(0, n, size=target - n):
        source = base[int(index)]
        number = copies.get(source.referral_id, 0)
        while True:
            number += 1
            new_id = f"{source.referral_id}~{number}"
            if new_id not in taken:
                break
        copies[source.referral_id] = number
        taken.add(new_id)
        extra.append(replace(source, referral_id=new_id))
    return replace(problem, referrals=(*base, *extra))


def apply_edit(problem: Problem, edit: Edit) -> Problem:
    """Apply one edit; the base problem is never changed."""
    match edit:
        case CloseProviders(provider_ids=ids):
            return close_providers(problem, ids)
        case ScaleCapacity():
            return scale_capacity(
                problem,
                factor=edit.factor,
                add=edit.add,
                provider_ids=edit.provider_ids,
                areas=edit.areas,
            )
        case SetDelivery():
            return set_delivery(
                problem,
                edit.provider_ids,
                delivery_capacity=edit.delivery_capacity,
                delivery_radius_km=edit.delivery_radius_km,
            )
        case OpenSite():
            return open_site(problem, edit)
        case ChangeTravel():
            return change_travel(
                problem,
                max_travel_km=edit.max_travel_km,
                factor=edit.factor,
                urgencies=edit.urgencies,
                areas=edit.areas,
            )
        case ScaleDemand():
            return scale_demand(problem, edit.factor, edit.seed)
    raise TypeError(f"not a scenario edit: {edit!r}")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named what-if: edits applied in order to the base problem."""

    name: str
    edits: tuple[Edit, ...] = ()
    description: str = ""

    def with_demand_seed(self, seed: int) -> Scenario:
        """The same scenario with every demand draw re-seeded (one Monte Carlo draw)."""
        edits = tuple(
            replace(e, seed=seed) if isinstance(e, ScaleDemand) else e for e in self.edits
        )
        return replace(self, edits=edits)

    @property
    def has_demand(self) -> bool:
        """Whether the scenario resamples households (so a sweep over seeds varies it)."""
        return any(isinstance(e, ScaleDemand) for e in self.edits)


def apply_scenario(problem: Problem, scenario: Scenario) -> Problem:
    """The scenario's problem: the base with every edit applied in order."""
    for edit in scenario.edits:
        problem = apply_edit(problem, edit)
    return problem


# --------------------------------------------------------------------------------------
# Reading scenario files


class Locator(Protocol):
    """Anything that geocodes a postcode offline (``matching.geo.Gazetteer`` does)."""

    def locate(self, postcode: str) -> tuple[float, float, str] | None: ...


@dataclass(frozen=True, slots=True)
class ScenarioFile:
    """A parsed scenario file: where its base data is, settings, and the scenarios in order."""

    path: Path
    referrals: Path
    providers: Path
    scenarios: tuple[Scenario, ...]
    time_limit: float | None = None
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS

    def scenario(self, name: str) -> Scenario:
        """The scenario called ``name`` (KeyError naming the choices otherwise)."""
        for s in self.scenarios:
            if s.name == name:
                return s
        names = ", ".join(s.name for s in self.scenarios)
        raise KeyError(f"no scenario named {name!r}; the file has: {names}")


_SCENARIO_KEYS = (
    "name",
    "description",
    "combine",
    "close",
    "capacity",
    "delivery",
    "open",
    "travel",
    "demand",
)
_EDIT_ORDER = ("close", "capacity", "delivery", "open", "travel", "demand")
_SETTINGS_KEYS = ("time_limit", "min_district_households")
_SITE_KEYS = (
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

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _At:
    """Where a value sits in the document: its scenario (name and position) and key path."""

    scenario: str | None = None
    index: int | None = None
    path: KeyPath = ()

    def key(self, *parts: str | int) -> _At:
        return replace(self, path=(*self.path, *parts))

    @property
    def dotted(self) -> str | None:
        text = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in self.path)
        return text.replace(".[", "[") or None


class _Lines:
    """Best-effort line numbers for keys in a scenario TOML text (tomllib gives none)."""

    def __init__(self, text: str | None) -> None:
        self.lines = text.splitlines() if text else []
        header = re.compile(r"\s*\[\[\s*scenario\s*\]\]")
        self.starts = [i for i, line in enumerate(self.lines) if header.match(line)]

    def find(self, at: _At) -> int | None:
        """The 1-based line of the deepest part of ``at.path`` found, else of its scenario."""
        if not self.lines:
            return None
        if at.index is None:
            begin, end, prefix, found = 0, len(self.lines), "", None
        elif at.index < len(self.starts):
            begin = self.starts[at.index]
            nxt = at.index + 1
            end = self.starts[nxt] if nxt < len(self.starts) else len(self.lines)
            prefix, found = "scenario.", begin + 1
        else:
            return None
        cursor, table = begin, ""
        for part in at.path:
            if isinstance(part, int):
                header = re.compile(rf"\s*\[\[\s*{re.escape(prefix + table)}\s*\]\]")
                hits = [i for i in range(cursor, end) if header.match(self.lines[i])]
                if part < len(hits):
                    cursor = hits[part]
                    found = cursor + 1
                continue
            table = part if not table or prefix else f"{table}.{part}"
            key = re.compile(rf"(^|[\s{{,]){re.escape(part)}\s*=")
            head = re.compile(rf"\s*\[\[?\s*{re.escape(prefix + part)}\s*\]\]?")
            for i in range(cursor, end):
                if head.match(self.lines[i]) or key.search(self.lines[i]):
                    cursor, found = i, i + 1
                    break
            else:
                return found
        return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Parser:
    """Turns a parsed TOML (or JSON) document into scenarios, collecting every problem."""

    def __init__(self, source: str, text: str | None, locator: Locator | None) -> None:
        self.source = source
        self.lines = _Lines(text)
        self.locator = locator
        self.problems: list[ScenarioProblem] = []
        self.loops: set[frozenset[str]] = set()

    def fail(self, message: str, at: _At) -> None:
        problem = ScenarioProblem(message, self.source, self.lines.find(at), at.scenario, at.dotted)
        if problem not in self.problems:
            self.problems.append(problem)

    # -- typed getters: each records a problem and returns None when the value is wrong ---

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        at: _At,
        *,
        above: float | None = None,
        least: float | None = None,
        most: float | None = None,
        required: bool = False,
    ) -> float | None:
        bounds = [f"> {above:g}"] if above is not None else []
        bounds += [f">= {least:g}"] if least is not None else []
        bounds += [f"<= {most:g}"] if most is not None else []
        expected = " ".join(["a number", " and ".join(bounds)]).strip()
        if key not in table:
            if required:
                self.fail(f"missing; expected {expected}", at.key(key))
            return None
        value = table[key]
        ok = _is_number(value) and math.isfinite(value)
        ok = ok and (above is None or value > above) and (least is None or value >= least)
        ok = ok and (most is None or value <= most)
        if not ok:
            self.fail(f"expected {expected}, got {value!r}", at.key(key))
            return None
        return float(value)

    def integer(
        self,
        table: Mapping[str, Any],
        key: str,
        at: _At,
        *,
        least: int | None = 0,
        required: bool = False,
    ) -> int | None:
        expected = "a whole number" + (f" >= {least}" if least is not None else "")
        if key not in table:
            if required:
                self.fail(f"missing; expected {expected}", at.key(key))
            return None
        value = table[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (least is not None and value < least)
        ):
            self.fail(f"expected {expected}, got {value!r}", at.key(key))
            return None
        return value

    def strings(self, table: Mapping[str, Any], key: str, at: _At) -> tuple[str, ...] | None:
        """A list of non-empty strings (one string counts as a list of one)."""
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(f"expected a list of non-empty strings, got {value!r}", at.key(key))
            return None
        return tuple(v.strip() for v in value)

    def areas(self, table: Mapping[str, Any], key: str, at: _At) -> tuple[str, ...] | None:
        """Postcode districts (``LS9``) or areas (``LS``), normalised to upper case."""
        values = self.strings(table, key, at)
        if values is None:
            return None
        out = tuple(v.replace(" ", "").upper() for v in values)
        bad = [v for v in out if not is_service_area_entry(v)]
        if bad:
            self.fail(
                f"expected postcode districts (LS9) or areas (LS), got {', '.join(bad)}",
                at.key(key),
            )
            return None
        return out

    def known_keys(self, table: Mapping[str, Any], allowed: Sequence[str], at: _At) -> None:
        for key in table:
            if key not in allowed:
                self.fail(f"unknown key; expected one of: {', '.join(allowed)}", at.key(key))

    def tables(self, value: Any, at: _At) -> list[tuple[Mapping[str, Any], _At]]:
        """A table or an array of tables, each with where it sits."""
        if isinstance(value, dict):
            return [(value, at)]
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            if len(value) == 1:
                return [(value[0], at)]
            return [(v, at.key(i)) for i, v in enumerate(value)]
        self.fail(f"expected a table (or an array of tables), got {value!r}", at)
        return []

    # -- edits, one method per scenario key ---------------------------------------------

    def close(self, value: Any, at: _At) -> list[Edit]:
        ids = self.strings({"close": value}, "close", at)
        return [CloseProviders(ids)] if ids else []

    def capacity(self, value: Any, at: _At) -> list[Edit]:
        edits: list[Edit] = []
        for table, where in self.tables(value, at.key("capacity")):
            self.known_keys(table, ("factor", "add", "providers", "areas"), where)
            factor = self.number(table, "factor", where, least=0)
            add = self.integer(table, "add", where, least=None)
            if "factor" not in table and "add" not in table:
                self.fail("expected 'factor' (e.g. 0.8) and/or 'add' (parcels)", where)
            ids = self.strings(table, "providers", where)
            areas = self.areas(table, "areas", where)
            if ids is not None and areas is not None:
                edits.append(ScaleCapacity(1.0 if factor is None else factor, add or 0, ids, areas))
        return edits

    def delivery(self, value: Any, at: _At) -> list[Edit]:
        edits: list[Edit] = []
        for table, where in self.tables(value, at.key("delivery")):
            allowed = ("providers", "delivery_capacity", "delivery_radius_km")
            self.known_keys(table, allowed, where)
            ids = self.strings(table, "providers", where)
            if ids == ():
                self.fail(
                    "expected a list of provider ids (the sites with a van)", where.key("providers")
                )
            capacity = self.integer(table, "delivery_capacity", where)
            radius = self.number(table, "delivery_radius_km", where, least=0)
            if "delivery_capacity" not in table and "delivery_radius_km" not in table:
                self.fail("expected 'delivery_capacity' and/or 'delivery_radius_km'", where)
            if ids:
                edits.append(SetDelivery(ids, capacity, radius))
        return edits

    def open(self, value: Any, at: _At) -> list[Edit]:
        sites = (self.site(table, where) for table, where in self.tables(value, at.key("open")))
        return [site for site in sites if site is not None]

    def site(self, table: Mapping[str, Any], at: _At) -> OpenSite | None:
        before = len(self.problems)
        self.known_keys(table, _SITE_KEYS, at)
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            self.fail(
                f"expected the new site's name (a non-empty string), got {name!r}", at.key("name")
            )
            name = ""
        default_id = "new-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        provider_id = table.get("provider_id", default_id)
        if not isinstance(provider_id, str) or not provider_id.strip():
            self.fail(f"expected a non-empty string, got {provider_id!r}", at.key("provider_id"))
            provider_id = ""
        capacity = self.integer(table, "capacity", at, required=True)
        people = self.integer(table, "people_capacity", at)
        delivery_capacity = self.integer(table, "delivery_capacity", at)
        radius = self.number(table, "delivery_radius_km", at, least=0)
        service_area = self.areas(table, "service_area", at)
        dietary = self.dietary(table.get("dietary", []), at.key("dietary"))
        lat = self.number(table, "latitude", at, least=-90, most=90)
        lon = self.number(table, "longitude", at, least=-180, most=180)
        postcode, outcode = table.get("postcode"), None
        if postcode is not None:
            located = self._locate(postcode) if isinstance(postcode, str) else None
            if located is None:
                self.fail(
                    f"{postcode!r} is not a postcode in the offline postcode table; expected a "
                    "UK postcode such as 'LS9 7AB' or a district such as 'LS9'",
                    at.key("postcode"),
                )
            else:
                postcode = " ".join(str(postcode).upper().split())
                plat, plon, outcode = located
                lat = plat if lat is None else lat
                lon = plon if lon is None else lon
        elif "latitude" not in table or "longitude" not in table:
            self.fail("expected 'postcode' (or both 'latitude' and 'longitude')", at)
        if len(self.problems) > before or None in (capacity, lat, lon, dietary, service_area):
            return None
        assert capacity is not None and lat is not None and lon is not None
        return OpenSite(
            provider_id=provider_id.strip(),
            name=name.strip(),
            latitude=lat,
            longitude=lon,
            capacity=capacity,
            people_capacity=people,
            dietary=dietary or (),
            delivery_capacity=delivery_capacity or 0,
            delivery_radius_km=radius or 0.0,
            service_area=service_area or (),
            outcode=outcode,
            postcode=postcode,
        )

    def _locate(self, postcode: str) -> tuple[float, float, str] | None:
        if self.locator is None:
            self.locator = Gazetteer.default()
        return self.locator.locate(postcode)

    def dietary(self, value: Any, at: _At) -> tuple[tuple[str, int | None], ...] | None:
        """Dietary stock as the contract writes it: ``tag`` or ``tag:limit`` entries."""
        entries = value.split(";") if isinstance(value, str) else value
        expected = "dietary tags, each 'tag' or 'tag:limit', with tags from " + ", ".join(
            DIETARY_TAGS
        )
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            self.fail(f"expected a list of {expected}, got {value!r}", at)
            return None
        out: list[tuple[str, int | None]] = []
        for raw in entries:
            tag, colon, limit = raw.strip().lower().partition(":")
            if not tag and not colon:
                continue
            cap = int(limit) if limit.strip().isdigit() else None
            if tag.strip() not in DIETARY_TAGS or (colon and cap is None):
                self.fail(f"expected {expected}, got {raw!r}", at)
                return None
            out.append((tag.strip(), cap))
        return tuple(out)

    def travel(self, value: Any, at: _At) -> list[Edit]:
        edits: list[Edit] = []
        for table, where in self.tables(value, at.key("travel")):
            self.known_keys(table, ("max_travel_km", "factor", "urgency", "areas"), where)
            limit = self.number(table, "max_travel_km", where, above=0)
            factor = self.number(table, "factor", where, above=0)
            if ("max_travel_km" in table) == ("factor" in table):
                self.fail("expected exactly one of 'max_travel_km' (km) or 'factor'", where)
            tiers: list[Urgency] = []
            for tier in self.strings(table, "urgency", where) or ():
                if tier.lower() not in {u.value for u in Urgency}:
                    self.fail(
                        f"expected emergency, urgent or standard, got {tier!r}",
                        where.key("urgency"),
                    )
                else:
                    tiers.append(Urgency(tier.lower()))
            areas = self.areas(table, "areas", where)
            if areas is not None:
                scale = 1.0 if factor is None else factor
                edits.append(ChangeTravel(limit, scale, tuple(tiers), areas))
        return edits

    def demand(self, value: Any, at: _At) -> list[Edit]:
        where = at.key("demand")
        if _is_number(value):
            value = {"factor": value}
        if not isinstance(value, dict):
            self.fail(
                f"expected a table such as {{ factor = 1.2, seed = 1 }}, got {value!r}", where
            )
            return []
        self.known_keys(value, ("factor", "seed"), where)
        factor = self.number(value, "factor", where, above=0, most=MAX_DEMAND_FACTOR, required=True)
        seed = self.integer(value, "seed", where)
        return [] if factor is None else [ScaleDemand(factor, seed or 0)]

    # -- the document ---------------------------------------------------------------------

    def settings(self, raw: Any) -> tuple[float | None, int]:
        at = _At(path=("settings",))
        if not isinstance(raw, dict):
            self.fail(f"expected a [settings] table, got {raw!r}", at)
            return None, DEFAULT_MIN_DISTRICT_HOUSEHOLDS
        self.known_keys(raw, _SETTINGS_KEYS, at)
        limit = self.number(raw, "time_limit", at, above=0)
        least = self.integer(raw, "min_district_households", at, least=1)
        return limit, DEFAULT_MIN_DISTRICT_HOUSEHOLDS if least is None else least

    def scenarios(self, raw: Any) -> tuple[Scenario, ...]:
        at = _At(path=("scenario",))
        if raw is None:
            self.fail("no scenarios; expected at least one [[scenario]] table with a name", at)
            return ()
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            self.fail("expected [[scenario]] tables", at)
            return ()
        own: dict[str, list[Edit]] = {}
        combos: dict[str, tuple[str, ...]] = {}
        where: dict[str, _At] = {}
        descriptions: dict[str, str] = {}
        for index, table in enumerate(raw):
            name = table.get("name")
            label = name.strip() if isinstance(name, str) and name.strip() else f"#{index + 1}"
            at = _At(label, index)
            if not isinstance(name, str) or not name.strip():
                self.fail(f"expected a non-empty name, got {name!r}", at.key("name"))
            elif label in where or label == "baseline":
                why = "is reserved for the base" if label == "baseline" else "is used twice"
                self.fail(f"the name {why}; expected a unique name", at.key("name"))
                label = f"{label}#{index + 1}"
                at = _At(label, index)
            description = table.get("description", "")
            if not isinstance(description, str):
                self.fail(f"expected a string, got {description!r}", at.key("description"))
                description = ""
            self.known_keys(table, _SCENARIO_KEYS, at)
            edits: list[Edit] = []
            for key in _EDIT_ORDER:
                if key in table:
                    handler: Callable[[Any, _At], list[Edit]] = getattr(self, key)
                    edits.extend(handler(table[key], at))
            own[label] = edits
            combos[label] = self.strings(table, "combine", at) or ()
            where[label] = at
            descriptions[label] = description.strip()
        for label, parts in combos.items():
            for part in parts:
                if part not in own:
                    choices = ", ".join(n for n in own if n != label)
                    self.fail(
                        f"no scenario named {part!r}; expected one of: {choices}",
                        where[label].key("combine"),
                    )
        out = []
        for label in own:
            edits_all = self.expand(label, combos, own, where, ())
            if edits_all is not None:
                out.append(Scenario(label, tuple(edits_all), descriptions[label]))
        return tuple(out)

    def expand(
        self,
        label: str,
        combos: Mapping[str, tuple[str, ...]],
        own: Mapping[str, list[Edit]],
        where: Mapping[str, _At],
        stack: tuple[str, ...],
    ) -> list[Edit] | None:
        """The edits of ``label``: each combined scenario's in order, then its own."""
        if label in stack:
            members = frozenset(stack)
            if members in self.loops:
                return None
            self.loops.add(members)
            loop = " -> ".join((*stack, label))
            self.fail(
                f"combinations form a loop ({loop}); expected no scenario to include itself",
                where[stack[0]].key("combine"),
            )
            return None
        edits: list[Edit] = []
        for part in combos.get(label, ()):
            if part in own:
                sub = self.expand(part, combos, own, where, (*stack, label))
                if sub is None:
                    return None
                edits.extend(sub)
        return edits + own[label]


def parse_scenarios(
    data: Mapping[str, Any],
    *,
    source: str = "scenarios",
    text: str | None = None,
    locator: Locator | None = None,
) -> tuple[Scenario, ...]:
    """Scenarios from a parsed document (``{"scenario": [...]}``, as TOML or JSON gives it).

    Reads the ``scenario`` list and checks ``settings``; ``base`` is the caller's business
    (see :func:`load_scenario_file`). ``text``, the file's text, lets errors carry line
    numbers. ``locator`` geocodes new sites' postcodes (default: the shipped offline table).
    Raises :class:`ScenarioError` listing every problem found.
    """
    parser = _Parser(source, text, locator)
    parser.known_keys(data, ("base", "settings", "scenario"), _At())
    parser.settings(data.get("settings", {}))
    scenarios = parser.scenarios(data.get("scenario"))
    if parser.problems:
        raise ScenarioError(parser.problems)
    return scenarios


def load_scenario_file(path: str | Path, *, locator: Locator | None = None) -> ScenarioFile:
    """Read a scenario TOML file (format: ``docs/scenarios.md``).

    ``[base]`` paths are relative to the TOML file. Raises :class:`ScenarioError` naming the
    file, line, scenario and key of every problem (TOML syntax errors carry tomllib's line
    and column).
    """
    file = Path(path)
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([ScenarioProblem(f"cannot read the file: {exc}", source)]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(
            [
                ScenarioProblem(
                    f"not valid TOML: {exc}", source, int(line.group(1)) if line else None
                )
            ]
        ) from exc
    parser = _Parser(source, text, locator)
    parser.known_keys(data, ("base", "settings", "scenario"), _At())
    paths: dict[str, Path] = {}
    base = data.get("base")
    at = _At(path=("base",))
    if not isinstance(base, dict):
        parser.fail("missing; expected a [base] table with 'referrals' and 'providers' paths", at)
        base = {}
    parser.known_keys(base, ("referrals", "providers"), at)
    for key in ("referrals", "providers") if base else ():
        value = base.get(key)
        if not isinstance(value, str) or not value.strip():
            parser.fail(
                f"expected the path of {key}.csv, relative to this file; got {value!r}", at.key(key)
            )
            continue
        csv_path = (file.parent / value).resolve()
        if not csv_path.is_file():
            parser.fail(
                f"no such file: {csv_path}; expected a path relative to this file", at.key(key)
            )
        paths[key] = csv_path
    limit, least = parser.settings(data.get("settings", {}))
    scenarios = parser.scenarios(data.get("scenario"))
    if parser.problems:
        raise ScenarioError(parser.problems)
    return ScenarioFile(
        path=file,
        referrals=paths["referrals"],
        providers=paths["providers"],
        scenarios=scenarios,
        time_limit=limit,
        min_district_households=least,
    )


def check_scenarios(
    scenarios: Sequence[Scenario], problem: Problem, *, source: str = "scenarios"
) -> None:
    """Check scenarios against the base they will run on; raise :class:`ScenarioError`.

    Every provider id a scenario names must be a base site (or one the scenario opened
    earlier), and a new site's id must not clash with an existing one.
    """
    base_ids = [p.provider_id for p in problem.providers]
    problems: list[ScenarioProblem] = []
    shown = ", ".join(base_ids[:12]) + (", ..." if len(base_ids) > 12 else "")
    for scenario in scenarios:
        known = set(base_ids)
        for edit in scenario.edits:
            if isinstance(edit, OpenSite):
                if edit.provider_id in known:
                    problems.append(
                        ScenarioProblem(
                            f"a site with id {edit.provider_id!r} already exists; expected a new "
                            "id",
                            source,
                            scenario=scenario.name,
                            key="open.provider_id",
                        )
                    )
                known.add(edit.provider_id)
                continue
            if isinstance(edit, CloseProviders | ScaleCapacity | SetDelivery):
                key = {
                    CloseProviders: "close",
                    ScaleCapacity: "capacity.providers",
                    SetDelivery: "delivery.providers",
                }[type(edit)]
                for pid in edit.provider_ids:
                    if pid not in known:
                        problems.append(
                            ScenarioProblem(
                                f"unknown provider {pid!r}; expected one of the base's provider "
                                f"ids ({shown})",
                                source,
                                scenario=scenario.name,
                                key=key,
                            )
                        )
                if isinstance(edit, CloseProviders):
                    known -= set(edit.provider_ids)
    if problems:
        raise ScenarioError(problems)


# --------------------------------------------------------------------------------------
# KPIs


@dataclass(frozen=True, slots=True)
class ScenarioKPIs:
    """What one match run means for a planner: counts, shares, distances, fairness.

    ``districts`` has one row per postcode district (index ``district``): ``households``,
    ``people``, ``served``, ``unmet_households``, ``unmet_people``, ``served_rate``, sorted by
    unmet households (most first). ``providers`` has one row per site (index
    ``provider_id``): ``capacity``, ``served``, ``people``, ``delivered``, ``utilisation``
    (served / capacity; empty for a site with no capacity), in input order.
    """

    name: str
    status: str
    households: int
    people: int
    demand: Mapping[str, int]
    matched: Mapping[str, int]
    people_served: int
    distance_mean_km: float | None
    distance_p90_km: float | None
    distance_max_km: float | None
    total_distance_km: float
    capacity_total: int
    districts: pd.DataFrame = field(compare=False)
    providers: pd.DataFrame = field(compare=False)
    district_rate_min: float | None
    district_rate_max: float | None
    worst_district: str | None
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS
    description: str = ""
    distances_km: tuple[float, ...] = field(default=(), compare=False, repr=False)
    """Every matched household's distance, in input order (for distribution plots)."""

    @property
    def matched_total(self) -> int:
        return sum(self.matched.values())

    @property
    def share_households_served(self) -> float | None:
        return self.matched_total / self.households if self.households else None

    @property
    def share_people_served(self) -> float | None:
        return self.people_served / self.people if self.people else None

    @property
    def district_rate_spread(self) -> float | None:
        if self.district_rate_min is None or self.district_rate_max is None:
            return None
        return self.district_rate_max - self.district_rate_min

    @property
    def utilisation(self) -> float | None:
        """Households served over all sites' capacity (None when there is no capacity)."""
        return self.matched_total / self.capacity_total if self.capacity_total else None

    def summary(self) -> dict[str, str | int | float | None]:
        """The scalar KPIs in the comparison table's order (None = not defined, e.g. 0/0)."""
        out: dict[str, str | int | float | None] = {"status": self.status}
        out["households"] = self.households
        out["people"] = self.people
        for tier in URGENCY_ORDER:
            out[f"matched_{tier.value}"] = self.matched[tier.value]
        out["matched_total"] = self.matched_total
        for tier in URGENCY_ORDER:
            out[f"unmatched_{tier.value}"] = self.demand[tier.value] - self.matched[tier.value]
        out["share_households_served"] = self.share_households_served
        out["share_people_served"] = self.share_people_served
        out["distance_mean_km"] = self.distance_mean_km
        out["distance_p90_km"] = self.distance_p90_km
        out["distance_max_km"] = self.distance_max_km
        out["total_distance_km"] = self.total_distance_km
        out["capacity_total"] = self.capacity_total
        out["utilisation"] = self.utilisation
        full = self.providers[
            (self.providers["capacity"] > 0)
            & (self.providers["served"] >= self.providers["capacity"])
        ]
        out["providers_at_capacity"] = len(full)
        out["district_served_rate_min"] = self.district_rate_min
        out["district_served_rate_max"] = self.district_rate_max
        out["district_served_rate_spread"] = self.district_rate_spread
        out["worst_served_district"] = self.worst_district
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: the summary, then districts and providers as lists of rows."""
        districts = self.districts.reset_index()
        providers = self.providers.reset_index()
        return {
            "name": self.name,
            "description": self.description,
            "summary": self.summary(),
            "districts": [_jsonable_row(row) for row in districts.to_dict("records")],
            "providers": [_jsonable_row(row) for row in providers.to_dict("records")],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return None if math.isnan(number) else number
    return value  # pragma: no cover


def _jsonable_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): _jsonable(v) for k, v in row.items()}


def compute_kpis(
    problem: Problem,
    result: MatchResult,
    *,
    name: str = "baseline",
    description: str = "",
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
) -> ScenarioKPIs:
    """The planner's KPIs for one match run of ``problem``.

    Distances are over matched households: the mean, the 90th percentile (linear
    interpolation between order statistics, as ``numpy.percentile`` does by default) and the
    maximum. A district's served rate is served / referred households; the fairness
    measures use only districts with at least ``min_district_households`` households.
    """
    if len(result.matches) != len(problem.referrals):
        raise ValueError(
            f"the result has {len(result.matches)} matches for {len(problem.referrals)} "
            "referrals; expected one per referral (was it solved on this problem?)"
        )
    demand = {tier.value: 0 for tier in URGENCY_ORDER}
    matched = {tier.value: 0 for tier in URGENCY_ORDER}
    districts: dict[str, list[int]] = {}
    provider_rows = {
        p.provider_id: [p.capacity, 0, 0, 0] for p in problem.providers
    }  # capacity, served, people, delivered
    distances: list[float] = []
    people = people_served = 0
    for referral, match in zip(problem.referrals, result.matches, strict=True):
        if referral.referral_id != match.referral_id:
            raise ValueError(
                f"match for {match.referral_id!r} is where {referral.referral_id!r} was "
                "expected; expected matches in input order"
            )
        tier = referral.urgency.value
        demand[tier] += 1
        people += referral.household_size
        district = referral.outcode or NO_DISTRICT
        row = districts.setdefault(district, [0, 0, 0, 0])  # households, people, served, sp
        row[0] += 1
        row[1] += referral.household_size
        if not match.matched:
            continue
        matched[tier] += 1
        people_served += referral.household_size
        row[2] += 1
        row[3] += referral.household_size
        distances.append(float(match.distance_km or 0.0))
        if match.provider_id in provider_rows:
            site = provider_rows[match.provider_id]
            site[1] += 1
            site[2] += referral.household_size
            site[3] += 1 if match.mode is Mode.DELIVER else 0

    district_frame = pd.DataFrame(
        [
            {
                "district": d,
                "households": h,
                "people": p,
                "served": s,
                "unmet_households": h - s,
                "unmet_people": p - sp,
                "served_rate": s / h,
            }
            for d, (h, p, s, sp) in districts.items()
        ],
        columns=[
            "district",
            "households",
            "people",
            "served",
            "unmet_households",
            "unmet_people",
            "served_rate",
        ],
    )
    district_frame = district_frame.sort_values(
        ["unmet_households", "district"], ascending=[False, True], kind="stable"
    ).set_index("district")
    provider_frame = pd.DataFrame(
        [
            {
                "provider_id": pid,
                "capacity": cap,
                "served": served,
                "people": ppl,
                "delivered": delivered,
                "utilisation": served / cap if cap else math.nan,
            }
            for pid, (cap, served, ppl, delivered) in provider_rows.items()
        ],
        columns=["provider_id", "capacity", "served", "people", "delivered", "utilisation"],
    ).set_index("provider_id")

    fair = district_frame[
        (district_frame.index != NO_DISTRICT)
        & (district_frame["households"] >= min_district_households)
    ]
    worst: str | None = None
    rate_min = rate_max = None
    if len(fair):
        rates = fair["served_rate"]
        rate_min = float(rates.min())
        rate_max = float(rates.max())
        worst = min(str(d) for d, r in rates.items() if r == rate_min)

    array = np.asarray(distances, dtype=float)
    return ScenarioKPIs(
        name=name,
        description=description,
        status=str(result.status.value),
        households=len(problem.referrals),
        people=people,
        demand=demand,
        matched=matched,
        people_served=people_served,
        distance_mean_km=float(array.mean()) if len(array) else None,
        distance_p90_km=float(np.percentile(array, 90)) if len(array) else None,
        distance_max_km=float(array.max()) if len(array) else None,
        total_distance_km=float(array.sum()),
        capacity_total=sum(p.capacity for p in problem.providers),
        districts=district_frame,
        providers=provider_frame,
        district_rate_min=rate_min,
        district_rate_max=rate_max,
        worst_district=worst,
        min_district_households=min_district_households,
        distances_km=tuple(distances),
    )


def run_scenario(
    base: Problem,
    scenario: Scenario | None,
    *,
    time_limit: float | None = None,
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
) -> ScenarioKPIs:
    """Apply a scenario (``None`` = the baseline), solve it with the engine, return its KPIs."""
    from matching.engine import solve

    problem = base if scenario is None else apply_scenario(base, scenario)
    result = solve(problem, time_limit=time_limit)
    return compute_kpis(
        problem,
        result,
        name="baseline" if scenario is None else scenario.name,
        description="" if scenario is None else scenario.description,
        min_district_households=min_district_households,
    )


DIFF_SUFFIX = " (diff)"


def compare(baseline: ScenarioKPIs, scenarios: Sequence[ScenarioKPIs]) -> pd.DataFrame:
    """The comparison table: one row per KPI; baseline, then each scenario and its difference.

    Columns are ``baseline``, then ``<name>`` and ``<name> (diff)`` (scenario minus
    baseline) per scenario. Text KPIs (status, worst-served district) have no difference;
    a KPI undefined on either side (e.g. no household matched) has an empty difference.
    """
    base = baseline.summary()
    columns: dict[str, list[Any]] = {"baseline": list(base.values())}
    for kpis in scenarios:
        values = kpis.summary()
        columns[kpis.name] = list(values.values())
        diffs: list[Any] = []
        for key, value in values.items():
            before = base[key]
            if (
                isinstance(value, int | float)
                and isinstance(before, int | float)
                and not isinstance(value, bool)
            ):
                diffs.append(value - before)
            else:
                diffs.append(None)
        columns[kpis.name + DIFF_SUFFIX] = diffs
    frame = pd.DataFrame(columns, index=pd.Index(list(base.keys()), name="kpi"), dtype=object)
    return frame


def format_value(value: Any, *, signed: bool = False) -> str:
    """A KPI value as text: integers as is, others to 4 decimals, empty when undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):+d}" if signed else str(int(value))
    number = round(float(value), 4)
    if number == 0:
        number = 0.0  # no "-0.0000"
    return f"{number:+.4f}" if signed else f"{number:.4f}"


def comparison_csv(table: pd.DataFrame) -> str:
    """The comparison table as CSV text, formatted the same way every time.

    Integers are written as is, other numbers with 4 decimals, undefined values empty, so
    the bytes depend only on the results (never on run order or floating-point noise).
    """
    out = table.copy()
    for column in out.columns:
        signed = str(column).endswith(DIFF_SUFFIX)
        out[column] = [format_value(v, signed=signed) for v in out[column]]
    return str(out.to_csv(lineterminator="\n"))
