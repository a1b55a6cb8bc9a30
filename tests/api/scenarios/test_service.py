"""The scenarios use case behind POST /scenarios: spec in, JSON-able KPIs and comparison out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.scenarios.service import field_problems, run_scenarios, validate_spec
from matching.io import read_problem
from matching.models import Problem
from matching.scenarios import ScenarioError

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def base() -> Problem:
    """A 40-household slice of the Leeds sample with all its sites."""
    full = read_problem(REPO / "data/sample/referrals.csv", REPO / "data/sample/providers.csv")
    return Problem(full.referrals[:40], full.providers)


SPEC = {
    "settings": {"time_limit": 5, "min_district_households": 2},
    "scenario": [
        {"name": "shut", "close": ["P017"]},
        {"name": "surge", "demand": {"factor": 1.5, "seed": 3}},
    ],
}


def test_run_returns_json_ready_kpis_and_comparison(base: Problem) -> None:
    """The result serialises as strict JSON and lines up baseline, scenarios and differences."""
    calls: list[tuple[int, int]] = []
    result = run_scenarios(base=base, spec=SPEC, on_progress=lambda d, t: calls.append((d, t)))
    json.dumps(result, allow_nan=False)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert [s["name"] for s in result["scenarios"]] == ["shut", "surge"]
    assert result["baseline"]["summary"]["households"] == 40
    assert result["comparison"]["columns"] == [
        "kpi", "baseline", "shut", "shut (diff)", "surge", "surge (diff)",
    ]  # fmt: skip
    rows = {row["kpi"]: row for row in result["comparison"]["rows"]}
    assert rows["households"]["surge"] == 60 and rows["households"]["surge (diff)"] == 20
    assert result["all_optimal"] is True
    referral_ids = {r.referral_id for r in base.referrals}
    text = json.dumps(result)
    assert not any(f'"{rid}"' in text for rid in referral_ids)


def test_spec_with_a_base_path_is_refused(base: Problem) -> None:
    """Over the API the base is never a server path: a 'base' key is a 422-style problem."""
    with pytest.raises(ScenarioError) as info:
        validate_spec(base=base, spec={**SPEC, "base": {"referrals": "/etc/passwd"}})
    assert field_problems(info.value) == [
        {
            "field": "base",
            "location": "body",
            "message": "not accepted over the API; expected the base to come from the live "
            "snapshot or uploaded CSVs",
        }
    ]


def test_bad_spec_lists_every_problem_with_its_field(base: Problem) -> None:
    """Bad values and unknown sites come back as field problems naming scenario and key."""
    spec = {"scenario": [{"name": "a", "demand": {"factor": "lots"}}, {"name": "b", "close": "X"}]}
    with pytest.raises(ScenarioError) as info:
        validate_spec(base=base, spec=spec)
    assert field_problems(info.value) == [
        {
            "field": "scenario.a.demand.factor",
            "location": "body",
            "message": "expected a number > 0 and <= 20, got 'lots'",
        }
    ]
    with pytest.raises(ScenarioError) as info:
        validate_spec(base=base, spec={"scenario": [{"name": "b", "close": "X"}]})
    (problem,) = field_problems(info.value)
    assert problem["field"] == "scenario.b.close"
    assert problem["message"].startswith("unknown provider 'X'; expected one of the base's")


def test_too_many_scenarios_are_refused(base: Problem) -> None:
    """A request may not queue more match runs than the service allows."""
    spec = {"scenario": [{"name": f"s{i}", "demand": 1.1} for i in range(3)]}
    with pytest.raises(ScenarioError, match="3 scenarios; expected at most 2"):
        validate_spec(base=base, spec=spec, max_scenarios=2)
