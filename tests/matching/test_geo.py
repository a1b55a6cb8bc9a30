"""Offline geocoding, distances and candidate pairs."""

from __future__ import annotations

import numpy as np
from geopy.distance import great_circle
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.geo import (
    PAIR_FEASIBLE,
    Gazetteer,
    candidate_pairs,
    distance_km,
    normalise_outcode,
    split_postcode,
)
from matching.models import Problem
from tests.matching.oracle import feasible, pair_mode, problems


def test_postcodes_split_in_any_case_or_spacing() -> None:
    """Full postcodes and bare outward codes are recognised however they are typed."""
    assert split_postcode("ls9 7ab") == ("LS9", "7AB")
    assert split_postcode(" LS97AB ") == ("LS9", "7AB")
    assert split_postcode("EC1A 1BB") == ("EC1A", "1BB")
    assert split_postcode("m13") == ("M13", None)
    assert split_postcode("hello") is None
    assert normalise_outcode("bd1 1aa") == "BD1"


def test_shipped_table_geocodes_offline() -> None:
    """A Leeds district geocodes to its centroid from the shipped table."""
    located = Gazetteer.default().locate("LS9 7AB")
    assert located is not None
    lat, lon, outcode = located
    assert outcode == "LS9"
    assert 53.7 < lat < 53.9 and -1.6 < lon < -1.4
    assert Gazetteer.default().locate("ZZ99 9ZZ") is None


@given(st.floats(-80, 80), st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179))
def test_distance_matches_geopy_great_circle(a: float, b: float, c: float, d: float) -> None:
    """Our vectorised distance is geopy's great-circle distance."""
    assert abs(distance_km(a, b, c, d) - great_circle((a, b), (c, d)).km) < 1e-6


@settings(max_examples=150, deadline=None)
@given(problems(max_referrals=20, max_providers=6))
def test_candidates_are_exactly_the_pairs_in_reach(problem: Problem) -> None:
    """The spatial index finds every in-reach pair and no other; feasibility per the contract."""
    found = candidate_pairs(problem)
    got = set(zip(found.ref.tolist(), found.prov.tolist(), strict=True))
    expected = {
        (i, j)
        for i, r in enumerate(problem.referrals)
        for j, p in enumerate(problem.providers)
        if pair_mode(r, p) is not None
    }
    assert got == expected
    for i, j, status in zip(
        found.ref.tolist(), found.prov.tolist(), found.status.tolist(), strict=True
    ):
        assert (status == PAIR_FEASIBLE) == feasible(problem.referrals[i], problem.providers[j])
    # sorted by referral, then distance
    order = np.lexsort((found.distance_km, found.ref))
    assert (order == np.arange(order.size)).all()
