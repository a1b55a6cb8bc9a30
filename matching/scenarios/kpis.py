"""What one match run means for a planner: counts, shares, distances and fairness.

:func:`compute_kpis` reads a Problem and the engine's :class:`~matching.models.MatchResult`
and gives the planner's numbers (:class:`ScenarioKPIs`); :func:`run_scenario` applies a
scenario, solves it and computes them. Only aggregates leave this module (counts by tier,
district and provider): no referral id, postcode or household ever appears in a KPI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from matching.models import URGENCY_ORDER, MatchResult, Mode, Problem, Reason, Urgency
from matching.scenarios.edits import Scenario, apply_scenario
from matching.scenarios.engine import solve_problem

__all__ = [
    "DEFAULT_MIN_DISTRICT_HOUSEHOLDS",
    "NO_DISTRICT",
    "ScenarioKPIs",
    "compute_kpis",
    "run_scenario",
]

DEFAULT_MIN_DISTRICT_HOUSEHOLDS = 5
"""Districts with fewer referred households are left out of the fairness measures: one
unmatched household in a district of two would otherwise read as a 50% served rate."""

NO_DISTRICT = "(no postcode)"
"""The district label for referrals given by coordinates only."""


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
    unmet_emergency_by_district: Mapping[str, int] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Unmatched emergency households per district, for districts with any (Monte Carlo)."""
    short_emergency_by_district: Mapping[str, int] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Of those, the ones unmatched for lack of capacity (every site that could serve them was
    full), per district with any; the others had no site in reach that could serve them."""

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
    unmet_emergency: dict[str, int] = {}
    short_emergency: dict[str, int] = {}
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
            if referral.urgency is Urgency.EMERGENCY:
                unmet_emergency[district] = unmet_emergency.get(district, 0) + 1
                if match.reason is Reason.CAPACITY_EXHAUSTED:
                    short_emergency[district] = short_emergency.get(district, 0) + 1
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
        unmet_emergency_by_district=unmet_emergency,
        short_emergency_by_district=short_emergency,
    )


def run_scenario(
    base: Problem,
    scenario: Scenario | None,
    *,
    time_limit: float | None = None,
    min_district_households: int = DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
) -> ScenarioKPIs:
    """Apply a scenario (``None`` = the baseline), solve it with the engine, return its KPIs."""
    problem = base if scenario is None else apply_scenario(base, scenario)
    result = solve_problem(problem, time_limit=time_limit)
    return compute_kpis(
        problem,
        result,
        name="baseline" if scenario is None else scenario.name,
        description="" if scenario is None else scenario.description,
        min_district_households=min_district_households,
    )
