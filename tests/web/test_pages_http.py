"""Page security over plain HTTP: sessions, CSRF, roles, hidden objects, headers."""

from __future__ import annotations

import re

import httpx

from api.web.security import SESSION_COOKIE
from tests.web.conftest import CASEWORKER, PASSWORD, PLANNER, Server


def _client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _sign_in(http: httpx.Client, email: str, next_path: str = "") -> httpx.Response:
    form = http.get("/app/sign-in")
    return http.post(
        "/app/sign-in",
        data={
            "email": email,
            "password": PASSWORD,
            "csrf_token": _csrf(form.text),
            "next": next_path,
        },
    )


def _referral_count(http: httpx.Client) -> str:
    page = http.get("/app/caseworker/referrals")
    assert page.status_code == 200
    found = re.search(r'<caption class="govuk-table__caption">(\d+) referral', page.text)
    assert found
    return found.group(1)


def test_pages_need_sign_in_and_return_after_it(server: Server) -> None:
    """A signed-out visitor is sent to sign in, then back to the page they asked for."""
    with _client(server) as http:
        response = http.get("/app/caseworker/referrals?status=open")
        assert response.status_code == 303
        assert (
            response.headers["location"]
            == "/app/sign-in?next=/app/caseworker/referrals%3Fstatus%3Dopen"
        )
        signed = _sign_in(http, CASEWORKER, "/app/caseworker/referrals?status=open")
        assert signed.status_code == 303
        assert signed.headers["location"] == "/app/caseworker/referrals?status=open"


def test_sign_in_never_redirects_off_site(server: Server) -> None:
    """A crafted 'next' address pointing elsewhere is ignored: the role's home is used."""
    with _client(server) as http:
        signed = _sign_in(http, PLANNER, "//evil.example/app/")
        assert signed.headers["location"] == "/app/planner"


def test_sign_in_without_its_form_token_is_refused(server: Server) -> None:
    """A sign-in posted from another site (no sign-in token) starts no session."""
    with _client(server) as http:
        response = http.post("/app/sign-in", data={"email": CASEWORKER, "password": PASSWORD})
        assert response.status_code == 403
        assert SESSION_COOKIE not in response.cookies


def test_form_without_csrf_token_changes_nothing(server: Server) -> None:
    """A signed-in form post without this session's CSRF token is refused and stores nothing."""
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        before = _referral_count(http)
        answers = {
            "postcode": "LS9 7AB", "household_size": "2", "urgency": "urgent",
            "delivery": "collect", "max_travel_km": "5", "consent": "yes",
        }  # fmt: skip
        for token in (None, "forged"):
            data = answers | ({"csrf_token": token} if token else {})
            refused = http.post("/app/caseworker/referrals/new/confirm", data=data)
            assert refused.status_code == 403
            assert "The form has expired" in refused.text
        assert _referral_count(http) == before


def test_session_and_api_tokens_are_not_interchangeable(server: Server) -> None:
    """The page session is no API bearer token, and an API token is no page session."""
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        session = http.cookies[SESSION_COOKIE]
        api = http.get("/referrals", headers={"Authorization": f"Bearer {session}"})
        assert api.status_code == 401
        token = http.post("/auth/token", data={"username": CASEWORKER, "password": PASSWORD})
        access = token.json()["access_token"]
    with _client(server) as http:
        http.cookies.set(SESSION_COOKIE, access, path="/app")
        assert http.get("/app/caseworker/referrals").status_code == 303


def test_roles_see_only_their_pages_and_objects(server: Server) -> None:
    """A planner gets 'cannot use this page' on caseworker pages; unknown objects are 404."""
    with _client(server) as http:
        _sign_in(http, PLANNER)
        wrong = http.get("/app/caseworker/referrals")
        assert wrong.status_code == 403 and "You cannot use this page" in wrong.text
    with _client(server) as http:
        _sign_in(http, "charity1@charity.demo")
        missing = http.get("/app/charity/offers/999999")
        assert missing.status_code == 404 and "Page not found" in missing.text
        assert missing.headers["content-type"].startswith("text/html")
        other = http.get("/app/charity/sites/40/capacity")  # a site of another charity
        assert other.status_code == 404
        assert http.get("/app/charity/offers/abc").status_code == 404


def test_pages_carry_security_headers_and_sign_out_ends_session(server: Server) -> None:
    """Pages are sent with a strict CSP and no-store; signing out ends the session."""
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        page = http.get("/app/caseworker/referrals")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        cookie = page.request.headers.get("cookie", "")
        assert SESSION_COOKIE in cookie
        out = http.post("/app/sign-out", data={"csrf_token": _csrf(page.text)})
        assert out.status_code == 303
        assert http.get("/app/caseworker/referrals").status_code == 303


def _submitted(api: httpx.Client, name: str, urgency: str) -> tuple[int, dict[str, str]]:
    """A referral the demo caseworker submits through the API: (its id, the caseworker's
    bearer header)."""
    token = api.post("/auth/token", data={"username": CASEWORKER, "password": PASSWORD})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    body = {"household_size": 2, "urgency": urgency, "postcode": "LS9 7AB",
            "consent_to_share": True, "name": name}  # fmt: skip
    made = api.post("/referrals", json=body, headers=auth)
    assert made.status_code == 201, made.text
    return int(made.json()["id"]), auth


def test_caseworker_withdraws_a_referral_from_its_page(server: Server) -> None:
    """The referral page's withdraw form needs a reason, then closes the referral and says
    so; a withdrawn referral offers neither 'place now' nor the form again."""
    with _client(server) as api:
        referral_id, _auth = _submitted(api, "Page Withdrawal", "standard")
    page_url = f"/app/caseworker/referrals/{referral_id}"
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        page = http.get(page_url)
        assert page.status_code == 200 and "Withdraw this referral" in page.text
        missing = http.post(f"{page_url}/withdraw", data={"csrf_token": _csrf(page.text)})
        assert missing.status_code == 400
        assert "Select why the referral is no longer needed" in missing.text
        done = http.post(
            f"{page_url}/withdraw",
            data={"csrf_token": _csrf(page.text), "reason": "helped_elsewhere"},
        )
        assert done.status_code == 303 and done.headers["location"].endswith("done=withdrawn")
        after = http.get(done.headers["location"])
        assert "Referral withdrawn." in after.text
        assert "the household has been helped elsewhere" in after.text
        assert "Withdraw this referral" not in after.text and "Place now" not in after.text


def test_the_charity_sees_a_withdrawn_offer_as_withdrawn_without_the_household(
    server: Server,
) -> None:
    """A placed referral the council then withdraws: the charity holding the offer gets a page
    saying so (its place is back), with none of the household's details."""
    with _client(server) as api:
        referral_id, auth = _submitted(api, "Offer Withdrawal", "urgent")
        placed = api.post(f"/referrals/{referral_id}/place", headers=auth)
        assert placed.status_code == 201, placed.text
        withdrawn = api.post(
            f"/referrals/{referral_id}/withdraw", json={"reason": "duplicate"}, headers=auth
        )
        assert withdrawn.status_code == 200, withdrawn.text
    url = f"/app/charity/offers/{placed.json()['id']}"
    seen = []
    for number in range(1, 11):
        with _client(server) as http:
            _sign_in(http, f"charity{number}@charity.demo")
            page = http.get(url)
            if page.status_code == 200:
                seen.append(page.text)
            else:
                assert page.status_code == 404
    assert len(seen) == 1  # only the charity holding the offer
    assert "Referral withdrawn" in seen[0] and "given back" in seen[0]
    assert "Offer Withdrawal" not in seen[0] and "Accept this household" not in seen[0]


def test_the_caseworker_sees_a_decline_with_its_reason_and_note_on_the_referral_page(
    server: Server,
) -> None:
    """A site declines a placed household: the caseworker's referral page says so in its
    history (which site, why, the food bank's note), not 'has not answered yet'."""
    with _client(server) as api:
        referral_id, auth = _submitted(api, "Timeline Decline", "urgent")
        placed = api.post(f"/referrals/{referral_id}/place", headers=auth)
        assert placed.status_code == 201, placed.text
        offer_id, site_id = placed.json()["id"], placed.json()["provider_id"]
        declined = None
        for number in range(1, 11):
            token = api.post(
                "/auth/token",
                data={"username": f"charity{number}@charity.demo", "password": PASSWORD},
            )
            charity = {"Authorization": f"Bearer {token.json()['access_token']}"}
            answer = api.post(
                f"/offers/{offer_id}/decline",
                json={"reason": "cannot_meet_dietary", "note": "Out of halal tins this week"},
                headers=charity,
            )
            if answer.status_code == 200:
                declined = answer
                break
            assert answer.status_code == 404
        assert declined is not None, "no demo charity holds the offer"
        history = api.get(f"/referrals/{referral_id}/history", headers=auth)
        assert history.status_code == 200, history.text
        site = api.get(f"/offers/{offer_id}", headers=auth).json()
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        page = http.get(f"/app/caseworker/referrals/{referral_id}")
    assert page.status_code == 200
    timeline = page.text[page.text.index('id="timeline"') :]
    assert "Declined" in timeline
    assert "cannot meet the household&#39;s dietary needs" in timeline or (
        "cannot meet the household's dietary needs" in timeline
    )
    assert "Out of halal tins this week" in timeline
    # The re-offer that followed is in the history too, and the page's answer is about it.
    assert "Offered again" in timeline
    assert "An earlier place fell through" in page.text
    assert site["provider_id"] == site_id
    kinds = [entry["kind"] for entry in history.json()]
    assert kinds.index("offer.made") < kinds.index("offer.declined")
