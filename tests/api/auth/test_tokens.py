"""Sign-in, tokens and API keys: only valid, current credentials get in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from api.core.vocabulary import Role
from tests.api.conftest import PASSWORD, TEST_SECRET, World


def test_sign_in_returns_a_short_lived_token_with_role_and_organisation(
    client: TestClient, world: World
) -> None:
    """The password flow gives a bearer token naming the user's organisation and role."""
    response = client.post(
        "/auth/token", data={"username": "Caseworker@A.test", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["role"] == "caseworker" and claims["org"] == world.orgs["A"]
    assert 0 < body["expires_in"] <= 15 * 60
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["role"] == "caseworker"


def test_wrong_password_is_refused_as_problem(client: TestClient, world: World) -> None:
    """A wrong password gets 401 problem+json and no token."""
    response = client.post("/auth/token", data={"username": "caseworker@a.test", "password": "x"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "access_token" not in response.text


def test_stored_passwords_are_argon2id(world: World) -> None:
    """Password hashes are argon2id with at least OWASP's minimum memory cost."""
    stored = world.users[("A", Role.CASEWORKER)].password_hash
    assert stored.startswith("$argon2id$")
    memory = int(stored.split("$")[3].split(",")[0].removeprefix("m="))
    assert memory >= 19 * 1024


def _forged(world: World, **changes: object) -> str:
    user = world.users[("A", Role.CASEWORKER)]
    claims = {
        "sub": str(user.id),
        "org": user.organisation_id,
        "kind": "council",
        "role": "caseworker",
        "ver": user.session_version,
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }
    claims.update(changes)
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


def test_expired_forged_and_unsigned_tokens_are_refused(client: TestClient, world: World) -> None:
    """Expired, wrongly signed and alg=none tokens all get 401."""
    user = world.users[("A", Role.CASEWORKER)]
    bad = [
        _forged(world, exp=datetime.now(UTC) - timedelta(seconds=1)),
        jwt.encode(
            {
                "sub": str(user.id),
                "org": 1,
                "kind": "council",
                "role": "admin",
                "exp": datetime.now(UTC) + timedelta(minutes=5),
            },
            "another-secret-of-sufficient-length-123456",
            algorithm="HS256",
        ),
        jwt.encode(
            {"sub": str(user.id), "org": 1, "kind": "council", "role": "admin", "exp": 9999999999},
            None,
            algorithm="none",
        ),
        "not-a-token",
    ]
    for token in bad:
        response = client.get("/referrals", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    good = client.get("/referrals", headers={"Authorization": f"Bearer {_forged(world)}"})
    assert good.status_code == 200


def test_api_keys_work_until_revoked(client: TestClient, world: World) -> None:
    """An admin's new key acts for its organisation in its role; once revoked it stops."""
    admin = world.headers("A", Role.ADMIN)
    created = client.post(
        "/api-keys", json={"name": "Housing", "role": "caseworker"}, headers=admin
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key not in client.get("/api-keys", headers=admin).text

    as_key = client.get("/referrals", headers={"X-API-Key": key})
    assert as_key.status_code == 200
    assert {r["id"] for r in as_key.json()["items"]} == {world.ids["referral_a"]}

    revoked = client.post(f"/api-keys/{created.json()['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/referrals", headers={"X-API-Key": key}).status_code == 401
    assert client.get("/referrals", headers={"X-API-Key": key[:-1] + "x"}).status_code == 401


def test_a_council_cannot_mint_a_charity_key(client: TestClient, world: World) -> None:
    """An API key's role must fit its organisation (no council key acting as a charity)."""
    response = client.post(
        "/api-keys", json={"name": "x", "role": "charity"}, headers=world.headers("A", Role.ADMIN)
    )
    assert response.status_code == 403 and "role" in response.json()["detail"]
