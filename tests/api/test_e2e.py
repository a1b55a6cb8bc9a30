"""End to end through HTTP only, against a real uvicorn server on loopback."""

from __future__ import annotations

from datetime import timedelta

import httpx

from api.core import clock
from api.core.vocabulary import OrganisationKind, Role
from api.demo.seed import add_organisation, add_user
from tests.api.conftest import PASSWORD


def _sign_in(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_referral_to_outcome_over_http(live_server: str, db, password_hash: str) -> None:
    """A caseworker submits, a planner runs matching, the charity accepts and records collection."""
    with db.write() as session:
        council = add_organisation(session, "Leeds", OrganisationKind.COUNCIL)
        charity = add_organisation(session, "Pantry Trust", OrganisationKind.CHARITY)
        for email, role, org in (
            ("cw@leeds.test", Role.CASEWORKER, council),
            ("plan@leeds.test", Role.PLANNER, council),
            ("site@pantry.test", Role.CHARITY, charity),
        ):
            add_user(session, org, email, role, PASSWORD, password_hash=password_hash)

    with httpx.Client(base_url=live_server, timeout=60) as http:
        caseworker = _sign_in(http, "cw@leeds.test")
        planner = _sign_in(http, "plan@leeds.test")
        charity_user = _sign_in(http, "site@pantry.test")

        site = http.post(
            "/providers",
            json={"name": "Harehills Pantry", "postcode": "LS9 6NP", "service_area": ["LS"]},
            headers=charity_user,
        )
        assert site.status_code == 201, site.text
        today = clock.today()
        capacity = http.put(
            f"/providers/{site.json()['id']}/capacity",
            json={
                "period_start": str(today - timedelta(days=1)),
                "period_end": str(today + timedelta(days=6)),
                "parcels": 5,
                "dietary": {"halal": 3},
            },
            headers=charity_user,
        )
        assert capacity.status_code == 200, capacity.text

        referral = http.post(
            "/referrals",
            json={
                "household_size": 4,
                "dietary": ["halal"],
                "urgency": "urgent",
                "postcode": "ls9 7ab",
                "consent_to_share": True,
                "name": "Amira Example",
                "phone": "07700 900456",
                "address": "2 Example Road",
            },
            headers={**caseworker, "Idempotency-Key": "e2e-1"},
        )
        assert referral.status_code == 201, referral.text
        referral_id = referral.json()["id"]

        # An emergency does not wait for the run: it is offered a place as it is submitted.
        emergency = http.post(
            "/referrals",
            json={
                "household_size": 1,
                "urgency": "emergency",
                "postcode": "LS9 6NP",
                "consent_to_share": True,
                "name": "Sam Example",
            },
            headers=caseworker,
        )
        assert emergency.status_code == 201, emergency.text
        assert emergency.json()["status"] == "offered"
        assert emergency.json()["current_offer"]["provider_id"] == site.json()["id"]

        run = http.post("/match-runs", json={}, headers=planner)
        assert run.status_code == 201, run.text
        decision = next(m for m in run.json()["matches"] if m["referral_id"] == referral_id)
        assert decision["reason"] == "matched" and decision["provider_id"] == site.json()["id"]
        assert decision["explanation"]
        assert run.json()["matched"]["urgent"] == 1
        assert emergency.json()["id"] not in [m["referral_id"] for m in run.json()["matches"]]

        offers = http.get("/offers", params={"status": "offered"}, headers=charity_user).json()
        offer_id = next(o["id"] for o in offers["items"] if o["referral_id"] == referral_id)
        before = http.get(f"/referrals/{referral_id}", headers=charity_user).json()
        assert before["view"] == "charity" and before["contact"] is None
        assert "Amira" not in str(before)

        accepted = http.post(f"/offers/{offer_id}/accept", headers=charity_user)
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        after = http.get(f"/referrals/{referral_id}", headers=charity_user).json()
        assert after["contact"]["name"] == "Amira Example"

        outcome = http.post(
            f"/offers/{offer_id}/outcome", json={"outcome": "collected"}, headers=charity_user
        )
        assert outcome.status_code == 200 and outcome.json()["offer"]["status"] == "collected"
        final = http.get(f"/referrals/{referral_id}", headers=caseworker).json()
        assert final["status"] == "fulfilled"
        assert final["current_offer"]["status"] == "collected"
        assert final["personal"]["phone"] == "07700 900456"
