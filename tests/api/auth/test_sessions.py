"""Tokens and page sessions end at once: deactivation, a new password, signing out, no user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from api.auth.tokens import issue_token
from api.cli import app as cli
from api.core.db import Database
from api.core.tables import User
from api.core.vocabulary import Role
from api.record.audit import verify_chain
from api.web.security import SESSION_COOKIE
from tests.api.auth.helpers import api_sign_in, csrf, events, page_sign_in
from tests.api.conftest import PASSWORD, TEST_SECRET, World

BODY = {"household_size": 2, "urgency": "urgent", "postcode": "LS9 7AB", "consent_to_share": True}
NEW_PASSWORD = "a brand new passphrase for testing"


def _accounts() -> ModuleType:
    """The account service (imported when used, so each test fails on its own)."""
    from api.auth import accounts

    return accounts


def _user(world: World, role: Role = Role.CASEWORKER) -> User:
    return world.users[("A", role)]


def _fresh(db: Database, user_id: int) -> User:
    with db.read() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def _page_session(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in on the page; the session cookie's value."""
    signed = page_sign_in(client, email, password)
    assert signed.status_code == 303, signed.text
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    return value


def _page_with(client: TestClient, session_value: str) -> int:
    """The status of a caseworker page fetched with exactly this session cookie."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, session_value, path="/app")
    response = client.get("/app/caseworker/referrals", follow_redirects=False)
    client.cookies.clear()
    return response.status_code


def test_deactivated_users_token_is_refused_at_once(
    client: TestClient, db: Database, world: World
) -> None:
    """A caseworker's live token writes referrals until the account is deactivated, then
    every request with it is 401 (and the deactivation is audited)."""
    user = _user(world)
    headers = world.headers("A", Role.CASEWORKER)
    assert client.post("/referrals", json=BODY, headers=headers).status_code == 201
    _accounts().set_active(db, user.id, False)
    refused = client.post("/referrals", json=BODY, headers=headers)
    assert refused.status_code == 401, refused.text
    assert client.get("/auth/me", headers=headers).status_code == 401
    assert api_sign_in(client, user.email, PASSWORD).status_code == 401
    assert [e.entity_id for e in events(db, "user.deactivated")] == [str(user.id)]


def test_account_switched_off_in_the_database_loses_its_token(
    client: TestClient, db: Database, world: World
) -> None:
    """However an account is switched off (here straight in the table), its token stops."""
    user = _user(world)
    headers = world.headers("A", Role.CASEWORKER)
    assert client.get("/auth/me", headers=headers).status_code == 200
    with db.write() as session:
        session.execute(update(User).where(User.id == user.id).values(is_active=False))
    assert client.post("/referrals", json=BODY, headers=headers).status_code == 401


def test_reactivation_does_not_revive_earlier_tokens(
    client: TestClient, db: Database, world: World
) -> None:
    """A token from before a deactivation stays dead after reactivation; a new sign-in works."""
    user = _user(world)
    headers = world.headers("A", Role.CASEWORKER)
    _accounts().set_active(db, user.id, False)
    _accounts().set_active(db, user.id, True)
    assert client.get("/auth/me", headers=headers).status_code == 401
    signed = api_sign_in(client, user.email, PASSWORD)
    assert signed.status_code == 200
    fresh = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert client.get("/auth/me", headers=fresh).status_code == 200


def test_token_for_a_user_that_does_not_exist_is_refused(client: TestClient, world: World) -> None:
    """A correctly signed admin token naming no user gets 401, not an admin's access."""
    claims = {
        "sub": "999999",
        "org": world.orgs["A"],
        "kind": "council",
        "role": "admin",
        "ver": 0,
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }
    forged = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    response = client.get("/api-keys", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_role_and_organisation_come_from_the_account_not_the_token(
    client: TestClient, world: World
) -> None:
    """A token claiming admin for a caseworker's account acts as the caseworker (403)."""
    user = _user(world)
    claims = {
        "sub": str(user.id),
        "org": world.orgs["B"],
        "kind": "council",
        "role": "admin",
        "ver": user.session_version,
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert (me.json()["role"], me.json()["organisation_id"]) == ("caseworker", world.orgs["A"])
    assert client.get("/api-keys", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_signed_out_page_session_is_refused_at_once(
    client: TestClient, db: Database, world: World
) -> None:
    """Replaying the cookie of a session that signed out gets the sign-in page, and the
    person's access tokens from before end with it."""
    user = _user(world)
    token_before = world.headers("A", Role.CASEWORKER)
    value = _page_session(client, user.email)
    assert _page_with(client, value) == 200
    client.cookies.set(SESSION_COOKIE, value, path="/app")
    page = client.get("/app/caseworker/referrals")
    out = client.post("/app/sign-out", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert _page_with(client, value) == 303
    assert client.get("/auth/me", headers=token_before).status_code == 401
    assert _fresh(db, user.id).session_version == user.session_version + 1


def test_deactivation_ends_page_sessions(client: TestClient, db: Database, world: World) -> None:
    """A page session of a deactivated user is sent back to sign in on its next request."""
    user = _user(world)
    value = _page_session(client, user.email)
    _accounts().set_active(db, user.id, False)
    assert _page_with(client, value) == 303


def test_password_change_ends_earlier_tokens_and_sessions(
    client: TestClient, db: Database, world: World
) -> None:
    """After a new password, the old token and page session are refused, the old password
    no longer signs in, the new one does, and the change is audited without the password."""
    user = _user(world)
    headers = world.headers("A", Role.CASEWORKER)
    value = _page_session(client, user.email)
    _accounts().set_password(db, user.id, NEW_PASSWORD)
    assert client.post("/referrals", json=BODY, headers=headers).status_code == 401
    assert _page_with(client, value) == 303
    assert api_sign_in(client, user.email, PASSWORD).status_code == 401
    signed = api_sign_in(client, user.email, NEW_PASSWORD)
    assert signed.status_code == 200
    fresh = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert client.post("/referrals", json=BODY, headers=fresh).status_code == 201
    changed = events(db, "user.password_changed")
    assert [e.entity_id for e in changed] == [str(user.id)]
    assert NEW_PASSWORD not in changed[0].after_json and "argon2" not in changed[0].after_json
    with db.read() as session:
        assert verify_chain(session).ok


def test_a_short_password_is_refused_and_changes_nothing(db: Database, world: World) -> None:
    """A password under 12 characters is refused with what is expected; sessions go on."""
    from api.core.errors import ProblemError

    user = _user(world)
    with pytest.raises(ProblemError) as refused:
        _accounts().set_password(db, user.id, "short")
    assert refused.value.status == 422 and "at least 12" in refused.value.detail
    after = _fresh(db, user.id)
    assert (after.password_hash, after.session_version) == (
        user.password_hash,
        user.session_version,
    )


def test_other_users_sessions_survive(client: TestClient, db: Database, world: World) -> None:
    """Deactivating one person leaves everyone else's tokens working."""
    _accounts().set_active(db, _user(world).id, False)
    planner = world.headers("A", Role.PLANNER)
    assert client.get("/auth/me", headers=planner).status_code == 200


def _cli(db_url: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["users", *args, "--database-url", db_url], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_users_commands_deactivate_and_set_passwords(
    client: TestClient, db: Database, db_url: str, world: World
) -> None:
    """`foodmatch users` deactivates (token refused at once), reactivates, sets a password
    (asked twice) and signs a person out everywhere; an unknown e-mail is one line, exit 1."""
    user = _user(world)
    headers = world.headers("A", Role.CASEWORKER)
    code, out, _ = _cli(db_url, "deactivate", user.email.upper())
    assert code == 0 and "Deactivated" in out
    assert client.get("/auth/me", headers=headers).status_code == 401
    code, out, _ = _cli(db_url, "activate", user.email)
    assert code == 0 and "Activated" in out
    code, out, _ = _cli(db_url, "set-password", user.email, stdin=f"{NEW_PASSWORD}\n" * 2)
    assert code == 0, out
    assert api_sign_in(client, user.email, NEW_PASSWORD).status_code == 200
    token, _ = issue_token(_fresh(db, user.id), world.settings)
    code, out, _ = _cli(db_url, "sign-out", user.email)
    assert code == 0 and "everywhere" in out
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    code, _, err = _cli(db_url, "deactivate", "nobody@nowhere.test")
    assert code == 1 and err.strip().count("\n") == 0 and "nobody@nowhere.test" in err
    code, _, err = _cli(db_url, "set-password", user.email, stdin="short\nshort\n")
    assert code == 1 and "at least 12" in err
    assert api_sign_in(client, user.email, NEW_PASSWORD).status_code == 200
