"""POST /scenarios, GET /scenarios/{id}: planners queue what-ifs, read KPIs, own council only."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.vocabulary import Role
from api.record.tables import AuditEvent
from api.web.planner import RUNS
from tests.api.conftest import World, add_referral, add_site

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "data" / "sample"
POLL_SECONDS = 120.0


def _sample_csvs(households: int = 40) -> tuple[str, str]:
    """The first ``households`` referrals of the Leeds sample, and all its sites, as CSV text."""
    lines = (SAMPLE / "referrals.csv").read_text(encoding="utf-8").splitlines()
    referrals = "\n".join(lines[: households + 1]) + "\n"
    return referrals, (SAMPLE / "providers.csv").read_text(encoding="utf-8")


def _shipped_scenarios() -> list[dict[str, Any]]:
    """The shipped scenario file's scenarios, as JSON would carry them."""
    data = tomllib.loads((SAMPLE / "scenarios.toml").read_text(encoding="utf-8"))
    return list(data["scenario"])


def _wait(client: TestClient, location: str, headers: dict[str, str]) -> dict[str, Any]:
    """Poll a run until it is done or failed (bounded; the bound is not a speed claim)."""
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        response = client.get(location, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def _upload_body(scenarios: list[dict[str, Any]], referrals: str, providers: str) -> dict[str, Any]:
    return {
        "base": {"source": "upload", "referrals_csv": referrals, "providers_csv": providers},
        "settings": {"time_limit": 10, "min_district_households": 2},
        "scenario": scenarios,
    }


def test_planner_runs_shipped_scenarios_on_uploaded_csvs(client: TestClient, world: World) -> None:
    """The shipped what-ifs on 40 sample households answer 202, then KPIs beside the baseline."""
    referrals, providers = _sample_csvs()
    headers = world.headers("A", Role.PLANNER)
    response = client.post(
        "/scenarios", json=_upload_body(_shipped_scenarios(), referrals, providers), headers=headers
    )
    assert response.status_code == 202, response.text
    queued = response.json()
    assert response.headers["Location"] == f"/scenarios/{queued['id']}"
    assert queued["status"] in ("queued", "running", "done")
    assert queued["progress"]["total"] == 1 + len(_shipped_scenarios())
    body = _wait(client, response.headers["Location"], headers)
    assert body["status"] == "done", body
    result = body["result"]
    names = [s["name"] for s in result["scenarios"]]
    assert names == [s["name"] for s in _shipped_scenarios()]
    assert result["baseline"]["summary"]["households"] == 40
    rows = {row["kpi"]: row for row in result["comparison"]["rows"]}
    # crisis is four times the week's households: 160, i.e. 120 more than the baseline.
    assert rows["households"]["crisis"] == 160 and rows["households"]["crisis (diff)"] == 120
    assert rows["capacity_total"]["saturday-site (diff)"] == 40
    assert body["progress"] == {"done": 7, "total": 7}


def test_planner_runs_scenarios_on_the_live_snapshot(
    client: TestClient, world: World, db: Any
) -> None:
    """The live base is the council's open referrals and free capacity, and books nothing."""
    for _ in range(3):
        add_referral(db, world.orgs["A"], urgency="standard")
    add_referral(db, world.orgs["B"])  # another council's household is not in A's base
    site, _cap = add_site(db, world.orgs["X"], "Site Z", 2)
    headers = world.headers("A", Role.PLANNER)
    spec = {
        "scenario": [
            {"name": "z-closes", "close": [str(site)]},
            {"name": "more", "capacity": {"add": 5, "providers": [str(site)]}},
        ]
    }
    response = client.post("/scenarios", json=spec, headers=headers)
    assert response.status_code == 202, response.text
    body = _wait(client, response.headers["Location"], headers)
    assert body["status"] == "done", body
    rows = {row["kpi"]: row for row in body["result"]["comparison"]["rows"]}
    assert rows["households"]["baseline"] == 3
    assert rows["capacity_total"]["z-closes (diff)"] == -2
    assert rows["capacity_total"]["more (diff)"] == 5
    referrals = client.get("/referrals", headers=world.headers("A", Role.CASEWORKER)).json()
    assert sorted(r["status"] for r in referrals["items"]) == ["offered", "open", "open", "open"]
    with db.read() as session:
        runs = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "scenario.run")))
    assert [e.entity_id for e in runs] == [response.json()["id"]]
    assert '"scenarios":["z-closes","more"]' in runs[0].after_json


def test_another_council_and_other_roles_cannot_read_or_start(
    client: TestClient, world: World
) -> None:
    """Council B's planner gets 404 for A's run; a caseworker gets 403 for both operations."""
    headers = world.headers("A", Role.PLANNER)
    spec = {"scenario": [{"name": "surge", "demand": 1.5}]}
    response = client.post("/scenarios", json=spec, headers=headers)
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    other = client.get(location, headers=world.headers("B", Role.PLANNER))
    assert other.status_code == 404
    assert other.headers["content-type"].startswith("application/problem+json")
    caseworker = world.headers("A", Role.CASEWORKER)
    assert client.get(location, headers=caseworker).status_code == 403
    assert client.post("/scenarios", json=spec, headers=caseworker).status_code == 403
    assert _wait(client, location, headers)["status"] == "done"


def test_bad_spec_is_422_naming_the_field_and_queues_nothing(
    client: TestClient, world: World
) -> None:
    """An unknown site and an unknown combined scenario are named; no run is stored."""
    referrals, providers = _sample_csvs(10)
    before = len(RUNS.recent(world.orgs["A"]))
    body = _upload_body(
        [
            {"name": "shut", "close": ["P999"]},
            {"name": "both", "combine": ["shut", "nope"]},
        ],
        referrals,
        providers,
    )
    response = client.post("/scenarios", json=body, headers=world.headers("A", Role.PLANNER))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "scenario.both.combine" in errors and "'nope'" in errors["scenario.both.combine"]
    assert len(RUNS.recent(world.orgs["A"])) == before
    shut = _upload_body([{"name": "shut", "close": ["P999"]}], referrals, providers)
    response = client.post("/scenarios", json=shut, headers=world.headers("A", Role.PLANNER))
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "unknown provider 'P999'" in errors["scenario.shut.close"]
    assert len(RUNS.recent(world.orgs["A"])) == before


def test_schema_invalid_edit_is_422_naming_the_field(client: TestClient, world: World) -> None:
    """A demand factor over the cap is refused by the schema with the field's path."""
    spec = {"scenario": [{"name": "huge", "demand": {"factor": 50}}]}
    response = client.post("/scenarios", json=spec, headers=world.headers("A", Role.PLANNER))
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f.startswith("scenario.0.demand") for f in fields), fields


def test_bad_csv_is_422_naming_file_row_and_column(client: TestClient, world: World) -> None:
    """A household size that is not a number is named by file, row and column; nothing runs."""
    referrals, providers = _sample_csvs(5)
    lines = referrals.splitlines()
    cells = lines[3].split(",")
    cells[4] = "lots"
    lines[3] = ",".join(cells)
    before = len(RUNS.recent(world.orgs["A"]))
    body = _upload_body([{"name": "shut", "close": ["P017"]}], "\n".join(lines) + "\n", providers)
    response = client.post("/scenarios", json=body, headers=world.headers("A", Role.PLANNER))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["base.referrals_csv"]
    assert "row" in errors[0]["message"] and "household_size" in errors[0]["message"]
    assert len(RUNS.recent(world.orgs["A"])) == before
