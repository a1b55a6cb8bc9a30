"""`foodmatch geo import` (ONSPD CSV and zip, Code-Point Open zip), locating with the
directory, approximate distances without it, and councils' areas, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from geopy.distance import great_circle
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app as cli
from api.core.db import Database
from api.core.tables import Organisation, Referral
from api.core.vocabulary import Role
from api.geo.tables import PostcodeEntry
from api.record.tables import AuditEvent
from tests.api.conftest import World
from tests.api.geo import files

CW, CH = Role.CASEWORKER, Role.CHARITY


def _geo(db_url: str, *args: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["geo", *args, "--database-url", db_url])
    return done.exit_code, done.output


def _refer(client: TestClient, world: World, postcode: str, **extra: object):  # type: ignore[no-untyped-def]
    body = {"household_size": 2, "urgency": "standard", "postcode": postcode,
            "consent_to_share": False, **extra}  # fmt: skip
    return client.post("/referrals", json=body, headers=world.headers("A", CW))


def _position(db: Database, referral_id: int) -> tuple[float, float, str]:
    with db.read() as session:
        row = session.get(Referral, referral_id)
        assert row is not None
        return row.latitude, row.longitude, row.located_by


@pytest.mark.parametrize("maker", [files.onspd_csv, files.onspd_zip], ids=["csv", "zip"])
def test_an_onspd_import_places_full_postcodes_and_refuses_ended_and_unknown_ones(
    client: TestClient, world: World, db: Database, db_url: str, tmp_path: Path, maker
) -> None:  # type: ignore[no-untyped-def]
    code, out = _geo(db_url, "status")
    assert code == 0 and "No postcode directory is loaded" in out
    code, out = _geo(db_url, "import", str(maker(tmp_path)))
    assert code == 0, out
    assert "7 postcodes" in out and "1 terminated" in out and "1 without a position" in out
    assert "ONS Postcode Directory" in out
    assert "7 postcodes" in _geo(db_url, "status")[1]

    placed = _refer(client, world, "ls81aa")
    assert placed.status_code == 201, placed.text
    assert placed.json()["located_by"] == "postcode" and placed.json()["district"] == "LS8"
    lat, lon, how = _position(db, placed.json()["id"])
    assert (round(lat, 4), round(lon, 4), how) == (53.8201, -1.5120, "postcode")

    ended = _refer(client, world, "LS8 2ZZ")
    assert ended.status_code == 422
    assert "no longer in use" in ended.text and "2015-05" in ended.text
    unknown = _refer(client, world, "LS8 9QQ")
    assert unknown.status_code == 422 and "not in the postcode directory" in unknown.text
    # A bare district, and a postcode listed without a position: the district's centre.
    for postcode in ("LS8", "LS1 1ZZ"):
        answer = _refer(client, world, postcode)
        assert answer.status_code == 201, answer.text
        assert answer.json()["located_by"] == "district"
    with db.read() as session:
        kept = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "postcodes.imported")
        ).all()
        assert len(kept) == 1


def test_a_code_point_open_zip_is_converted_from_the_national_grid(
    client: TestClient, world: World, db: Database, db_url: str, tmp_path: Path
) -> None:
    code, out = _geo(db_url, "import", str(files.code_point_zip(tmp_path)))
    assert code == 0, out
    assert "OS Code-Point Open" in out and "4 postcodes" in out and "2 postcode areas" in out
    placed = _refer(client, world, "LS8 1AA")
    assert placed.status_code == 201, placed.text
    lat, lon, how = _position(db, placed.json()["id"])
    # The grid position was made from the ONSPD latitude and longitude of the same postcode.
    assert how == "postcode"
    assert great_circle((lat, lon), files.LIVE["LS8 1AA"]).km < 0.01
    with db.read() as session:
        edinburgh = session.get(PostcodeEntry, "EH11AA")
        assert edinburgh is not None and edinburgh.latitude is not None
        assert great_circle((edinburgh.latitude, edinburgh.longitude), (55.95, -3.19)).km < 1


def test_a_bad_directory_changes_nothing_and_says_where(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    assert _geo(db_url, "import", str(files.onspd_csv(tmp_path)))[0] == 0
    broken = tmp_path / "broken.csv"
    broken.write_text(files.onspd_text([files._row("NOTA CODE", 53.8, -1.5)]), encoding="utf-8")
    code, out = _geo(db_url, "import", str(broken))
    assert code == 2 and "Nothing was changed" in out
    assert "broken.csv, line 9" in out and "'NOTA CODE' is not a full UK postcode" in out
    no_lat = tmp_path / "nolat.csv"
    no_lat.write_text("pcds,doterm\nLS8 1AA,\n", encoding="utf-8")
    code, out = _geo(db_url, "import", str(no_lat))
    assert code == 2 and "missing lat, long" in out
    code, out = _geo(db_url, "import", str(tmp_path / "absent.zip"))
    assert code == 2 and "no such file" in out
    with db.read() as session:
        assert len(session.scalars(select(PostcodeEntry)).all()) == 7


def test_without_a_directory_distances_say_approximate_and_never_zero(
    client: TestClient, world: World
) -> None:
    """The seeded site is in LS9; a household given as LS9 7AB is at the same district
    centre: its offer says 'under 1 km (approximate...)', never '0.0 km'."""
    answer = _refer(client, world, "LS9 7AB", urgency="emergency")
    assert answer.status_code == 201, answer.text
    offer = answer.json()["current_offer"]
    assert offer["distance_approximate"] is True and offer["distance_km"] == 0.0
    assert answer.json()["located_by"] == "district"
    charity = "X" if offer["provider_id"] == world.ids["site_x"] else "Y"
    full = client.get(f"/offers/{offer['id']}", headers=world.headers(charity, CH)).json()
    assert full["distance_approximate"] is True
    assert "0.0 km" not in full["explanation"] and "under 0.1 km" in full["explanation"]


def test_a_postcode_outside_the_council_area_needs_confirming(
    client: TestClient, world: World, db: Database, db_url: str
) -> None:
    with db.read() as session:
        council = session.get(Organisation, world.orgs["A"])
        assert council is not None
        name = council.name
    code, out = _geo(db_url, "area", name, "ls", "WF1")
    assert code == 0 and out.strip() == f"{name}: LS, WF1"
    assert _geo(db_url, "area", name)[1].strip() == f"{name}: LS, WF1"
    assert _geo(db_url, "area", name, "L5 9")[0] == 2  # not a district: nothing changed
    assert _geo(db_url, "area", "Organisation X", "LS")[0] == 2  # a charity has no area

    inside = _refer(client, world, "WF1")
    assert inside.status_code == 201, inside.text
    outside = _refer(client, world, "EH1 1AA")
    assert outside.status_code == 422
    problem = outside.json()["errors"][0]
    assert problem["field"] == "outside_area_confirmed"
    assert "EH1 1AA (EH1) is outside your council's area (LS, WF1)" in problem["message"]
    confirmed = _refer(client, world, "EH1 1AA", outside_area_confirmed=True)
    assert confirmed.status_code == 201, confirmed.text
    # Council B has no area: it refers from anywhere without confirming.
    body = {"household_size": 1, "urgency": "standard", "postcode": "EH1 1AA",
            "consent_to_share": False}  # fmt: skip
    assert client.post("/referrals", json=body, headers=world.headers("B", CW)).status_code == 201
    code, out = _geo(db_url, "area", name, "--anywhere")
    assert code == 0 and "anywhere" in out
