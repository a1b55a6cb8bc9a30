"""What the charity learns of a household: notes for the food bank after accepting (redacted),
its history of households with dates and nothing personal, and read markers that clear."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.auth.tokens import Principal
from api.core.db import Database
from api.core.tables import Capacity, ReferralPersonal
from api.core.vocabulary import OrganisationKind, Role
from api.record import messages
from tests.api.conftest import World, add_referral

CW, CH = Role.CASEWORKER, Role.CHARITY
NOTES = (
    "Call after 3pm please on 07700 900123. Her son Tom Baxter is on 07700 900999, "
    "NHS number 943 476 5919, email tom.baxter@example.com."
)


def _write_notes(db: Database, referral_id: int, notes: str) -> None:
    with db.write() as session:
        personal = session.get(ReferralPersonal, referral_id)
        assert personal is not None
        personal.notes = notes


def test_notes_reach_the_accepting_charity_redacted_and_only_then(
    client: TestClient, world: World, db: Database
) -> None:
    """Before accepting the charity gets no notes; after, the notes with the household's own
    phone kept and every other identifier replaced; after collection, neither notes nor
    contact; another charity never sees the household at all."""
    _write_notes(db, world.ids["referral_a"], NOTES)
    offer_id = world.ids["offer_a"]
    charity = world.headers("X", CH)

    before = client.get(f"/offers/{offer_id}/household", headers=charity)
    assert before.status_code == 200 and before.json()["notes"] is None
    assert "3pm" not in before.text and before.json()["contact"] is None
    assert (
        client.get(f"/offers/{offer_id}/household", headers=world.headers("Y", CH)).status_code
        == 404
    )

    client.post(f"/offers/{offer_id}/accept", headers=charity)
    notes = client.get(f"/offers/{offer_id}/household", headers=charity).json()["notes"]
    assert notes.startswith("Call after 3pm please on 07700 900123.")
    for gone in ("Tom", "Baxter", "07700 900999", "943 476 5919", "example.com"):
        assert gone not in notes, notes
    assert "[name]" in notes and "[phone]" in notes and "[NHS number]" in notes

    client.post(f"/offers/{offer_id}/outcome", json={"outcome": "collected"}, headers=charity)
    closed = client.get(f"/offers/{offer_id}/household", headers=charity).json()
    assert closed["notes"] is None and closed["contact"] is None


def test_no_notes_without_consent(client: TestClient, world: World, db: Database) -> None:
    """A household that did not consent: the accepting charity gets neither contact nor notes."""
    private = add_referral(db, world.orgs["A"], consent=False, name="Private Canary")
    _write_notes(db, private, "Call after 3pm please")
    placed = client.post(f"/referrals/{private}/place", headers=world.headers("A", CW)).json()
    holder = "X" if placed["provider_id"] == world.ids["site_x"] else "Y"
    client.post(f"/offers/{placed['id']}/accept", headers=world.headers(holder, CH))

    seen = client.get(f"/offers/{placed['id']}/household", headers=world.headers(holder, CH))

    assert seen.status_code == 200
    assert seen.json()["notes"] is None and seen.json()["contact"] is None
    assert "3pm" not in seen.text


def test_history_dates_every_step_and_holds_nothing_personal(
    client: TestClient, world: World, db: Database
) -> None:
    """The charity's history lists its households newest first with when each was offered,
    accepted and collected (or declined, and why); no name, phone or notes, even for the
    accepted one; it is the charity's own, and a council cannot read it."""
    _write_notes(db, world.ids["referral_a"], NOTES)
    charity = world.headers("X", CH)
    client.post(f"/offers/{world.ids['offer_a']}/accept", headers=charity)
    client.post(
        f"/offers/{world.ids['offer_a']}/outcome", json={"outcome": "collected"}, headers=charity
    )
    with db.write() as session:  # Site Y is full, so the second household comes to X
        capacity = session.get(Capacity, world.ids["cap_y"])
        assert capacity is not None
        capacity.parcels = capacity.parcels_booked
    second = add_referral(db, world.orgs["A"], name="Second Canary")
    placed = client.post(f"/referrals/{second}/place", headers=world.headers("A", CW)).json()
    assert placed["provider_id"] == world.ids["site_x"]
    client.post(f"/offers/{placed['id']}/decline", json={"reason": "no_capacity"}, headers=charity)

    response = client.get("/offers/history", headers=charity)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["offer_id"] for i in items] == [placed["id"], world.ids["offer_a"]]
    declined, collected = items
    assert declined["status"] == "declined" and declined["decline_reason"] == "no_capacity"
    assert declined["declined_at"] >= declined["offered_at"]
    assert declined["accepted_at"] is None and declined["collected_at"] is None
    assert collected["status"] == "collected"
    assert collected["offered_at"] <= collected["accepted_at"] <= collected["collected_at"]
    assert collected["household"]["contact"] is None and collected["household"]["notes"] is None
    for personal in ("Canary", "07700", "3pm", "Row"):
        assert personal not in response.text
    other = client.get("/offers/history", headers=world.headers("Y", CH)).json()["items"]
    assert {i["offer_id"] for i in other} == {world.ids["offer_b"]}
    assert client.get("/offers/history", headers=world.headers("A", CW)).status_code == 403


def test_new_messages_stop_being_new_once_opened_or_answered(
    client: TestClient, world: World, db: Database
) -> None:
    """A council message is new to the charity's user until the thread is opened; a later one
    is new again until the charity replies; replying counts as reading."""
    referral_id = world.ids["referral_a"]
    council = world.headers("A", CW)
    user = world.users[("X", CH)]
    reader = Principal(
        organisation_id=world.orgs["X"],
        organisation_kind=OrganisationKind.CHARITY,
        role=Role.CHARITY,
        user_id=user.id,
    )

    def post(headers: dict[str, str], body: str) -> None:
        sent = client.post(
            f"/referrals/{referral_id}/messages", json={"body": body}, headers=headers
        )
        assert sent.status_code == 201, sent.text

    def unread() -> list[bool]:
        shown = messages.open_referral_messages(db, reader, referral_id, 1, 50).items
        return [m.unread for m in shown]

    post(council, "Please call before noon.")
    assert unread() == [True]
    assert unread() == [False]
    post(council, "Any news?")
    post(world.headers("X", CH), "Yes, we called.")
    assert unread() == [False, False, False]
    post(council, "Thanks.")
    listed = client.get(f"/referrals/{referral_id}/messages", headers=world.headers("X", CH))
    assert [m["unread"] for m in listed.json()["items"]] == [False, False, False, True]
