"""What-if runs for planners' pages: queue a scenario run, follow it, draw its results.

A run goes through the same service function as ``POST /scenarios``
(:func:`api.scenarios.service.run_scenarios`) on a background thread, so the page answers
at once and shows progress. Runs are kept in this process's memory (the last
:data:`KEEP_RUNS`), per council: they are working figures, not part of the record, and are
gone after a restart. Only aggregates are kept (the service's result has no household).
"""

from __future__ import annotations

import base64
import io
import math
import threading
import time
import tomllib
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from api.scenarios.service import run_scenarios, validate_spec
from matching.geo import Gazetteer, data_dir
from matching.io import InputError, parse_providers, parse_referrals, read_problem
from matching.models import Problem
from matching.scenarios import (
    DIFF_SUFFIX,
    PLANNING_EXTRA,
    ScenarioError,
    ScenarioProblem,
    comparison_csv,
    format_value,
    parse_scenarios,
)

KEEP_RUNS = 50
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


@dataclass
class ScenarioRun:
    """One queued, running or finished what-if run of a council."""

    id: str
    organisation_id: int
    title: str
    total: int
    notes: list[str] = field(default_factory=list)
    done: int = 0
    state: str = "queued"
    error: str | None = None
    result: dict[str, Any] | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    drawn: list[tuple[str, str, str]] | None = None

    @property
    def plots(self) -> list[tuple[str, str, str]] | None:
        """(title, data URI, alt text) of each plot, drawn the first time a page shows them
        (a run queued over the API may never be looked at in the browser)."""
        if self.drawn is None and self.result is not None:
            self.drawn = draw_plots(self.result)
        return self.drawn

    @property
    def plots_missing(self) -> str | None:
        """Why a finished run has no plots (matplotlib is not installed), else None."""
        return PLOTS_NEED_EXTRA if self.result is not None and not self.plots else None

    @property
    def finished(self) -> bool:
        """Whether the run has a result or failed."""
        return self.state in ("done", "failed")

    def names(self) -> list[str]:
        """The baseline and each scenario's name."""
        if self.result is None:
            return []
        return ["baseline", *(s["name"] for s in self.result["scenarios"])]

    def kpis(self, name: str) -> dict[str, Any] | None:
        """The KPIs of the baseline or one scenario."""
        if self.result is None:
            return None
        if name == "baseline":
            baseline: dict[str, Any] = self.result["baseline"]
            return baseline
        return next((s for s in self.result["scenarios"] if s["name"] == name), None)


class RunStore:
    """The runs of this process; one worker thread runs them in order."""

    def __init__(self) -> None:
        self._runs: dict[str, ScenarioRun] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scenarios")
        return self._executor

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued run has finished (False if ``timeout`` seconds pass first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(r.finished for r in self._runs.values()):
                    return True
            time.sleep(0.02)
        return False

    def get(self, run_id: str, organisation_id: int) -> ScenarioRun | None:
        """A run of this council, or ``None`` (another council's runs are not found)."""
        with self._lock:
            run = self._runs.get(run_id)
        return run if run is not None and run.organisation_id == organisation_id else None

    def recent(self, organisation_id: int) -> list[ScenarioRun]:
        """This council's runs, newest first."""
        with self._lock:
            runs = [r for r in self._runs.values() if r.organisation_id == organisation_id]
        return sorted(runs, key=lambda r: r.created_at, reverse=True)

    def start(
        self,
        *,
        organisation_id: int,
        title: str,
        base: Problem,
        spec: Mapping[str, Any],
        seconds: float,
        notes: Sequence[str] = (),
    ) -> ScenarioRun:
        """Queue a checked spec on ``base``; returns the run to follow."""
        run = ScenarioRun(
            id=uuid.uuid4().hex,
            organisation_id=organisation_id,
            title=title,
            total=1 + len(spec.get("scenario", [])),
            notes=list(notes),
        )
        with self._lock:
            self._runs[run.id] = run
            finished = sorted(
                (r for r in self._runs.values() if r.finished), key=lambda r: r.created_at
            )
            for old in finished[: max(0, len(self._runs) - KEEP_RUNS)]:
                del self._runs[old.id]
        self._pool().submit(self._work, run, base, dict(spec), seconds)
        return run

    @staticmethod
    def _work(run: ScenarioRun, base: Problem, spec: dict[str, Any], seconds: float) -> None:
        run.state = "running"

        def progress(done: int, total: int) -> None:
            run.done, run.total = done, total

        try:
            result = run_scenarios(
                base=base, spec=spec, max_time_limit=seconds, on_progress=progress
            )
            run.result = result
            run.state = "done"
        except ScenarioError as err:
            run.error = str(err)
            run.state = "failed"
        except Exception as err:  # shown to the planner, never raised
            run.error = f"The run stopped with an internal error ({type(err).__name__})."
            run.state = "failed"


RUNS = RunStore()


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


def comparison_rows(result: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Run names and, per KPI, each run's value (scenarios with their change in brackets)."""
    frame = comparison_frame(result)
    names = [str(c) for c in frame.columns if not str(c).endswith(DIFF_SUFFIX)]
    rows = []
    for kpi, row in frame.iterrows():
        cells = []
        for name in names:
            cell = format_value(row[name])
            diff = row.get(f"{name}{DIFF_SUFFIX}")
            if name != "baseline" and diff is not None and diff == diff:
                cell = f"{cell} ({format_value(diff, signed=True)})"
            cells.append(cell)
        rows.append((str(kpi), cells))
    return names, rows


def csv_text(result: Mapping[str, Any]) -> str:
    """The comparison as the CLI writes it (``foodmatch scenario run --out``), with scenario
    names a spreadsheet would run as formulas written as text (:mod:`matching.csvsafe`)."""
    return comparison_csv(comparison_frame(result))


def _svg_uri(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def draw_plots(result: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Matched households by urgency, and the share served, for every run (server-side SVG)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is in the planning extra
        return []
    runs = [result["baseline"], *result["scenarios"]]
    names = [str(r["name"]) for r in runs]
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
    axes.legend(frameon=False)
    axes.tick_params(axis="x", labelrotation=20)
    for label in axes.get_xticklabels():
        label.set_horizontalalignment("right")
    matched_alt = "Stacked bars of households matched by urgency: " + "; ".join(
        f"{n} {int(t)}" for n, t in zip(names, bottom, strict=True)
    )
    first = ("Households matched by urgency", _svg_uri(figure), matched_alt)

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
    second = ("Share of households served", _svg_uri(figure), share_alt)
    return [first, second]


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


def _fill(rate: float | None) -> str:
    if rate is None:
        return "#505a5f"
    if rate < 0.5:
        return "#942514"
    if rate < 0.75:
        return "#d4351c"
    if rate < 0.9:
        return "#f47738"
    return "#00703c"


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
