"""The caseworker's list and submission pages over HTTP on a real server: what needs
attention, finding and ordering referrals, pages past the end, emergencies placed on submit."""

from __future__ import annotations

import re

import httpx

from tests.web.conftest import CASEWORKER, PASSWORD, Server
from tests.web.test_pages_http import _client, _csrf, _sign_in, _submitted

ANSWERS = {"postcode": "LS9 7AB", "household_size": "3", "urgency": "emergency",
           "delivery": "collect", "max_travel_km": "5", "consent": "yes",
           "name": "Quill Household", "phone": "", "notes": ""}  # fmt: skip


def _ids(html: str, table: str) -> list[int]:
    """The referral numbers listed in the table with id ``table``, in order."""
    start = html.index(f'id="{table}"')
    body = html[start : html.index("</table>", start)]
    return [int(n) for n in re.findall(r'href="/app/caseworker/referrals/(\d+)', body)]


def test_the_list_finds_orders_and_says_when_a_page_is_past_the_end(server: Server) -> None:
    """Search by name or number, emergencies first, and ?page=999 says there is no such page
    (not "No referrals yet"), with a link back; the search is kept in the page links."""
    with _client(server) as api:
        wanted, _auth = _submitted(api, "Zebedee Findable", "standard")
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        found = http.get("/app/caseworker/referrals", params={"q": "zebedee"})
        assert found.status_code == 200
        assert _ids(found.text, "referral-list") == [wanted]
        assert "matching “zebedee”" in found.text
        by_number = http.get("/app/caseworker/referrals", params={"q": f"R{wanted}"})
        assert _ids(by_number.text, "referral-list") == [wanted]
        urgent_first = http.get("/app/caseworker/referrals", params={"sort": "urgency"})
        listed = _ids(urgent_first.text, "referral-list")
        assert listed and "Emergencies first".lower() in urgent_first.text
        rows = re.findall(
            r"<td class=\"govuk-table__cell\">(Emergency|Urgent|Standard)</td>",
            urgent_first.text.split('id="referral-list"')[1],
        )
        order = {"Emergency": 0, "Urgent": 1, "Standard": 2}
        assert [order[r] for r in rows] == sorted(order[r] for r in rows)
        past = http.get("/app/caseworker/referrals", params={"page": "999"})
        assert past.status_code == 200
        assert "There is no page 999" in past.text and "No referrals yet" not in past.text
        nothing = http.get("/app/caseworker/referrals", params={"q": "no such household"})
        assert "No referrals match “no such household”" in nothing.text
        bad = http.get("/app/caseworker/referrals", params={"sort": "name"})
        assert bad.status_code == 400


def test_an_emergency_submitted_on_the_pages_is_placed_at_once(server: Server) -> None:
    """Check your answers says an emergency is placed on submit; the referral's page then
    shows its offer and says so, with no 'Place now' click."""
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        form = http.get("/app/caseworker/referrals/new")
        checked = http.post(
            "/app/caseworker/referrals/new", data={**ANSWERS, "csrf_token": _csrf(form.text)}
        )
        assert checked.status_code == 200, checked.text
        assert 'id="emergency-note"' in checked.text
        key = re.search(r'name="idempotency_key" value="([^"]+)"', checked.text)
        assert key
        sent = http.post(
            "/app/caseworker/referrals/new/confirm",
            data={**ANSWERS, "csrf_token": _csrf(checked.text), "idempotency_key": key.group(1)},
        )
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].endswith("done=emergency-placed")
        page = http.get(sent.headers["location"])
    assert "offered a place at once" in page.text
    assert 'Status: <strong class="govuk-tag govuk-tag--blue">Offered</strong>' in page.text
    assert "Offered to <strong>" in page.text
    # No postcode directory is loaded: the distance is approximate, never "0.0 km".
    assert "(approximate: district centre)" in page.text and "0.0 km" not in page.text
    assert "Distances are approximate: measured from the centre of LS9" in page.text


def test_an_unplaced_referral_says_when_a_message_can_be_written(server: Server) -> None:
    """No offer yet: the page says a message can be written once there is a place, instead
    of a form whose answer would be an error."""
    with _client(server) as api:
        waiting, _auth = _submitted(api, "Not Yet Placed", "standard")
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        page = http.get(f"/app/caseworker/referrals/{waiting}")
    assert 'id="no-one-to-write"' in page.text
    assert f'action="/app/caseworker/referrals/{waiting}/messages"' not in page.text


def test_the_home_lists_what_needs_attention(server: Server) -> None:
    """An emergency no site can reach is stored open with why, and heads the 'Needs
    attention' list on the home page, linking to its history."""
    with _client(server) as api:
        _ignored, auth = _submitted(api, "Token Only", "standard")
        body = {"household_size": 1, "urgency": "emergency", "postcode": "LS9 7AB",
                "max_travel_km": 0.1, "consent_to_share": False, "name": "Nearby Only"}  # fmt: skip
        made = api.post("/referrals", json=body, headers=auth)
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "open"
        referral_id = made.json()["id"]
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        home = http.get("/app/caseworker/referrals")
        assert _ids(home.text, "attention-list")  # the demo's unmatched emergencies
        listed: list[int] = []
        for number in range(1, 20):
            full = http.get("/app/caseworker/attention", params={"page": str(number)})
            assert full.status_code == 200
            if 'id="attention-list"' not in full.text:
                break
            listed += _ids(full.text, "attention-list")
        page = http.get(f"/app/caseworker/referrals/{referral_id}")
    assert referral_id in listed
    assert "An emergency with no place yet." in home.text
    assert "No place free" in page.text and "waits for the next match run" in page.text


def test_a_postcode_outside_the_council_area_is_confirmed_on_the_form(server: Server) -> None:
    """The demo council's area is LS: EH1 1AA comes back with a linked error and a box to
    tick; ticked, check your answers says it was confirmed and that distances are approximate."""
    from sqlalchemy import select

    from api.core.tables import Organisation, User
    from api.geo.service import show_area

    with server.db.read() as session:
        council = session.scalar(
            select(Organisation.name).join(User).where(User.email == CASEWORKER)
        )
    assert council is not None
    assert show_area(server.db, council) == ["LS"]  # the demo council's own area
    answers = {**ANSWERS, "postcode": "EH1 1AA", "urgency": "standard"}
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        form = http.get("/app/caseworker/referrals/new")
        refused = http.post(
            "/app/caseworker/referrals/new", data={**answers, "csrf_token": _csrf(form.text)}
        )
        assert refused.status_code == 400
        assert 'href="#outside_area"' in refused.text
        assert "EH1 1AA (EH1) is outside your council&#39;s area (LS)" in refused.text
        assert 'id="outside_area" name="outside_area" type="checkbox" value="yes"' in (refused.text)
        checked = http.post(
            "/app/caseworker/referrals/new",
            data={**answers, "outside_area": "yes", "csrf_token": _csrf(refused.text)},
        )
        assert checked.status_code == 200, checked.text
        assert "outside your area: confirmed" in checked.text
        assert "distances will be approximate" in checked.text


def _holder(api: httpx.Client, offer_id: int) -> dict[str, str]:
    """The bearer header of the demo charity holding ``offer_id``."""
    for number in range(1, 11):
        token = api.post(
            "/auth/token", data={"username": f"charity{number}@charity.demo", "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        if api.get(f"/offers/{offer_id}", headers=auth).status_code == 200:
            return auth
    raise AssertionError("no demo charity holds the offer")


def test_the_caseworker_can_still_write_after_collection_and_is_told_plainly_when_not(
    server: Server,
) -> None:
    """After the household collected its parcel the page writes to that food bank (no longer
    'no one to write to'); once the referral is withdrawn the food bank may not see it, and the
    page says so in plain words (no field names)."""
    with _client(server) as api:
        referral_id, auth = _submitted(api, "Thanks After Collection", "urgent")
        placed = api.post(f"/referrals/{referral_id}/place", headers=auth)
        assert placed.status_code == 201, placed.text
        offer_id = placed.json()["id"]
        first = api.post(f"/referrals/{referral_id}/messages", json={"body": "Ring first"},
                         headers=auth)  # fmt: skip
        assert first.status_code == 201, first.text
        charity = _holder(api, offer_id)
        assert api.post(f"/offers/{offer_id}/accept", headers=charity).status_code == 200
        collected = api.post(
            f"/offers/{offer_id}/outcome", json={"outcome": "collected"}, headers=charity
        )
        assert collected.status_code == 200, collected.text
    url = f"/app/caseworker/referrals/{referral_id}"
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        page = http.get(url).text
        sent = http.post(f"{url}/messages",
                         data={"csrf_token": _csrf(page), "message": "Thank you all"})  # fmt: skip
        assert sent.status_code == 303, sent.text
    with _client(server) as api:
        thread = api.get(f"/referrals/{referral_id}/messages", headers=charity).json()
        assert [m["body"] for m in thread["items"]][-1] == "Thank you all"
        other_id, other_auth = _submitted(api, "Withdrawn Then Written", "urgent")
        other = api.post(f"/referrals/{other_id}/place", headers=other_auth).json()["id"]
        api.post(f"/referrals/{other_id}/messages", json={"body": "Hello"}, headers=other_auth)
        withdrawn = api.post(f"/referrals/{other_id}/withdraw", json={"reason": "duplicate"},
                             headers=other_auth)  # fmt: skip
        assert withdrawn.status_code == 200 and other
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        url = f"/app/caseworker/referrals/{other_id}"
        page = http.get(url).text
        refused = http.post(f"{url}/messages", data={"csrf_token": _csrf(page), "message": "Hi"})
    assert refused.status_code == 400
    assert "no one to write to" in refused.text
    assert "charity_organisation_id" not in refused.text
