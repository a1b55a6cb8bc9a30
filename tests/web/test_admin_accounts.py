"""One-time sign-in links (an invitation, a reset) and a person changing their own password,
over HTTP on a real server; and both in Chromium, scanned by axe-core."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.core.logs import logged_path
from api.core.tables import SignInLink, User
from api.core.vocabulary import OrganisationKind, Role
from api.demo.seed import add_organisation, add_user
from api.web.security import SIGN_IN_COOKIE
from tests.web.conftest import CASEWORKER, PASSWORD, Server, _serve, sign_in
from tests.web.pages import look
from tests.web.test_pages_http import _client, _csrf, _sign_in

ADMIN = "admin@leeds.demo"
OTHER_ADMIN = "admin@elsewhere.example"


@pytest.fixture(scope="module")
def accounts_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server of its own (passwords change here), with a second council's admin."""
    target = tmp_path_factory.mktemp("accounts") / "foodmatch.db"
    shutil.copyfile(sqlite_template, target)
    for server in _serve(f"sqlite:///{target}"):
        with server.db.write() as session:
            other = add_organisation(session, "Elsewhere Council", OrganisationKind.COUNCIL)
            add_user(session, other, OTHER_ADMIN, Role.ADMIN, PASSWORD)
        yield server


def _sign_in_with(http: httpx.Client, email: str, password: str) -> httpx.Response:
    token = _csrf(http.get("/app/sign-in").text)
    return http.post("/app/sign-in", data={"email": email, "password": password,
                                           "csrf_token": token, "next": ""})  # fmt: skip


def _signs_in(server: Server, email: str, password: str) -> httpx.Response:
    """Sign in from a fresh browser (closed again)."""
    with _client(server) as http:
        return _sign_in_with(http, email, password)


def _link(page: str) -> str:
    found = re.search(r'id="new-link-value">[^<]*(/app/welcome/[^<]+)<', page)
    assert found, "no link shown"
    return found.group(1)


def _choose(http: httpx.Client, link: str, password: str, again: str | None = None) -> Any:
    page = http.get(link)
    assert page.status_code == 200, page.status_code
    confirm = password if again is None else again
    return http.post(link, data={"csrf_token": _csrf(page.text), "new_password": password,
                                 "confirm_password": confirm})  # fmt: skip


def _invite(admin: httpx.Client, email: str, name: str, role: str) -> httpx.Response:
    token = _csrf(admin.get("/app/admin").text)
    return admin.post("/app/admin/users", data={"csrf_token": token, "new_name": name,
                      "new_email": email, "new_role": role, "new_first": "link"})  # fmt: skip


def test_an_invited_person_chooses_a_password_with_the_link_once(accounts_server: Server) -> None:
    """The link is shown once; it greets the person; a wrong or short password keeps it
    working; the right one signs them in to their home page; then it no longer works, their
    password signs in, and the audit log names both steps (never the link)."""
    email, chosen = "new.foi@leeds.demo", "a long enough password"
    with _client(accounts_server) as admin:
        _sign_in(admin, ADMIN)
        made = _invite(admin, email, "Fola Officer", "foi_officer")
        assert made.status_code == 201 and "shown only this once" in made.text
        link = _link(made.text)
        assert link not in admin.get("/app/admin").text  # shown once
        with accounts_server.db.read() as session:
            stored = session.scalars(select(SignInLink.token_hash)).all()
        assert link.rsplit("/", 1)[1] not in stored  # only a hash is kept
    assert _signs_in(accounts_server, email, chosen).status_code == 400
    with _client(accounts_server) as person:
        page = person.get(link).text
        assert "Welcome to foodmatch, Fola Officer" in page and "Leeds" in page
        assert "FOI officer" in page and email in page
        mismatch = _choose(person, link, chosen, again="something else entirely")
        assert mismatch.status_code == 400 and 'href="#confirm_password"' in mismatch.text
        short = _choose(person, link, "short")
        assert short.status_code == 400 and "use at least 12" in short.text
        done = _choose(person, link, chosen)
        assert done.status_code == 303 and done.headers["location"].startswith("/app/foi")
        assert person.get("/app/foi").status_code == 200  # signed in
        again = person.get(link)
        assert again.status_code == 404 and "This link does not work" in again.text
        token = person.cookies.get(SIGN_IN_COOKIE)  # the page's double-submit value
        reused = person.post(link, data={"csrf_token": token, "new_password": "another password x",
                                         "confirm_password": "another password x"})  # fmt: skip
        assert reused.status_code == 404
    assert _signs_in(accounts_server, email, chosen).headers["location"] == "/app/foi"
    assert _signs_in(accounts_server, email, "another password x").status_code == 400
    with _client(accounts_server) as admin:
        _sign_in(admin, ADMIN)
        found = admin.get("/app/foi", params={"q": "one-time link"}).text
        assert "A one-time link to choose a password was made" in found
        assert "chose a password with a one-time link" in found
        assert link.rsplit("/", 1)[1] not in found
    assert logged_path(link) == "/app/welcome/…"


def test_a_reset_link_stops_the_old_password_and_replaces_older_links(
    accounts_server: Server,
) -> None:
    """A reset link ends the person's sessions and old password at once; a second link
    replaces the first; another council's admin cannot make one (not found)."""
    email, first, second = "reset.me@leeds.demo", "the first pass phrase", "the second pass phrase"
    with _client(accounts_server) as admin:
        _sign_in(admin, ADMIN)
        made = _invite(admin, email, "", "planner")
        with _client(accounts_server) as person:
            assert _choose(person, _link(made.text), first).status_code == 303
            assert person.get("/app/planner").status_code == 200
            with accounts_server.db.read() as session:
                user = session.scalar(select(User.id).where(User.email == email))
            with _client(accounts_server) as other:
                _sign_in(other, OTHER_ADMIN)
                theirs = other.post("/app/admin/passwords", data={
                    "csrf_token": _csrf(other.get("/app/admin").text),
                    "reset_user": str(user), "reset_how": "link"})  # fmt: skip
                assert theirs.status_code == 404
            assert person.get("/app/planner").status_code == 200  # untouched
            reset = {"csrf_token": _csrf(admin.get("/app/admin").text), "reset_user": str(user),
                     "reset_how": "link"}  # fmt: skip
            older = admin.post("/app/admin/passwords", data=reset)
            assert older.status_code == 201 and "Their old password and sessions" in older.text
            assert person.get("/app/planner").status_code == 303  # the session ended at once
        assert _signs_in(accounts_server, email, first).status_code == 400
        newer = admin.post("/app/admin/passwords", data=reset)
        with _client(accounts_server) as person:
            assert person.get(_link(older.text)).status_code == 404  # replaced
        with _client(accounts_server) as person:
            page = person.get(_link(newer.text)).text
            assert "Choose a new password" in page
            assert _choose(person, _link(newer.text), second).status_code == 303
        assert _signs_in(accounts_server, email, second).status_code == 303


def test_a_switched_off_account_cannot_use_its_link(accounts_server: Server) -> None:
    with _client(accounts_server) as admin:
        _sign_in(admin, ADMIN)
        link = _link(_invite(admin, "off.later@leeds.demo", "", "caseworker").text)
        page = admin.get("/app/admin").text
        row = (
            r'<td class="govuk-table__cell">off\.later@leeds\.demo</td>'
            r'.*?action="/app/admin/users/(\d+)/active"'
        )
        user = re.search(row, page, re.S)
        assert user
        admin.post(f"/app/admin/users/{user.group(1)}/active",
                   data={"csrf_token": _csrf(page), "active": "no"})  # fmt: skip
    with _client(accounts_server) as person:
        assert person.get(link).status_code == 404


def test_unknown_and_odd_links_say_they_do_not_work(accounts_server: Server) -> None:
    with _client(accounts_server) as http:
        for odd in ("nothing", "x" * 300, "%00", "' OR 1=1 --", "%C0%AF"):
            answer = http.get(f"/app/welcome/{odd}")
            assert answer.status_code == 404, odd
            assert "This link does not work" in answer.text, odd
        assert http.get("/app/welcome/..%2f..%2fetc").status_code == 404  # no such page
        http.get("/app/welcome/nothing")
        chosen = "a long enough password"
        posted = http.post("/app/welcome/nothing", data={
            "csrf_token": http.cookies.get(SIGN_IN_COOKIE), "new_password": chosen,
            "confirm_password": chosen})  # fmt: skip
        assert posted.status_code == 404
        assert http.post("/app/welcome/nothing", data={"csrf_token": "forged"}).status_code == 404


def test_a_working_link_refuses_a_forged_form(accounts_server: Server) -> None:
    """A post to a working link without the page's own token changes nothing; the link still
    works afterwards."""
    with _client(accounts_server) as admin:
        _sign_in(admin, ADMIN)
        link = _link(_invite(admin, "forged.form@leeds.demo", "", "caseworker").text)
    with _client(accounts_server) as attacker:
        forged = attacker.post(link, data={"csrf_token": "forged", "new_password": "x" * 20,
                                           "confirm_password": "x" * 20})  # fmt: skip
        assert forged.status_code in (400, 403)
    with _client(accounts_server) as person:
        assert _choose(person, link, "the real person's password").status_code == 303


def test_a_person_changes_their_own_password(accounts_server: Server) -> None:
    """Wrong current password, a mismatch and a short one are linked errors that change
    nothing; the change keeps this browser signed in and ends the person's other sessions;
    the old password then fails and the new one works."""
    email, new = "own.change@leeds.demo", "my brand new password"
    with _client(accounts_server) as admin:
        _sign_in(admin, ADMIN)
        with _client(accounts_server) as person:
            assert _choose(person, _link(_invite(admin, email, "Own", "caseworker").text),
                           PASSWORD).status_code == 303  # fmt: skip
    with _client(accounts_server) as here, _client(accounts_server) as elsewhere:
        assert _sign_in_with(here, email, PASSWORD).status_code == 303
        assert _sign_in_with(elsewhere, email, PASSWORD).status_code == 303
        page = here.get("/app/account")
        assert page.status_code == 200 and email in page.text and "Caseworker" in page.text
        token = _csrf(page.text)
        answers = {"csrf_token": token, "current_password": PASSWORD, "new_password": new,
                   "confirm_password": new}  # fmt: skip
        for wrong, field in (
            ({"current_password": "not my password at all"}, "current_password"),
            ({"current_password": ""}, "current_password"),
            ({"confirm_password": "different words here"}, "confirm_password"),
            ({"new_password": "short", "confirm_password": "short"}, "new_password"),
        ):
            refused = here.post("/app/account/password", data=answers | wrong)
            assert refused.status_code == 400, wrong
            assert f'href="#{field}"' in refused.text, wrong
        assert elsewhere.get("/app/caseworker/referrals").status_code == 200  # nothing changed
        changed = here.post("/app/account/password", data=answers)
        assert changed.status_code == 303 and "done=password-changed" in changed.headers["location"]
        assert "Your password has been changed" in here.get(changed.headers["location"]).text
        assert here.get("/app/caseworker/referrals").status_code == 200  # still signed in here
        assert elsewhere.get("/app/caseworker/referrals").status_code == 303  # ended
    assert _signs_in(accounts_server, email, PASSWORD).status_code == 400
    assert _signs_in(accounts_server, email, new).status_code == 303


def test_the_account_page_needs_a_session(accounts_server: Server) -> None:
    with _client(accounts_server) as http:
        assert http.get("/app/account").status_code == 303
        assert http.post("/app/account/password", data={}).status_code in (303, 400, 403)
        _sign_in(http, CASEWORKER)
        assert http.get("/app/account").status_code == 200


@pytest.mark.browser
def test_invite_and_choose_a_password_in_a_browser(accounts_server: Server, new_page: Any) -> None:
    """The admin picks the link (the password box shows only for 'I set'), copies the link;
    the person opens it in another browser, chooses a password and lands signed in; then
    changes it on their account page. axe finds nothing on any of the four pages."""
    page = new_page()
    sign_in(page, accounts_server.url, ADMIN)
    page.get_by_label("Their email address").fill("browser.person@leeds.demo")
    page.get_by_role("group", name="Their role").get_by_label("Planner").check()
    how = page.get_by_role("group", name="How will they get their first password?")
    how.get_by_label("I set a first password for them").check()
    assert page.get_by_role("textbox", name="A first password for them").is_visible()
    how.get_by_label("A one-time link for them to choose it").check()
    assert not page.get_by_role("textbox", name="A first password for them").is_visible()
    page.get_by_role("button", name="Add this person").click()
    link = page.locator("#new-link-value").inner_text()
    look(page, "admin-new-link")
    person = new_page()
    person.goto(link)
    look(person, "welcome")
    person.get_by_label("Password", exact=True).fill("browser chosen password")
    person.get_by_label("Type the password again").fill("browser chosen password")
    person.get_by_role("button", name="Set the password and sign in").click()
    assert person.url.split("?")[0].endswith("/app/planner")
    assert "Your password has been set" in person.content()
    person.get_by_role("link", name=re.compile("your account")).click()
    look(person, "account")
    person.get_by_label("Your current password").fill("browser chosen password")
    person.get_by_label("New password", exact=True).fill("second browser password")
    person.get_by_label("Type the new password again").fill("another thing")
    person.get_by_role("button", name="Change your password").click()
    assert person.locator(".govuk-error-summary").is_visible()
    look(person, "account-error")
    person.get_by_label("Your current password").fill("browser chosen password")
    person.get_by_label("New password", exact=True).fill("second browser password")
    person.get_by_label("Type the new password again").fill("second browser password")
    person.get_by_role("button", name="Change your password").click()
    assert "Your password has been changed" in person.content()
    person.goto(link)
    assert "This link does not work" in person.content()
    look(person, "welcome-used")
