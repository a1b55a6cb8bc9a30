"""The API reference at /docs works in a browser with no network beyond this service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import Server

pytestmark = pytest.mark.browser


def _offline_page(server: Server, new_page: Any) -> tuple[Any, list[str], list[str]]:
    """A page that may load only from the server, with what it tried elsewhere and its errors."""
    page = new_page()
    host = urlsplit(server.url).netloc
    elsewhere: list[str] = []
    problems: list[str] = []

    def only_here(route: Any) -> None:
        if urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return page, elsewhere, problems


def test_swagger_ui_renders_offline(server: Server, new_page: Any) -> None:
    """Swagger UI draws the operations from this host alone, with no policy violation."""
    page, elsewhere, problems = _offline_page(server, new_page)
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".opblock-tag", timeout=20_000)
    tags = {t.strip().lower() for t in page.locator(".opblock-tag").all_inner_texts()}
    assert any("referrals" in tag for tag in tags), tags
    page.locator(".opblock-summary-path", has_text="/referrals").first.wait_for()
    assert elsewhere == []
    assert problems == []


def test_redoc_renders_offline(server: Server, new_page: Any) -> None:
    """ReDoc draws every operation from this host alone.

    Its sidebar badge points at an image on the ReDoc vendor's site; the page's policy refuses
    it before any request leaves, and that refusal is the only error.
    """
    page, elsewhere, problems = _offline_page(server, new_page)
    page.goto(f"{server.url}/redoc")
    page.locator("[data-section-id^='tag/']").first.wait_for(timeout=20_000)
    assert page.locator("[data-section-id*='operation/']").count() >= 20
    assert elsewhere == []
    assert all("Content Security Policy" in p and "cdn.redoc.ly" in p for p in problems)
