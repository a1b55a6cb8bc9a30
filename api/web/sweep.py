"""The planner's sweep form: "if demand rises by somewhere between 10% and 40%, how often do
emergencies go unmet, and where?", as a scenario with distributions, and its answer as a page.

The form names ranges in percentages (demand, and optionally capacity), how many draws and the
first draw number; :func:`sweep_request` turns it into the scenario document a file would hold
(``demand = { factor = { distribution = "uniform", low = 1.1, high = 1.4 } }``), checked against
the base like any scenario file. The run is
:func:`matching.scenarios.monte_carlo_from_spec` on the run store's worker; the page reads its
summary with :func:`sweep_view`: quantiles as people read them, chances with their intervals,
districts by the chance of an emergency going unmet, and a scatter of the draws.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.scenarios.service import validate_spec
from api.web import forms
from api.web.forms import FormValues
from api.web.planner import svg_uri
from matching.models import Problem
from matching.scenarios import ScenarioError

MAX_DRAWS = 200
"""The most draws a page asks for (each is a full matching run)."""

DEFAULTS = {"demand_low": "10", "demand_high": "40", "capacity_low": "", "capacity_high": "",
            "draws": "40", "seed": "1", "seconds": "5", "base": "sample"}  # fmt: skip
"""What the form starts with: the planner's own question, on the sample region."""

_SIGNED = re.compile(r"[+-]?([0-9]{1,5}(\.[0-9]{1,4})?|\.[0-9]{1,4})")


def _percent(raw: str) -> float | None:
    text = raw.replace("%", "").replace(" ", "").replace("\u2212", "-")
    return float(text) if _SIGNED.fullmatch(text) else None


def _range(
    form: FormValues, prefix: str, what: str, low_limit: float, high_limit: float,
    errors: dict[str, str], *, optional: bool,
) -> tuple[float, float] | None:  # fmt: skip
    """A low and high percentage change, each within limits, low below high."""
    raw_low, raw_high = forms.text(form, f"{prefix}_low"), forms.text(form, f"{prefix}_high")
    if optional and not raw_low and not raw_high:
        return None
    low, high = _percent(raw_low), _percent(raw_high)
    between = f"from {low_limit:g}% to {high_limit:+g}%"
    for key, raw, value in ((f"{prefix}_low", raw_low, low), (f"{prefix}_high", raw_high, high)):
        if not raw:
            errors[key] = f"Enter the {'lowest' if key.endswith('low') else 'highest'} change " \
                          f"in {what}, as a percentage like 10 or -20"  # fmt: skip
        elif value is None:
            errors[key] = f"Enter the change in {what} as a number of per cent, like 10 or -20"
        elif not low_limit <= value <= high_limit:
            errors[key] = f"Enter a change in {what} {between}"
    if errors.keys() & {f"{prefix}_low", f"{prefix}_high"} or low is None or high is None:
        return None
    if high <= low:
        errors[f"{prefix}_high"] = (f"The highest change in {what} must be above the lowest "
                                    f"({low:g}%)")  # fmt: skip
        return None
    return low, high


def _uniform(low: float, high: float) -> dict[str, Any]:
    return {"distribution": "uniform", "low": round(1 + low / 100, 6),
            "high": round(1 + high / 100, 6)}  # fmt: skip


@dataclass(frozen=True)
class SweepRequest:
    """A checked sweep: the scenario document, its title, draws, first draw and seconds."""

    spec: dict[str, Any]
    title: str
    draws: int
    seed: int
    seconds: float


def _signed(value: float) -> str:
    return f"{value:+g}%"


def sweep_request(
    form: FormValues, base: Problem, max_seconds: float
) -> tuple[SweepRequest | None, dict[str, str]]:
    """The sweep the form asks for, checked against ``base``; or the errors at their fields."""
    errors: dict[str, str] = {}
    demand = _range(form, "demand", "demand", -90, 1900, errors, optional=False)
    capacity = _range(form, "capacity", "capacity", -100, 500, errors, optional=True)
    draws = forms.whole_number(forms.text(form, "draws"), 2, MAX_DRAWS)
    if draws is None:
        errors["draws"] = f"Enter a whole number of draws from 2 to {MAX_DRAWS}"
    seed = forms.whole_number(forms.text(form, "seed"), 0, 999_999_999)
    if seed is None:
        errors["seed"] = "Enter a whole number from 0 for the first draw"
    seconds = forms.decimal_number(forms.text(form, "seconds"), 0, max_seconds)
    if seconds is None or seconds < 1:
        seconds = None
        errors["seconds"] = f"Enter a number of seconds from 1 to {max_seconds:g}"
    if errors or demand is None or draws is None or seed is None or seconds is None:
        return None, errors
    words = f"Demand {_signed(demand[0])} to {_signed(demand[1])}"
    scenario: dict[str, Any] = {"name": "sweep", "description": words,
                                "demand": {"factor": _uniform(*demand)}}  # fmt: skip
    if capacity is not None:
        scenario["capacity"] = {"factor": _uniform(*capacity)}
        words += f", capacity {_signed(capacity[0])} to {_signed(capacity[1])}"
    spec = {"settings": {"time_limit": seconds}, "scenario": [scenario]}
    try:
        validate_spec(base=base, spec=spec)
    except ScenarioError as err:  # the form's own numbers are checked above; say it plainly
        return None, {"demand_low": "; ".join(p.message for p in err.problems)}
    return SweepRequest(spec, f"Sweep: {words}, {draws} draws", draws, seed, seconds), {}


def _share(value: Any) -> str:
    return "" if value is None else f"{float(value):.0%}"


def _count(value: Any) -> str:
    return "" if value is None else f"{float(value):,.0f}"


def _km(value: Any) -> str:
    return "" if value is None else f"{float(value):.1f} km"


def _factor(value: Any) -> str:
    return "" if value is None else f"{(float(value) - 1) * 100:+.0f}%"


ROWS = (
    ("demand_factor", "Demand drawn (change)", _factor),
    ("capacity_factor", "Capacity drawn (change)", _factor),
    ("households", "Households referred", _count),
    ("share_households_served", "Share of households served", _share),
    ("share_people_served", "Share of people served", _share),
    ("unmatched_emergency", "Emergency households unmet", _count),
    ("unmatched_emergency_capacity", "… of them for lack of capacity", _count),
    ("unmatched_urgent", "Urgent households unmet", _count),
    ("unmatched_standard", "Standard households unmet", _count),
    ("distance_mean_km", "Mean distance", _km),
    ("distance_p90_km", "90th percentile distance", _km),
    ("utilisation", "Share of places used", _share),
)
"""The spread table's rows: the measure, its words, and how its figures read."""


def chance_words(chance: Mapping[str, Any]) -> str:
    """E.g. "8% of draws (3 of 40; 95% interval 3% to 20%)"."""
    return (f"{chance['share']:.0%} of draws ({chance['count']} of {chance['draws']}; "
            f"95% interval {chance['low']:.0%} to {chance['high']:.0%})")  # fmt: skip


def sweep_view(summary: Mapping[str, Any]) -> dict[str, Any]:
    """What the sweep's page shows, from :meth:`MonteCarloSummary.to_dict`."""
    quantiles = [f"p{round(q * 100)}" for q in summary["quantiles"]]
    by_kpi = {row["kpi"]: row for row in summary["kpis"]}
    baseline = summary.get("baseline") or {}
    rows = []
    for key, words, shown in ROWS:
        row = by_kpi.get(key)
        if row is None:
            continue
        today = baseline.get(key)
        rows.append((words, [shown(row.get(q)) for q in quantiles],
                     "" if today is None else shown(today)))  # fmt: skip
    districts = [
        {
            "district": d["district"],
            "households": _count(d.get("households_mean")),
            "unmet": f"{d['unmet_emergency_chance']:.0%}",
            "unmet_interval": f"{d['unmet_low']:.0%} to {d['unmet_high']:.0%}",
            "short": f"{d['short_chance']:.0%}",
            "today": _count(d.get("baseline_unmet_emergency")),
        }
        for d in summary["districts"]
        if d.get("unmet_emergency_draws") or d.get("short_draws")
    ]
    quiet = sum(1 for d in summary["districts"]
                if not (d.get("unmet_emergency_draws") or d.get("short_draws")))  # fmt: skip
    headers = ["Median" if q == 0.5 else f"{round(q * 100)}th" for q in summary["quantiles"]]
    return {
        "headers": headers,
        "rows": rows,
        "unmet": chance_words(summary["unmet_emergency"]),
        "short": chance_words(summary["short_emergency"]),
        "districts": districts,
        "quiet_districts": quiet,
    }


def scatter(summary: Mapping[str, Any]) -> tuple[str, str] | None:
    """The draws as points (households referred against share served) as an SVG data URI,
    with its alt text; ``None`` without matplotlib (the planning extra)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # matplotlib is in the planning extra
        return None
    points = summary["per_draw"]
    xs = [float(p["households"]) for p in points]
    ys = [float(p["share_households_served"]) * 100 for p in points]
    short = [bool(p.get("unmatched_emergency_capacity")) for p in points]
    figure = Figure(figsize=(6.4, 3.8))
    axes = figure.subplots()
    axes.scatter([x for x, s in zip(xs, short, strict=True) if not s],
                 [y for y, s in zip(ys, short, strict=True) if not s],
                 color="#1d70b8", marker="o", label="every emergency served")  # fmt: skip
    if any(short):
        axes.scatter([x for x, s in zip(xs, short, strict=True) if s],
                     [y for y, s in zip(ys, short, strict=True) if s], color="#d4351c",
                     marker="x", label="an emergency unmet for lack of capacity")  # fmt: skip
    axes.set_xlabel("Households referred in the draw")
    axes.set_ylabel("Households served (%)")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    figure.tight_layout()
    uri = svg_uri(figure)
    alt = (f"Each of {len(xs)} draws as a point: from {min(xs):,.0f} to {max(xs):,.0f} "
           f"households referred, {min(ys):.0f}% to {max(ys):.0f}% of them served; "
           f"{sum(short)} draws left an emergency unmet for lack of capacity.")  # fmt: skip
    return uri, alt
