"""The planner's figures as people read them, and recent runs never listed under one name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from api.web.planner import distinct_titles, page_value


@pytest.mark.parametrize(
    ("kpi", "value", "signed", "shown"),
    [
        ("share_households_served", 0.6687, False, "66.9%"),
        ("share_households_served", 0.0213, True, "+2.1 points"),
        ("share_people_served", -0.00001, True, "+0.0 points"),
        ("utilisation", 1.0, False, "100.0%"),
        ("total_distance_km", 1710.924, False, "1,710.9"),
        ("distance_mean_km", 2.0, False, "2.0"),
        ("distance_mean_km", -0.04, True, "+0.0"),
        ("distance_p90_km", 0.35, True, "+0.3"),
        ("matched_total", np.int64(1803), False, "1,803"),
        ("matched_standard", -99, True, "-99"),
        ("households", 1800.0, False, "1,800"),
        ("status", "optimal", False, "optimal"),
        ("worst_served_district", None, False, ""),
        ("distance_max_km", float("nan"), False, ""),
    ],
)
def test_page_values_are_written_as_people_read_them(
    kpi: str, value: object, signed: bool, shown: str
) -> None:
    assert page_value(kpi, value, signed=signed) == shown


@dataclass
class _Run:
    id: str
    title: str


def test_runs_with_the_same_title_are_numbered_from_the_oldest() -> None:
    runs = [_Run("c", "closes"), _Run("b", "surge"), _Run("a", "closes")]  # newest first
    shown = [name for _, name in distinct_titles(runs)]  # type: ignore[arg-type]
    assert shown == ["closes (2)", "surge", "closes (1)"]
