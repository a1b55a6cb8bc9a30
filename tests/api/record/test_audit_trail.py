"""The service's own state changes land in the tamper-evident audit chain, by reference."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import String, select, update
from typer.testing import CliRunner

from api.cli import app as cli
from api.core.db import Database
from api.core.vocabulary import Role
from api.demo.seed import current_week
from api.record.audit import verify_chain
from api.record.tables import AuditEvent, SearchDocument
from tests.api.conftest import World

CW, CH = Role.CASEWORKER, Role.CHARITY


def _events(db: Database) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_offer_lifecycle_is_audited(client: TestClient, world: World, db: Database) -> None:
    """Accepting and recording an outcome each append one event naming offer and referral."""
    offer_id, referral_id = world.ids["offer_a"], world.ids["referral_a"]
    charity = world.headers("X", CH)
    assert client.post(f"/offers/{offer_id}/accept", headers=charity).status_code == 200
    outcome = client.post(
        f"/offers/{offer_id}/outcome", json={"outcome": "collected"}, headers=charity
    )
    assert outcome.status_code == 200, outcome.text
    events = [e for e in _events(db) if e.entity_type == "offer"]
    assert [e.action for e in events] == ["offer.accepted", "offer.collected"]
    assert all(e.entity_id == str(offer_id) and e.referral_id == referral_id for e in events)
    assert events[0].organisation_id == world.orgs["X"] and events[0].actor_user_id is not None
    assert '"status":"offered"' in events[0].before_json
    with db.read() as session:
        assert verify_chain(session).ok


def test_decline_is_audited_without_its_free_text(
    client: TestClient, world: World, db: Database
) -> None:
    """A decline records its reason code; the free-text note stays out of the chain."""
    response = client.post(
        f"/offers/{world.ids['offer_a']}/decline",
        json={"reason": "no_stock", "note": "Out of tins for Mrs Example"},
        headers=world.headers("X", CH),
    )
    assert response.status_code == 200, response.text
    declined = [e for e in _events(db) if e.action == "offer.declined"]
    assert len(declined) == 1
    assert "no_stock" in declined[0].after_json
    assert "Example" not in declined[0].after_json and "tins" not in declined[0].after_json


def test_sites_and_capacity_changes_are_audited(
    client: TestClient, world: World, db: Database
) -> None:
    """Adding a site and changing a capacity figure keep before and after in the chain."""
    charity = world.headers("X", CH)
    site = client.post(
        "/providers", json={"name": "Audit Pantry", "postcode": "LS9 7AB"}, headers=charity
    )
    assert site.status_code == 201, site.text
    start, end = current_week()
    updated = client.put(
        f"/providers/{world.ids['site_x']}/capacity",
        json={"period_start": str(start), "period_end": str(end), "parcels": 7},
        headers=charity,
    )
    assert updated.status_code == 200, updated.text
    actions = {e.action: e for e in _events(db)}
    assert actions["site.created"].entity_id == str(site.json()["id"])
    change = actions["capacity.updated"]
    assert '"parcels":10' in change.before_json and '"parcels":7' in change.after_json
    with db.read() as session:
        assert verify_chain(session).ok


REFERRAL = {
    "household_size": 2,
    "dietary": [],
    "urgency": "urgent",
    "postcode": "LS9 7AB",
    "consent_to_share": True,
    "name": "Branwen Audittest",
    "phone": "07700 900123",
}


def test_referral_placement_and_match_run_are_audited(
    client: TestClient, world: World, db: Database
) -> None:
    """Submitting, placing and a match run each leave an event; no personal data in them."""
    caseworker = world.headers("A", CW)
    created = client.post("/referrals", json=REFERRAL, headers=caseworker)
    assert created.status_code == 201, created.text
    referral_id = created.json()["id"]
    placed = client.post(f"/referrals/{referral_id}/place", headers=caseworker)
    run = client.post("/match-runs", json={}, headers=caseworker)
    assert run.status_code == 201, run.text
    events = _events(db)
    made = {e.action: e for e in events}
    assert made["referral.created"].entity_id == str(referral_id)
    assert made["referral.created"].referral_id == referral_id
    assert '"urgency":"urgent"' in made["referral.created"].after_json
    assert placed.status_code == 201, placed.text
    offer = [e for e in events if e.action == "offer.made"][-1]
    assert offer.referral_id == referral_id and offer.entity_id == str(placed.json()["id"])
    assert made["match_run.completed"].entity_id == str(run.json()["id"])
    text = " ".join(e.before_json + e.after_json for e in events)
    assert "Audittest" not in text and "900123" not in text
    with db.read() as session:
        assert verify_chain(session).ok


def test_audit_events_are_searchable_by_the_parties_they_concern(
    client: TestClient, world: World, db: Database
) -> None:
    """An event's search document belongs to the household's council, with the charity that
    acted as its other party; an event about no household belongs to whoever acted."""
    offer_id, referral_id = world.ids["offer_a"], world.ids["referral_a"]
    charity = world.headers("X", CH)
    assert client.post(f"/offers/{offer_id}/accept", headers=charity).status_code == 200
    site = client.post("/providers", json={"name": "Owned Pantry", "postcode": "LS9 7AB"},
                       headers=charity)  # fmt: skip
    assert site.status_code == 201, site.text
    with db.read() as session:
        rows = {
            row.action: row
            for row in session.execute(
                select(
                    AuditEvent.action,
                    SearchDocument.organisation_id,
                    SearchDocument.other_organisation_id,
                    SearchDocument.referral_id,
                    SearchDocument.body_redacted,
                ).join(
                    SearchDocument,
                    SearchDocument.source_key == "audit:" + AuditEvent.id.cast(String),
                )
            )
        }
    accepted = rows["offer.accepted"]
    assert (accepted.organisation_id, accepted.other_organisation_id) == (
        world.orgs["A"],
        world.orgs["X"],
    )
    assert accepted.referral_id == referral_id
    assert f"Offer {offer_id}: the food bank accepted the household." in accepted.body_redacted
    created = rows["site.created"]
    assert (created.organisation_id, created.other_organisation_id) == (world.orgs["X"], None)
    # The household's council finds the charity's acceptance; another council does not.
    for council, found in (("A", True), ("B", False)):
        hits = client.get("/foi/search", params={"q": "accepted household", "kind": "audit"},
                          headers=world.headers(council, Role.FOI_OFFICER))  # fmt: skip
        assert hits.status_code == 200, hits.text
        assert any(h["referral_id"] == referral_id for h in hits.json()["items"]) is found


def test_reindex_writes_earlier_audit_text_again_in_plain_words(
    client: TestClient, world: World, db: Database, db_url: str
) -> None:
    """Events indexed by an earlier version ('offer accepted offer 7 status ...') read as
    sentences after `foodmatch audit reindex`; the events and their chain are untouched."""
    offer_id = world.ids["offer_a"]
    accepted = client.post(f"/offers/{offer_id}/accept", headers=world.headers("X", CH))
    assert accepted.status_code == 200, accepted.text
    old_words = f"offer accepted offer {offer_id} status offered status accepted"
    audit_docs = SearchDocument.source_key.like("audit:%")
    with db.write() as session:
        session.execute(update(SearchDocument).where(audit_docs)
                        .values(body=old_words, body_redacted=old_words))  # fmt: skip
    done = CliRunner().invoke(cli, ["audit", "reindex", "--database-url", db_url])
    assert done.exit_code == 0, done.output
    with db.read() as session:
        texts = session.scalars(select(SearchDocument.body_redacted).where(audit_docs)).all()
        assert texts and old_words not in texts
        [text] = [t for t in texts if t.startswith(f"Offer {offer_id}: the food bank accepted")]
        assert "Status changed from offered to accepted." in text and "_" not in text
        assert verify_chain(session).ok
