"""The referral form's errors are shown and announced, and it can be completed by keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import CASEWORKER, Server, sign_in
from tests.web.pages import focused_id, look, tab_to, tab_to_button

pytestmark = pytest.mark.browser


def test_sign_in_errors_are_announced(server: Server, new_page: Any) -> None:
    """A wrong password shows an error summary that takes focus, and nobody is signed in."""
    page = new_page()
    page.goto(f"{server.url}/app/sign-in")
    look(page, "sign-in")
    page.get_by_label("Email address").fill(CASEWORKER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.locator("[role=alert]").count() == 1  # the announced part
    assert "Enter a correct email address and password" in summary.inner_text()
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    assert page.url.endswith("/app/sign-in")
    look(page, "sign-in-error")


def test_referral_form_errors_shown_announced_and_linked(server: Server, new_page: Any) -> None:
    """An empty referral gets a focused error summary (role=alert) linking to each field,
    and each field has its message attached; nothing is stored."""
    page = new_page()
    sign_in(page, server.url, CASEWORKER)
    before = page.locator("#referral-list caption").inner_text()
    page.goto(f"{server.url}/app/caseworker/referrals/new")
    page.get_by_label("How far can they travel to collect, in kilometres?").fill("")
    page.get_by_role("button", name="Continue").click()

    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert summary.locator("[role=alert]").count() == 1  # the announced part
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    links = summary.locator("a")
    expected = {
        "#postcode": "Enter the household's postcode",
        "#household_size": "Enter how many people live in the household",
        "#urgency": "Select how urgently the household needs food",
        "#delivery": "Select whether the household can collect or needs delivery",
        "#max_travel_km": "Enter how far the household can travel",
        "#consent": "Select whether the household agrees to share contact details",
    }
    found = {
        links.nth(i).get_attribute("href"): links.nth(i).inner_text() for i in range(links.count())
    }
    for href, message in expected.items():
        assert found.get(href, "").startswith(message), (href, found)
    described = page.get_by_label("Household's postcode").get_attribute("aria-describedby")
    assert "postcode-error" in str(described).split()
    assert page.locator("#postcode-error").inner_text().endswith("Enter the household's postcode")
    assert "consent-error" in str(
        page.locator("fieldset:has(#consent)").get_attribute("aria-describedby")
    )
    look(page, "caseworker-new-referral-errors")

    links.first.click()
    assert focused_id(page) == "postcode"

    page.get_by_label("Household's postcode").fill("ZZ99 9ZZ")
    page.get_by_label("How many people live in the household?").fill("30")
    page.get_by_role("button", name="Continue").click()
    text = page.locator(".govuk-error-summary").inner_text()
    assert "Enter a real postcode in the UK, like LS9 7AB" in text
    assert "Household size must be a whole number from 1 to 20" in text
    assert page.get_by_label("Household's postcode").input_value() == "ZZ99 9ZZ"

    page.goto(f"{server.url}/app/caseworker/referrals")
    assert page.locator("#referral-list caption").inner_text() == before


def test_referral_form_completed_with_keyboard_only(server: Server, new_page: Any) -> None:
    """A caseworker can skip to the content, fill in, check and submit a referral by keyboard."""
    page = new_page()
    sign_in(page, server.url, CASEWORKER)
    page.goto(f"{server.url}/app/caseworker/referrals/new")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert focused_id(page) == "main-content"

    tab_to(page, "postcode")
    page.keyboard.type("LS9 7AB")
    tab_to(page, "household_size")
    page.keyboard.type("2")
    tab_to(page, "dietary-3")  # vegetarian
    page.keyboard.press("Space")
    tab_to(page, "urgency")
    page.keyboard.press("ArrowDown")  # urgent
    page.keyboard.press("Space")
    tab_to(page, "urgency-2")
    tab_to(page, "delivery")
    page.keyboard.press("Space")  # can collect
    tab_to(page, "max_travel_km")
    page.keyboard.press("Control+A")
    page.keyboard.type("4")
    tab_to(page, "consent")
    page.keyboard.press("Space")
    tab_to(page, "notes")
    page.keyboard.type("Typed without a mouse.")
    tab_to_button(page, "Continue")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    summary = page.locator(".govuk-summary-list").inner_text()
    assert "Vegetarian" in summary and "Urgent" in summary and "4.0 km" in summary

    tab_to_button(page, "Change")  # the first change link goes back with every answer kept
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert focused_id(page) == "postcode"
    assert page.get_by_label("Notes for the food bank (optional)").input_value() == (
        "Typed without a mouse."
    )
    tab_to_button(page, "Continue")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to_button(page, "Submit referral")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/app/caseworker/referrals/\d+", page.url)
    assert "Referral submitted." in page.inner_text("main")
