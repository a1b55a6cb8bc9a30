"""Scenario files: the TOML (or JSON) grammar of what-if scenarios, read into edits.

:func:`load_scenario_file` reads a file with its ``[base]`` CSVs and ``[settings]``;
:func:`parse_scenarios` reads an already parsed document (an API request body, an upload);
:func:`check_scenarios` checks scenarios against the base they will run on. All three raise
:class:`~matching.scenarios.errors.ScenarioError` listing every problem (file, line,
scenario, key, what was expected). The format is described in ``docs/scenarios.md``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from matching.geo import Gazetteer
from matching.io import PROVIDER_COLUMNS
from matching.models import DIETARY_TAGS, Problem, Urgency
from matching.scenarios.edits import (
    MAX_DEMAND_FACTOR,
    ChangeTravel,
    CloseProviders,
    Edit,
    OpenSite,
    ScaleCapacity,
    ScaleDemand,
    Scenario,
    SetDelivery,
)
from matching.scenarios.errors import ScenarioError, ScenarioProblem
from matching.scenarios.kpis import DEFAULT_MIN_DISTRICT_HOUSEHOLDS
from matching.scenarios.reader import At, Reader, is_number

__all__ = [
    "Locator",
    "ScenarioFile",
    "check_scenarios",
    "load_scenario_file",
    "parse_scenarios",
]


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
_SITE_KEYS = PROVIDER_COLUMNS
"""A new site takes the providers columns of the matching contract."""


class _Parser(Reader):
    """Turns a parsed TOML (or JSON) document into scenarios, collecting every problem."""

    def __init__(self, source: str, text: str | None, locator: Locator | None) -> None:
        super().__init__(source, text)
        self.locator = locator
        self.loops: set[frozenset[str]] = set()

    # -- edits, one method per scenario key ---------------------------------------------

    def close(self, value: Any, at: At) -> list[Edit]:
        ids = self.strings({"close": value}, "close", at)
        return [CloseProviders(ids)] if ids else []

    def capacity(self, value: Any, at: At) -> list[Edit]:
        edits: list[Edit] = []
        for table, where in self.tables(value, at.key("capacity")):
            self.known_keys(table, ("factor", "add", "providers", "areas"), where)
            factor, spread = self.factor(table, "factor", where, least=0)
            add = self.integer(table, "add", where, least=None)
            if "factor" not in table and "add" not in table:
                self.fail("expected 'factor' (e.g. 0.8) and/or 'add' (parcels)", where)
            ids = self.strings(table, "providers", where)
            areas = self.areas(table, "areas", where)
            if ids is not None and areas is not None:
                scale = 1.0 if factor is None else factor
                edits.append(ScaleCapacity(scale, add or 0, ids, areas, spread))
        return edits

    def delivery(self, value: Any, at: At) -> list[Edit]:
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

    def open(self, value: Any, at: At) -> list[Edit]:
        sites = (self.site(table, where) for table, where in self.tables(value, at.key("open")))
        return [site for site in sites if site is not None]

    def site(self, table: Mapping[str, Any], at: At) -> OpenSite | None:
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

    def dietary(self, value: Any, at: At) -> tuple[tuple[str, int | None], ...] | None:
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

    def travel(self, value: Any, at: At) -> list[Edit]:
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

    def demand(self, value: Any, at: At) -> list[Edit]:
        where = at.key("demand")
        if is_number(value):
            value = {"factor": value}
        if not isinstance(value, dict):
            self.fail(
                f"expected a table such as {{ factor = 1.2, seed = 1 }}, got {value!r}", where
            )
            return []
        self.known_keys(value, ("factor", "seed"), where)
        factor, spread = self.factor(
            value, "factor", where, above=0, most=MAX_DEMAND_FACTOR, required=True
        )
        seed = self.integer(value, "seed", where)
        return [] if factor is None else [ScaleDemand(factor, seed or 0, spread)]

    # -- the document ---------------------------------------------------------------------

    def settings(self, raw: Any) -> tuple[float | None, int]:
        at = At(path=("settings",))
        if not isinstance(raw, dict):
            self.fail(f"expected a [settings] table, got {raw!r}", at)
            return None, DEFAULT_MIN_DISTRICT_HOUSEHOLDS
        self.known_keys(raw, _SETTINGS_KEYS, at)
        limit = self.number(raw, "time_limit", at, above=0)
        least = self.integer(raw, "min_district_households", at, least=1)
        return limit, DEFAULT_MIN_DISTRICT_HOUSEHOLDS if least is None else least

    def scenarios(self, raw: Any) -> tuple[Scenario, ...]:
        at = At(path=("scenario",))
        if raw is None:
            self.fail("no scenarios; expected at least one [[scenario]] table with a name", at)
            return ()
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            self.fail("expected [[scenario]] tables", at)
            return ()
        own: dict[str, list[Edit]] = {}
        combos: dict[str, tuple[str, ...]] = {}
        where: dict[str, At] = {}
        descriptions: dict[str, str] = {}
        for index, table in enumerate(raw):
            name = table.get("name")
            label = name.strip() if isinstance(name, str) and name.strip() else f"#{index + 1}"
            at = At(label, index)
            if not isinstance(name, str) or not name.strip():
                self.fail(f"expected a non-empty name, got {name!r}", at.key("name"))
            elif label in where or label == "baseline":
                why = "is reserved for the base" if label == "baseline" else "is used twice"
                self.fail(f"the name {why}; expected a unique name", at.key("name"))
                label = f"{label}#{index + 1}"
                at = At(label, index)
            description = table.get("description", "")
            if not isinstance(description, str):
                self.fail(f"expected a string, got {description!r}", at.key("description"))
                description = ""
            self.known_keys(table, _SCENARIO_KEYS, at)
            edits: list[Edit] = []
            for key in _EDIT_ORDER:
                if key in table:
                    handler: Callable[[Any, At], list[Edit]] = getattr(self, key)
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
        where: Mapping[str, At],
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
    parser.known_keys(data, ("base", "settings", "scenario"), At())
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
    parser.known_keys(data, ("base", "settings", "scenario"), At())
    paths: dict[str, Path] = {}
    base = data.get("base")
    at = At(path=("base",))
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
