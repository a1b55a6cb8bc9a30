"""What-if scenarios: file format and errors, edits as pure functions, KPIs, comparisons."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.models import (
    Match,
    MatchResult,
    Mode,
    Problem,
    Reason,
    SolveStatus,
    TierCounts,
    Urgency,
)
from matching.scenarios import (
    ChangeTravel,
    CloseProviders,
    OpenSite,
    ScaleCapacity,
    ScaleDemand,
    Scenario,
    ScenarioError,
    SetDelivery,
    apply_scenario,
    change_travel,
    check_scenarios,
    close_providers,
    compare,
    comparison_csv,
    compute_kpis,
    load_scenario_file,
    parse_scenarios,
    scale_capacity,
    scale_demand,
    set_delivery,
)
from matching.scenarios.engine import solve_problem as solve
from tests.matching.builders import LS9, provider, referral, scenario_file

REPO = Path(__file__).resolve().parents[3]


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    return [str(p) for p in info.value.problems]


# ---------------------------------------------------------------------------------------
# The file format


def test_sample_scenarios_parse_and_name_real_sample_sites() -> None:
    """The shipped Leeds scenarios parse, point at the sample CSVs and name real sites."""
    from matching.io import read_problem

    file = load_scenario_file(REPO / "data/sample/scenarios.toml")
    assert [s.name for s in file.scenarios] == [
        "hope-hub-closes",
        "winter-surge",
        "crisis",
        "saturday-site",
        "delivery-van",
        "winter-with-van-and-saturday",
    ]
    assert file.referrals == (REPO / "data/sample/referrals.csv").resolve()
    base = read_problem(file.referrals, file.providers)
    check_scenarios(file.scenarios, base)
    crisis = file.scenario("crisis")
    assert crisis.edits == (ScaleDemand(4.0, 2024),)


def test_base_paths_are_relative_to_the_toml_file(tmp_path: Path) -> None:
    """A scenario file run from anywhere finds its CSVs next to itself."""
    path = scenario_file(tmp_path, '[[scenario]]\nname = "a"\nclose = ["P1"]\n')
    file = load_scenario_file(path)
    assert file.referrals == (tmp_path / "referrals.csv").resolve()
    assert file.providers == (tmp_path / "providers.csv").resolve()


def test_every_edit_kind_parses(tmp_path: Path) -> None:
    """Each documented key becomes the matching edit, in the documented order."""
    text = """
[[scenario]]
name = "all"
demand = { factor = 1.5, seed = 7 }
travel = { max_travel_km = 8, urgency = ["Emergency"], areas = ["ls9"] }
close = ["P1", "P2"]
capacity = { factor = 0.5, areas = ["LS"] }
delivery = { providers = ["P3"], delivery_capacity = 4, delivery_radius_km = 6.5 }

[[scenario.open]]
provider_id = "NEW"
name = "Pop-up"
postcode = "ls9 7ab"
capacity = 12
dietary = ["halal", "baby:3"]
service_area = ["LS9"]
"""
    (scenario,) = load_scenario_file(scenario_file(tmp_path, text)).scenarios
    assert scenario.edits == (
        CloseProviders(("P1", "P2")),
        ScaleCapacity(0.5, 0, (), ("LS",)),
        SetDelivery(("P3",), 4, 6.5),
        OpenSite(
            provider_id="NEW",
            name="Pop-up",
            latitude=LS9[0],
            longitude=LS9[1],
            capacity=12,
            dietary=(("halal", None), ("baby", 3)),
            service_area=("LS9",),
            outcode="LS9",
            postcode="LS9 7AB",
        ),
        ChangeTravel(8.0, 1.0, (Urgency.EMERGENCY,), ("LS9",)),
        ScaleDemand(1.5, 7),
    )


def test_combination_applies_named_scenarios_then_its_own_edits(tmp_path: Path) -> None:
    """A combination is the named scenarios' edits in the order listed, then its own."""
    text = """
[[scenario]]
name = "both"
combine = ["surge", "shut"]
capacity = { add = 2 }

[[scenario]]
name = "shut"
close = ["P1"]

[[scenario]]
name = "surge"
demand = 1.2
"""
    both = load_scenario_file(scenario_file(tmp_path, text)).scenario("both")
    assert both.edits == (ScaleDemand(1.2, 0), CloseProviders(("P1",)), ScaleCapacity(1.0, 2))


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A TOML typo is reported with the file and its line number."""
    path = scenario_file(tmp_path, '\n[[scenario]]\nname = "unclosed\n')
    (message,) = problems_of(path)
    assert message.startswith(f"{path}, line 6: not valid TOML")


def test_semantic_errors_name_line_scenario_key_and_expectation(tmp_path: Path) -> None:
    """Every wrong value is listed with its line, scenario, key and what was expected."""
    text = """
[[scenario]]
name = "surge"
demand = { factor = -1 }

[[scenario]]
name = "pop-up"

[[scenario.open]]
name = "A"
postcode = "LS9"
capacity = 4

[[scenario.open]]
name = "B"
postcode = "ZZ99 9ZZ"
capcity = 4
"""
    messages = problems_of(scenario_file(tmp_path, text))
    assert (
        f"{tmp_path / 'scenarios.toml'}, line 7, scenario 'surge', key 'demand.factor': "
        "expected a number > 0 and <= 20, got -1"
    ) in messages
    assert any(
        "line 19, scenario 'pop-up', key 'open[1].postcode': 'ZZ99 9ZZ' is not a postcode" in m
        for m in messages
    )
    assert any(
        "line 20, scenario 'pop-up', key 'open[1].capcity': unknown key; expected one of:" in m
        for m in messages
    )
    assert any(
        "line 17, scenario 'pop-up', key 'open[1].capacity': missing; expected a whole number" in m
        for m in messages
    )


def test_scenario_level_mistakes_are_all_reported(tmp_path: Path) -> None:
    """Duplicate names, unknown combinations, loops and bad keys each get their own message."""
    text = """
[[scenario]]
name = "a"
combine = ["b", "nope"]
travel = { factor = 2, max_travel_km = 3 }

[[scenario]]
name = "b"
combine = ["a"]

[[scenario]]
name = "a"
clsoe = ["P1"]
"""
    messages = problems_of(scenario_file(tmp_path, text))
    assert any(
        "line 7, scenario 'a', key 'combine': no scenario named 'nope'" in m for m in messages
    )
    assert any("line 8, scenario 'a', key 'travel': expected exactly one of" in m for m in messages)
    assert sum("combinations form a loop (a -> b -> a)" in m for m in messages) == 1
    assert not any("(b -> a -> b)" in m for m in messages)
    assert any("line 15, scenario 'a', key 'name': the name is used twice" in m for m in messages)
    assert any("line 16, scenario 'a#3', key 'clsoe': unknown key" in m for m in messages)


def test_missing_base_files_are_named(tmp_path: Path) -> None:
    """A [base] path that does not exist is reported with the path it resolved to."""
    path = tmp_path / "s.toml"
    path.write_text('[base]\nreferrals = "r.csv"\n[[scenario]]\nname = "a"\ndemand = 2\n')
    messages = problems_of(path)
    assert any(f"line 2, key 'base.referrals': no such file: {tmp_path / 'r.csv'}" in m
               for m in messages)  # fmt: skip
    assert any("key 'base.providers': expected the path of providers.csv" in m for m in messages)


def test_unknown_provider_ids_are_named_against_the_base() -> None:
    """Closing or equipping a site the base does not have is refused, naming scenario and id."""
    base = Problem((referral("R1", at="LS9"),), (provider("P1", at="LS9"),))
    scenarios = parse_scenarios(
        {
            "scenario": [
                {"name": "shut", "close": ["P9"]},
                {"name": "van", "delivery": {"providers": ["P1", "Q"], "delivery_capacity": 2}},
                {"name": "dup", "open": {"provider_id": "P1", "name": "x", "postcode": "LS9",
                                         "capacity": 1}},
            ]
        }
    )  # fmt: skip
    with pytest.raises(ScenarioError) as info:
        check_scenarios(scenarios, base)
    text = str(info.value)
    assert "scenario 'shut', key 'close': unknown provider 'P9'; expected one of" in text
    assert "scenario 'van', key 'delivery.providers': unknown provider 'Q'" in text
    assert "scenario 'dup', key 'open.provider_id': a site with id 'P1' already exists" in text


# ---------------------------------------------------------------------------------------
# Edits


def test_edits_never_change_the_base() -> None:
    """Applying every kind of edit leaves the base problem as it was."""
    base = Problem(
        (referral("R1", at="LS9"), referral("R2", at="LS9", urgency=Urgency.EMERGENCY)),
        (
            provider("P1", capacity=2, at="LS9"),
            provider("P2", capacity=3, at="LS9", people_capacity=6),
        ),
    )
    copy = Problem(tuple(base.referrals), tuple(base.providers))
    scenario = Scenario(
        "all",
        (
            CloseProviders(("P1",)),
            ScaleCapacity(2.0, 1),
            SetDelivery(("P2",), 3, 4.0),
            OpenSite("N", "New", LS9[0], LS9[1], 5),
            ChangeTravel(None, 2.0),
            ScaleDemand(2.0, 1),
        ),
    )
    changed = apply_scenario(base, scenario)
    assert base == copy
    assert [p.provider_id for p in changed.providers] == ["P2", "N"]
    assert len(changed.referrals) == 4


def test_capacity_scales_by_provider_and_by_area_rounding_half_up() -> None:
    """Capacity, people and dietary caps scale together; sites outside the choice keep theirs."""
    base = Problem(
        (),
        (
            provider(
                "A", capacity=5, at="LS9", people_capacity=15, dietary={"halal": 3, "baby": None}
            ),
            provider("B", capacity=4, at="LS9", outcode="LS10"),
            provider("C", capacity=4, at="LS9", outcode="BD1"),
        ),
    )
    scaled = scale_capacity(base, factor=1.5, provider_ids=["A"])
    a, b, c = scaled.providers
    assert (a.capacity, a.people_capacity, dict(a.dietary)) == (8, 23, {"halal": 5, "baby": None})
    assert (b.capacity, c.capacity) == (4, 4)
    by_area = scale_capacity(base, factor=0.5, areas=["LS"])
    assert [p.capacity for p in by_area.providers] == [3, 2, 4]
    by_district = scale_capacity(base, add=2, areas=["LS10"])
    assert [p.capacity for p in by_district.providers] == [5, 6, 4]
    everyone = scale_capacity(base, factor=0.0)
    assert [p.capacity for p in everyone.providers] == [0, 0, 0]


def test_adding_parcels_adds_people_at_the_sites_rate() -> None:
    """'add' parcels at a site with a people cap raises the cap by its people per parcel."""
    base = Problem((), (provider("A", capacity=10, at="LS9", people_capacity=25),))
    (site,) = scale_capacity(base, add=4).providers
    assert (site.capacity, site.people_capacity) == (14, 35)


def test_delivery_and_closing_touch_only_named_sites() -> None:
    """A van changes only its site's delivery; closing removes only the named sites."""
    base = Problem(
        (),
        (
            provider("A", at="LS9", delivery_capacity=1, delivery_radius_km=2.0),
            provider("B", at="LS9"),
        ),
    )
    van = set_delivery(base, ["A"], delivery_radius_km=9.0)
    assert [(p.delivery_capacity, p.delivery_radius_km) for p in van.providers] == [
        (1, 9.0),
        (0, 0.0),
    ]
    assert [p.provider_id for p in close_providers(base, ["A"]).providers] == ["B"]


def test_travel_limits_change_for_the_chosen_households() -> None:
    """Travel edits respect the urgency and area filters and leave others alone."""
    base = Problem(
        (
            referral("R1", at="LS9", urgency=Urgency.EMERGENCY, max_travel_km=2.0),
            referral("R2", at="LS9", max_travel_km=2.0),
            referral("R3", at="LS9", urgency=Urgency.EMERGENCY, outcode="BD1", max_travel_km=2.0),
        ),
        (),
    )
    out = change_travel(base, factor=2.5, urgencies=[Urgency.EMERGENCY], areas=["LS"])
    assert [r.max_travel_km for r in out.referrals] == [5.0, 2.0, 2.0]
    out = change_travel(base, max_travel_km=1.0)
    assert [r.max_travel_km for r in out.referrals] == [1.0, 1.0, 1.0]


def test_demand_resampling_is_reproducible_and_keeps_the_base() -> None:
    """x1.5 keeps every base household in order and adds copies drawn with the seed."""
    base = Problem(tuple(referral(f"R{i}", at="LS9", household_size=i + 1) for i in range(10)), ())
    surge = scale_demand(base, 1.5, seed=4)
    assert surge == scale_demand(base, 1.5, seed=4)
    assert surge.referrals[:10] == base.referrals
    assert len(surge.referrals) == 15
    ids = [r.referral_id for r in surge.referrals]
    assert len(set(ids)) == 15
    for copy in surge.referrals[10:]:
        source_id, number = copy.referral_id.split("~")
        source = next(r for r in base.referrals if r.referral_id == source_id)
        assert int(number) >= 1
        assert copy.household_size == source.household_size
    draws = {tuple(r.referral_id for r in scale_demand(base, 1.5, s).referrals) for s in range(8)}
    assert len(draws) > 1


def test_demand_below_one_keeps_a_subset_in_input_order() -> None:
    """x0.5 keeps half the households, in their input order."""
    base = Problem(tuple(referral(f"R{i:02d}", at="LS9") for i in range(20)), ())
    fewer = scale_demand(base, 0.5, seed=1)
    ids = [r.referral_id for r in fewer.referrals]
    assert len(ids) == 10
    assert ids == sorted(ids)


def test_copy_ids_never_clash_with_existing_ids() -> None:
    """A copy of R1 skips R1~1 when the base already has a referral with that id."""
    base = Problem((referral("R1", at="LS9"), referral("R1~1", at="LS9")), ())
    ids = [r.referral_id for r in scale_demand(base, 4.0, seed=0).referrals]
    assert len(ids) == len(set(ids)) == 8


# ---------------------------------------------------------------------------------------
# KPI arithmetic on a hand-checked case


def hand_case() -> tuple[Problem, MatchResult]:
    """Six households in two districts, two sites; four matched at 1, 2, 3 and 10 km."""
    refs = (
        referral("A", at="LS9", urgency=Urgency.EMERGENCY, household_size=4),
        referral("B", at="LS9", urgency=Urgency.URGENT, household_size=2),
        referral("C", at="LS9", household_size=1),
        referral("D", at="LS9", outcode="LS10", household_size=3),
        referral("E", at="LS9", outcode="LS10", urgency=Urgency.EMERGENCY, household_size=2),
        referral("F", at=LS9, outcode=None, household_size=5, needs_delivery=True),
    )
    provs = (
        provider("P1", capacity=3, at="LS9"),
        provider("P2", capacity=4, at="LS9", delivery_capacity=1),
        provider("P3", capacity=0, at="LS9"),
    )
    matches = (
        Match("A", Reason.MATCHED, "P1", Mode.COLLECT, 1.0),
        Match("B", Reason.MATCHED, "P1", Mode.COLLECT, 2.0),
        Match("C", Reason.CAPACITY_EXHAUSTED),
        Match("D", Reason.NO_PROVIDER_IN_REACH),
        Match("E", Reason.MATCHED, "P2", Mode.COLLECT, 3.0),
        Match("F", Reason.MATCHED, "P2", Mode.DELIVER, 10.0),
    )
    result = MatchResult(SolveStatus.OPTIMAL, matches, TierCounts(2, 1, 1), 16.0, 0.1)
    return Problem(refs, provs), result


def test_kpis_match_hand_arithmetic() -> None:
    """Tier counts, shares, distance mean/p90/max, utilisation and fairness, checked by hand."""
    problem, result = hand_case()
    kpis = compute_kpis(problem, result, min_district_households=1)
    s = kpis.summary()
    assert (s["matched_emergency"], s["matched_urgent"], s["matched_standard"]) == (2, 1, 1)
    assert (s["unmatched_emergency"], s["unmatched_urgent"], s["unmatched_standard"]) == (0, 0, 2)
    assert s["share_households_served"] == pytest.approx(4 / 6)
    assert s["share_people_served"] == pytest.approx((4 + 2 + 2 + 5) / 17)
    assert s["distance_mean_km"] == pytest.approx(4.0)
    # p90 of [1, 2, 3, 10], linear: rank 0.9 * 3 = 2.7 -> 3 + 0.7 * (10 - 3)
    assert s["distance_p90_km"] == pytest.approx(7.9)
    assert s["distance_max_km"] == 10.0
    assert s["capacity_total"] == 7
    assert s["utilisation"] == pytest.approx(4 / 7)
    assert s["providers_at_capacity"] == 0
    # LS9: 2 of 3 served; LS10: 1 of 2; the household without a postcode is left out
    assert s["district_served_rate_min"] == pytest.approx(0.5)
    assert s["district_served_rate_max"] == pytest.approx(2 / 3)
    assert s["district_served_rate_spread"] == pytest.approx(2 / 3 - 0.5)
    assert s["worst_served_district"] == "LS10"
    districts = kpis.districts
    assert list(districts.index) == ["LS10", "LS9", "(no postcode)"]
    assert districts.loc["LS10", "unmet_people"] == 3
    assert districts.loc["LS9", "unmet_households"] == 1
    sites = kpis.providers
    assert sites.loc["P1", "utilisation"] == pytest.approx(2 / 3)
    assert (sites.loc["P2", "served"], sites.loc["P2", "delivered"]) == (2, 1)
    assert math.isnan(sites.loc["P3", "utilisation"])


def test_small_districts_are_left_out_of_fairness() -> None:
    """With a minimum of 3 households only LS9 counts, so it is also the worst served."""
    problem, result = hand_case()
    s = compute_kpis(problem, result, min_district_households=3).summary()
    assert s["worst_served_district"] == "LS9"
    assert s["district_served_rate_spread"] == 0.0


def test_no_match_at_all_leaves_distance_undefined() -> None:
    """With nobody matched, distances are undefined (None), not zero."""
    problem = Problem((referral("A", at="LS9"),), ())
    result = MatchResult(SolveStatus.OPTIMAL, (Match("A", Reason.NO_PROVIDER_IN_REACH),),
                         TierCounts(), 0.0, 0.0)  # fmt: skip
    s = compute_kpis(problem, result).summary()
    assert s["distance_mean_km"] is None and s["distance_p90_km"] is None
    assert s["share_households_served"] == 0.0
    assert s["utilisation"] is None


def test_comparison_shows_differences_and_writes_stable_csv() -> None:
    """The table has baseline, each scenario and its difference; text rows have no difference."""
    problem, result = hand_case()
    base = compute_kpis(problem, result, min_district_households=1)
    smaller = Problem(problem.referrals[:3], problem.providers)
    other = compute_kpis(
        smaller,
        MatchResult(SolveStatus.OPTIMAL, result.matches[:3], TierCounts(1, 1, 0), 3.0, 0.0),
        name="smaller",
        min_district_households=1,
    )
    table = compare(base, [other])
    assert list(table.columns) == ["baseline", "smaller", "smaller (diff)"]
    assert table.loc["households", "smaller (diff)"] == -3
    assert table.loc["matched_total", "smaller"] == 2
    assert table.loc["worst_served_district", "smaller (diff)"] is None
    text = comparison_csv(table)
    lines = text.splitlines()
    assert lines[0] == "kpi,baseline,smaller,smaller (diff)"
    assert "households,6,3,-3" in lines
    assert "distance_mean_km,4.0000,1.5000,-2.5000" in lines
    assert "status,optimal,optimal," in lines
    assert text == comparison_csv(compare(base, [other]))


def test_kpi_dict_is_json_ready_and_holds_no_household_data() -> None:
    """to_dict() is plain JSON and carries no referral ids (only aggregates)."""
    import json

    problem, result = hand_case()
    data = compute_kpis(problem, result).to_dict()
    text = json.dumps(data, allow_nan=False)
    for rid in "ABCDEF":
        assert f'"{rid}"' not in text
    assert data["providers"][2]["utilisation"] is None


# ---------------------------------------------------------------------------------------
# Properties, on the real engine (exact on these small instances)


def lex(result: MatchResult) -> tuple[int, int, int]:
    return (result.matched.emergency, result.matched.urgent, result.matched.standard)


@st.composite
def small_problems(draw: st.DrawFn) -> Problem:
    """Up to 8 households and 4 sites a few km apart, with people caps and delivery."""
    n = draw(st.integers(1, 8))
    m = draw(st.integers(1, 4))
    offset = st.floats(-0.03, 0.03)
    refs = tuple(
        referral(
            f"R{i}",
            at=(LS9[0] + draw(offset), LS9[1] + draw(offset)),
            household_size=draw(st.integers(1, 6)),
            urgency=draw(st.sampled_from(list(Urgency))),
            max_travel_km=draw(st.sampled_from([1.0, 2.0, 5.0])),
            needs_delivery=draw(st.booleans()),
            outcode="LS9",
        )
        for i in range(n)
    )
    provs = tuple(
        provider(
            f"P{j}",
            capacity=draw(st.integers(0, 3)),
            at=(LS9[0] + draw(offset), LS9[1] + draw(offset)),
            people_capacity=draw(st.one_of(st.none(), st.integers(0, 10))),
            delivery_capacity=draw(st.integers(0, 2)),
            delivery_radius_km=3.0,
            outcode="LS9",
        )
        for j in range(m)
    )
    return Problem(refs, provs)


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(problem=small_problems(), which=st.integers(0, 3))
def test_closing_a_site_never_increases_matches(problem: Problem, which: int) -> None:
    """Closing a site never improves the (emergency, urgent, standard) matched counts."""
    site = problem.providers[which % len(problem.providers)].provider_id
    before = solve(problem)
    after = solve(close_providers(problem, [site]))
    assert before.status is SolveStatus.OPTIMAL and after.status is SolveStatus.OPTIMAL
    assert lex(after) <= lex(before)
    assert after.matched.emergency <= before.matched.emergency


@PROPERTY
@given(problem=small_problems(), factor=st.floats(1.0, 3.0), add=st.integers(0, 3))
def test_adding_capacity_never_decreases_matches(problem: Problem, factor: float, add: int) -> None:
    """More capacity never worsens the (emergency, urgent, standard) matched counts."""
    before = solve(problem)
    after = solve(scale_capacity(problem, factor=factor, add=add))
    assert before.status is SolveStatus.OPTIMAL and after.status is SolveStatus.OPTIMAL
    assert lex(after) >= lex(before)
    assert after.matched.emergency >= before.matched.emergency


@PROPERTY
@given(problem=small_problems(), seed=st.integers(0, 2**32 - 1))
def test_demand_times_one_reproduces_the_base(problem: Problem, seed: int) -> None:
    """x1.0 demand is the base problem exactly, so its KPIs are the base's."""
    same = scale_demand(problem, 1.0, seed)
    assert same == problem
    assert (
        compute_kpis(same, solve(same)).summary() == compute_kpis(problem, solve(problem)).summary()
    )
