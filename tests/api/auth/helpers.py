"""Helpers for the sign-in, session and lockout tests: sign in through the API or the page,
read the audit events of an action."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.db import Database
from api.record.tables import AuditEvent

Client = TestClient | httpx.Client


def csrf(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def api_sign_in(client: Client, email: str, password: str, **kwargs: Any) -> httpx.Response:
    """``POST /auth/token`` with this e-mail and password."""
    return client.post("/auth/token", data={"username": email, "password": password}, **kwargs)


def page_sign_in(client: Client, email: str, password: str, **kwargs: Any) -> httpx.Response:
    """The sign-in page's form, posted with this e-mail and password (redirects not followed)."""
    form = client.get("/app/sign-in", **kwargs)
    return client.post(
        "/app/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf(form.text), "next": ""},
        follow_redirects=False,
        **kwargs,
    )


def events(db: Database, action: str) -> list[AuditEvent]:
    """Every audit event of ``action``, oldest first."""
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )
