"""FOI search, export and register through HTTP; canary personal data never leaks."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from api.core.db import Database
from api.core.tables import Offer, ReferralPersonal
from api.core.vocabulary import Role
from api.record.audit import verify_chain
from api.record.tables import AuditEvent, FoiExport
from tests.api.conftest import World, add_referral
from tests.api.record.canaries import Canary, canary, filler, leaks

FOI, ADMIN, CW, CH = Role.FOI_OFFICER, Role.ADMIN, Role.CASEWORKER, Role.CHARITY


def seed_canary(client: TestClient, world: World, db: Database, item: Canary, layout: int,
                gap: str) -> int:  # fmt: skip
    """A referral carrying the canary's data in its personal row, notes, messages and a
    decline note; returns the referral id."""
    referral = world.ids["referral_a"]
    with db.write() as session:
        personal = session.get(ReferralPersonal, referral)
        assert personal is not None
        personal.name = item.name
        personal.phone = item.phone
        personal.address = f"{item.street}, Leeds, {item.postcode}"
        personal.postcode = item.postcode
        personal.notes = f"{gap} " + "; ".join(item.mentions(layout))
    text = f"{gap} " + " / ".join(item.mentions(layout + 1)) + f" email {item.email}"
    for org, role in (("A", CW), ("X", CH)):
        response = client.post(
            f"/referrals/{referral}/messages", json={"body": text}, headers=world.headers(org, role)
        )
        assert response.status_code == 201, response.text
    with db.write() as session:
        offer = session.get(Offer, world.ids["offer_a"])
        assert offer is not None
        offer.decline_note = f"Could not reach {item.name} on {item.phone}"
    return referral


def export_files(client: TestClient, world: World, body: dict[str, object]) -> dict[str, str]:
    """Make an export as A's FOI officer and return its files' text."""
    made = client.post("/foi/exports", json=body, headers=world.headers("A", FOI))
    assert made.status_code == 201, made.text
    zipped = client.get(made.json()["download_url"], headers=world.headers("A", FOI))
    assert zipped.status_code == 200
    assert zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(item=canary, layout=st.integers(0, 11), gap=filler)
def test_canaries_never_reach_export_or_search(
    client: TestClient, world: World, db: Database, item: Canary, layout: int, gap: str
) -> None:
    """Personal data seeded across the record (personal row, notes, messages both ways, decline
    note) appears in no export file and no FOI officer's search result."""
    referral = seed_canary(client, world, db, item, layout, gap)
    files = export_files(client, world, {"referral_id": referral})
    assert set(files) >= {"record.csv", "record.json", "summary.html", "redaction-log.csv"}
    for name, content in files.items():
        assert leaks(content, item) == [], name
    for query in ["", item.name, item.name.split()[1], item.postcode, item.email, "call"]:
        found = client.get(
            "/foi/search", params={"q": query, "size": 100}, headers=world.headers("A", FOI)
        )
        assert found.status_code == 200
        for hit in found.json()["items"]:
            assert leaks(hit["text"], item) == [], (query, hit["kind"])
        if query and query != "call":
            assert found.json()["total_items"] == 0, query  # the index holds no personal data


def test_export_contents_and_redaction_log(client: TestClient, world: World, db: Database) -> None:
    """An export holds CSV, JSON and HTML of the same documents, and a log of counts only."""
    seed_canary(
        client,
        world,
        db,
        Canary(
            "Perpetua Nkemelu",
            "07700 900321",
            "pn@example.org",
            "LS9 8QT",
            date(1981, 4, 2),
            "22 Ashgrove Road",
        ),
        2,
        "note",
    )
    files = export_files(client, world, {"referral_id": world.ids["referral_a"]})
    record = json.loads(files["record.json"])
    kinds = {item["kind"] for item in record["items"]}
    assert {"message", "note", "decision", "audit"} <= kinds
    assert files["record.csv"].count("\n") >= len(record["items"]) + 1
    log = json.loads(files["redaction-log.json"])
    assert {"name", "phone", "postcode"} <= set(log["totals"])
    assert all(
        set(entry) == {"source_key", "field", "category", "count"} for entry in log["entries"]
    )
    assert "Personal data removed" in files["summary.html"]
    assert "LS9" in files["record.csv"]  # the district stays: it is not personal


def test_export_is_audited_and_private_to_its_council(
    client: TestClient, world: World, db: Database
) -> None:
    """The export's hash goes into the audit chain; another council's officer gets 404."""
    made = client.post("/foi/exports", json={}, headers=world.headers("A", FOI)).json()
    with db.read() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "foi_export.created"))
        assert event is not None and made["sha256"] in event.after_json
        assert verify_chain(session).ok
    for path in (f"/foi/exports/{made['id']}", f"/foi/exports/{made['id']}/download"):
        assert client.get(path, headers=world.headers("B", FOI)).status_code == 404
    assert client.post("/foi/exports", json={}, headers=world.headers("X", CH)).status_code == 403


def test_search_is_scoped_filtered_and_paginated(
    client: TestClient, world: World, db: Database
) -> None:
    """Officers find their council's record by words, filter it, page it; never others'."""
    for number in range(3):
        client.post(
            f"/referrals/{world.ids['referral_a']}/messages",
            json={"body": f"Pallet delivery number {number} arrives Thursday"},
            headers=world.headers("A", CW),
        )
    client.post(
        f"/referrals/{world.ids['referral_b']}/messages",
        json={"body": "Pallet delivery for the other council"},
        headers=world.headers("B", CW),
    )
    page = client.get(
        "/foi/search",
        params={"q": "pallet deliveries", "size": 2, "kind": "message"},
        headers=world.headers("A", FOI),
    ).json()
    assert page["total_items"] == 3 and page["total_pages"] == 2 and len(page["items"]) == 2
    assert all(hit["organisation_id"] == world.orgs["A"] for hit in page["items"])
    other = client.get(
        "/foi/search", params={"q": "pallet", "referral_id": world.ids["referral_b"]},
        headers=world.headers("A", FOI),
    ).json()  # fmt: skip
    assert other["total_items"] == 0
    future = client.get(
        "/foi/search", params={"q": "pallet", "date_from": "2999-01-01"},
        headers=world.headers("A", FOI),
    ).json()  # fmt: skip
    assert future["total_items"] == 0
    too_big = client.get("/foi/search", params={"size": 101}, headers=world.headers("A", FOI))
    assert too_big.status_code == 422


def test_admin_sees_original_text_officer_sees_redacted(client: TestClient, world: World) -> None:
    """The authorised role (admin) reads the original; the FOI officer only the redacted."""
    client.post(
        f"/referrals/{world.ids['referral_a']}/messages",
        json={"body": "Ring Mrs Ottoline Vane on 07700 900654 about pallets"},
        headers=world.headers("A", CW),
    )
    params = {"q": "pallets", "kind": "message"}
    officer = client.get("/foi/search", params=params, headers=world.headers("A", FOI)).json()
    admin = client.get("/foi/search", params=params, headers=world.headers("A", ADMIN)).json()
    assert "Ottoline" not in officer["items"][0]["text"] and officer["items"][0]["redacted"]
    assert "Ottoline" in admin["items"][0]["text"] and not admin["items"][0]["redacted"]


def test_register_due_dates_and_access(client: TestClient, world: World) -> None:
    """The register computes the statutory due date, refuses duplicates, hides other councils'."""
    created = client.post(
        "/foi/requests",
        json={"reference": "FOI-2024-117", "summary": "Food bank referrals in December",
              "received_on": "2024-12-13"},
        headers=world.headers("A", FOI),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["due_on"] == "2025-01-15" and entry["overdue"] is True
    again = client.post(
        "/foi/requests",
        json={"reference": "FOI-2024-117", "summary": "again", "received_on": "2024-12-13"},
        headers=world.headers("A", FOI),
    )
    assert again.status_code == 409
    answered = client.patch(
        f"/foi/requests/{entry['id']}",
        json={"status": "answered", "closed_on": "2025-01-10"},
        headers=world.headers("A", FOI),
    )
    assert answered.status_code == 200 and answered.json()["overdue"] is False
    assert (
        client.get(f"/foi/requests/{entry['id']}", headers=world.headers("B", FOI)).status_code
        == 404
    )
    future = client.post(
        "/foi/requests",
        json={"reference": "F2", "summary": "s", "received_on": "2999-01-01"},
        headers=world.headers("A", FOI),
    )
    assert future.status_code == 422 and "future" in future.json()["detail"]


def test_audit_verify_endpoint(client: TestClient, world: World) -> None:
    """Admins verify the chain over HTTP; other roles are refused."""
    client.post(
        f"/referrals/{world.ids['referral_a']}/messages", json={"body": "x"},
        headers=world.headers("A", CW),
    )  # fmt: skip
    verified = client.get("/audit/verify", headers=world.headers("A", ADMIN))
    assert verified.status_code == 200 and verified.json()["ok"] is True
    assert verified.json()["checked"] >= 1
    assert client.get("/audit/verify", headers=world.headers("A", FOI)).status_code == 403


def test_unknown_referral_is_404_for_erasure(
    client: TestClient, world: World, db: Database
) -> None:
    """Admins act only on their own council's households."""
    other = add_referral(db, world.orgs["B"])
    response = client.post(f"/admin/referrals/{other}/erasure", headers=world.headers("A", ADMIN))
    assert response.status_code == 404


def _request(client: TestClient, world: World, received_on: str) -> int:
    created = client.post(
        "/foi/requests",
        json={"reference": "R1", "summary": "Referrals in May", "received_on": received_on},
        headers=world.headers("A", FOI),
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_closing_before_receipt_is_a_conflict(client: TestClient, world: World) -> None:
    """Closing before the stored date of receipt is a 409 naming `closed_on`; nothing changes."""
    request_id = _request(client, world, "2025-03-10")
    response = client.patch(
        f"/foi/requests/{request_id}",
        json={"status": "answered", "closed_on": "2025-03-07"},
        headers=world.headers("A", FOI),
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["reason"] == "closed_before_received"
    assert "closed_on" in problem["detail"] and "2025-03-10" in problem["detail"]
    entry = client.get(f"/foi/requests/{request_id}", headers=world.headers("A", FOI)).json()
    assert entry["status"] == "open" and entry["closed_on"] is None
    same_day = client.patch(
        f"/foi/requests/{request_id}",
        json={"status": "answered", "closed_on": "2025-03-10"},
        headers=world.headers("A", FOI),
    )
    assert same_day.status_code == 200, same_day.text


def test_date_of_receipt_is_an_iso_date_from_2005_to_today(
    client: TestClient, world: World
) -> None:
    """Receipt must be `YYYY-MM-DD`, 2005 (FOIA) to today: else 422; the schema states 2005."""
    for bad in (0, "0", "2025-01-06T00:00:00", "2025-02-30", "2004-12-31", "1970-01-01",
                "2999-01-01"):  # fmt: skip
        response = client.post(
            "/foi/requests",
            json={"reference": "R1", "summary": "s", "received_on": bad},
            headers=world.headers("A", FOI),
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "received_on"
    assert client.get("/foi/requests", headers=world.headers("A", FOI)).json()["items"] == []
    schema = client.get("/openapi.json").json()["components"]["schemas"]["FoiRequestCreate"]
    pattern = re.compile(schema["properties"]["received_on"]["pattern"])
    assert not pattern.search("2004-12-31") and pattern.search("2005-01-01")
    assert pattern.search("2100-06-30")
    entry = client.get(
        f"/foi/requests/{_request(client, world, '2005-01-01')}", headers=world.headers("A", FOI)
    )
    assert entry.json()["due_on"] == "2005-01-31"


def test_search_dates_are_iso_dates_in_order(client: TestClient, world: World) -> None:
    """Search dates must be `YYYY-MM-DD` (no Unix time) and in order, else 422 naming them."""
    for name, value in (("date_to", "0"), ("date_from", "2025-01-01T00:00:00"),
                        ("date_to", "20250101"), ("date_from", "2025-02-30")):  # fmt: skip
        response = client.get("/foi/search", params={name: value}, headers=world.headers("A", FOI))
        assert response.status_code == 422, (name, value, response.text)
        assert response.json()["errors"][0]["field"] == name
    reversed_range = client.get(
        "/foi/search",
        params={"date_from": "2025-02-01", "date_to": "2025-01-31"},
        headers=world.headers("A", FOI),
    )
    assert reversed_range.status_code == 422
    assert reversed_range.json()["errors"][0] == {
        "field": "date_to",
        "location": "query",
        "message": "must be on or after date_from (2025-02-01)",
    }
    one_day = client.get(
        "/foi/search",
        params={"date_from": "2025-02-01", "date_to": "2025-02-01"},
        headers=world.headers("A", FOI),
    )
    assert one_day.status_code == 200, one_day.text


def test_export_body_holds_only_what_the_schema_allows(
    client: TestClient, world: World, db: Database
) -> None:
    """Bad ids, dates, NUL keywords or a reversed range: 422 naming the field, no export."""
    bad_bodies = [
        ({"referral_id": False}, "referral_id"),
        ({"referral_id": 0}, "referral_id"),
        ({"referral_id": str(world.ids["referral_a"])}, "referral_id"),
        ({"organisation_ids": ["1"]}, "organisation_ids.0"),
        ({"foi_request_id": True}, "foi_request_id"),
        ({"date_from": 0}, "date_from"),
        ({"date_to": "2025-01-01T00:00:00"}, "date_to"),
        ({"keywords": "pallet\x00"}, "keywords"),
        ({"date_from": "2025-02-01", "date_to": "2025-01-31"}, "body"),
    ]
    for body, field in bad_bodies:
        response = client.post("/foi/exports", json=body, headers=world.headers("A", FOI))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field, body
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(FoiExport)) == 0
    made = client.post(
        "/foi/exports",
        json={"referral_id": world.ids["referral_a"], "keywords": "  pallet  "},
        headers=world.headers("A", FOI),
    )
    assert made.status_code == 201, made.text
    assert made.json()["parameters"]["keywords"] == "pallet"


def test_a_match_runs_decisions_are_searchable_at_once(
    client: TestClient, world: World, db: Database
) -> None:
    """After a match run, its decisions are in FOI search without a reindex."""
    for _ in range(2):
        add_referral(db, world.orgs["A"])
    run = client.post("/match-runs", json={}, headers=world.headers("A", CW))
    assert run.status_code == 201, run.text
    found = client.get(
        "/foi/search",
        params={"q": f"Match run {run.json()['id']}", "size": 100},
        headers=world.headers("A", FOI),
    )
    assert found.status_code == 200, found.text
    decisions = [h for h in found.json()["items"] if h["kind"] == "decision"]
    assert len(decisions) >= 2
    offers = client.get(
        "/foi/search", params={"q": "Offer made", "size": 100}, headers=world.headers("A", FOI)
    )
    assert offers.json()["total_items"] >= 1
