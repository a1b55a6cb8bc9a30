"""The hot write paths keep their guarantees: notes reach FOI search, keys replay, tokens expire."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import api.auth.tokens
from api.auth.tokens import principal_from_token
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import ProblemError
from api.core.tables import IdempotencyKey, Referral, ReferralPersonal
from api.core.vocabulary import Role
from api.record.tables import SearchDocument
from tests.api.conftest import World

BODY: dict[str, Any] = {
    "household_size": 3,
    "dietary": [],
    "urgency": "urgent",
    "postcode": "LS9 7AB",
    "consent_to_share": True,
    "name": "Morwenna Tregarthen",
    "phone": "07700 900777",
}


def _notes_indexed(db: Database, referral_id: int) -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(SearchDocument)
                .where(SearchDocument.source_key == f"note:{referral_id}")
            )
            or 0
        )


def test_submitted_notes_are_searchable_and_redacted(
    client: TestClient, world: World, db: Database
) -> None:
    """Notes sent with a referral are in FOI search at once, without the household's name."""
    body = {**BODY, "notes": "Morwenna Tregarthen asked about the wheelchair ramp"}
    created = client.post("/referrals", json=body, headers=world.headers("A", Role.CASEWORKER))
    assert created.status_code == 201, created.text
    referral_id = created.json()["id"]
    assert created.json()["personal"]["notes"] == body["notes"]

    found = client.get(
        "/foi/search",
        params={"q": "wheelchair ramp", "kind": "note"},
        headers=world.headers("A", Role.FOI_OFFICER),
    )
    assert found.status_code == 200, found.text
    hits = found.json()["items"]
    assert [h["referral_id"] for h in hits] == [referral_id]
    assert "Tregarthen" not in hits[0]["text"] and "wheelchair ramp" in hits[0]["text"]
    other = client.get(
        "/foi/search",
        params={"q": "wheelchair ramp"},
        headers=world.headers("B", Role.FOI_OFFICER),
    )
    assert other.json()["items"] == []


def test_referral_without_notes_stores_both_rows_and_indexes_nothing(
    client: TestClient, world: World, db: Database
) -> None:
    """A referral without notes is stored with its personal row and leaves no note document."""
    created = client.post("/referrals", json=BODY, headers=world.headers("A", Role.CASEWORKER))
    assert created.status_code == 201, created.text
    out = created.json()
    fetched = client.get(f"/referrals/{out['id']}", headers=world.headers("A", Role.CASEWORKER))
    assert fetched.json() == out
    assert out["personal"]["name"] == BODY["name"] and out["status"] == "open"
    with db.read() as session:
        referral = session.get(Referral, out["id"])
        personal = session.get(ReferralPersonal, out["id"])
        assert referral is not None and personal is not None
        assert referral.organisation_id == world.orgs["A"]
        assert referral.created_by_id == world.users[("A", Role.CASEWORKER)].id
        assert personal.phone == BODY["phone"] and personal.notes is None
    assert _notes_indexed(db, out["id"]) == 0


@pytest.mark.parametrize("notes", [None, "ring the bell twice"])
def test_key_replays_the_first_response_and_refuses_another_body(
    client: TestClient, world: World, db: Database, notes: str | None
) -> None:
    """A retried key returns the first response; the same key with another body is a 409."""
    headers = {**world.headers("A", Role.CASEWORKER), "Idempotency-Key": "retry-me-1"}
    body = {**BODY, "notes": notes}
    first = client.post("/referrals", json=body, headers=headers)
    again = client.post("/referrals", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    reused = client.post("/referrals", json={**body, "household_size": 4}, headers=headers)
    assert reused.status_code == 409
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
        stored = session.scalars(select(Referral.id).order_by(Referral.id.desc())).first()
    assert stored == first.json()["id"]
    assert _notes_indexed(db, stored) == (1 if notes else 0)


def test_checked_token_still_expires(
    settings: Settings, db: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token accepted once is refused once its expiry passes, and never under another key."""
    token = world.token("A", Role.CASEWORKER)
    principal = principal_from_token(token, settings, db)
    assert principal_from_token(token, settings, db) == principal
    other = settings.model_copy(update={"jwt_secret": "another-secret-that-is-long-enough-ok"})
    with pytest.raises(ProblemError) as wrong_key:
        principal_from_token(token, other, db)
    assert wrong_key.value.status == 401
    later = api.auth.tokens.time.time() + settings.token_minutes * 60 + 1
    monkeypatch.setattr(api.auth.tokens.time, "time", lambda: later)
    with pytest.raises(ProblemError) as expired:
        principal_from_token(token, settings, db)
    assert expired.value.status == 401 and "expired" in expired.value.detail
