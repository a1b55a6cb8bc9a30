"""A referral's history, as its caseworker reads it (GET /referrals/{id}/history and its page).

The seeded world has referral_a of council A offered at charity X's site. Each test changes
what happens to it through the API, as the charity would, and reads the council's history,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.core.vocabulary import Role
from tests.api.conftest import World

CW, CH = Role.CASEWORKER, Role.CHARITY


def _history(client: TestClient, world: World, org: str = "A") -> list[dict[str, str]]:
    response = client.get(
        f"/referrals/{world.ids['referral_a']}/history", headers=world.headers(org, CW)
    )
    assert response.status_code == 200, response.text
    body: list[dict[str, str]] = response.json()
    return body


def test_a_decline_is_in_the_history_with_its_reason_and_note(
    client: TestClient, world: World
) -> None:
    """After charity X declines, the council's history names the site, the reason in plain
    words and the charity's note, in time order after the offer."""
    declined = client.post(
        f"/offers/{world.ids['offer_a']}/decline",
        json={"reason": "no_stock", "note": "Fresh delivery on Thursday"},
        headers=world.headers("X", CH),
    )
    assert declined.status_code == 200, declined.text

    entries = _history(client, world)
    kinds = [e["kind"] for e in entries]
    assert "offer.declined" in kinds
    declined_entry = entries[kinds.index("offer.declined")]
    assert "declined the place because it has run out of stock" in declined_entry["detail"]
    assert "Fresh delivery on Thursday" in declined_entry["detail"]
    assert "no_stock" not in declined_entry["detail"]
    times = [e["at"] for e in entries]
    assert times == sorted(times)


def test_acceptance_and_collection_follow_in_order(client: TestClient, world: World) -> None:
    """Accepted then collected: both appear, after the decline-free offer, in that order."""
    offer = world.ids["offer_a"]
    headers = world.headers("X", CH)
    assert client.post(f"/offers/{offer}/accept", headers=headers).status_code == 200
    outcome = client.post(
        f"/offers/{offer}/outcome", json={"outcome": "collected"}, headers=headers
    )
    if outcome.status_code != 200:  # the seeded offer may be a delivery
        outcome = client.post(
            f"/offers/{offer}/outcome", json={"outcome": "delivered"}, headers=headers
        )
    assert outcome.status_code == 200, outcome.text

    kinds = [e["kind"] for e in _history(client, world)]
    served = "offer.collected" if "offer.collected" in kinds else "offer.delivered"
    assert kinds.index("offer.accepted") < kinds.index(served)


def test_another_council_and_a_charity_cannot_read_it(client: TestClient, world: World) -> None:
    """Council B gets 404 (it cannot tell the referral exists); a charity is refused."""
    path = f"/referrals/{world.ids['referral_a']}/history"
    assert client.get(path, headers=world.headers("B", CW)).status_code == 404
    assert client.get(path, headers=world.headers("X", CH)).status_code in (403, 404)
