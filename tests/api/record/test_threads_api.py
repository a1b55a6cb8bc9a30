"""Coordination threads through HTTP: who may read and write, unread state, audit trail."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.db import Database
from api.core.tables import Offer
from api.core.vocabulary import DeclineReason, OfferStatus, Role
from api.record.audit import verify_chain
from api.record.tables import AuditEvent
from tests.api.conftest import World

CW, CH, PL = Role.CASEWORKER, Role.CHARITY, Role.PLANNER


def _post(client: TestClient, world: World, org: str, role: Role, referral: int, body: str,
          **extra: object) -> dict[str, object]:  # fmt: skip
    response = client.post(
        f"/referrals/{referral}/messages",
        json={"body": body, **extra},
        headers=world.headers(org, role),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_council_and_offered_charity_share_the_thread(client: TestClient, world: World) -> None:
    """The caseworker's message reaches the charity the referral is offered to, and back."""
    referral = world.ids["referral_a"]
    _post(client, world, "A", CW, referral, "Can you do a morning collection?")
    _post(client, world, "X", CH, referral, "Yes, 10am Tuesday.")
    seen_by_charity = client.get(f"/referrals/{referral}/messages", headers=world.headers("X", CH))
    assert seen_by_charity.status_code == 200
    bodies = [m["body"] for m in seen_by_charity.json()["items"]]
    assert bodies == ["Can you do a morning collection?", "Yes, 10am Tuesday."]
    assert {m["charity_organisation_id"] for m in seen_by_charity.json()["items"]} == {
        world.orgs["X"]
    }


def test_others_cannot_see_the_thread(client: TestClient, world: World) -> None:
    """Another council, and a charity the referral was never offered to, get 404."""
    referral = world.ids["referral_a"]
    _post(client, world, "A", CW, referral, "Private coordination.")
    for org, role in (("B", CW), ("Y", CH)):
        got = client.get(f"/referrals/{referral}/messages", headers=world.headers(org, role))
        assert got.status_code == 404, (org, got.text)
        assert got.headers["content-type"].startswith("application/problem+json")
        posted = client.post(
            f"/referrals/{referral}/messages", json={"body": "hi"}, headers=world.headers(org, role)
        )
        assert posted.status_code == 404


def test_roles_outside_messaging_are_refused(client: TestClient, world: World) -> None:
    """An FOI officer reads the record through search, not the live thread (403)."""
    got = client.get(
        f"/referrals/{world.ids['referral_a']}/messages",
        headers=world.headers("A", Role.FOI_OFFICER),
    )
    assert got.status_code == 403


def test_declining_charity_loses_the_thread(client: TestClient, world: World, db: Database) -> None:
    """After declining, a charity no longer sees the referral's thread."""
    referral = world.ids["referral_a"]
    _post(client, world, "A", CW, referral, "Details for you.")
    with db.write() as session:  # the state the offer service leaves after a decline
        offer = session.get(Offer, world.ids["offer_a"])
        assert offer is not None
        offer.status, offer.decline_reason = OfferStatus.DECLINED, DeclineReason.NO_STOCK
    got = client.get(f"/referrals/{referral}/messages", headers=world.headers("X", CH))
    assert got.status_code == 404
    assert (
        client.get(f"/referrals/{referral}/messages", headers=world.headers("A", CW)).json()[
            "total_items"
        ]
        == 1
    )


def test_accepting_charity_keeps_the_thread(client: TestClient, world: World) -> None:
    """After accepting, the charity still reads and writes in the thread."""
    referral = world.ids["referral_a"]
    accepted = client.post(f"/offers/{world.ids['offer_a']}/accept", headers=world.headers("X", CH))
    assert accepted.status_code == 200, accepted.text
    _post(client, world, "X", CH, referral, "Accepted; see you Tuesday.")
    got = client.get(f"/referrals/{referral}/messages", headers=world.headers("A", CW))
    assert [m["body"] for m in got.json()["items"]] == ["Accepted; see you Tuesday."]


def test_council_cannot_message_before_any_offer(
    client: TestClient, world: World, db: Database
) -> None:
    """With no charity holding an offer, posting is a clear 409 naming why."""
    from tests.api.conftest import add_referral

    referral = add_referral(db, world.orgs["A"])
    response = client.post(
        f"/referrals/{referral}/messages", json={"body": "hello"}, headers=world.headers("A", CW)
    )
    assert response.status_code == 409
    assert "no place with a food bank yet" in response.json()["detail"]


def test_unread_until_read(client: TestClient, world: World) -> None:
    """A new message is unread for the other side until marked read, never for its author."""
    referral = world.ids["referral_a"]
    _post(client, world, "A", CW, referral, "Please confirm.")
    mine = client.get(f"/referrals/{referral}/messages", headers=world.headers("A", CW)).json()
    assert [m["unread"] for m in mine["items"]] == [False]
    theirs = client.get(f"/referrals/{referral}/messages", headers=world.headers("X", CH)).json()
    assert [m["unread"] for m in theirs["items"]] == [True]
    marked = client.post(f"/referrals/{referral}/messages/read", headers=world.headers("X", CH))
    assert marked.status_code == 200
    theirs = client.get(f"/referrals/{referral}/messages", headers=world.headers("X", CH)).json()
    assert [m["unread"] for m in theirs["items"]] == [False]


def test_organisation_wide_thread(client: TestClient, world: World) -> None:
    """A council planner and a charity talk about capacity; others see nothing; unread counts."""
    created = client.post(
        "/threads",
        json={
            "counterpart_organisation_id": world.orgs["X"],
            "subject": "Christmas capacity",
            "body": "How many parcels can you do in the week of 22 December?",
        },
        headers=world.headers("A", PL),
    )
    assert created.status_code == 201, created.text
    thread_id = created.json()["id"]
    listed = client.get("/threads", headers=world.headers("X", CH)).json()["items"]
    assert [(t["id"], t["unread_count"]) for t in listed] == [(thread_id, 1)]
    reply = client.post(
        f"/threads/{thread_id}/messages", json={"body": "Forty."}, headers=world.headers("X", CH)
    )
    assert reply.status_code == 201
    read = client.post(f"/threads/{thread_id}/read", json={}, headers=world.headers("A", PL))
    assert read.status_code == 200 and read.json()["unread_count"] == 0
    for org, role in (("B", PL), ("Y", CH)):
        assert (
            client.get(f"/threads/{thread_id}", headers=world.headers(org, role)).status_code == 404
        )
        assert client.get("/threads", headers=world.headers(org, role)).json()["items"] == []


def test_thread_must_join_a_council_and_a_charity(client: TestClient, world: World) -> None:
    """A counterpart of your own kind (or yourself) is a 409 naming the field; unknown, 404."""
    cases = [
        ("A", CW, world.orgs["B"], 409),  # another council
        ("A", PL, world.orgs["A"], 409),  # yourself
        ("X", CH, world.orgs["Y"], 409),  # another charity
        ("A", CW, 999_999, 404),  # no such organisation
    ]
    for org, role, counterpart, expected in cases:
        response = client.post(
            "/threads",
            json={"counterpart_organisation_id": counterpart, "subject": "s", "body": "b"},
            headers=world.headers(org, role),
        )
        assert response.status_code == expected, (org, counterpart, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "counterpart_organisation_id" in response.json()["detail"]
        if expected == 409:
            assert response.json()["reason"] == "same_kind"
    for org, role in (("A", CW), ("X", CH)):
        assert client.get("/threads", headers=world.headers(org, role)).json()["items"] == []


def test_ids_in_bodies_are_positive_json_integers(client: TestClient, world: World) -> None:
    """An id sent as a string, a boolean, 0 or too big is a 422 naming it; 3.0 is 3."""
    for bad in (str(world.orgs["X"]), True, 0, 2**31):
        response = client.post(
            "/threads",
            json={"counterpart_organisation_id": bad, "subject": "s", "body": "b"},
            headers=world.headers("A", CW),
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "counterpart_organisation_id"
    assert client.get("/threads", headers=world.headers("A", CW)).json()["items"] == []
    whole = client.post(
        "/threads",
        json={"counterpart_organisation_id": float(world.orgs["X"]), "subject": "s", "body": "b"},
        headers=world.headers("A", CW),
    )
    assert whole.status_code == 201, whole.text
    assert whole.json()["charity_organisation_id"] == world.orgs["X"]


def _thread(client: TestClient, world: World) -> int:
    created = client.post(
        "/threads",
        json={"counterpart_organisation_id": world.orgs["X"], "subject": "s", "body": "b"},
        headers=world.headers("A", PL),
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_a_thread_message_cannot_name_a_charity(client: TestClient, world: World) -> None:
    """A thread message's schema has only `body`; `charity_organisation_id` is a 422 for it."""
    thread_id = _thread(client, world)
    operation = client.get("/openapi.json").json()["paths"]["/threads/{thread_id}/messages"]
    ref = operation["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = client.get("/openapi.json").json()["components"]["schemas"][ref.split("/")[-1]]
    assert set(body_schema["properties"]) == {"body"}
    assert body_schema["additionalProperties"] is False
    response = client.post(
        f"/threads/{thread_id}/messages",
        json={"body": "Forty.", "charity_organisation_id": world.orgs["X"]},
        headers=world.headers("X", CH),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "charity_organisation_id"
    listed = client.get(f"/threads/{thread_id}/messages", headers=world.headers("X", CH))
    assert [m["body"] for m in listed.json()["items"]] == ["b"]


def test_schema_and_server_agree_on_blank_text(client: TestClient, world: World) -> None:
    """The server refuses exactly the texts the schema's pattern refuses (blank, NUL)."""
    thread_id = _thread(client, world)
    components = client.get("/openapi.json").json()["components"]["schemas"]
    pattern = re.compile(components["ThreadMessageCreate"]["properties"]["body"]["pattern"])
    spaces = [chr(code) for code in range(0x110000) if chr(code).isspace()]
    assert not any(pattern.search(f"{space}{space}") for space in spaces)
    for text in ("\t", " \u3000 ", "\x1c", "a\x00b", " hi ", "\ufeff", "\xa0x"):
        response = client.post(
            f"/threads/{thread_id}/messages", json={"body": text}, headers=world.headers("X", CH)
        )
        allowed = pattern.search(text) is not None
        assert response.status_code == (201 if allowed else 422), (text, response.text)
        if allowed:
            assert response.json()["body"] == text.strip()
        else:
            assert response.json()["errors"][0]["field"] == "body"


def test_posting_is_audited_without_the_text(
    client: TestClient, world: World, db: Database
) -> None:
    """Each message appends a verified audit event that refers to it but holds no text."""
    _post(client, world, "A", CW, world.ids["referral_a"], "Mrs Quennell on 07700 900777.")
    with db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "message.posted")
        ).all()
        assert len(events) == 1
        assert "Quennell" not in events[0].after_json and "900777" not in events[0].after_json
        assert events[0].referral_id == world.ids["referral_a"]
        assert verify_chain(session).ok


def test_naming_a_charity_without_an_offer_is_a_conflict(client: TestClient, world: World) -> None:
    """A caseworker cannot open a thread with a charity the referral was never offered to."""
    referral = world.ids["referral_a"]
    got = client.post(
        f"/referrals/{referral}/messages",
        json={"body": "Can you help?", "charity_organisation_id": world.orgs["Y"]},
        headers=world.headers("A", CW),
    )
    assert got.status_code == 409, got.text
    assert got.json()["reason"] == "no_offer"
    listed = client.get(f"/referrals/{referral}/messages", headers=world.headers("A", CW))
    assert listed.json()["items"] == []
