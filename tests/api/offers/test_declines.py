"""Declines are read for what they say about the charity: who may be offered the household next.

Charity X has two sites (Site X and Site X2, both in LS9); charity Y has Site Y. Each test
decides which of them has room, declines the seeded offer at Site X for one reason, and reads
where the household went, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.db import Database
from api.core.tables import Capacity, Offer, Referral
from api.core.vocabulary import OfferStatus, ReferralStatus, Role
from tests.api.conftest import World, add_site

CW, CH = Role.CASEWORKER, Role.CHARITY


def _fill(db: Database, capacity_id: int) -> None:
    """Leave no free place at a capacity figure (parcels down to what is booked)."""
    with db.write() as session:
        capacity = session.get(Capacity, capacity_id)
        assert capacity is not None
        capacity.parcels = capacity.parcels_booked


def _second_site(db: Database, world: World, dietary: dict[str, int | None] | None = None) -> int:
    """Give charity X a second site in LS9 with room; returns its id."""
    site, capacity_id = add_site(db, world.orgs["X"], "Site X2", 5)
    if dietary is not None:
        with db.write() as session:
            capacity = session.get(Capacity, capacity_id)
            assert capacity is not None
            capacity.dietary = dietary
    return site


def _decline(client: TestClient, world: World, reason: str) -> dict[str, object]:
    response = client.post(
        f"/offers/{world.ids['offer_a']}/decline",
        json={"reason": reason, "note": "seen in a test"},
        headers=world.headers("X", CH),
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _live_site(db: Database, referral_id: int) -> int | None:
    with db.read() as session:
        return session.scalar(
            select(Offer.provider_id).where(
                Offer.referral_id == referral_id, Offer.status == OfferStatus.OFFERED
            )
        )


def test_site_full_may_go_to_the_same_charitys_other_site(
    client: TestClient, world: World, db: Database
) -> None:
    """'We have no places left' is about one site: the charity's other site is offered it,
    and the answer says so."""
    x2 = _second_site(db, world)
    _fill(db, world.ids["cap_y"])

    body = _decline(client, world, "no_capacity")

    assert body["rematched"] is True and body["reoffered_to"] == "same_charity"
    assert _live_site(db, world.ids["referral_a"]) == x2


def test_not_eligible_never_goes_back_to_the_same_charity(
    client: TestClient, world: World, db: Database
) -> None:
    """'Not eligible for our service' rules out every site of that charity: with Site Y full
    the household waits (open) rather than landing at Site X2; a later match run over the
    council's referrals does not offer it there either."""
    _second_site(db, world)
    _fill(db, world.ids["cap_y"])

    body = _decline(client, world, "not_eligible")

    assert body["rematched"] is False and body["reoffered_to"] is None
    assert body["offer"]["decline_reason"] == "not_eligible"  # type: ignore[index]
    assert _live_site(db, world.ids["referral_a"]) is None
    run = client.post("/match-runs", json={}, headers=world.headers("A", CW))
    assert run.status_code in (200, 201), run.text
    assert _live_site(db, world.ids["referral_a"]) is None
    with db.read() as session:
        referral = session.get(Referral, world.ids["referral_a"])
        assert referral is not None and referral.status is ReferralStatus.OPEN


def test_not_eligible_goes_to_another_charity_when_it_has_room(
    client: TestClient, world: World, db: Database
) -> None:
    """A charity-wide decline still lets another charity offer a place, and says so."""
    _second_site(db, world)

    body = _decline(client, world, "household_unreachable")

    assert body["reoffered_to"] == "another_charity"
    assert _live_site(db, world.ids["referral_a"]) == world.ids["site_y"]


def test_dietary_decline_goes_to_the_other_site_only_if_it_stocks_the_need(
    client: TestClient, world: World, db: Database
) -> None:
    """'Cannot meet the dietary needs' lets the charity's other site be offered the household
    only when that site lists the need; without it the household waits."""
    with db.write() as session:
        referral = session.get(Referral, world.ids["referral_a"])
        assert referral is not None
        referral.dietary = "kosher"
    _fill(db, world.ids["cap_y"])
    _second_site(db, world, dietary={"halal": None})

    body = _decline(client, world, "cannot_meet_dietary")

    assert body["rematched"] is False and body["reoffered_to"] is None
    stocked = _second_site(db, world, dietary={"kosher": 3})
    placed = client.post(
        f"/referrals/{world.ids['referral_a']}/place", headers=world.headers("A", CW)
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["provider_id"] == stocked


def test_the_declining_site_itself_is_never_offered_it_again(
    client: TestClient, world: World, db: Database
) -> None:
    """Whatever the reason, the site that declined is not asked again, even with room."""
    _fill(db, world.ids["cap_y"])

    body = _decline(client, world, "no_stock")

    assert body["rematched"] is False
    again = client.post(
        f"/referrals/{world.ids['referral_a']}/place", headers=world.headers("A", CW)
    )
    assert again.status_code == 409
