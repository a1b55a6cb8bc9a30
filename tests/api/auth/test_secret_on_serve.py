"""`foodmatch serve` as a real process: no start without a strong secret (``--demo`` makes a
random one), and the sign-in limits hold across two server processes on one database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest

from api.core.db import Database
from api.core.vocabulary import OrganisationKind, Role
from api.demo.seed import add_organisation, add_user
from tests.api.auth.helpers import api_sign_in, events
from tests.api.conftest import PASSWORD, TEST_SECRET, free_port

OLD_DEFAULT = "change-me-in-production-this-is-only-for-local-use"
"""The token secret earlier versions shipped as the default (so it is public)."""
WRONG = "not the password"


def _environment(db_url: str, **settings: str) -> dict[str, str]:
    """This machine's environment without any foodmatch setting, plus ``settings``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FOODMATCH_") and key != "DATABASE_URL"
    }
    return {**env, "DATABASE_URL": db_url, "FOODMATCH_LOG_LEVEL": "WARNING", **settings}


def _start(env: dict[str, str], cwd: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen[str], base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"serve exited with {process.returncode}: {out}\n{err}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("serve did not become ready")


@contextmanager
def _serving(env: dict[str, str], cwd: Path, *args: str) -> Iterator[tuple[str, list[str]]]:
    """A running ``foodmatch serve``: its base URL and (after it stops) its output lines."""
    process, base = _start(env, cwd, *args)
    output: list[str] = []
    try:
        _wait_ready(process, base)
        yield base, output
    finally:
        process.terminate()
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        output.extend((out + err).splitlines())


@pytest.mark.parametrize("secret", [None, OLD_DEFAULT, "too-short-a-secret", "ab" * 20])
def test_serve_refuses_to_start_without_a_strong_secret(
    db_url: str, tmp_path: Path, secret: str | None
) -> None:
    """Unset, the old shipped default, a short or a repetitive secret: serve exits 1 with one
    line naming FOODMATCH_JWT_SECRET and what to set, and never listens."""
    settings = {} if secret is None else {"FOODMATCH_JWT_SECRET": secret}
    process, base = _start(_environment(db_url, **settings), tmp_path)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        forged = jwt.encode(
            {"sub": "1", "org": 1, "kind": "council", "role": "admin", "ver": 0, "exp": 9e9},
            OLD_DEFAULT,
            algorithm="HS256",
        )
        answer = httpx.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {forged}"})
        process.kill()
        process.communicate()
        pytest.fail(f"serve started with secret {secret!r}; a forged token got {answer}")
    assert process.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "FOODMATCH_JWT_SECRET" in lines[0] and "at least 32 characters" in lines[0]
    assert "--demo" in lines[0] and "listening" not in out


def test_demo_serves_with_a_random_secret(db_url: str, tmp_path: Path) -> None:
    """`serve --demo` without a secret signs with a random one: the demo sign-ins work and a
    token minted with the old default secret (or the tests' secret) is refused."""
    with (
        _serving(_environment(db_url), tmp_path, "--demo") as (base, output),
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        signed = api_sign_in(http, "admin@leeds.demo", "foodmatch-demo")
        assert signed.status_code == 200, signed.text
        token = signed.json()["access_token"]
        me = httpx.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["role"] == "admin"
        claims = jwt.decode(token, options={"verify_signature": False})
        for secret in (OLD_DEFAULT, TEST_SECRET):
            forged = jwt.encode(claims, secret, algorithm="HS256")
            refused = httpx.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {forged}"})
            assert refused.status_code == 401
    assert any("random secret" in line for line in output)


def test_two_server_processes_share_the_limits_and_trust_only_configured_proxies(
    db_url: str, tmp_path: Path, password_hash: str
) -> None:
    """Two `foodmatch serve` processes on one database: failures sent to either lock the
    account on both (429 with Retry-After, audited once). Only the one told to trust
    127.0.0.1 as a proxy counts per X-Forwarded-For client; the other ignores the header."""
    db = Database.from_url(db_url)
    with db.write() as session:
        council = add_organisation(session, "Council", OrganisationKind.COUNCIL)
        for name in ("target", "other"):
            add_user(
                session, council, f"{name}@c.test", Role.CASEWORKER, "", password_hash=password_hash
            )
    limits = {
        "FOODMATCH_JWT_SECRET": TEST_SECRET,
        "FOODMATCH_SIGN_IN_ACCOUNT_FAILURES": "2",
        "FOODMATCH_SIGN_IN_ADDRESS_FAILURES": "3",
    }
    plain = _environment(db_url, **limits)
    proxied = _environment(db_url, **limits, FOODMATCH_TRUSTED_PROXIES="127.0.0.1")
    client_a = {"X-Forwarded-For": "203.0.113.5"}
    client_b = {"X-Forwarded-For": "203.0.113.6"}
    try:
        with (
            # The database role's and the audit anchor's own checks are tested elsewhere.
            _serving(plain, tmp_path, "--insecure-audit") as (one, _),
            _serving(proxied, tmp_path, "--insecure-audit") as (two, _),
            httpx.Client(base_url=one, timeout=30) as first,
            httpx.Client(base_url=two, timeout=30) as second,
        ):
            # The account: one failure on each process locks it on both.
            assert api_sign_in(first, "target@c.test", WRONG).status_code == 401
            assert api_sign_in(second, "target@c.test", WRONG, headers=client_a).status_code == 401
            for server in (first, second):
                locked = api_sign_in(server, "target@c.test", PASSWORD)
                assert locked.status_code == 429, locked.text
                assert 0 < int(locked.headers["Retry-After"]) <= 900
            # The address, on the first process (no trusted proxy): the header changes nothing.
            for number in range(2):
                spoofed = {"X-Forwarded-For": f"198.51.100.{number}"}
                assert (
                    api_sign_in(first, f"g{number}@c.test", WRONG, headers=spoofed).status_code
                    == 401
                )
            assert api_sign_in(first, "other@c.test", PASSWORD, headers=client_b).status_code == 429
            # The second process counts client A (2 failures so far + 1 = locked), not B.
            assert api_sign_in(second, "x1@c.test", WRONG, headers=client_a).status_code == 401
            assert api_sign_in(second, "x2@c.test", WRONG, headers=client_a).status_code == 401
            assert (
                api_sign_in(second, "other@c.test", PASSWORD, headers=client_a).status_code == 429
            )
            assert (
                api_sign_in(second, "other@c.test", PASSWORD, headers=client_b).status_code == 200
            )
        kinds = sorted(e.entity_type for e in events(db, "sign_in.locked"))
        assert kinds == ["client_address", "client_address", "user"]
    finally:
        db.dispose()
