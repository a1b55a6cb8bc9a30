"""When a page session ends: the next page says so, and a form sent after the end keeps its
answers through signing in again (for the same person, and only from that browser's form)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import jwt

from api.web import security
from api.web.security import SESSION_COOKIE
from tests.web.conftest import CASEWORKER, PASSWORD, PLANNER, Server
from tests.web.test_pages_http import _client, _csrf, _sign_in

ANSWERS = {
    "name": "Kept Answers",
    "postcode": "LS9 7AB",
    "household_size": "3",
    "urgency": "urgent",
    "delivery": "collect",
    "max_travel_km": "5",
    "consent": "yes",
    "notes": "Call after 3pm please",
}


def _hidden_fields(page: str) -> list[tuple[str, str]]:
    """The sign-in form's hidden fields, as a browser would send them back."""
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return [(html.unescape(name), html.unescape(value)) for name, value in pairs]


def _expire(http: httpx.Client, server: Server) -> None:
    """Turn this browser's live session into one that ended an hour ago (same person, same
    CSRF token), as if the session's time had run out."""
    cookie = next(c for c in http.cookies.jar if c.name == SESSION_COOKIE)
    value = cookie.value or ""
    key = security._key(server.settings)
    claims = jwt.decode(value, key, algorithms=["HS256"], audience=security.AUDIENCE)
    claims["exp"] = datetime.now(UTC) - timedelta(hours=1)
    ended = jwt.encode(claims, key, algorithm="HS256")
    http.cookies.set(SESSION_COOKIE, ended, domain=cookie.domain, path=cookie.path)


def _post(http: httpx.Client, path: str, pairs: list[tuple[str, str]]) -> httpx.Response:
    """Post form fields in order, repeated names included, as a browser sends a form."""
    return http.post(
        path,
        content=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _referral_count(http: httpx.Client) -> int:
    page = http.get("/app/caseworker/referrals").text
    found = re.search(r"(\d+) referrals?, newest", page)
    assert found, page[:500]
    return int(found.group(1))


def _form_with_dietary(http: httpx.Client) -> list[tuple[str, str]]:
    token = _csrf(http.get("/app/caseworker/referrals/new").text)
    return [("csrf_token", token), *ANSWERS.items(), ("dietary", "halal"), ("dietary", "vegan")]


def _held_referral_form(http: httpx.Client, server: Server) -> httpx.Response:
    """Sign in, fill the referral form, let the session end, send it: the sign-in page that
    holds the answers."""
    _sign_in(http, CASEWORKER)
    form = _form_with_dietary(http)
    _expire(http, server)
    return _post(http, "/app/caseworker/referrals/new", form)


def test_a_page_opened_after_the_end_says_the_session_ended(server: Server) -> None:
    """Not a silent sign-in page: 'Your session has ended', and back to the page afterwards."""
    with _client(server) as http:
        assert _sign_in(http, CASEWORKER).status_code == 303
        _expire(http, server)
        response = http.get("/app/caseworker/referrals?status=open")
        assert response.status_code == 303
        assert "ended=1" in response.headers["location"]
        page = http.get(response.headers["location"]).text
        assert "Your session has ended" in page
    with _client(server) as fresh:
        first = fresh.get("/app/caseworker/referrals")
        assert "ended=1" not in first.headers["location"]  # never signed in: no such words
        assert "Your session has ended" not in fresh.get(first.headers["location"]).text


def test_a_form_sent_after_the_end_keeps_its_answers_through_signing_in(server: Server) -> None:
    """The referral form is not acted on; signing in again offers 'Carry on', which goes on
    to Check your answers with every answer, dietary choices included; then it can be sent."""
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        before = _referral_count(http)
        form = _form_with_dietary(http)
        _expire(http, server)
        held = _post(http, "/app/caseworker/referrals/new", form)
        assert held.status_code == 200
        assert "Your session has ended" in held.text and "answers have been kept" in held.text
        hidden = _hidden_fields(held.text)
        assert ("kept:postcode", "LS9 7AB") in hidden and ("kept:dietary", "vegan") in hidden
        assert ("kept_action", "/app/caseworker/referrals/new") in hidden
        assert not any(name == "kept:csrf_token" for name, _ in hidden)
        credentials = [("email", CASEWORKER), ("password", PASSWORD)]
        back = _post(http, "/app/sign-in", hidden + credentials)
        assert back.status_code == 200 and "Nothing has been sent yet" in back.text
        assert _referral_count(http) == before
        carry = _hidden_fields(back.text)
        action = re.search(r'<form method="post" action="([^"]+)"', back.text)
        assert action and action.group(1) == "/app/caseworker/referrals/new"
        checked = _post(http, action.group(1), carry)
        assert checked.status_code == 200 and "Check your answers" in checked.text
        page = html.unescape(checked.text)
        for shown in ("Kept Answers", "LS9 7AB", "Call after 3pm please", "Halal", "Vegan"):
            assert shown in page, shown
        sent = _post(http, "/app/caseworker/referrals/new/confirm", _hidden_fields(checked.text))
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].endswith("done=referral-sent"), sent.headers["location"]
        assert _referral_count(http) == before + 1


def test_signing_out_elsewhere_also_keeps_the_answers(server: Server) -> None:
    """Signing out in another tab ends this session too; a message typed here is kept."""
    with _client(server) as tab, _client(server) as other:
        _sign_in(tab, CASEWORKER)
        listed = tab.get("/app/caseworker/referrals").text
        found = re.search(r'href="/app/caseworker/referrals/(\d+)"', listed)
        assert found
        page = tab.get(f"/app/caseworker/referrals/{found.group(1)}").text
        _sign_in(other, CASEWORKER)
        home = other.get("/app/caseworker/referrals").text
        other.post("/app/sign-out", data={"csrf_token": _csrf(home)})
        path = f"/app/caseworker/referrals/{found.group(1)}/messages"
        held = tab.post(path, data={"csrf_token": _csrf(page), "message": "Ring the bell twice"})
        assert held.status_code == 200 and "answers have been kept" in held.text
        assert ("kept:message", "Ring the bell twice") in _hidden_fields(held.text)


def test_another_person_signing_in_never_gets_the_answers(server: Server) -> None:
    """The kept answers go back only to the person whose session ended."""
    with _client(server) as http:
        held = _held_referral_form(http, server)
        data = dict(_hidden_fields(held.text)) | {"email": PLANNER, "password": PASSWORD}
        signed = http.post("/app/sign-in", data=data)
        assert signed.status_code == 303 and signed.headers["location"] == "/app/planner"
        assert "LS9 7AB" not in signed.text


def test_answers_are_kept_only_from_the_browsers_own_form(server: Server) -> None:
    """A post without the ended session's cookie (another site's form) or with another form
    token plants nothing in the sign-in page."""
    with _client(server) as http:
        _sign_in(http, CASEWORKER)
        form = dict(_form_with_dietary(http))
        _expire(http, server)
        forged = http.post("/app/caseworker/referrals/new", data=form | {"csrf_token": "x" * 32})
        assert forged.status_code == 303 and "ended=1" in forged.headers["location"]
    with _client(server) as stranger:
        planted = stranger.post("/app/caseworker/referrals/new/confirm", data=form)
        assert planted.status_code == 303
        assert "ended" not in planted.headers["location"] and "LS9" not in planted.text


def test_a_kept_form_with_a_wrong_password_stays_kept(server: Server) -> None:
    """A mistyped password shows the error and still holds the answers."""
    with _client(server) as http:
        held = _held_referral_form(http, server)
        data = dict(_hidden_fields(held.text)) | {"email": CASEWORKER, "password": "wrong"}
        again = http.post("/app/sign-in", data=data)
        assert again.status_code == 400 and "Enter a correct email address" in again.text
        assert ("kept:postcode", "LS9 7AB") in _hidden_fields(again.text)
        assert "answers have been kept" in again.text
