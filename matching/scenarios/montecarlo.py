"""Monte Carlo answers to "if demand rises by somewhere between 10% and 40%, how often do
emergencies go unmet, and where?".

:func:`monte_carlo` runs a sweep (:func:`matching.scenarios.runner.run_draws`) and keeps,
per draw, the scalar KPIs and the district view, with today's baseline for reference;
:meth:`MonteCarlo.summary` turns that into a :class:`MonteCarloSummary`: quantiles of
coverage, unmet need and distance, the chance that at least one emergency household goes
unmet, and that one goes unmet *for lack of capacity* (every site that could serve it was
full; the others had no site in reach that could serve them at all, which more capacity
at the same sites does not change), overall and by postcode district, each with a 95%
interval, and the assumptions in words. :func:`monte_carlo_from_spec` is the whole thing
for a page or a service: a base problem and a scenario document in, a JSON-able summary out.

Chances are shares of draws. With few draws they are rough, so each comes with its Wilson
score interval (:func:`scipy.stats.binomtest`): "3 of 40 draws" reads as 8% (3% to 20%).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from matching.models import Problem
from matching.scenarios.edits import Scenario
from matching.scenarios.errors import ScenarioError, ScenarioProblem
from matching.scenarios.kpis import DEFAULT_MIN_DISTRICT_HOUSEHOLDS, ScenarioKPIs, run_scenario
from matching.scenarios.runner import Draw, Progress, draws_frame, run_draws
from matching.scenarios.spec import check_scenarios, parse_scenarios

__all__ = [
    "MAX_DRAWS",
    "MONTE_CARLO_KPIS",
    "MONTE_CARLO_QUANTILES",
    "Chance",
    "MonteCarlo",
    "MonteCarloSummary",
    "monte_carlo",
    "monte_carlo_from_spec",
    "monte_carlo_summary",
]

MONTE_CARLO_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The quantiles a summary reports by default (p5, p25, p50, p75, p95)."""

SHORT = "unmatched_emergency_capacity"
"""The per-draw column: emergency households unmatched for lack of capacity."""

MONTE_CARLO_KPIS = (
    "households",
    "matched_total",
    "share_households_served",
    "share_people_served",
    "unmatched_emergency",
    SHORT,
    "unmatched_urgent",
    "unmatched_standard",
    "distance_mean_km",
    "distance_p90_km",
    "utilisation",
)
"""The measures summarised, after the factors drawn: coverage, unmet need, distance, use."""

PER_DRAW = ("households", "matched_total", "share_households_served", "unmatched_emergency", SHORT)
"""The measures kept per draw in :meth:`MonteCarloSummary.to_dict` (for scatter plots)."""

MAX_DRAWS = 1000
"""The most draws :func:`monte_carlo_from_spec` runs by default (each is a full match run)."""


@dataclass(frozen=True, slots=True)
class Chance:
    """How often something happened: in ``count`` of ``draws`` draws, with a 95% interval."""

    count: int
    draws: int
    share: float
    low: float
    high: float

    @classmethod
    def of(cls, count: int, draws: int) -> Chance:
        """The share ``count / draws`` and its Wilson score interval at 95%."""
        interval = stats.binomtest(count, draws).proportion_ci(0.95, method="wilson")
        return cls(count, draws, count / draws, float(interval.low), float(interval.high))

    def words(self) -> str:
        """E.g. ``3 of 40 draws (8%; 95% interval 3% to 20%)``."""
        return (
            f"{self.count} of {self.draws} draws ({self.share:.0%}; 95% interval "
            f"{self.low:.0%} to {self.high:.0%})"
        )

    def to_dict(self) -> dict[str, Any]:
        """``count``, ``draws``, ``share``, ``low``, ``high`` (shares from 0 to 1)."""
        return {
            "count": self.count,
            "draws": self.draws,
            "share": self.share,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True)
class MonteCarloSummary:
    """The spread of one scenario's outcomes over its draws, in numbers and words.

    ``kpis`` has one row per measure (index ``kpi``: the factors drawn, then
    :data:`MONTE_CARLO_KPIS`) with ``mean``, ``min``, ``p5`` ... ``p95``, ``max``.
    ``districts`` has one row per postcode district (index ``district``), those most often
    short of capacity for an emergency first: ``households_mean``,
    ``baseline_unmet_emergency`` (today), ``unmet_emergency_draws`` (draws with at least
    one emergency household unmet there), ``unmet_emergency_chance`` with ``unmet_low`` and
    ``unmet_high`` (its 95% interval), the same three for ``short`` (unmet for lack of
    capacity: ``short_draws``, ``short_chance``, ``short_low``, ``short_high``), then
    ``unmet_emergency_mean``, ``unmet_households_mean`` and ``unmet_households_p95``.
    """

    scenario: str
    description: str
    draws: int
    seed: int
    assumptions: tuple[str, ...]
    quantiles: tuple[float, ...]
    kpis: pd.DataFrame = field(repr=False)
    unmet_emergency: Chance
    short_emergency: Chance
    baseline: Mapping[str, Any]
    districts: pd.DataFrame = field(repr=False)
    not_optimal: int
    per_draw: pd.DataFrame = field(repr=False)

    def headline(self) -> str:
        """The answer in plain sentences: how often, where, and today's figure."""
        unmet, short = self.unmet_emergency, self.short_emergency
        if unmet.count == 0:
            first = f"Every emergency household was matched in all {self.draws} draws."
        else:
            first = f"At least one emergency household went unmet in {unmet.words()}."
        if short.count == 0:
            second = (
                "None went unmet for lack of capacity (at 95% confidence that happens in at "
                f"most {short.high:.0%} of cases)."
            )
        else:
            worst = self.districts[self.districts["short_draws"] > 0].head(3)
            where = ", ".join(
                f"{district} ({row['short_chance']:.0%})" for district, row in worst.iterrows()
            )
            second = f"For lack of capacity: in {short.words()}, most often in {where}."
        today = self.baseline.get("unmatched_emergency")
        if today is None:
            return f"{first} {second}"
        also = self.baseline.get(SHORT, 0)
        third = (
            f"Today {today} emergency household{'s' if today != 1 else ''} "
            f"{'are' if today != 1 else 'is'} unmet, {also or 'none'} for lack of capacity."
        )
        return f"{first} {second} {third}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (NaN as None): everything a page needs to show the spread."""
        return {
            "scenario": self.scenario,
            "description": self.description,
            "draws": self.draws,
            "seed": self.seed,
            "assumptions": list(self.assumptions),
            "quantiles": list(self.quantiles),
            "headline": self.headline(),
            "not_proven_optimal": self.not_optimal,
            "unmet_emergency": self.unmet_emergency.to_dict(),
            "short_emergency": self.short_emergency.to_dict(),
            "baseline": {str(k): _value(v) for k, v in self.baseline.items()},
            "kpis": _records(self.kpis),
            "districts": _records(self.districts),
            "per_draw": _records(self.per_draw),
        }


def _value(value: Any) -> Any:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.integer | int):
        return int(value)
    number = float(value)
    return None if math.isnan(number) else number


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = frame.reset_index().to_dict("records")
    return [{str(k): _value(v) for k, v in row.items()} for row in rows]


def _label(q: float) -> str:
    return f"p{round(q * 100)}"


@dataclass(frozen=True)
class MonteCarlo:
    """The raw draws of one sweep: one row per draw, and one per draw and district.

    ``draws`` is :func:`matching.scenarios.sweep` 's table plus
    ``unmatched_emergency_capacity``. ``districts`` has columns ``draw``, ``district``,
    ``households``, ``unmet_households``, ``unmet_emergency``, ``short_emergency`` (every
    district seen in any draw appears in every draw, with zeros where it had nobody).
    ``baseline`` is today's run (None when not asked for).
    """

    scenario: Scenario
    seed: int
    draws: pd.DataFrame = field(repr=False)
    districts: pd.DataFrame = field(repr=False)
    baseline: ScenarioKPIs | None = field(default=None, repr=False)

    def summary(self, quantiles: Sequence[float] = MONTE_CARLO_QUANTILES) -> MonteCarloSummary:
        """Quantiles, chances of unmet emergencies (overall and by district), assumptions."""
        if not quantiles or not all(0.0 <= q <= 1.0 for q in quantiles):
            raise ValueError(f"expected quantiles between 0 and 1, got {list(quantiles)}")
        count = len(self.draws)
        factors = [name for name, _ in self.scenario.uncertain]
        numeric = self.draws[[*factors, *MONTE_CARLO_KPIS]].apply(pd.to_numeric, errors="coerce")
        numeric = numeric.astype(float)
        kpis = pd.DataFrame(
            {
                "mean": numeric.mean(),
                "min": numeric.min(),
                **{_label(q): numeric.quantile(q) for q in quantiles},
                "max": numeric.max(),
            }
        )
        kpis.index.name = "kpi"
        baseline: dict[str, Any] = {}
        if self.baseline is not None:
            today = self.baseline.summary()
            baseline = {k: today[k] for k in ("households", *MONTE_CARLO_KPIS[1:]) if k in today}
            baseline[SHORT] = sum(self.baseline.short_emergency_by_district.values())
            baseline.update(dict.fromkeys(factors, 1.0))  # today is x1
        return MonteCarloSummary(
            scenario=self.scenario.name,
            description=self.scenario.description,
            draws=count,
            seed=self.seed,
            assumptions=_assumptions(self.scenario),
            quantiles=tuple(quantiles),
            kpis=kpis,
            unmet_emergency=Chance.of(int((self.draws["unmatched_emergency"] > 0).sum()), count),
            short_emergency=Chance.of(int((self.draws[SHORT] > 0).sum()), count),
            baseline=baseline,
            districts=_district_table(self.districts, count, self.baseline),
            not_optimal=int((self.draws["status"] != "optimal").sum()),
            per_draw=self.draws[["seed", *factors, *PER_DRAW]],
        )


def _assumptions(scenario: Scenario) -> tuple[str, ...]:
    out = [f"{name.replace('_', ' ')}: {spread.describe()}" for name, spread in scenario.uncertain]
    if scenario.has_demand:
        out.append("households: resampled from the base's in every draw")
    return tuple(out)


DISTRICT_COLUMNS = (
    "households_mean",
    "baseline_unmet_emergency",
    "unmet_emergency_draws",
    "unmet_emergency_chance",
    "unmet_low",
    "unmet_high",
    "short_draws",
    "short_chance",
    "short_low",
    "short_high",
    "unmet_emergency_mean",
    "unmet_households_mean",
    "unmet_households_p95",
)


def _district_table(long: pd.DataFrame, draws: int, baseline: ScenarioKPIs | None) -> pd.DataFrame:
    if long.empty:
        return pd.DataFrame(columns=list(DISTRICT_COLUMNS), index=pd.Index([], name="district"))
    grouped = long.groupby("district", sort=True)
    table = pd.DataFrame(
        {
            "households_mean": grouped["households"].mean(),
            "unmet_emergency_mean": grouped["unmet_emergency"].mean(),
            "unmet_households_mean": grouped["unmet_households"].mean(),
            "unmet_households_p95": grouped["unmet_households"].quantile(0.95),
        }
    )
    today = {} if baseline is None else baseline.unmet_emergency_by_district
    table["baseline_unmet_emergency"] = [
        today.get(str(d), 0) if baseline is not None else math.nan for d in table.index
    ]
    for column, hits_column, share, low, high in (
        (
            "unmet_emergency",
            "unmet_emergency_draws",
            "unmet_emergency_chance",
            "unmet_low",
            "unmet_high",
        ),
        ("short_emergency", "short_draws", "short_chance", "short_low", "short_high"),
    ):
        hits = grouped[column].apply(lambda s: int((s > 0).sum()))
        chances = [Chance.of(int(hits[d]), draws) for d in table.index]
        table[hits_column] = hits
        table[share] = [c.share for c in chances]
        table[low] = [c.low for c in chances]
        table[high] = [c.high for c in chances]
    table = table[list(DISTRICT_COLUMNS)].reset_index()
    table = table.sort_values(
        ["short_draws", "unmet_emergency_draws", "unmet_households_mean", "district"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    return table.set_index("district")


def _districts_long(draws: Sequence[Draw]) -> pd.DataFrame:
    columns = ["households", "unmet_households", "unmet_emergency", "short_emergency"]
    rows = []
    for d in draws:
        unmet = d.kpis.unmet_emergency_by_district
        short = d.kpis.short_emergency_by_district
        for district, row in d.kpis.districts.iterrows():
            name = str(district)
            rows.append(
                {
                    "draw": d.index,
                    "district": name,
                    "households": int(row["households"]),
                    "unmet_households": int(row["unmet_households"]),
                    "unmet_emergency": int(unmet.get(name, 0)),
                    "short_emergency": int(short.get(name, 0)),
                }
            )
    long = pd.DataFrame(rows, columns=["draw", "district", *columns])
    if long.empty:
        return long
    # A district absent from a draw (fewer households drawn) had nobody there: zeros.
    full = pd.MultiIndex.from_product(
        [sorted({d.index for d in draws}), sorted(long["district"].unique())],
        names=["draw", "district"],
    )
    long = long.set_index(["draw", "district"]).reindex(full, fill_value=0).reset_index()
    return long.astype(dict.fromkeys(["draw", *columns], int))


def monte_carlo(
    base: Problem,
    scenario: Scenario,
    *,
    draws: int,
    seed: int = 0,
    baseline: bool = True,
    time_limit: float | None = None,
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
    parallel: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> MonteCarlo:
    """Run ``draws`` draws of ``scenario`` on ``base`` and keep what a summary needs.

    Arguments as :func:`matching.scenarios.sweep`; the scenario must vary (resample demand
    or state an uncertain factor). ``baseline`` also runs the base once, here, for the
    "today" figures. Same ``seed`` and ``draws``: same numbers, serially or on Dask.
    """
    runs = run_draws(
        base,
        scenario,
        draws=draws,
        seed=seed,
        time_limit=time_limit,
        min_district_households=min_district_households,
        parallel=parallel,
        scheduler=scheduler,
        progress=progress,
    )
    today = None
    if baseline:
        today = run_scenario(
            base, None, time_limit=time_limit, min_district_households=min_district_households
        )
    frame = draws_frame(runs)
    frame[SHORT] = [sum(d.kpis.short_emergency_by_district.values()) for d in runs]
    return MonteCarlo(scenario, seed, frame, _districts_long(runs), today)


def monte_carlo_summary(
    base: Problem,
    scenario: Scenario,
    *,
    draws: int,
    seed: int = 0,
    quantiles: Sequence[float] = MONTE_CARLO_QUANTILES,
    time_limit: float | None = None,
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
    parallel: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> MonteCarloSummary:
    """:func:`monte_carlo` (with the baseline) followed by :meth:`MonteCarlo.summary`."""
    return monte_carlo(
        base,
        scenario,
        draws=draws,
        seed=seed,
        time_limit=time_limit,
        min_district_households=min_district_households,
        parallel=parallel,
        scheduler=scheduler,
        progress=progress,
    ).summary(quantiles)


def _chosen(
    spec: Mapping[str, Any], base: Problem, scenario: str | None, draws: int, max_draws: int
) -> Scenario:
    """The scenario to sweep from a request's document, or ScenarioError naming every fault."""
    source = "body"
    if not isinstance(spec, Mapping):
        raise ScenarioError([ScenarioProblem("expected a JSON object", source)])
    problems: list[ScenarioProblem] = []
    if "base" in spec:
        message = "not accepted here; expected the base to be given separately"
        problems.append(ScenarioProblem(message, source, key="base"))
    try:
        scenarios = parse_scenarios({k: v for k, v in spec.items() if k != "base"}, source=source)
    except ScenarioError as err:
        raise ScenarioError([*problems, *err.problems]) from err
    names = [s.name for s in scenarios]
    if scenario is None and len(scenarios) != 1:
        message = f"expected the name of the scenario to sweep, one of: {', '.join(names)}"
        problems.append(ScenarioProblem(message, source, key="scenario"))
    elif scenario is not None and scenario not in names:
        message = f"no scenario named {scenario!r}; expected one of: {', '.join(names)}"
        problems.append(ScenarioProblem(message, source, key="scenario"))
    if not 1 <= draws <= max_draws:
        message = f"expected 1 to {max_draws} draws, got {draws}"
        problems.append(ScenarioProblem(message, source, key="draws"))
    if problems:
        raise ScenarioError(problems)
    check_scenarios(scenarios, base, source=source)
    chosen = next(s for s in scenarios if scenario is None or s.name == scenario)
    if not chosen.varies:
        message = (
            "does not scale demand or state an uncertain factor, so every draw would be the "
            "same; expected a 'demand' edit or a distribution"
        )
        raise ScenarioError([ScenarioProblem(message, source, scenario=chosen.name)])
    return chosen


def monte_carlo_from_spec(
    base: Problem,
    spec: Mapping[str, Any],
    *,
    scenario: str | None = None,
    draws: int = 100,
    seed: int = 0,
    max_draws: int = MAX_DRAWS,
    max_time_limit: float | None = None,
    parallel: int = 1,
    scheduler: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """A Monte Carlo summary as JSON from a scenario document: pure data in, summary out.

    ``spec`` is the scenario file's content as parsed TOML or JSON, without ``[base]``
    (``{"settings": {...}?, "scenario": [{"name": ..., "demand": {"factor": {"distribution":
    "uniform", "low": 1.1, "high": 1.4}}}, ...]}``); ``scenario`` names the one to sweep
    (optional when the document has one). Everything is checked against ``base`` first: any
    problem raises :class:`~matching.scenarios.errors.ScenarioError` listing them all
    (source ``body``; :func:`api.scenarios.service.field_problems` turns it into a 422),
    before anything runs. ``max_time_limit`` caps ``settings.time_limit``;
    ``on_progress(done, total)`` is called after each draw. ``parallel`` and ``scheduler``
    as :func:`matching.scenarios.run_many`. Returns :meth:`MonteCarloSummary.to_dict`.
    """
    chosen = _chosen(spec, base, scenario, draws, max_draws)
    settings = spec.get("settings", {})
    limit = settings.get("time_limit")
    if max_time_limit is not None:
        limit = max_time_limit if limit is None else min(float(limit), max_time_limit)
    done = 0

    def progress(_index: int) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, draws)

    summary = monte_carlo_summary(
        base,
        chosen,
        draws=draws,
        seed=seed,
        time_limit=None if limit is None else float(limit),
        min_district_households=int(
            settings.get("min_district_households", DEFAULT_MIN_DISTRICT_HOUSEHOLDS)
        ),
        parallel=parallel,
        scheduler=scheduler,
        progress=progress,
    )
    return summary.to_dict()
