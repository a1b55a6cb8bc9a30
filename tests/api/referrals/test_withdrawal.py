"""A council withdraws a referral it no longer needs: closed, its place freed, on the record."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.db import Database
from api.core.tables import Offer, Referral, utcnow
from api.core.vocabulary import OfferStatus, Role
from api.record.audit import verify_chain
from api.record.retention import due_for_erasure
from api.record.tables import AuditEvent
from tests.api.conftest import World, add_referral, parcels_booked

CW, CH = Role.CASEWORKER, Role.CHARITY


def test_withdrawing_an_offered_referral_frees_its_place(
    client: TestClient, world: World, db: Database
) -> None:
    """The offer becomes withdrawn, the place goes back, the charity can no longer act on it
    or see the household, and the chain records who withdrew it and why."""
    referral_id, offer_id = world.ids["referral_a"], world.ids["offer_a"]
    booked = parcels_booked(db, world.ids["cap_x"])
    response = client.post(
        f"/referrals/{referral_id}/withdraw",
        json={"reason": "helped_elsewhere"},
        headers=world.headers("A", CW),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "withdrawn" and body["withdrawal_reason"] == "helped_elsewhere"
    assert body["withdrawn_at"] is not None and body["current_offer"] is None
    assert parcels_booked(db, world.ids["cap_x"]) == booked - 1
    with db.read() as session:
        offer = session.get(Offer, offer_id)
        assert offer is not None and offer.status is OfferStatus.WITHDRAWN

    charity = world.headers("X", CH)
    assert client.get(f"/offers/{offer_id}", headers=charity).json()["status"] == "withdrawn"
    assert client.get(f"/referrals/{referral_id}", headers=charity).status_code == 404
    accepted = client.post(f"/offers/{offer_id}/accept", headers=charity)
    assert accepted.status_code == 409 and accepted.json()["reason"] == "wrong_status"

    with db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.withdrawn")
        ).one()
        assert event.referral_id == referral_id and event.organisation_id == world.orgs["A"]
        assert '"reason":"helped_elsewhere"' in event.after_json
        assert '"offer_status":"offered"' in event.before_json
        assert verify_chain(session).ok


def test_a_withdrawn_referral_is_not_placed_or_matched_again(
    client: TestClient, world: World, db: Database
) -> None:
    """An open referral, withdrawn, is skipped by placement and by the next match run."""
    referral_id = add_referral(db, world.orgs["A"], name="Withdrawn Household")
    caseworker = world.headers("A", CW)
    withdrawn = client.post(
        f"/referrals/{referral_id}/withdraw", json={"reason": "duplicate"}, headers=caseworker
    )
    assert withdrawn.status_code == 200, withdrawn.text
    placed = client.post(f"/referrals/{referral_id}/place", headers=caseworker)
    assert placed.status_code == 409 and placed.json()["reason"] == "not_open"
    run = client.post("/match-runs", json={}, headers=caseworker)
    assert run.status_code == 201, run.text
    with db.read() as session:
        assert session.scalars(select(Offer).where(Offer.referral_id == referral_id)).all() == []
    listed = client.get("/referrals", params={"status": "withdrawn"}, headers=caseworker)
    assert [item["id"] for item in listed.json()["items"]] == [referral_id]


def test_only_a_live_referral_of_ones_own_council_can_be_withdrawn(
    client: TestClient, world: World, db: Database
) -> None:
    """Twice -> 409; another council's -> 404; a fulfilled one -> 409; nothing changes."""
    caseworker = world.headers("A", CW)
    first = add_referral(db, world.orgs["A"])
    body = {"reason": "no_longer_needed"}
    assert (
        client.post(f"/referrals/{first}/withdraw", json=body, headers=caseworker).status_code
        == 200
    )
    again = client.post(f"/referrals/{first}/withdraw", json=body, headers=caseworker)
    assert again.status_code == 409 and "withdrawn" in again.json()["detail"]
    other = client.post(
        f"/referrals/{world.ids['referral_b']}/withdraw", json=body, headers=caseworker
    )
    assert other.status_code == 404
    charity = world.headers("X", CH)
    offer_id = world.ids["offer_a"]
    assert client.post(f"/offers/{offer_id}/accept", headers=charity).status_code == 200
    outcome = {"outcome": "collected"}
    assert (
        client.post(f"/offers/{offer_id}/outcome", json=outcome, headers=charity).status_code == 200
    )
    booked = parcels_booked(db, world.ids["cap_x"])
    served = client.post(
        f"/referrals/{world.ids['referral_a']}/withdraw", json=body, headers=caseworker
    )
    assert served.status_code == 409 and "fulfilled" in served.json()["detail"]
    assert parcels_booked(db, world.ids["cap_x"]) == booked
    with db.read() as session:
        referral_b = session.get(Referral, world.ids["referral_b"])
        assert referral_b is not None and referral_b.status.value == "offered"


def test_a_withdrawn_referral_counts_as_closed_for_retention(
    client: TestClient, world: World, db: Database
) -> None:
    """Its personal data is erased after the retention period, like a fulfilled one's."""
    referral_id = add_referral(db, world.orgs["A"])
    response = client.post(
        f"/referrals/{referral_id}/withdraw",
        json={"reason": "household_uncontactable"},
        headers=world.headers("A", CW),
    )
    assert response.status_code == 200, response.text
    with db.read() as session:
        later = utcnow() + timedelta(days=400)
        assert referral_id in due_for_erasure(session, now=later, months=12)
        assert referral_id not in due_for_erasure(session, now=utcnow(), months=12)
