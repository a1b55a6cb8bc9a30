"""The scenario builder: what-if scenarios made on a page, without writing TOML.

A planner picks sites to close from a list, scales capacity (every site, some districts or
some sites) and demand, opens a site at a postcode, changes travel limits or gives a site a
van, names the scenario and adds it to the comparison; several scenarios run side by side.

The scenarios built so far travel with the form as the scenario file's own TOML (a hidden
field), so the page needs no state on the server, the browser's back button works, and what
the planner downloads is exactly what runs. Every post reads that text back through the same
parser as an uploaded file (:func:`matching.scenarios.parse_scenarios`) and checks it against
the base, so an edited field gets the same clear errors as a file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import tomli_w

from api.scenarios.service import validate_spec
from api.web import forms
from api.web.deps import FormValues
from matching.models import Problem
from matching.scenarios import ScenarioError, ScenarioProblem
from matching.scenarios.edits import (
    ChangeTravel,
    CloseProviders,
    Edit,
    OpenSite,
    ScaleCapacity,
    ScaleDemand,
    Scenario,
    SetDelivery,
)

MAX_DRAFT = 12
"""Scenarios one comparison may hold (each is one more matching run)."""

BASES = {
    "sample": "the Leeds sample region",
    "live": "today's open referrals and free places",
}

DEMAND_CHOICES = ("same", "1.2", "4", "custom")
CAPACITY_SCOPES = ("all", "districts", "sites")

SCENARIO_FIELDS = (
    "name",
    "description",
    "close",
    "capacity_percent",
    "capacity_scope",
    "capacity_districts",
    "capacity_sites",
    "demand",
    "demand_factor",
    "demand_seed",
    "open_name",
    "open_postcode",
    "open_capacity",
    "open_people",
    "travel_km",
    "delivery_site",
    "delivery_capacity",
    "delivery_radius",
)
"""The form's fields for the scenario being built, in page order (errors follow it)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._'()&+-]{0,59}")
_DISTRICT = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?|[A-Z]{1,2}")

Errors = dict[str, str]


@dataclass(frozen=True)
class Site:
    """A site of the base as the page lists it."""

    provider_id: str
    name: str
    district: str
    capacity: int

    @property
    def label(self) -> str:
        """``Hope Food Hub, LS11: 120 parcels``."""
        where = f", {self.district}" if self.district else ""
        return f"{self.name}{where}: {self.capacity:,d} parcels"


def sites_of(base: Problem) -> list[Site]:
    """The base's sites, by name."""
    return sorted(
        (Site(p.provider_id, p.name, p.outcode or "", p.capacity) for p in base.providers),
        key=lambda s: (s.name.lower(), s.provider_id),
    )


# --- the draft: the scenarios built so far, as the scenario file's TOML ---------------------


def read_draft(text: str, base: Problem) -> tuple[list[dict[str, Any]], Errors]:
    """The scenarios built so far; an unreadable or wrong draft is an error, never run."""
    if not text.strip():
        return [], {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return [], {"draft": "The scenarios built so far could not be read; start again"}
    raw = data.get("scenario", [])
    if set(data) - {"scenario"} or not isinstance(raw, list) or len(raw) > MAX_DRAFT:
        return [], {"draft": "The scenarios built so far could not be read; start again"}
    try:
        check(raw, base)
    except ScenarioError as err:
        return [], {"draft": f"The scenarios built so far cannot run: {err.problems[0]}"}
    return raw, {}


def draft_text(scenarios: Sequence[Mapping[str, Any]]) -> str:
    """The scenarios as the scenario file's TOML (the hidden field and the download)."""
    return tomli_w.dumps({"scenario": list(scenarios)}) if scenarios else ""


def check(scenarios: Sequence[Mapping[str, Any]], base: Problem) -> tuple[Scenario, ...]:
    """Parse the scenarios as a file would be and check their sites against the base."""
    return validate_spec(base=base, spec={"scenario": list(scenarios)})


def download_text(
    scenarios: Sequence[Mapping[str, Any]], base_kind: str, seconds: float, today: date
) -> str:
    """The scenario file a planner downloads: what the page built, with its base in words."""
    lines = [
        f"# What-if scenarios built on foodmatch's planner page on {today.isoformat()}.",
        "# Format: docs/scenarios.md. Upload this file on the planner's page to run it again.",
    ]
    body: dict[str, Any] = {}
    if base_kind == "sample":
        lines += [
            "# Built against the Leeds sample region: put it beside that region's CSVs",
            "# (data/sample) and run: foodmatch scenario run FILE --out comparison.csv",
        ]
        body["base"] = {"referrals": "referrals.csv", "providers": "providers.csv"}
    else:
        lines += [
            "# Built against today's open referrals and free places: site ids are the",
            "# service's site numbers. On the page choose 'Today's open referrals' as the base.",
        ]
    body["settings"] = {"time_limit": seconds}
    body["scenario"] = list(scenarios)
    return "\n".join(lines) + "\n\n" + tomli_w.dumps(body)


# --- one scenario from the form ------------------------------------------------------------


def ticked(form: FormValues, name: str) -> list[str]:
    """The non-empty values of a field that may be sent several times (checkboxes)."""
    value = form.get(name, [])
    items = value if isinstance(value, list) else [value]
    return [v.strip() for v in items if v.strip()]


def has_scenario(form: FormValues) -> bool:
    """Whether the planner filled in anything for a new scenario."""
    defaults = {"capacity_percent": "100", "capacity_scope": "all", "demand": "same"}
    return any(
        ticked(form, name) not in ([], [defaults.get(name)])
        for name in SCENARIO_FIELDS
        if name not in {"capacity_scope", "demand_seed"}
    )


def _districts(raw: str) -> list[str] | None:
    parts = [p for p in re.split(r"[\s,;]+", raw.upper()) if p]
    return parts if parts and all(_DISTRICT.fullmatch(p) for p in parts) else None


def scenario_from_form(
    form: FormValues, base: Problem, taken: Sequence[str]
) -> tuple[dict[str, Any] | None, Errors]:
    """The scenario the form describes, as the scenario file writes it, or the errors."""
    errors: Errors = {}
    scenario: dict[str, Any] = {}
    site_ids = {p.provider_id for p in base.providers}

    name = forms.text(form, "name")
    if not name:
        errors["name"] = "Enter a name for the scenario"
    elif not _NAME.fullmatch(name):
        errors["name"] = (
            "The name must be at most 60 letters, numbers, spaces or . _ ' ( ) & + -, "
            "starting with a letter or number"
        )
    elif name.lower() == "baseline" or name in taken:
        errors["name"] = f"A scenario is already called {name!r}; choose another name"
    scenario["name"] = name
    description = forms.text(form, "description")
    if len(description) > 300:
        errors["description"] = "The description must be 300 characters or fewer"
    elif description:
        scenario["description"] = description

    closed = ticked(form, "close")
    if any(c not in site_ids for c in closed):
        errors["close"] = "Choose the sites to close from the list"
    elif closed:
        scenario["close"] = closed

    _capacity(form, scenario, errors, site_ids)
    _demand(form, scenario, errors)
    _open_site(form, scenario, errors)

    raw_travel = forms.text(form, "travel_km")
    if raw_travel:
        travel = forms.decimal_number(raw_travel, 0, 100)
        if travel is None:
            errors["travel_km"] = "Enter the longest travel as a number of km above 0, up to 100"
        else:
            scenario["travel"] = {"max_travel_km": travel}

    _delivery(form, scenario, errors, site_ids)

    if not errors and len(scenario) == 1 + ("description" in scenario):
        errors["close"] = (
            "Change at least one thing: close a site, scale capacity or demand, open a site, "
            "or change travel or delivery"
        )
    if errors:
        return None, errors
    try:
        check([scenario], base)
    except ScenarioError as err:
        return None, _problems_by_field(err.problems)
    return scenario, {}


def _capacity(form: FormValues, scenario: dict[str, Any], errors: Errors, ids: set[str]) -> None:
    raw = forms.text(form, "capacity_percent").removesuffix("%").strip()
    if not raw or raw == "100":
        return
    percent = forms.decimal_number(raw, -1, 1000)
    if percent is None:
        errors["capacity_percent"] = "Enter capacity as a percentage from 0 to 1000, like 80"
        return
    table: dict[str, Any] = {"factor": round(percent / 100, 6)}
    scope = forms.text(form, "capacity_scope") or "all"
    if scope == "districts":
        districts = _districts(forms.text(form, "capacity_districts"))
        if districts is None:
            errors["capacity_districts"] = (
                "Enter postcode districts or areas separated by commas, like LS9, LS11 or LS"
            )
            return
        table["areas"] = districts
    elif scope == "sites":
        chosen = ticked(form, "capacity_sites")
        if not chosen or any(c not in ids for c in chosen):
            errors["capacity_sites"] = "Select the sites whose capacity changes"
            return
        table["providers"] = chosen
    elif scope != "all":
        errors["capacity_scope"] = "Select which sites the capacity change is for"
        return
    scenario["capacity"] = table


def _demand(form: FormValues, scenario: dict[str, Any], errors: Errors) -> None:
    choice = forms.text(form, "demand") or "same"
    if choice not in DEMAND_CHOICES:
        errors["demand"] = "Select how demand changes"
        return
    if choice == "same":
        return
    factor = float(choice) if choice != "custom" else None
    if factor is None:
        factor = forms.decimal_number(forms.text(form, "demand_factor"), 0, 20)
        if factor is None:
            errors["demand_factor"] = "Enter the demand factor as a number above 0, up to 20"
            return
    raw_seed = forms.text(form, "demand_seed") or "1"
    seed = forms.whole_number(raw_seed, 0, 2**31 - 1, commas=False)
    if seed is None:
        errors["demand_seed"] = "Enter the draw number as a whole number, like 1"
        return
    scenario["demand"] = {"factor": factor, "seed": seed}


def _open_site(form: FormValues, scenario: dict[str, Any], errors: Errors) -> None:
    name = forms.text(form, "open_name")
    postcode = forms.text(form, "open_postcode")
    raw_capacity = forms.text(form, "open_capacity")
    raw_people = forms.text(form, "open_people")
    if not (name or postcode or raw_capacity or raw_people):
        return
    site: dict[str, Any] = {}
    if not name:
        errors["open_name"] = "Enter the new site's name"
    elif len(name) > 120:
        errors["open_name"] = "The new site's name must be 120 characters or fewer"
    else:
        site["name"] = name
    if not postcode:
        errors["open_postcode"] = "Enter the new site's postcode, like LS9 8AA"
    else:
        site["postcode"] = postcode
    capacity = forms.whole_number(raw_capacity, 1, 100_000)
    if capacity is None:
        errors["open_capacity"] = "Enter the new site's parcels as a whole number from 1"
    else:
        site["capacity"] = capacity
    if raw_people:
        people = forms.whole_number(raw_people, 1, 1_000_000)
        if people is None:
            errors["open_people"] = "Enter the people it can feed as a whole number from 1"
        else:
            site["people_capacity"] = people
    scenario["open"] = [site]


def _delivery(form: FormValues, scenario: dict[str, Any], errors: Errors, ids: set[str]) -> None:
    site = forms.text(form, "delivery_site")
    raw_capacity = forms.text(form, "delivery_capacity")
    raw_radius = forms.text(form, "delivery_radius")
    if not (site or raw_capacity or raw_radius):
        return
    if site not in ids:
        errors["delivery_site"] = "Select the site that gets a delivery service"
    capacity = forms.whole_number(raw_capacity, 1, 100_000)
    if capacity is None:
        errors["delivery_capacity"] = "Enter the parcels it can deliver as a whole number from 1"
    radius = forms.decimal_number(raw_radius, 0, 100)
    if radius is None:
        errors["delivery_radius"] = "Enter how far it delivers as a number of km above 0, up to 100"
    if site in ids and capacity is not None and radius is not None:
        scenario["delivery"] = {
            "providers": [site],
            "delivery_capacity": capacity,
            "delivery_radius_km": radius,
        }


_FIELD_OF_KEY = {
    "name": "name",
    "description": "description",
    "close": "close",
    "capacity": "capacity_percent",
    "demand": "demand_factor",
    "open": "open_postcode",
    "open.name": "open_name",
    "open.capacity": "open_capacity",
    "open.people_capacity": "open_people",
    "travel": "travel_km",
    "delivery": "delivery_site",
}


def _problems_by_field(problems: Sequence[ScenarioProblem]) -> Errors:
    """The parser's problems with one scenario as the form's fields."""
    errors: Errors = {}
    for problem in problems:
        key = re.sub(r"\[\d+\]", "", problem.key or "")
        parts = key.split(".")
        field = _FIELD_OF_KEY.get(".".join(parts[:2])) or _FIELD_OF_KEY.get(parts[0], "name")
        errors.setdefault(field, problem.message[:1].upper() + problem.message[1:])
    return errors


# --- in words ------------------------------------------------------------------------------


def _km(value: float) -> str:
    return f"{value:,.1f} km"


def _percent(factor: float) -> str:
    return f"{factor * 100:,.4g}%"


def _sites(ids: Sequence[str], names: Mapping[str, str]) -> str:
    return ", ".join(names.get(i, i) for i in ids)


def describe_edit(edit: Edit, names: Mapping[str, str]) -> str:
    """One change of a scenario as a planner reads it."""
    if isinstance(edit, CloseProviders):
        return f"Closes {_sites(edit.provider_ids, names)}."
    if isinstance(edit, ScaleCapacity):
        where = "every site"
        if edit.provider_ids:
            where = _sites(edit.provider_ids, names)
        elif edit.areas:
            where = "sites in " + ", ".join(edit.areas)
        change = f"at {_percent(edit.factor)}" if edit.factor != 1.0 else "unchanged"
        added = f", {edit.add:+,d} parcels" if edit.add else ""
        return f"Capacity {change}{added} at {where}."
    if isinstance(edit, ScaleDemand):
        return f"Demand x{edit.factor:g} (draw {edit.seed})."
    if isinstance(edit, OpenSite):
        where = edit.postcode or f"{edit.latitude:.4f}, {edit.longitude:.4f}"
        people = f", {edit.people_capacity:,d} people" if edit.people_capacity else ""
        return f"Opens {edit.name} at {where} with {edit.capacity:,d} parcels{people}."
    if isinstance(edit, ChangeTravel):
        if edit.max_travel_km is not None:
            return f"Households travel at most {_km(edit.max_travel_km)}."
        return f"Travel limits x{edit.factor:g}."
    if isinstance(edit, SetDelivery):
        van = []
        if edit.delivery_capacity is not None:
            van.append(f"{edit.delivery_capacity:,d} parcels")
        if edit.delivery_radius_km is not None:
            van.append(f"within {_km(edit.delivery_radius_km)}")
        return f"Delivery from {_sites(edit.provider_ids, names)}: {' '.join(van)}."
    return str(edit)


@dataclass(frozen=True)
class Drafted:
    """A scenario in the comparison, as the page lists it."""

    name: str
    description: str
    changes: tuple[str, ...]


def drafted(scenarios: Sequence[Mapping[str, Any]], base: Problem) -> list[Drafted]:
    """The scenarios built so far in words (they were checked when they were read)."""
    if not scenarios:
        return []
    names = {p.provider_id: p.name for p in base.providers}
    return [
        Drafted(s.name, s.description, tuple(describe_edit(e, names) for e in s.edits))
        for s in check(scenarios, base)
    ]
