"""What needs a caseworker (GET /referrals/needs-attention), emergencies placed on submit, and
finding and ordering the referral list, on SQLite and PostgreSQL.

The seeded world: referral_a of council A offered at charity X's site (10 places), referral_b
of council B at charity Y's site (10 places), both sites in LS9.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from api.core.clock import current_week
from api.core.db import Database
from api.core.tables import Offer, utcnow
from api.core.vocabulary import Role
from tests.api.conftest import World, add_referral

CW, CH = Role.CASEWORKER, Role.CHARITY
EMERGENCY = {"household_size": 2, "urgency": "emergency", "postcode": "LS9 7AB",
             "consent_to_share": True, "name": "Hollis Family"}  # fmt: skip


def _attention(client: TestClient, world: World, org: str = "A") -> list[dict[str, Any]]:
    response = client.get("/referrals/needs-attention", headers=world.headers(org, CW))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _fill(client: TestClient, world: World, site: str, charity: str, parcels: int) -> None:
    """Set a site's capacity this week to ``parcels`` (its charity does it, as on its page)."""
    start, end = current_week()
    body = {"period_start": start.isoformat(), "period_end": end.isoformat(),
            "parcels": parcels, "delivery": 0}  # fmt: skip
    answer = client.put(
        f"/providers/{world.ids[site]}/capacity", json=body, headers=world.headers(charity, CH)
    )
    assert answer.status_code == 200, answer.text


def _history_kinds(client: TestClient, world: World, referral_id: int) -> list[str]:
    response = client.get(f"/referrals/{referral_id}/history", headers=world.headers("A", CW))
    assert response.status_code == 200, response.text
    return [entry["kind"] for entry in response.json()]


def test_nothing_needs_attention_in_a_quiet_week(client: TestClient, world: World) -> None:
    """A fresh offer, answered or not within the hours allowed, needs nobody."""
    assert _attention(client, world) == []


def test_a_decline_with_no_other_place_needs_attention_until_placed_again(
    client: TestClient, world: World
) -> None:
    """Charity X declines and charity Y is full: the referral is listed as declined, with the
    site and the reason in plain words; once Y has room and it is placed, it is not."""
    _fill(client, world, "site_y", "Y", 1)  # Y holds council B's household: full
    declined = client.post(
        f"/offers/{world.ids['offer_a']}/decline",
        json={"reason": "no_stock"},
        headers=world.headers("X", CH),
    )
    assert declined.status_code == 200, declined.text
    items = _attention(client, world)
    assert [(i["referral_id"], i["reason"]) for i in items] == [
        (world.ids["referral_a"], "declined")
    ]
    assert "Site X declined the place because it has run out of stock" in items[0]["detail"]
    assert _attention(client, world, "B") == []  # council B sees only its own

    _fill(client, world, "site_y", "Y", 5)
    placed = client.post(
        f"/referrals/{world.ids['referral_a']}/place", headers=world.headers("A", CW)
    )
    assert placed.status_code == 201, placed.text
    assert _attention(client, world) == []


def test_an_offer_unanswered_past_the_council_hours_needs_attention(
    client: TestClient, world: World, db: Database
) -> None:
    """Ageing: an offer made three days ago and still unanswered is listed with its age; one
    made an hour ago is not (48 hours allowed by default)."""
    with db.write() as session:
        session.execute(
            update(Offer)
            .where(Offer.id == world.ids["offer_a"])
            .values(created_at=utcnow() - timedelta(days=3, minutes=5))
        )
    items = _attention(client, world)
    assert [(i["referral_id"], i["reason"]) for i in items] == [
        (world.ids["referral_a"], "unanswered")
    ]
    assert "Site X has not answered the offer for 3 days" in items[0]["detail"]
    with db.write() as session:
        session.execute(
            update(Offer)
            .where(Offer.id == world.ids["offer_a"])
            .values(created_at=utcnow() - timedelta(hours=1))
        )
    assert _attention(client, world) == []


def test_a_no_show_with_no_other_place_needs_attention(client: TestClient, world: World) -> None:
    """Accepted, then the household did not come, and no other site has room: listed."""
    offer, charity = world.ids["offer_a"], world.headers("X", CH)
    assert client.post(f"/offers/{offer}/accept", headers=charity).status_code == 200
    _fill(client, world, "site_y", "Y", 1)
    missed = client.post(f"/offers/{offer}/outcome", json={"outcome": "no_show"}, headers=charity)
    assert missed.status_code == 200, missed.text
    reasons = {i["referral_id"]: i["reason"] for i in _attention(client, world)}
    assert reasons.get(world.ids["referral_a"]) == "no_show"


def test_an_emergency_is_offered_a_place_when_submitted(client: TestClient, world: World) -> None:
    """POST /referrals for an emergency answers with its offer already made (status offered),
    and a retry with the same key answers the same; an urgent one waits for the run."""
    headers = {**world.headers("A", CW), "Idempotency-Key": "emergency-once"}
    made = client.post("/referrals", json=EMERGENCY, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "offered"
    assert made.json()["current_offer"]["provider_id"] in (world.ids["site_x"], world.ids["site_y"])
    again = client.post("/referrals", json=EMERGENCY, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["current_offer"] == made.json()["current_offer"]
    assert "offer.made" in _history_kinds(client, world, made.json()["id"])

    urgent = client.post(
        "/referrals", json={**EMERGENCY, "urgency": "urgent"}, headers=world.headers("A", CW)
    )
    assert urgent.status_code == 201 and urgent.json()["status"] == "open"


def test_an_emergency_with_no_free_place_says_why_and_needs_attention(
    client: TestClient, world: World
) -> None:
    """Both sites full: the emergency is stored open, its history says no place was free and
    why, and it heads the caseworker's attention list."""
    _fill(client, world, "site_x", "X", 1)
    _fill(client, world, "site_y", "Y", 1)
    made = client.post("/referrals", json=EMERGENCY, headers=world.headers("A", CW))
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "open" and made.json()["current_offer"] is None
    response = client.get(f"/referrals/{made.json()['id']}/history", headers=world.headers("A", CW))
    entries = {e["kind"]: e for e in response.json()}
    assert entries["referral.not_placed"]["title"] == "No place free"
    assert "waits for the next match run" in entries["referral.not_placed"]["detail"]
    items = _attention(client, world)
    assert items[0]["referral_id"] == made.json()["id"]
    assert items[0]["reason"] == "emergency_unplaced"


def test_the_council_can_turn_placing_on_submit_off(client: TestClient, world: World) -> None:
    """With place_emergencies_on_submit off, an emergency waits for the run like any other."""
    app: Any = client.app
    app.state.settings = app.state.settings.model_copy(
        update={"place_emergencies_on_submit": False}
    )
    made = client.post("/referrals", json=EMERGENCY, headers=world.headers("A", CW))
    assert made.status_code == 201 and made.json()["status"] == "open"
    assert "referral.not_placed" not in _history_kinds(client, world, made.json()["id"])


def _listed(client: TestClient, world: World, **query: str) -> list[int]:
    response = client.get("/referrals", params=query, headers=world.headers("A", CW))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_the_list_finds_by_number_name_postcode_and_district_and_sorts(
    client: TestClient, world: World, db: Database
) -> None:
    """q finds a referral by its number (with or without R), part of the name (any case),
    the postcode without its space, or the district; sort=urgency puts emergencies first;
    another council's referral is never found; wildcards are taken literally."""
    council = world.orgs["A"]
    first = add_referral(db, council, outcode="LS8", urgency="standard", name="Ada O'Neill")
    second = add_referral(db, council, outcode="LS6", urgency="emergency", name="Bea Patel")
    assert _listed(client, world, q=str(first)) == [first]
    assert _listed(client, world, q=f"r{second}") == [second]
    assert _listed(client, world, q="o'neill") == [first]
    assert _listed(client, world, q="ls67zz") == [second]  # stored as "LS6 7ZZ"
    assert _listed(client, world, q="LS8") == [first]
    assert _listed(client, world, q="%") == []
    assert world.ids["referral_b"] not in _listed(client, world, q=str(world.ids["referral_b"]))
    newest = _listed(client, world)
    assert newest == sorted(newest, reverse=True)
    assert _listed(client, world, sort="oldest") == sorted(newest)
    assert _listed(client, world, sort="urgency")[0] == second
    bad = client.get("/referrals", params={"sort": "name"}, headers=world.headers("A", CW))
    assert bad.status_code == 422
