"""Monte Carlo over uncertain demand: the spread, how often emergencies go unmet, and where."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from matching.io import read_problem
from matching.models import Problem, Urgency
from matching.scenarios import (
    MONTE_CARLO_QUANTILES,
    Chance,
    ScaleCapacity,
    ScaleDemand,
    Scenario,
    ScenarioError,
    Uniform,
    monte_carlo,
    monte_carlo_from_spec,
    monte_carlo_summary,
    parse_scenarios,
)
from tests.matching.builders import provider, referral

REPO = Path(__file__).resolve().parents[3]
ILKLEY = (53.925, -1.822)  # LS29: about 25 km from LS9, beyond any household's 5 km
SHORT = "unmatched_emergency_capacity"


@pytest.fixture(scope="module")
def small_region() -> Problem:
    """The first 60 households of the Leeds sample with all its sites: solves in a blink."""
    full = read_problem(REPO / "data/sample/referrals.csv", REPO / "data/sample/providers.csv")
    return Problem(full.referrals[:60], full.providers)


def emergencies(capacity: int) -> Problem:
    """Three emergency households in LS9, one in LS29 out of everyone's reach; one LS9 site."""
    households = [referral(f"R{i}", at="LS9", urgency=Urgency.EMERGENCY) for i in range(3)]
    far = referral("R9", urgency=Urgency.EMERGENCY, at=ILKLEY, outcode="LS29")
    return Problem((*households, far), (provider("P1", capacity=capacity, at="LS9"),))


RISE = Scenario("rise", (ScaleDemand(1.25, 0, Uniform(1.0, 1.5)),), "Up by 0% to 50%.")


def test_chance_has_the_wilson_score_interval() -> None:
    """3 of 40 draws is 7.5% with the Wilson interval computed by hand."""
    chance = Chance.of(3, 40)
    n, p, z = 40, 3 / 40, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert chance.share == pytest.approx(0.075)
    assert (chance.low, chance.high) == pytest.approx((centre - half, centre + half))
    assert chance.words() == "3 of 40 draws (8%; 95% interval 3% to 20%)"


def test_lack_of_capacity_is_told_apart_from_out_of_reach() -> None:
    """LS9 is short of capacity in every draw; LS29's emergency is unmet but out of reach."""
    result = monte_carlo(emergencies(capacity=2), RISE, draws=6, seed=3)
    draws = result.draws
    assert (draws["matched_total"] == 2).all()  # the site is always full, with emergencies
    assert (draws["unmatched_emergency"] == draws["households"] - 2).all()
    per_draw = result.districts.groupby("draw")[["unmet_emergency", "short_emergency"]].sum()
    assert per_draw["unmet_emergency"].tolist() == draws["unmatched_emergency"].tolist()
    assert per_draw["short_emergency"].tolist() == draws[SHORT].tolist()

    summary = result.summary()
    assert (summary.unmet_emergency.count, summary.short_emergency.count) == (6, 6)
    assert list(summary.districts.index) == ["LS9", "LS29"]
    ls9, ls29 = summary.districts.loc["LS9"], summary.districts.loc["LS29"]
    assert (ls9["short_draws"], ls9["short_chance"], ls9["baseline_unmet_emergency"]) == (6, 1, 1)
    assert (ls29["unmet_emergency_draws"], ls29["short_draws"]) == (6, 0)
    assert ls29["unmet_emergency_mean"] >= 1 and ls29["baseline_unmet_emergency"] == 1
    assert summary.baseline["unmatched_emergency"] == 2 and summary.baseline[SHORT] == 1
    assert summary.headline() == (
        "At least one emergency household went unmet in 6 of 6 draws (100%; 95% interval 61% "
        "to 100%). For lack of capacity: in 6 of 6 draws (100%; 95% interval 61% to 100%), "
        "most often in LS9 (100%). Today 2 emergency households are unmet, 1 for lack of "
        "capacity."
    )


def test_enough_capacity_leaves_no_emergency_unmet() -> None:
    """With room for everyone in reach the summary says so, with how sure 5 draws can be."""
    problem = emergencies(capacity=50)
    problem = Problem(problem.referrals[:3], problem.providers)  # LS9 only
    summary = monte_carlo_summary(problem, RISE, draws=5, seed=1)
    assert summary.unmet_emergency.count == 0 and summary.short_emergency.count == 0
    assert summary.headline() == (
        "Every emergency household was matched in all 5 draws. None went unmet for lack of "
        "capacity (at 95% confidence that happens in at most 43% of cases). Today 0 emergency "
        "households are unmet, none for lack of capacity."
    )


def test_uncertain_demand_varies_the_households(small_region: Problem) -> None:
    """Each draw has round(factor x 60) households, the factors spread over 1.1 to 1.4."""
    winter = Scenario("winter", (ScaleDemand(1.25, 0, Uniform(1.1, 1.4)),))
    result = monte_carlo(small_region, winter, draws=8, seed=5)
    draws = result.draws
    expected = [math.floor(f * 60 + 0.5) for f in draws["demand_factor"]]
    assert draws["households"].tolist() == expected
    assert draws["households"].nunique() > 3  # a spread, not one vertical line
    assert draws["demand_factor"].between(1.1, 1.4).all()

    summary = result.summary()
    labels = ["min", *(f"p{round(q * 100)}" for q in MONTE_CARLO_QUANTILES), "max"]
    assert list(summary.kpis.columns) == ["mean", *labels]
    for kpi, row in summary.kpis.iterrows():
        values = row[labels].astype(float).tolist()
        assert values == sorted(values), kpi
    assert summary.kpis.loc["households", "max"] == draws["households"].max()
    assert summary.assumptions == (
        "demand factor: uniform between 1.1 and 1.4",
        "households: resampled from the base's in every draw",
    )
    again = monte_carlo(small_region, winter, draws=8, seed=5)
    pd.testing.assert_frame_equal(draws, again.draws)
    pd.testing.assert_frame_equal(result.districts, again.districts)
    other = monte_carlo(small_region, winter, draws=8, seed=6, baseline=False)
    assert other.draws["demand_factor"].tolist() != draws["demand_factor"].tolist()
    assert other.baseline is None and other.summary().baseline == {}


def test_uncertain_capacity_alone_is_a_sweep(small_region: Problem) -> None:
    """A scenario with only a capacity distribution varies the capacity, not the households."""
    thin = Scenario("thin", (ScaleCapacity(0.3, spread=Uniform(0.1, 0.5)),))
    summary = monte_carlo_summary(small_region, thin, draws=5, seed=2)
    per_draw = monte_carlo(small_region, thin, draws=5, seed=2, baseline=False).draws
    assert per_draw["households"].nunique() == 1
    assert per_draw["capacity_total"].nunique() > 1
    assert summary.assumptions == ("capacity factor: uniform between 0.1 and 0.5",)


SPEC = {
    "settings": {"min_district_households": 2},
    "scenario": [
        {
            "name": "winter",
            "description": "Winter demand up by 10% to 40%.",
            "demand": {"factor": {"distribution": "uniform", "low": 1.1, "high": 1.4}},
        },
        {"name": "shut", "close": ["P017"]},
    ],
}


def test_a_page_gets_the_summary_as_json(small_region: Problem) -> None:
    """Base and document in, a JSON-able summary out, equal to the library's; progress counted."""
    seen: list[tuple[int, int]] = []
    out = monte_carlo_from_spec(
        small_region,
        SPEC,
        scenario="winter",
        draws=4,
        seed=9,
        on_progress=lambda *a: seen.append(a),
    )
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    (winter,) = [s for s in parse_scenarios(SPEC) if s.name == "winter"]
    direct = monte_carlo_summary(
        small_region, winter, draws=4, seed=9, min_district_households=2
    ).to_dict()
    assert json.dumps(out, sort_keys=True) == json.dumps(direct, sort_keys=True)
    assert out["scenario"] == "winter" and out["draws"] == 4 and out["seed"] == 9
    assert set(out) >= {"headline", "kpis", "districts", "per_draw", "unmet_emergency"}
    assert [row["kpi"] for row in out["kpis"]][:2] == ["demand_factor", "households"]
    assert len(out["per_draw"]) == 4 and "demand_factor" in out["per_draw"][0]


@pytest.mark.parametrize(
    ("spec", "options", "expected"),
    [
        (SPEC, {}, [("scenario", "expected the name of the scenario to sweep, one of: winter")]),
        (SPEC, {"scenario": "spring"}, [("scenario", "no scenario named 'spring'")]),
        (SPEC, {"scenario": "winter", "draws": 0}, [("draws", "expected 1 to 1000 draws")]),
        (SPEC, {"scenario": "winter", "draws": 5, "max_draws": 4}, [("draws", "expected 1 to 4")]),
        (SPEC, {"scenario": "shut"}, [(None, "does not scale demand or state an uncertain")]),
        (
            {**SPEC, "base": {"referrals": "x.csv"}},
            {"scenario": "winter"},
            [("base", "not accepted here")],
        ),
        (
            {"scenario": [{"name": "w", "demand": {"factor": {"distribution": "beta"}}}]},
            {},
            [("demand.factor.distribution", "expected 'distribution' = one of uniform")],
        ),
        (
            {"scenario": [{"name": "w", "close": ["P999"], "demand": 1.2}]},
            {},
            [("close", "unknown provider 'P999'")],
        ),
    ],
)
def test_a_bad_request_is_refused_before_anything_runs(
    small_region: Problem,
    spec: dict[str, object],
    options: dict[str, object],
    expected: list[tuple[str | None, str]],
) -> None:
    """Each fault is a ScenarioError naming the key and what was expected (source: the body)."""
    with pytest.raises(ScenarioError) as info:
        monte_carlo_from_spec(small_region, spec, **options)  # type: ignore[arg-type]
    found = [(p.key, p.message) for p in info.value.problems]
    assert len(found) == len(expected)
    for (key, message), (want_key, want) in zip(found, expected, strict=True):
        assert key == want_key and message.startswith(want), (key, message)
    assert {p.source for p in info.value.problems} == {"body"}
