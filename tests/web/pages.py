"""Helpers the browser tests share: look at a page (screenshot + axe), keyboard moves."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

from tests.web.conftest import screenshot

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
_axe = Axe()


def look(page: Any, name: str) -> None:
    """Save a screenshot and assert axe-core finds no WCAG 2.2 A or AA violation of any
    impact, and no serious or critical best-practice finding.

    axe-core comes from the axe-playwright-python wheel and is evaluated in the page from
    that local file (never fetched).
    """
    screenshot(page, name)
    results = _axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:3])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
        or any(tag.startswith("wcag") for tag in v.get("tags", []))
    ]
    assert not bad, f"{name}: " + "; ".join(bad)


def focused_id(page: Any) -> str:
    """The id of the element that has keyboard focus ('' if none)."""
    return str(page.evaluate("() => document.activeElement ? document.activeElement.id : ''"))


def tab_to(page: Any, element_id: str, limit: int = 60) -> None:
    """Press Tab until the element with ``element_id`` has focus (fails if never reached)."""
    for _ in range(limit):
        if focused_id(page) == element_id:
            return
        page.keyboard.press("Tab")
    assert focused_id(page) == element_id, f"Tab never reached #{element_id}"


def tab_to_button(page: Any, text: str, limit: int = 60) -> None:
    """Press Tab until a button whose text starts with ``text`` has focus."""
    script = "() => document.activeElement ? document.activeElement.textContent.trim() : ''"
    for _ in range(limit):
        page.keyboard.press("Tab")
        if str(page.evaluate(script)).startswith(text):
            return
    raise AssertionError(f"Tab never reached the {text!r} button")
