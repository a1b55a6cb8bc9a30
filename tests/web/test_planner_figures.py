"""The planner's figures as people read them, and recent runs never listed under one name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from api.web.planner import MAP_LEGEND, _fill, distinct_titles, matched_by_urgency, page_value


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


def test_the_bar_charts_key_covers_no_bar() -> None:
    """The key of 'households matched by urgency' lies beside the plotting area, so no bar
    (the tallest included) is hidden behind it."""
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    runs = [
        {"name": name, "summary": {"matched_emergency": e, "matched_urgent": u,
                                   "matched_standard": s}}
        for name, e, u, s in (("baseline", 133, 367, 503), ("winter-surge", 300, 500, 700))
    ]  # fmt: skip
    figure, alt = matched_by_urgency(runs, [str(r["name"]) for r in runs])
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    axes = figure.axes[0]
    key = axes.get_legend().get_window_extent(renderer)
    plot = axes.get_window_extent(renderer)
    assert key.x0 >= plot.x1, (key, plot)
    for bar in axes.patches:
        assert not key.overlaps(bar.get_window_extent(renderer))
    assert "winter-surge 1500" in alt


def test_the_map_key_names_every_colour_the_map_uses() -> None:
    """Each colour a district can get has its words in the key."""
    colours = {colour for colour, _ in MAP_LEGEND}
    for rate in (None, 0.0, 0.49, 0.5, 0.74, 0.8, 0.9, 1.0):
        assert _fill(rate) in colours
    assert [words for _, words in MAP_LEGEND][:2] == ["under 50% served", "50% to 75% served"]
