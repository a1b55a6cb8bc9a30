"""The offer lifecycle, minimisation, capacity history, placement and run atomicity."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from api.core.db import Database
from api.core.tables import MatchRun, MatchRunItem, Offer, Referral
from api.core.vocabulary import ReferralStatus, Role
from api.demo.seed import current_week
from tests.api.conftest import World, add_referral, parcels_booked

CW, CH = Role.CASEWORKER, Role.CHARITY


def test_decline_frees_the_place_and_rematches_elsewhere(
    client: TestClient, world: World, db: Database
) -> None:
    """A declined offer gives its place back and the household is offered another site."""
    offer_id, referral_id = world.ids["offer_a"], world.ids["referral_a"]
    assert parcels_booked(db, world.ids["cap_x"]) == 1

    response = client.post(
        f"/offers/{offer_id}/decline",
        json={"reason": "no_stock", "note": "Out of tins"},
        headers=world.headers("X", CH),
    )

    assert response.status_code == 200, response.text
    assert response.json()["offer"]["status"] == "declined"
    assert response.json()["offer"]["decline_reason"] == "no_stock"
    assert response.json()["rematched"] is True
    assert parcels_booked(db, world.ids["cap_x"]) == 0
    council_view = client.get(f"/referrals/{referral_id}", headers=world.headers("A", CW)).json()
    assert council_view["current_offer"]["provider_id"] == world.ids["site_y"]
    assert (
        client.get(f"/referrals/{referral_id}", headers=world.headers("X", CH)).status_code == 404
    )
    again = client.post(
        f"/offers/{offer_id}/decline", json={"reason": "other"}, headers=world.headers("X", CH)
    )
    assert again.status_code == 409


def test_no_show_frees_the_place_and_never_reoffers_the_same_site(
    client: TestClient, world: World, db: Database
) -> None:
    """After a no-show the place is freed and the household goes elsewhere, not back."""
    offer_id = world.ids["offer_a"]
    charity = world.headers("X", CH)
    assert client.post(f"/offers/{offer_id}/accept", headers=charity).status_code == 200
    wrong = client.post(
        f"/offers/{offer_id}/outcome", json={"outcome": "delivered"}, headers=charity
    )
    assert wrong.status_code == 409

    response = client.post(
        f"/offers/{offer_id}/outcome", json={"outcome": "no_show"}, headers=charity
    )

    assert response.status_code == 200 and response.json()["offer"]["status"] == "no_show"
    assert response.json()["rematched"] is True
    assert parcels_booked(db, world.ids["cap_x"]) == 0
    with db.read() as session:
        active = session.scalars(
            select(Offer).where(
                Offer.referral_id == world.ids["referral_a"], Offer.status == "offered"
            )
        ).all()
        assert [o.provider_id for o in active] == [world.ids["site_y"]]


def test_charity_sees_contact_only_after_accepting_and_with_consent(
    client: TestClient, world: World, db: Database
) -> None:
    """Name and phone reach the charity only after it accepts, and never without consent."""
    charity = world.headers("X", CH)
    referral_id = world.ids["referral_a"]
    before = client.get(f"/referrals/{referral_id}", headers=charity).json()
    assert set(before) == {
        "view",
        "id",
        "household_size",
        "dietary",
        "urgency",
        "district",
        "needs_delivery",
        "offer_id",
        "offer_status",
        "contact",
        "notes",
    }
    assert before["contact"] is None and before["notes"] is None
    assert "Canary" not in str(before)
    client.post(f"/offers/{world.ids['offer_a']}/accept", headers=charity)
    after = client.get(f"/referrals/{referral_id}", headers=charity).json()
    assert after["contact"]["name"] == "Canary Household"
    assert after["contact"]["phone"] == "07700 900123"

    no_consent = add_referral(db, world.orgs["A"], consent=False, name="Private Canary")
    placed = client.post(f"/referrals/{no_consent}/place", headers=world.headers("A", CW)).json()
    holder = "X" if placed["provider_id"] == world.ids["site_x"] else "Y"
    client.post(f"/offers/{placed['id']}/accept", headers=world.headers(holder, CH))
    hidden = client.get(f"/referrals/{no_consent}", headers=world.headers(holder, CH)).json()
    assert hidden["contact"] is None and "Private" not in str(hidden)


def test_capacity_updates_keep_history_and_never_drop_belowparcels_booked(
    client: TestClient, world: World, db: Database
) -> None:
    """A new figure supersedes the old (kept), carries bookings, and cannot undercut them."""
    charity = world.headers("X", CH)
    site = world.ids["site_x"]
    start, end = current_week()
    period = {"period_start": str(start), "period_end": str(end)}

    updated = client.put(
        f"/providers/{site}/capacity", json={**period, "parcels": 7}, headers=charity
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["parcels_booked"] == 1 and updated.json()["parcels_free"] == 6
    too_low = client.put(
        f"/providers/{site}/capacity", json={**period, "parcels": 0}, headers=charity
    )
    assert too_low.status_code == 409 and "already offered" in too_low.json()["detail"]
    overlap = client.put(
        f"/providers/{site}/capacity",
        json={"period_start": str(end), "period_end": str(end + timedelta(days=3)), "parcels": 1},
        headers=charity,
    )
    assert overlap.status_code == 409

    history = client.get(f"/providers/{site}/capacity", headers=charity).json()["items"]
    assert [h["parcels"] for h in history] == [7, 10]
    assert history[0]["superseded_at"] is None and history[1]["superseded_at"] is not None
    with db.read() as session:
        offer = session.get(Offer, world.ids["offer_a"])
        assert offer is not None and offer.capacity_id == history[0]["id"]


def test_place_says_why_no_place_exists(client: TestClient, world: World, db: Database) -> None:
    """A household out of every site's reach gets a 409 naming the reason; nothing is booked."""
    far = add_referral(db, world.orgs["A"], outcode="EC1A")
    response = client.post(f"/referrals/{far}/place", headers=world.headers("A", CW))
    assert response.status_code == 409
    assert response.json()["reason"] == "no_provider_in_reach"
    with db.read() as session:
        referral = session.get(Referral, far)
        assert referral is not None and referral.status is ReferralStatus.OPEN


def test_match_run_offers_the_open_referrals(
    client: TestClient, world: World, db: Database
) -> None:
    """A run matches open referrals to free places and stores every decision."""
    opened = [add_referral(db, world.orgs["A"], urgency="emergency") for _ in range(3)]
    response = client.post("/match-runs", json={}, headers=world.headers("A", Role.PLANNER))
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["referral_count"] == 3 and run["matched"]["emergency"] == 3
    assert {m["referral_id"] for m in run["matches"]} == set(opened)
    assert all(m["offer_id"] and m["explanation"] for m in run["matches"])
    stored = client.get(f"/match-runs/{run['id']}", headers=world.headers("A", CW)).json()
    assert stored == run
    assert parcels_booked(db, world.ids["cap_x"]) + parcels_booked(db, world.ids["cap_y"]) == 2 + 3


def test_a_failed_match_run_leaves_nothing_behind(
    client: TestClient, world: World, db: Database, backend: str
) -> None:
    """If storing a run fails part-way, no run, decision, offer or booking survives."""
    victims = [add_referral(db, world.orgs["A"]) for _ in range(3)]
    with db.engine.begin() as connection:
        if backend == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER fail_third BEFORE INSERT ON match_run_items "
                    f"WHEN NEW.referral_id = {victims[2]} "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION fail_third() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.referral_id = {victims[2]} THEN RAISE EXCEPTION 'injected failure'; "
                    "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER fail_third BEFORE INSERT ON match_run_items "
                    "FOR EACH ROW EXECUTE FUNCTION fail_third()"
                )
            )
    booked_before = parcels_booked(db, world.ids["cap_x"]) + parcels_booked(db, world.ids["cap_y"])

    response = client.post("/match-runs", json={}, headers=world.headers("A", CW))

    assert response.status_code >= 409
    assert response.headers["content-type"].startswith("application/problem+json")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(MatchRun)) == 2  # the seeded two
        assert session.scalar(select(func.count()).select_from(MatchRunItem)) == 0
        assert session.scalar(select(func.count()).select_from(Offer)) == 2
        statuses = session.scalars(select(Referral.status).where(Referral.id.in_(victims))).all()
        assert set(statuses) == {ReferralStatus.OPEN}
    assert (
        parcels_booked(db, world.ids["cap_x"]) + parcels_booked(db, world.ids["cap_y"])
        == booked_before
    )


def test_sites_added_over_http_can_be_placed_at(
    client: TestClient, world: World, db: Database
) -> None:
    """A charity's new site with capacity is used by an immediate placement."""
    charity = world.headers("Y", CH)
    site = client.post(
        "/providers",
        json={"name": "Farsley Pantry", "postcode": "LS28 5AA", "service_area": ["LS28"]},
        headers=charity,
    ).json()
    start, end = current_week()
    client.put(
        f"/providers/{site['id']}/capacity",
        json={"period_start": str(start), "period_end": str(end), "parcels": 1},
        headers=charity,
    )
    local = add_referral(db, world.orgs["A"], outcode="LS28")
    placed = client.post(f"/referrals/{local}/place", headers=world.headers("A", CW))
    assert placed.status_code == 201 and placed.json()["provider_id"] == site["id"]
