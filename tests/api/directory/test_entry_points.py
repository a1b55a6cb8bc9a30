"""The same import from the command line and as a council admin's upload: same checks, report."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from api.core.db import Database
from api.core.vocabulary import Role
from tests.api.conftest import World
from tests.api.directory.helpers import food_service, page_of, snapshot, spec_dir, write_json

SHEET = "provider_id,name,postcode,capacity\nP1,Burmantofts Pantry,LS9 7AB,12\n"


def test_the_command_imports_reports_and_is_idempotent(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    """`foodmatch directory import FEED` prints what it added; a dry run and a repeat change
    nothing; --json gives the report."""
    feed = write_json(tmp_path / "feed.json", page_of([food_service("a"), food_service("b")]))
    runner = CliRunner()
    dry = runner.invoke(
        app, ["directory", "import", str(feed), "--dry-run", "--database-url", db_url]
    )
    assert dry.exit_code == 0, dry.output
    assert "2 added" in dry.output and "dry run: nothing was changed" in dry.output
    assert snapshot(db)["providers"] == []
    first = runner.invoke(app, ["directory", "import", str(feed), "--database-url", db_url])
    assert first.exit_code == 0 and "2 added" in first.output and "A Food Bank" in first.output
    after = snapshot(db)
    again = runner.invoke(
        app, ["directory", "import", str(feed), "--json", "--database-url", db_url]
    )
    report = json.loads(again.output)
    assert again.exit_code == 0 and report["unchanged"] == 2 and report["added"] == []
    assert snapshot(db) == after


def test_the_command_exits_2_on_bad_input_listing_every_problem(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    """The official example (latitude 100, longitude 101), a broken file, and a spreadsheet
    without its charity each exit with status 2, name what is wrong, and change nothing."""
    runner = CliRunner()
    before = snapshot(db)
    official = runner.invoke(
        app,
        [
            "directory",
            "import",
            str(spec_dir() / "oruk-3.0/examples/service_full.json"),
            "--database-url",
            db_url,
        ],
    )
    assert official.exit_code == 2
    assert (
        "service ac148810-d857-441c-9679-408f346de14b: service_at_locations[0].location.latitude"
        in official.output
    )
    assert "got 100" in official.output and "got 101" in official.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"contents": [', encoding="utf-8")
    sheet = tmp_path / "sites.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    for path, expected in (
        (broken, "not valid JSON"),
        (sheet, "--organisation"),
        (tmp_path / "none.json", "cannot be read"),
    ):
        result = runner.invoke(app, ["directory", "import", str(path), "--database-url", db_url])
        assert result.exit_code == 2 and expected in result.output, result.output
    assert snapshot(db) == before
    ok = runner.invoke(
        app,
        [
            "directory",
            "import",
            str(sheet),
            "--organisation",
            "Leeds Food Aid",
            "--database-url",
            db_url,
        ],
    )
    assert ok.exit_code == 0 and "capacity P1: set 12 parcels" in ok.output


def test_a_council_admin_uploads_a_feed_and_gets_the_same_report(
    client: TestClient, world: World, db: Database
) -> None:
    """POST /directory/imports takes the file as a multipart upload: the council admin gets the
    report; the same file again changes nothing; a charity's admin or a caseworker is refused."""
    body = json.dumps(page_of([food_service("a")])).encode()
    admin = world.headers("A", Role.ADMIN)
    first = client.post("/directory/imports", files={"file": ("feed.json", body)}, headers=admin)
    assert first.status_code == 200, first.text
    assert [a["name"] for a in first.json()["added"]] == ["A Food Bank"] and first.json()[
        "import_id"
    ]
    after = snapshot(db)
    again = client.post("/directory/imports", files={"file": ("feed.json", body)}, headers=admin)
    assert again.json()["unchanged"] == 1 and again.json()["added"] == []
    assert snapshot(db) == after
    for org, role in (("X", Role.ADMIN), ("A", Role.CASEWORKER)):
        refused = client.post(
            "/directory/imports",
            files={"file": ("feed.json", body)},
            headers=world.headers(org, role),
        )
        assert refused.status_code == 403
    sheet = client.post(
        "/directory/imports",
        files={"file": ("sites.csv", SHEET.encode())},
        data={"organisation": "Leeds Food Aid", "dry_run": "true"},
        headers=admin,
    )
    assert sheet.status_code == 200 and sheet.json()["dry_run"] and sheet.json()["format"] == "csv"
    assert snapshot(db) == after


def test_a_bad_upload_is_a_problem_listing_each_service_and_field(
    client: TestClient, world: World, db: Database
) -> None:
    """The official example uploaded gives 422 with one error per problem (service id and
    field, what was expected); an upload over 1 MiB gives 413; nothing changes."""
    admin = world.headers("A", Role.ADMIN)
    before = snapshot(db)
    official = (spec_dir() / "oruk-3.0/examples/service_full.json").read_bytes()
    response = client.post(
        "/directory/imports", files={"file": ("service_full.json", official)}, headers=admin
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    where = "service ac148810-d857-441c-9679-408f346de14b: service_at_locations[0].location"
    assert "got 100" in errors[f"{where}.latitude"] and "got 101" in errors[f"{where}.longitude"]
    huge = b"[" + b" " * (1024 * 1024) + b"]"
    too_big = client.post("/directory/imports", files={"file": ("big.json", huge)}, headers=admin)
    assert too_big.status_code == 413
    garbage = client.post(
        "/directory/imports", files={"file": ("x.xlsx", b"PK\x03\x04junk")}, headers=admin
    )
    assert garbage.status_code == 422 and "xlsx" in garbage.json()["detail"]
    assert snapshot(db) == before
