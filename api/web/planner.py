"""What-if runs for planners' pages: turn the form into a base and a spec, draw the results.

The page queues its run through the same service as ``POST /scenarios``
(:func:`api.scenarios.runs.queue_run`), into the process's run store
(:mod:`api.scenarios.store`); this module only prepares what the form asked for (the shipped
file, an upload, the sample region) and draws a finished run's tables, plots and map.
"""

from __future__ import annotations

import base64
import io
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from api.scenarios.service import validate_spec
from api.scenarios.store import RUNS as RUNS  # re-exported for code that reads it here
from api.scenarios.store import ScenarioRun
from matching.geo import Gazetteer, data_dir
from matching.io import InputError, parse_providers, parse_referrals, read_problem
from matching.models import Problem
from matching.scenarios import (
    DIFF_SUFFIX,
    PLANNING_EXTRA,
    ScenarioError,
    ScenarioProblem,
    comparison_csv,
    parse_scenarios,
)

MAX_SECONDS = 60.0
SHIPPED = "scenarios.toml"
PLOTS_NEED_EXTRA = f"The plots need the planning extra, which is not installed: {PLANNING_EXTRA}"


def shipped_path() -> Path:
    """The shipped what-if file of the sample region."""
    return data_dir() / "sample" / SHIPPED


@dataclass(frozen=True)
class ShippedScenario:
    """One scenario of the shipped file, for the choice on the form."""

    name: str
    description: str
    combine: tuple[str, ...]


def shipped_scenarios() -> list[ShippedScenario]:
    """The scenarios of the shipped file, in file order."""
    data = tomllib.loads(shipped_path().read_text(encoding="utf-8"))
    return [
        ShippedScenario(
            str(s.get("name", "")), str(s.get("description", "")), tuple(s.get("combine", ()))
        )
        for s in data.get("scenario", [])
    ]


# --- preparing a run -----------------------------------------------------------------------


class RunRequestError(ValueError):
    """What is wrong with a planner's run request, by form field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _with_combined(scenarios: list[dict[str, Any]], chosen: Sequence[str]) -> list[dict[str, Any]]:
    """The chosen scenarios plus those they combine, in file order."""
    by_name = {str(s.get("name")): s for s in scenarios}
    needed: set[str] = set()
    stack = list(chosen)
    while stack:
        name = stack.pop()
        if name in needed or name not in by_name:
            continue
        needed.add(name)
        stack.extend(str(n) for n in by_name[name].get("combine", ()))
    return [s for s in scenarios if str(s.get("name")) in needed]


def shipped_request(chosen: Sequence[str]) -> tuple[Problem, dict[str, Any], list[str]]:
    """Base problem and spec for the chosen scenarios of the shipped file."""
    if not chosen:
        raise RunRequestError({"scenarios": "Select at least one scenario to run"})
    path = shipped_path()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    known = {str(s.get("name")) for s in data.get("scenario", [])}
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise RunRequestError({"scenarios": f"No shipped scenario is called {unknown[0]!r}"})
    picked = _with_combined(list(data.get("scenario", [])), chosen)
    notes = []
    added = [str(s["name"]) for s in picked if s["name"] not in chosen]
    if added:
        notes.append("Also ran, because a chosen scenario combines them: " + ", ".join(added))
    paths = data.get("base", {})
    base = read_problem(path.parent / paths["referrals"], path.parent / paths["providers"])
    spec = {"settings": data.get("settings", {}), "scenario": picked}
    validate_spec(base=base, spec=spec)
    return base, spec, notes


def sample_problem() -> Problem:
    """The shipped sample region as a base problem."""
    folder = shipped_path().parent
    return read_problem(folder / "referrals.csv", folder / "providers.csv")


def _problem_lines(err: ScenarioError | InputError) -> str:
    return str(err)


def uploaded_spec(filename: str, content: bytes) -> tuple[dict[str, Any], list[str]]:
    """The spec of an uploaded scenario file (TOML), checked on its own."""
    source = filename or "uploaded file"
    if not content:
        raise RunRequestError({"scenario_file": "Choose a scenario file (TOML) to upload"})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RunRequestError(
            {"scenario_file": "The scenario file must be text in UTF-8 (a .toml file)"}
        ) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RunRequestError(
            {"scenario_file": f"The scenario file is not valid TOML: {err}"}
        ) from err
    notes = []
    if "base" in data:
        notes.append("The file's [base] was ignored: the base is the one chosen on the form.")
        data = {k: v for k, v in data.items() if k != "base"}
    try:
        parse_scenarios(data, source=source, text=text)
    except ScenarioError as err:
        raise RunRequestError({"scenario_file": _problem_lines(err)}) from err
    return data, notes


def uploaded_base(referrals: tuple[str, bytes], providers: tuple[str, bytes]) -> Problem:
    """A base problem from uploaded contract CSVs (all problems of both files at once)."""
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for key, (name, content), parse in (
        ("referrals_file", referrals, parse_referrals),
        ("providers_file", providers, parse_providers),
    ):
        label = key.split("_")[0]
        if not content:
            errors[key] = f"Choose the {label} CSV file to upload"
            continue
        try:
            parsed[key] = parse(content.decode("utf-8-sig"), name or f"{label}.csv")
        except UnicodeDecodeError:
            errors[key] = f"The {label} file must be a CSV file in UTF-8"
        except InputError as err:
            errors[key] = _problem_lines(err)
    if errors:
        raise RunRequestError(errors)
    return Problem(tuple(parsed["referrals_file"]), tuple(parsed["providers_file"]))


def check_against(base: Problem, spec: Mapping[str, Any], field_name: str) -> None:
    """Check the spec's scenarios against the chosen base (unknown site ids, say)."""
    try:
        validate_spec(base=base, spec=spec)
    except ScenarioError as err:
        raise RunRequestError({field_name: _problem_lines(err)}) from err


def problems_text(problems: Sequence[ScenarioProblem]) -> str:
    """Scenario problems, one per line."""
    return "\n".join(str(p) for p in problems)


# --- showing results -----------------------------------------------------------------------


def comparison_frame(result: Mapping[str, Any]) -> pd.DataFrame:
    """The service's comparison as the engine's DataFrame (index ``kpi``)."""
    rows = result["comparison"]["rows"]
    columns = result["comparison"]["columns"]
    return pd.DataFrame(rows, columns=columns, dtype=object).set_index("kpi")


def distinct_titles(runs: Sequence[ScenarioRun]) -> list[tuple[ScenarioRun, str]]:
    """Each run with the name the list shows: its title, numbered from the oldest ("(2)")
    when other runs in the list have the same title, so no two are listed under one name."""
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.title] = counts.get(run.title, 0) + 1
    seen: dict[str, int] = {}
    shown: list[tuple[ScenarioRun, str]] = []
    for run in reversed(runs):  # the list is newest first; number from the oldest
        seen[run.title] = seen.get(run.title, 0) + 1
        name = run.title if counts[run.title] == 1 else f"{run.title} ({seen[run.title]})"
        shown.append((run, name))
    return shown[::-1]


SHARE_KPIS = frozenset(
    {
        "share_households_served",
        "share_people_served",
        "utilisation",
        "district_served_rate_min",
        "district_served_rate_max",
        "district_served_rate_spread",
    }
)
"""KPIs that are shares (0 to 1): shown as percentages, their changes in percentage points."""


def page_value(kpi: str, value: Any, *, signed: bool = False) -> str:
    """A KPI as people read it on the page: shares as percentages ("66.9%", a change as
    "+2.1 points"), distances in km to one decimal, counts with thousands separators, words
    as they are, nothing for an undefined value. (The CSV keeps :func:`format_value`.)"""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | str):
        return str(value)
    number = float(value)
    if kpi in SHARE_KPIS:
        points = round(number * 100, 1) + 0.0  # no "-0.0"
        return f"{points:+.1f} points" if signed else f"{points:.1f}%"
    if isinstance(value, int) or (number.is_integer() and not kpi.endswith("_km")):
        return f"{int(number):+,d}" if signed else f"{int(number):,d}"
    shown = round(number, 1) + 0.0
    return f"{shown:+,.1f}" if signed else f"{shown:,.1f}"


def comparison_rows(result: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Run names and, per KPI, each run's value (scenarios with their change in brackets)."""
    frame = comparison_frame(result)
    names = [str(c) for c in frame.columns if not str(c).endswith(DIFF_SUFFIX)]
    rows = []
    for kpi, row in frame.iterrows():
        cells = []
        for name in names:
            cell = page_value(str(kpi), row[name])
            diff = row.get(f"{name}{DIFF_SUFFIX}")
            if name != "baseline" and diff is not None and diff == diff:
                cell = f"{cell} ({page_value(str(kpi), diff, signed=True)})"
            cells.append(cell)
        rows.append((str(kpi), cells))
    return names, rows


def csv_text(result: Mapping[str, Any]) -> str:
    """The comparison as the CLI writes it (``foodmatch scenario run --out``), with scenario
    names a spreadsheet would run as formulas written as text (:mod:`matching.csvsafe`)."""
    return comparison_csv(comparison_frame(result))


def svg_uri(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def matched_by_urgency(runs: Sequence[Mapping[str, Any]], names: list[str]) -> tuple[Any, str]:
    """The stacked bars of households matched per urgency for each run, and their alt text."""
    from matplotlib.figure import Figure

    tiers = ("emergency", "urgent", "standard")
    colours = ("#d4351c", "#f47738", "#1d70b8")
    figure = Figure(figsize=(8, 3.6))
    axes = figure.subplots()
    bottom = [0.0] * len(runs)
    for tier, colour in zip(tiers, colours, strict=True):
        values = [float(r["summary"][f"matched_{tier}"] or 0) for r in runs]
        axes.bar(names, values, bottom=bottom, color=colour, label=tier.capitalize())
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("Households matched")
    # The key sits beside the bars, never over them (the saved figure is cut to fit it).
    axes.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="Urgency")
    axes.tick_params(axis="x", labelrotation=20)
    for label in axes.get_xticklabels():
        label.set_horizontalalignment("right")
    matched_alt = "Stacked bars of households matched by urgency: " + "; ".join(
        f"{n} {int(t)}" for n, t in zip(names, bottom, strict=True)
    )
    return figure, matched_alt


def draw_plots(result: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Matched households by urgency, and the share served, for every run (server-side SVG)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is in the planning extra
        return []
    runs = [result["baseline"], *result["scenarios"]]
    names = [str(r["name"]) for r in runs]
    figure, matched_alt = matched_by_urgency(runs, names)
    first = ("Households matched by urgency", svg_uri(figure), matched_alt)

    figure = Figure(figsize=(8, 3.2))
    axes = figure.subplots()
    shares = [float(r["summary"]["share_households_served"] or 0) * 100 for r in runs]
    axes.barh(names[::-1], shares[::-1], color="#00703c")
    axes.set_xlabel("Households served (%)")
    axes.set_xlim(0, 100)
    for y, value in enumerate(shares[::-1]):
        axes.text(value + 1, y, f"{value:.1f}%", va="center", fontsize=8)
    share_alt = "Bars of the share of households served: " + "; ".join(
        f"{n} {s:.1f}%" for n, s in zip(names, shares, strict=True)
    )
    second = ("Share of households served", svg_uri(figure), share_alt)
    return [first, second]


def run_plots(run: ScenarioRun) -> list[tuple[str, str, str]] | None:
    """(title, data URI, alt text) of each plot of a finished run, drawn the first time a page
    shows them and kept with the run (a run queued over the API may never be looked at)."""
    if run.drawn is None and run.result is not None:
        run.drawn = draw_plots(run.result)
    return run.drawn


def plots_missing(run: ScenarioRun) -> str | None:
    """Why a finished run has no plots (matplotlib is not installed), else None."""
    return PLOTS_NEED_EXTRA if run.result is not None and not run_plots(run) else None


@dataclass(frozen=True)
class MapPoint:
    """One district drawn on the map of unmet need."""

    district: str
    x: float
    y: float
    r: float
    unmet: int
    households: int
    served_rate: float | None
    fill: str
    label: bool


MAP_WIDTH = 640
MAP_HEIGHT = 480


FILL_BANDS = (
    (0.5, "#942514", "under 50% served"),
    (0.75, "#d4351c", "50% to 75% served"),
    (0.9, "#f47738", "75% to 90% served"),
    (math.inf, "#00703c", "90% or more served"),
)
"""The map's colours by share of households served: (upper bound, colour, legend words)."""
NO_RATE = ("#505a5f", "no households referred")

MAP_LEGEND = [(colour, words) for _, colour, words in FILL_BANDS] + [NO_RATE]
"""The map's legend, in the order shown."""


def _fill(rate: float | None) -> str:
    if rate is None:
        return NO_RATE[0]
    return next(colour for bound, colour, _ in FILL_BANDS if rate < bound)


def unmet_map(kpis: Mapping[str, Any]) -> list[MapPoint]:
    """Districts placed by their centroid, sized by unmet households (offline, no tiles)."""
    gazetteer = Gazetteer.default()
    placed = []
    for row in kpis.get("districts", []):
        located = gazetteer.locate(str(row["district"]))
        if located is None:
            continue
        placed.append((row, located[0], located[1]))
    if not placed:
        return []
    lats = [p[1] for p in placed]
    lons = [p[2] for p in placed]
    mid = math.cos(math.radians(sum(lats) / len(lats)))
    width = max((max(lons) - min(lons)) * mid, 1e-6)
    height = max(max(lats) - min(lats), 1e-6)
    margin = 40
    scale = min((MAP_WIDTH - 2 * margin) / width, (MAP_HEIGHT - 2 * margin) / height)
    biggest = max(int(p[0].get("unmet_households") or 0) for p in placed) or 1
    ranked = sorted(placed, key=lambda p: -(p[0].get("unmet_households") or 0))
    labelled = {str(p[0]["district"]) for p in ranked[:6] if (p[0].get("unmet_households") or 0)}
    points = []
    for row, lat, lon in placed:
        unmet = int(row.get("unmet_households") or 0)
        rate = row.get("served_rate")
        points.append(
            MapPoint(
                district=str(row["district"]),
                x=round(margin + (lon - min(lons)) * mid * scale, 1),
                y=round(MAP_HEIGHT - margin - (lat - min(lats)) * scale, 1),
                r=round(3 + 22 * math.sqrt(unmet / biggest), 1),
                unmet=unmet,
                households=int(row.get("households") or 0),
                served_rate=None if rate is None else float(rate),
                fill=_fill(None if rate is None else float(rate)),
                label=str(row["district"]) in labelled,
            )
        )
    return sorted(points, key=lambda p: -p.r)
