"""Stated uncertainty: distributions, how a scenario file states them, and reproducible draws."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from matching.io import InputError, InputProblem
from matching.scenarios import (
    CloseProviders,
    ScaleCapacity,
    ScaleDemand,
    Scenario,
    ScenarioError,
    ScenarioProblem,
    Triangular,
    TruncatedNormal,
    Uniform,
    load_scenario_file,
    parse_scenarios,
)
from matching.scenarios.distributions import median, quantile, sample
from tests.matching.builders import scenario_file


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    return [str(p) for p in info.value.problems]


# ---------------------------------------------------------------------------------------
# One error type for bad input


def test_a_scenario_error_is_an_input_error() -> None:
    """ScenarioError is an InputError and its problems InputProblems: line = row, key = column."""
    problem = ScenarioProblem("expected a number", "plan.toml", 7, "surge", "demand.factor")
    error = ScenarioError([problem])
    assert isinstance(error, InputError) and isinstance(problem, InputProblem)
    assert (problem.file, problem.row, problem.column) == ("plan.toml", 7, "demand.factor")
    assert (problem.source, problem.line, problem.key) == ("plan.toml", 7, "demand.factor")
    assert str(error) == (
        "1 problem in the scenarios:\n"
        "  - plan.toml, line 7, scenario 'surge', key 'demand.factor': expected a number"
    )
    other = ScenarioProblem("expected a number", "plan.toml", 7, "winter", "demand.factor")
    assert problem != other  # the scenario is part of where a problem is
    with pytest.raises(InputError):
        raise error


# ---------------------------------------------------------------------------------------
# Distributions


def test_medians_are_the_middle_values() -> None:
    """Uniform: the midpoint; symmetric triangular and normal: the centre; skewed: the formula."""
    assert median(Uniform(1.1, 1.4)) == pytest.approx(1.25)
    assert median(Triangular(1.0, 1.5, 2.0)) == pytest.approx(1.5)
    assert median(TruncatedNormal(1.2, 0.1, 1.0, 1.4)) == pytest.approx(1.2)
    low, mode, high = 1.0, 1.1, 2.0  # mode below the midpoint: b - sqrt((b-a)(b-c)/2)
    expected = high - math.sqrt((high - low) * (high - mode) / 2)
    assert median(Triangular(low, mode, high)) == pytest.approx(expected)


def test_draws_stay_inside_the_bounds_and_follow_the_distribution() -> None:
    """2,000 draws: all within the bounds, with the distribution's mean."""
    rng = np.random.default_rng(1)
    for spread, mean in (
        (Uniform(1.1, 1.4), 1.25),
        (Triangular(1.0, 1.2, 2.0), (1.0 + 1.2 + 2.0) / 3),
        (TruncatedNormal(1.2, 0.5, 1.0, 1.4), 1.2),
    ):
        values = np.array([sample(spread, rng) for _ in range(2000)])
        assert values.min() >= spread.low and values.max() <= spread.high
        assert values.mean() == pytest.approx(mean, abs=0.015)


def test_one_draw_uses_one_number_of_the_stream() -> None:
    """A draw inverts the distribution at the stream's next uniform number, nothing else."""
    spread = Triangular(0.8, 1.0, 1.1)
    rng = np.random.default_rng(42)
    drawn = [sample(spread, rng) for _ in range(3)]
    expected = [quantile(spread, u) for u in np.random.default_rng(42).random(3)]
    assert drawn == pytest.approx(expected)


def test_distributions_describe_themselves_in_words() -> None:
    """Each distribution reads as a planner would say it, and round-trips as a file table."""
    assert Uniform(1.1, 1.4).describe() == "uniform between 1.1 and 1.4"
    assert Triangular(1.1, 1.2, 1.4).describe() == (
        "triangular between 1.1 and 1.4, most likely 1.2"
    )
    assert TruncatedNormal(1.2, 0.08, 1.0, 1.5).describe() == (
        "normal around 1.2 (sd 0.08), kept between 1 and 1.5"
    )
    doc = {"scenario": [{"name": "w", "demand": {"factor": Triangular(1.1, 1.2, 1.4).to_dict()}}]}
    (parsed,) = parse_scenarios(doc)
    edit = parsed.edits[0]
    assert isinstance(edit, ScaleDemand) and edit.spread == Triangular(1.1, 1.2, 1.4)


# ---------------------------------------------------------------------------------------
# Stating uncertainty in a scenario file


def test_factors_may_be_stated_as_distributions(tmp_path: Path) -> None:
    """Demand and capacity factors take a distribution; a single run uses its median."""
    text = """
[[scenario]]
name = "winter"
capacity = { factor = { distribution = "triangular", low = 0.8, mode = 1.0, high = 1.0 } }

[scenario.demand]
factor = { distribution = "uniform", low = 1.1, high = 1.4 }
seed = 3

[[scenario]]
name = "normal"
demand = { factor = { distribution = "normal", mean = 1.2, sd = 0.1, low = 1.0, high = 1.5 } }
"""
    winter, normal = load_scenario_file(scenario_file(tmp_path, text)).scenarios
    capacity, demand = winter.edits
    assert isinstance(capacity, ScaleCapacity) and capacity.spread == Triangular(0.8, 1.0, 1.0)
    assert capacity.factor == pytest.approx(median(Triangular(0.8, 1.0, 1.0)))
    assert demand == ScaleDemand(pytest.approx(1.25), 3, Uniform(1.1, 1.4))  # type: ignore[arg-type]
    assert [name for name, _ in winter.uncertain] == ["capacity_factor", "demand_factor"]
    (edit,) = normal.edits
    assert isinstance(edit, ScaleDemand) and edit.spread == TruncatedNormal(1.2, 0.1, 1.0, 1.5)


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (
            '{ distribution = "lognormal", low = 1.1, high = 1.4 }',
            "key 'demand.factor.distribution': expected 'distribution' = one of uniform, "
            "triangular, normal (with its parameters), got 'lognormal'",
        ),
        (
            "{ low = 1.1, high = 1.4 }",
            "key 'demand.factor.distribution': expected 'distribution' = one of uniform, "
            "triangular, normal (with its parameters), got nothing",
        ),
        (
            '{ distribution = "uniform", low = 1.1 }',
            "key 'demand.factor.high': missing; expected a number > 0 and <= 20",
        ),
        (
            '{ distribution = "uniform", low = 1.4, high = 1.1 }',
            "key 'demand.factor': expected 'low' below 'high', got low 1.4 and high 1.1 (for "
            "a fixed value write a number instead of a distribution)",
        ),
        (
            '{ distribution = "uniform", low = 1.1, high = 25 }',
            "key 'demand.factor.high': expected a number > 0 and <= 20, got 25",
        ),
        (
            '{ distribution = "triangular", low = 1.1, mode = 1.5, high = 1.4 }',
            "key 'demand.factor.mode': expected 'mode' between low 1.1 and high 1.4, got 1.5",
        ),
        (
            '{ distribution = "normal", mean = 1.2, sd = 0, low = 1.0, high = 1.5 }',
            "key 'demand.factor.sd': expected a number > 0, got 0",
        ),
        (
            '{ distribution = "uniform", low = 1.1, high = 1.4, mode = 1.2 }',
            "key 'demand.factor.mode': unknown key; expected one of: distribution, low, high",
        ),
    ],
)
def test_bad_distributions_name_line_key_and_expectation(
    tmp_path: Path, factor: str, expected: str
) -> None:
    """Each wrong distribution is refused with its line, scenario and key, and what is expected."""
    text = f'\n[[scenario]]\nname = "winter"\ndemand = {{ factor = {factor}, seed = 1 }}\n'
    path = scenario_file(tmp_path, text)
    assert problems_of(path) == [f"{path}, line 7, scenario 'winter', {expected}"]


def test_capacity_distribution_bounds(tmp_path: Path) -> None:
    """A capacity factor's distribution may not go below zero."""
    text = """
[[scenario]]
name = "thin"
capacity = { factor = { distribution = "uniform", low = -0.1, high = 0.5 } }
"""
    (message,) = problems_of(scenario_file(tmp_path, text))
    assert "key 'capacity.factor.low': expected a number >= 0, got -0.1" in message


# ---------------------------------------------------------------------------------------
# Draws


UNCERTAIN = Scenario(
    "winter",
    (
        CloseProviders(("P1",)),
        ScaleCapacity(0.9, spread=Uniform(0.8, 1.0)),
        ScaleCapacity(1.0, add=2, areas=("LS9",), spread=Triangular(0.5, 1.0, 1.0)),
        ScaleDemand(1.25, 3, spread=Uniform(1.1, 1.4)),
    ),
)


def test_a_fixed_scenario_draws_as_a_reseeded_one() -> None:
    """Without stated uncertainty a draw only re-seeds the demand resampling, as before."""
    fixed = Scenario("surge", (ScaleDemand(1.2, 5), ScaleCapacity(0.5)))
    assert fixed.draw(77) == (fixed.with_demand_seed(77), {})
    assert fixed.varies and not fixed.uncertain
    assert not Scenario("shut", (CloseProviders(("P1",)),)).varies
    assert Scenario("thin", (ScaleCapacity(1.0, spread=Uniform(0.5, 1.0)),)).varies


def test_draws_are_reproducible_and_within_the_stated_bounds() -> None:
    """The same seed gives the same factors; each factor lies in its distribution's bounds."""
    first, factors = UNCERTAIN.draw(11)
    assert UNCERTAIN.draw(11) == (first, factors)
    assert UNCERTAIN.draw(12)[1] != factors
    assert list(factors) == ["capacity_factor", "capacity_factor_2", "demand_factor"]
    assert 0.8 <= factors["capacity_factor"] <= 1.0
    assert 0.5 <= factors["capacity_factor_2"] <= 1.0
    assert 1.1 <= factors["demand_factor"] <= 1.4
    closed, everywhere, ls9, demand = first.edits
    assert closed == UNCERTAIN.edits[0]
    assert isinstance(everywhere, ScaleCapacity) and everywhere.spread is None
    assert everywhere.factor == factors["capacity_factor"]
    assert isinstance(ls9, ScaleCapacity) and (ls9.add, ls9.areas) == (2, ("LS9",))
    assert demand == ScaleDemand(factors["demand_factor"], 11)
