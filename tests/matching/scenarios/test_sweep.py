"""Scenario fan-out: the same seeds give the same numbers serially and on Dask."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matching.io import read_problem
from matching.models import Problem
from matching.scenarios import (
    CloseProviders,
    ScaleCapacity,
    ScaleDemand,
    Scenario,
    compare,
    comparison_csv,
    draw_seeds,
    run_many,
    summarise_sweep,
    sweep,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def small_region() -> Problem:
    """The first 60 households of the Leeds sample with all its sites: solves in a blink."""
    full = read_problem(REPO / "data/sample/referrals.csv", REPO / "data/sample/providers.csv")
    return Problem(full.referrals[:60], full.providers)


SURGE = Scenario("surge", (ScaleDemand(3.0, 11), ScaleCapacity(0.5)))


def test_draw_seeds_are_reproducible_and_distinct() -> None:
    """The same sweep seed always gives the same draw seeds, all different."""
    assert draw_seeds(5, 50) == draw_seeds(5, 50)
    assert len(set(draw_seeds(5, 50))) == 50
    assert draw_seeds(5, 3) == draw_seeds(5, 50)[:3]
    assert draw_seeds(5, 3) != draw_seeds(6, 3)


def test_sweep_draws_differ_and_summarise(small_region: Problem) -> None:
    """Different demand draws give different outcomes; the summary shows their spread."""
    frame = sweep(small_region, SURGE, draws=4, seed=1)
    assert list(frame.index) == [0, 1, 2, 3]
    assert frame["households"].tolist() == [180] * 4
    assert frame["total_distance_km"].nunique() > 1
    summary = summarise_sweep(frame)
    assert {"mean", "std", "min", "p5", "p50", "p95", "max"} <= set(summary.columns)
    row = summary.loc["matched_total"]
    assert row["min"] <= row["p50"] <= row["max"]
    assert row["mean"] == pytest.approx(frame["matched_total"].mean())


def test_sweep_needs_a_demand_scenario(small_region: Problem) -> None:
    """Sweeping a scenario without a demand edit is refused with the reason."""
    with pytest.raises(ValueError, match="does not scale demand"):
        sweep(small_region, Scenario("shut", (CloseProviders(("P001",)),)), draws=2)


@pytest.mark.slow
def test_dask_equals_serial(small_region: Problem) -> None:
    """A sweep and a scenario comparison on a 2-worker LocalCluster equal the serial run."""
    serial = sweep(small_region, SURGE, draws=4, seed=3)
    seen: list[int] = []
    on_dask = sweep(small_region, SURGE, draws=4, seed=3, parallel=2, progress=seen.append)
    pd.testing.assert_frame_equal(serial, on_dask)
    assert sorted(seen) == [0, 1, 2, 3]

    runs = [None, SURGE, Scenario("shut", (CloseProviders(("P017", "P009")),))]
    one = run_many(small_region, runs)
    two = run_many(small_region, runs, parallel=2)
    assert [k.name for k in two] == ["baseline", "surge", "shut"]
    assert comparison_csv(compare(one[0], one[1:])) == comparison_csv(compare(two[0], two[1:]))
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a.districts, b.districts)
        pd.testing.assert_frame_equal(a.providers, b.providers)
