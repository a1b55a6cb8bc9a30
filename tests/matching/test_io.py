"""Reading the contract files: good files load, bad files are refused whole, every problem named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matching.io import (
    InputError,
    parse_providers,
    parse_referrals,
    providers_frame,
    providers_from_frame,
    read_problem,
    referrals_frame,
    referrals_from_frame,
)
from matching.models import Urgency

REF_HEADER = (
    "referral_id,postcode,latitude,longitude,household_size,dietary,urgency,"
    "max_travel_km,needs_delivery\n"
)
PROV_HEADER = (
    "provider_id,name,postcode,latitude,longitude,capacity,people_capacity,dietary,"
    "delivery_capacity,delivery_radius_km,service_area\n"
)


def problems_of(text: str, kind: str = "referrals") -> list[tuple[int | None, str | None, str]]:
    parse = parse_referrals if kind == "referrals" else parse_providers
    with pytest.raises(InputError) as caught:
        parse(text)
    return [(p.row, p.column, p.message) for p in caught.value.problems]


def test_valid_referrals_parse_with_defaults() -> None:
    """Postcodes in any case/spacing geocode to their district; defaults fill empty cells."""
    rows = parse_referrals(
        REF_HEADER
        + "R1,ls9 7ab,,,3,halal;baby,Emergency,,yes\n"
        + "R2,,53.80,-1.55,1,,standard,2.5,0\n"
    )
    first, second = rows
    assert first.outcode == "LS9" and first.postcode == "LS9 7AB"
    assert first.dietary == {"halal", "baby"}
    assert first.urgency is Urgency.EMERGENCY
    assert first.needs_delivery and first.max_travel_km == 5.0
    assert (second.latitude, second.longitude, second.outcode) == (53.80, -1.55, None)
    assert second.max_travel_km == 2.5 and not second.needs_delivery


def test_valid_providers_parse_dietary_limits_and_areas() -> None:
    """``tag:limit`` caps a tag, bare ``tag`` lists it, ``tag:0`` lists it with no stock."""
    (site,) = parse_providers(
        PROV_HEADER + "P1,Hope,LS9,,,10,25,halal:3;baby;vegan:0,2,4.5,ls9;BD\n"
    )
    assert dict(site.dietary) == {"halal": 3, "baby": None, "vegan": 0}
    assert site.people_capacity == 25 and site.delivery_capacity == 2
    assert site.delivery_radius_km == 4.5
    assert site.service_area == {"LS9", "BD"}


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("R1,ZZ99,,,2,,urgent,,", "postcode", "unknown postcode district 'ZZ99'"),
        ("R1,not a postcode,,,2,,urgent,,", "postcode", "expected a UK postcode"),
        ("R1,LS9,,,2,halal;caviar,urgent,,", "dietary", "unknown dietary tag 'caviar'"),
        ("R1,LS9,,,0,,urgent,,", "household_size", "expected an integer 1..20, got '0'"),
        ("R1,LS9,,,50,,urgent,,", "household_size", "expected an integer 1..20, got '50'"),
        ("R1,LS9,,,two,,urgent,,", "household_size", "expected an integer 1..20"),
        ("R1,,200,-1.5,2,,urgent,,", "latitude", "expected a latitude in -90..90, got '200'"),
        ("R1,,53.8,,2,,urgent,,", "longitude", "latitude and longitude must be given together"),
        ("R1,,,,2,,urgent,,", "postcode", "a location is required"),
        ("R1,LS9,,,2,,soon,,", "urgency", "one of emergency, urgent, standard"),
        ("R1,LS9,,,2,,,,", "urgency", "is required"),
        ("R1,LS9,,,2,,urgent,-1,", "max_travel_km", "greater than 0"),
        ("R1,LS9,,,2,,urgent,,maybe", "needs_delivery", "true/false"),
        (",LS9,,,2,,urgent,,", "referral_id", "is required"),
    ],
)
def test_each_bad_referral_cell_is_named(row: str, column: str, fragment: str) -> None:
    """A bad cell is reported with its row (header = 1), column and what was expected."""
    found = problems_of(REF_HEADER + row + "\n")
    assert any(r == 2 and c == column and fragment in m for r, c, m in found), found


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("P1,Hope,LS9,,,-3,,,,,", "capacity", "expected an integer >= 0, got '-3'"),
        ("P1,Hope,LS9,,,3,-1,,,,", "people_capacity", "an integer >= 0"),
        ("P1,Hope,LS9,,,3,,halal:x,,,", "dietary", "'tag' or 'tag:limit'"),
        ("P1,Hope,LS9,,,3,,halal;halal,,,", "dietary", "listed twice"),
        ("P1,Hope,LS9,,,3,,,-2,,", "delivery_capacity", "an integer >= 0"),
        ("P1,Hope,LS9,,,3,,,,-1,", "delivery_radius_km", "a distance in km >= 0"),
        ("P1,Hope,LS9,,,3,,,,,LS9 7AB", "service_area", "outward codes"),
        ("P1,,LS9,,,3,,,,,", "name", "is required"),
        ("P1,Hope,LS9,,,,,,,,", "capacity", "is required"),
    ],
)
def test_each_bad_provider_cell_is_named(row: str, column: str, fragment: str) -> None:
    """Provider problems are reported the same way."""
    found = problems_of(PROV_HEADER + row + "\n", "providers")
    assert any(r == 2 and c == column and fragment in m for r, c, m in found), found


def test_every_problem_is_listed_not_only_the_first() -> None:
    """Several bad rows and cells are all reported in one error."""
    found = problems_of(
        REF_HEADER
        + "R1,ZZ99,,,0,,urgent,,\n"
        + "R2,LS9,,,2,,urgent,,\n"
        + "R1,LS9,,,2,caviar,later,,\n"
    )
    assert (2, "postcode") in [(r, c) for r, c, _ in found]
    assert (2, "household_size") in [(r, c) for r, c, _ in found]
    assert {(4, "dietary"), (4, "urgency"), (4, "referral_id")} <= {(r, c) for r, c, _ in found}
    duplicate = next(m for r, c, m in found if r == 4 and c == "referral_id")
    assert "duplicate id 'R1' (first used in row 2)" in duplicate


def test_wrong_header_is_refused() -> None:
    """Missing required columns and unknown columns are named, with the expected columns."""
    found = problems_of("id,pc,size\nR1,LS9,2\n")
    columns = {c for _, c, _ in found}
    assert {"referral_id", "household_size", "urgency", "id", "pc", "size"} <= columns
    assert all(r == 1 for r, _, _ in found)


def test_empty_file_is_refused() -> None:
    """An empty file is an error, not zero referrals."""
    assert problems_of("") == [(None, None, "the file is empty: expected a header row")]


def test_header_only_file_is_zero_referrals() -> None:
    """A header with no rows is a valid, empty batch."""
    assert parse_referrals(REF_HEADER) == []


def test_non_utf8_bytes_are_located(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported with their row; nothing is loaded."""
    refs = tmp_path / "referrals.csv"
    refs.write_bytes(
        (REF_HEADER + "R1,LS9,,,2,,urgent,,\nR2,LS9,,,2,,urgent,,caf\xe9\n").encode("latin-1")
    )
    provs = tmp_path / "providers.csv"
    provs.write_text(PROV_HEADER + "P1,Hope,LS9,,,3,,,,,\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_problem(refs, provs)
    (problem,) = caught.value.problems
    assert problem.row == 3 and "not valid UTF-8" in problem.message


def test_problems_in_both_files_reported_together(tmp_path: Path) -> None:
    """A batch with two bad files lists the problems of both."""
    refs = tmp_path / "referrals.csv"
    refs.write_text(REF_HEADER + "R1,LS9,,,0,,urgent,,\n", encoding="utf-8")
    provs = tmp_path / "providers.csv"
    provs.write_text(PROV_HEADER + "P1,Hope,LS9,,,-1,,,,,\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_problem(refs, provs)
    assert {Path(p.file).name for p in caught.value.problems} == {"referrals.csv", "providers.csv"}
    assert "2 problems in the input" in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A path that does not exist is reported as bad input, not a crash."""
    with pytest.raises(InputError, match="cannot be read"):
        read_problem(tmp_path / "nope.csv", tmp_path / "nope2.csv")


def test_frames_round_trip_through_the_contract() -> None:
    """Models -> contract DataFrame -> models gives the same referrals and providers."""
    referrals = parse_referrals(
        REF_HEADER + "R1,LS9 7AB,,,3,halal;baby,urgent,3,true\nR2,,53.8,-1.5,1,,standard,,\n"
    )
    providers = parse_providers(PROV_HEADER + "P1,Hope,LS9,,,10,25,halal:3;baby,2,4.5,LS\n")
    assert referrals_from_frame(referrals_frame(referrals)) == referrals
    assert providers_from_frame(providers_frame(providers)) == providers


def test_frame_input_is_validated_like_a_file() -> None:
    """A DataFrame with a bad cell is refused with the same message as the CSV."""
    frame = pd.DataFrame(
        [{"referral_id": "R1", "postcode": "LS9", "household_size": 0, "urgency": "urgent"}]
    )
    with pytest.raises(InputError, match="household_size"):
        referrals_from_frame(frame)


def test_input_and_scenario_errors_share_one_base() -> None:
    """InputError and ScenarioError are both ContractErrors whose problems are ContractProblems."""
    from matching.errors import ContractError, ContractProblem
    from matching.io import InputProblem
    from matching.scenarios.errors import ScenarioError, ScenarioProblem

    problem = InputProblem("referrals.csv", 3, "postcode", "not a UK postcode")
    error = InputError([problem, InputProblem("referrals.csv", None, None, "is empty")])
    assert isinstance(error, ContractError) and isinstance(problem, ContractProblem)
    assert str(error) == (
        "2 problems in the input:\n"
        "  - referrals.csv, row 3, column 'postcode': not a UK postcode\n"
        "  - referrals.csv: is empty"
    )
    scenario = ScenarioError([ScenarioProblem("expected a number", "plan.toml", 2)])
    assert isinstance(scenario, ContractError)
    assert isinstance(scenario.problems[0], ContractProblem)
    assert str(scenario) == "1 problem in the scenarios:\n  - plan.toml, line 2: expected a number"
