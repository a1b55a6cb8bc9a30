"""Offline geocoding, distances and candidate pairs."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import great_circle
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.candidates import PairStatus, _pair_order, candidate_pairs
from matching.geo import Gazetteer, distance_km, normalise_outcode, split_postcode
from matching.models import Mode, Problem
from tests.matching.builders import provider, referral
from tests.matching.oracle import LEEDS, OUTCODES, TAGS, feasible, pair_mode, problems


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
        assert (status == PairStatus.FEASIBLE) == feasible(
            problem.referrals[i], problem.providers[j]
        )
    # sorted by referral, then distance
    order = np.lexsort((found.distance_km, found.ref))
    assert (order == np.arange(order.size)).all()


# A few district centroids: most households and some sites sit exactly on one of them.
_CENTROIDS = [(LEEDS[0] + dy, LEEDS[1] + dx) for dy, dx in ((0, 0), (0.012, 0), (0, 0.03))]
_place = st.one_of(
    st.sampled_from(_CENTROIDS),
    st.tuples(
        st.floats(LEEDS[0] - 0.02, LEEDS[0] + 0.02), st.floats(LEEDS[1] - 0.03, LEEDS[1] + 0.03)
    ),
)


@st.composite
def _shared_point_problems(draw: st.DrawFn) -> Problem:
    """Problems where many households share a point and sites share points (equal distances)."""
    referrals = []
    for i in range(draw(st.integers(0, 30))):
        referrals.append(
            referral(
                f"R{i}",
                at=draw(_place),
                dietary=draw(st.sampled_from([(), (), ("halal",), TAGS[:2]])),
                max_travel_km=draw(st.sampled_from([0.0, 1.5, 3.0])),
                needs_delivery=draw(st.booleans()),
                outcode=draw(st.sampled_from([*OUTCODES, None])),
            )
        )
    providers = []
    for j in range(draw(st.integers(0, 6))):
        providers.append(
            provider(
                f"P{j}",
                name=f"Site {j}",
                at=draw(_place),
                dietary=draw(st.sampled_from([TAGS, ("halal",), ()])),
                delivery_capacity=draw(st.integers(0, 1)),
                delivery_radius_km=draw(st.sampled_from([0.0, 2.0])),
                service_area=draw(st.sampled_from([(), ("LS1",), ("LS",)])),
            )
        )
    return Problem(tuple(referrals), tuple(providers))


@settings(max_examples=200, deadline=None)
@given(_shared_point_problems())
def test_households_sharing_a_point_each_get_every_pair_in_reach(problem: Problem) -> None:
    """Households at the same point are each given exactly their in-reach pairs, in order."""
    found = candidate_pairs(problem)
    rows = list(
        zip(
            found.ref.tolist(),
            found.prov.tolist(),
            found.distance_km.tolist(),
            found.deliver.tolist(),
            found.status.tolist(),
            strict=True,
        )
    )
    expected = {
        (i, j): mode
        for i, r in enumerate(problem.referrals)
        for j, p in enumerate(problem.providers)
        if (mode := pair_mode(r, p)) is not None
    }
    assert {(i, j) for i, j, *_ in rows} == set(expected)
    for i, j, km, deliver, status in rows:
        r, p = problem.referrals[i], problem.providers[j]
        assert km == pytest.approx(
            great_circle((r.latitude, r.longitude), (p.latitude, p.longitude)).km, abs=1e-9
        )
        assert deliver == (expected[(i, j)] is Mode.DELIVER)
        assert (status == PairStatus.FEASIBLE) == feasible(r, p)
    # sorted by referral, then distance, then provider (sites at one point tie on distance)
    assert [(i, km, j) for i, j, km, *_ in rows] == sorted((i, km, j) for i, j, km, *_ in rows)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from([0.0, 0.5, 1.25, 3.0]), st.integers(0, 5)),
        unique_by=lambda t: (t[0], t[2]),
    ),
    st.booleans(),
)
def test_pair_order_is_group_then_distance_then_provider(
    pairs: list[tuple[int, float, int]], huge: bool
) -> None:
    """Pairs sort by group, distance, provider, with the packed key or (too many) without."""
    group = np.array([g for g, _, _ in pairs], dtype=np.int64)
    dist = np.array([d for _, d, _ in pairs], dtype=np.float64)
    prov = np.array([p for _, _, p in pairs], dtype=np.int64)
    order = _pair_order(group, dist, prov, n_groups=2**62 if huge else 5, n_providers=6)
    assert [pairs[k] for k in order.tolist()] == sorted(pairs)
