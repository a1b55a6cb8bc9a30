"""The administrator's pages over HTTP on a real server (people, API keys, the audit log),
limited to the admin's own organisation; and the page in Chromium, scanned by axe-core."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.core.tables import User
from api.core.vocabulary import OrganisationKind, Role
from api.demo.seed import add_organisation, add_user
from tests.web.conftest import CASEWORKER, PASSWORD, Server, _serve, sign_in
from tests.web.pages import look
from tests.web.test_pages_http import _client, _csrf, _sign_in

ADMIN = "admin@leeds.demo"
OTHER_ADMIN = "admin@other.example"


@pytest.fixture(scope="module")
def admin_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server of its own (accounts are switched off here), with a second council's admin."""
    target = tmp_path_factory.mktemp("admin") / "foodmatch.db"
    shutil.copyfile(sqlite_template, target)
    for server in _serve(f"sqlite:///{target}"):
        with server.db.write() as session:
            other = add_organisation(session, "Other Council", OrganisationKind.COUNCIL)
            add_user(session, other, OTHER_ADMIN, Role.ADMIN, PASSWORD)
        yield server


def _user_id(page: str, email: str) -> int:
    row = page[page.index(f'<td class="govuk-table__cell">{email}</td>') :]
    found = re.search(r'action="/app/admin/users/(\d+)/active"', row)
    assert found, email
    return int(found.group(1))


def test_an_admin_switches_an_account_off_and_on(admin_server: Server) -> None:
    """Switched off, the caseworker's session ends at once and signing in fails; switched on,
    they can sign in again; both are in the audit log; the admin cannot switch themself off."""
    with _client(admin_server) as admin, _client(admin_server) as caseworker:
        assert _sign_in(caseworker, CASEWORKER).status_code == 303
        assert _sign_in(admin, ADMIN).headers["location"] == "/app/admin"
        page = admin.get("/app/admin").text
        assert CASEWORKER in page and "You" in page
        user = _user_id(page, CASEWORKER)
        off = admin.post(f"/app/admin/users/{user}/active",
                         data={"csrf_token": _csrf(page), "active": "no"})  # fmt: skip
        assert off.status_code == 303 and off.headers["location"].endswith("#people")
        assert "switched off" in admin.get(off.headers["location"]).text
        assert caseworker.get("/app/caseworker/referrals").status_code == 303  # signed out
        with _client(admin_server) as again:
            assert _sign_in(again, CASEWORKER).status_code == 400
        page = admin.get("/app/admin").text
        on = admin.post(f"/app/admin/users/{user}/active",
                        data={"csrf_token": _csrf(page), "active": "yes"})  # fmt: skip
        assert on.status_code == 303
        with _client(admin_server) as again:
            assert _sign_in(again, CASEWORKER).status_code == 303
        with admin_server.db.read() as session:
            me = session.scalar(select(User.id).where(User.email == ADMIN))
        myself = admin.post(f"/app/admin/users/{me}/active",
                            data={"csrf_token": _csrf(page), "active": "no"})  # fmt: skip
        assert myself.status_code == 400 and "cannot switch off your own account" in myself.text
        search = admin.get("/app/foi", params={"q": "switched account"}).text
        assert "account was switched off" in search and "account was switched on" in search


def test_an_admin_makes_a_key_shown_once_and_revokes_it(admin_server: Server) -> None:
    """The key works as X-API-Key in its role, shows once, and stops at once when revoked;
    a missing name or role is a linked error."""
    with _client(admin_server) as admin:
        _sign_in(admin, ADMIN)
        page = admin.get("/app/admin").text
        missing = admin.post("/app/admin/api-keys", data={"csrf_token": _csrf(page)})
        assert missing.status_code == 400
        assert 'href="#key_name"' in missing.text and 'href="#key_role"' in missing.text
        answers = {"key_name": "Housing system", "key_role": "caseworker"}
        made = admin.post("/app/admin/api-keys", data={"csrf_token": _csrf(page), **answers})
        assert made.status_code == 201
        found = re.search(r'id="new-key-value">([^<]+)<', made.text)
        assert found
        key = found.group(1)
        assert admin.get("/referrals", headers={"X-API-Key": key}).status_code == 200
        listed = admin.get("/app/admin").text
        assert "Housing system" in listed and key not in listed  # shown once only
        revoke = re.search(r'action="(/app/admin/api-keys/\d+/revoke)"', listed)
        assert revoke
        gone = admin.post(revoke.group(1), data={"csrf_token": _csrf(listed)})
        assert gone.status_code == 303
        assert admin.get("/referrals", headers={"X-API-Key": key}).status_code == 401


def test_another_councils_admin_cannot_touch_this_councils_people_or_keys(
    admin_server: Server,
) -> None:
    """The other council's admin sees only its own people, and its posts at this council's
    person and key are 'not found' (and change nothing)."""
    with _client(admin_server) as admin, _client(admin_server) as other:
        _sign_in(admin, ADMIN)
        page = admin.get("/app/admin").text
        user = _user_id(page, CASEWORKER)
        made = admin.post("/app/admin/api-keys", data={
            "csrf_token": _csrf(page), "key_name": "Stays", "key_role": "planner"})  # fmt: skip
        key_path = re.findall(r'action="(/app/admin/api-keys/\d+/revoke)"', made.text)[-1]
        key = re.search(r'id="new-key-value">([^<]+)<', made.text)
        assert key
        _sign_in(other, OTHER_ADMIN)
        theirs = other.get("/app/admin").text
        assert CASEWORKER not in theirs and "Stays" not in theirs
        token = _csrf(theirs)
        off = other.post(
            f"/app/admin/users/{user}/active", data={"csrf_token": token, "active": "no"}
        )
        assert off.status_code == 404
        assert other.post(key_path, data={"csrf_token": token}).status_code == 404
        assert admin.get("/referrals", headers={"X-API-Key": key.group(1)}).status_code == 403
    with _client(admin_server) as again:
        assert _sign_in(again, CASEWORKER).status_code == 303  # still switched on


def test_other_roles_cannot_use_the_admin_pages(admin_server: Server) -> None:
    with _client(admin_server) as http:
        _sign_in(http, CASEWORKER)
        assert http.get("/app/admin").status_code == 403


@pytest.mark.browser
def test_the_admin_page_in_a_browser(admin_server: Server, new_page: Any) -> None:
    """Check the audit log now, make a key: each result on the page; axe finds nothing."""
    page = new_page()
    sign_in(page, admin_server.url, ADMIN)
    assert page.url.endswith("/app/admin")
    look(page, "admin-home")
    page.get_by_role("button", name="Check the audit log now").click()
    assert "The audit log checks out." in page.locator("#audit-result").inner_text()
    page.get_by_label("Name of the new key").fill("Case system")
    page.get_by_role("group", name="Which role does the key act in?").get_by_label(
        "FOI officer"
    ).check()
    page.get_by_role("button", name="Make an API key").click()
    assert "shown only this once" in page.locator("#new-key").inner_text()
    look(page, "admin-new-key")


def test_an_admin_changes_a_role_from_the_next_page(admin_server: Server) -> None:
    """The caseworker made a planner sees the planner's pages on their next request, without
    signing in again; a role a council cannot hold, one's own role and another council's
    person are refused; the change is in the audit log; then it is changed back."""
    with _client(admin_server) as admin, _client(admin_server) as person, \
            _client(admin_server) as other:  # fmt: skip
        _sign_in(person, CASEWORKER)
        _sign_in(admin, ADMIN)
        page = admin.get("/app/admin").text
        user = _user_id(page, CASEWORKER)
        token = _csrf(page)
        path = f"/app/admin/users/{user}/role"
        wrong = admin.post(path, data={"csrf_token": token, "role": "charity"})
        assert wrong.status_code == 400 and "Select one of the roles listed" in wrong.text
        with admin_server.db.read() as session:
            me = session.scalar(select(User.id).where(User.email == ADMIN))
        mine = admin.post(f"/app/admin/users/{me}/role", data={"csrf_token": token,
                                                              "role": "planner"})  # fmt: skip
        assert mine.status_code == 400 and "cannot change your own role" in mine.text
        _sign_in(other, OTHER_ADMIN)
        theirs = other.post(path, data={"csrf_token": _csrf(other.get("/app/admin").text),
                                        "role": "planner"})  # fmt: skip
        assert theirs.status_code == 404
        assert person.get("/app/caseworker/referrals").status_code == 200  # unchanged
        changed = admin.post(path, data={"csrf_token": token, "role": "planner"})
        assert changed.status_code == 303 and "done=role-changed" in changed.headers["location"]
        assert person.get("/app/planner").status_code == 200
        assert person.get("/app/caseworker/referrals").status_code == 403
        found = admin.get("/app/foi", params={"q": "role changed"}).text
        assert "role was changed" in found and "Role changed from caseworker to planner" in found
        back = admin.post(path, data={"csrf_token": token, "role": "caseworker"})
        assert back.status_code == 303
        assert person.get("/app/caseworker/referrals").status_code == 200


def test_an_admin_adds_a_person_and_sets_a_new_password(admin_server: Server) -> None:
    """A new planner signs in with the first password; a taken address, a short password and
    a missing role are linked errors that add nobody; a new password ends their session at
    once and the old one stops working; another council's admin cannot set it."""
    email, first, second = "new.planner@leeds.demo", "first pass phrase", "second pass phrase"
    with _client(admin_server) as admin:
        _sign_in(admin, ADMIN)
        token = _csrf(admin.get("/app/admin").text)
        answers = {"csrf_token": token, "new_name": "Nia Planner", "new_email": email,
                   "new_role": "planner", "new_first": "password",
                   "new_password": first}  # fmt: skip
        for wrong, field, words in (
            ({"new_email": CASEWORKER}, "new_email", "already has an account"),
            ({"new_password": "short"}, "new_password", "use at least 12"),
            ({"new_role": ""}, "new_role", "Select their role"),
            ({"new_email": "not an address"}, "new_email", "email address like"),
        ):
            refused = admin.post("/app/admin/users", data=answers | wrong)
            assert refused.status_code == 400, (wrong, refused.status_code)
            assert f'href="#{field}"' in refused.text and words in refused.text, wrong
        added = admin.post("/app/admin/users", data=answers)
        assert added.status_code == 303 and "done=user-added" in added.headers["location"]
        page = admin.get("/app/admin").text
        assert email in page and "Nia Planner" in page
        user = _user_id(page, email)
    with _client(admin_server) as person:
        token = _csrf(person.get("/app/sign-in").text)
        signed = person.post("/app/sign-in", data={"email": email, "password": first,
                                                  "csrf_token": token, "next": ""})  # fmt: skip
        assert signed.headers["location"] == "/app/planner"
        with _client(admin_server) as other:
            _sign_in(other, OTHER_ADMIN)
            theirs = other.post("/app/admin/passwords", data={
                "csrf_token": _csrf(other.get("/app/admin").text),
                "reset_user": str(user), "reset_how": "password",
                "reset_password": second})  # fmt: skip
            assert theirs.status_code == 404
        with _client(admin_server) as admin:
            _sign_in(admin, ADMIN)
            token = _csrf(admin.get("/app/admin").text)
            reset = {"csrf_token": token, "reset_user": str(user), "reset_how": "password"}
            short = admin.post("/app/admin/passwords", data=reset | {"reset_password": "tiny"})
            assert short.status_code == 400 and 'href="#reset_password"' in short.text
            done = admin.post("/app/admin/passwords", data=reset | {"reset_password": second})
            assert done.status_code == 303 and "done=password-set" in done.headers["location"]
        assert person.get("/app/planner").status_code == 303  # the session ended at once
    with _client(admin_server) as person:
        token = _csrf(person.get("/app/sign-in").text)
        old = person.post("/app/sign-in", data={"email": email, "password": first,
                                               "csrf_token": token, "next": ""})  # fmt: skip
        assert old.status_code == 400
        new = person.post("/app/sign-in", data={"email": email, "password": second,
                                               "csrf_token": token, "next": ""})  # fmt: skip
        assert new.status_code == 303


@pytest.mark.browser
def test_every_admin_action_in_a_browser(admin_server: Server, new_page: Any) -> None:
    """Change a role and change it back, switch an account off and on, set a new password,
    make and revoke a key: each confirmed on the page; then the error pages a person meets
    (not found, not allowed) have the header and a way back. axe finds nothing on any."""
    page = new_page()
    sign_in(page, admin_server.url, ADMIN)
    page.get_by_label(f"Role of {CASEWORKER}").select_option("planner")
    page.get_by_role("button", name=f"Change role of {CASEWORKER}").click()
    assert "The role has been changed" in page.content()
    page.get_by_label(f"Role of {CASEWORKER}").select_option("caseworker")
    page.get_by_role("button", name=f"Change role of {CASEWORKER}").click()
    page.get_by_role("button", name=f"Switch off the account of {CASEWORKER}").click()
    assert "The account has been switched off" in page.content()
    look(page, "admin-switched-off")
    page.get_by_role("button", name=f"Switch on the account of {CASEWORKER}").click()
    assert "The account has been switched on" in page.content()
    page.get_by_label("Whose password").select_option(label=CASEWORKER)
    how = page.get_by_role("group", name="How will they get it?")
    how.get_by_label("I set it for them").check()
    page.get_by_role("textbox", name="The new password").fill(PASSWORD)
    page.get_by_role("button", name="Set a new password").click()
    assert "The new password has been set" in page.content()
    page.get_by_label("Name of the new key").fill("Revoked soon")
    page.get_by_role("group", name="Which role does the key act in?").get_by_label(
        "Planner"
    ).check()
    page.get_by_role("button", name="Make an API key").click()
    page.get_by_role("button", name="Revoke the key Revoked soon").click()
    assert "The API key has been revoked" in page.content()
    look(page, "admin-key-revoked")
    page.goto(f"{admin_server.url}/app/no-such-page")
    assert "Page not found" in page.content()
    assert page.get_by_role("link", name="foodmatch").count() == 1  # the header
    assert page.get_by_role("link", name=re.compile("Sign in|Go to your home page")).count() == 1
    look(page, "error-404")
    person = new_page()
    sign_in(person, admin_server.url, CASEWORKER)
    person.goto(f"{admin_server.url}/app/admin")
    assert person.get_by_role("link", name="Go to your home page").count() == 1
    look(person, "error-403")
