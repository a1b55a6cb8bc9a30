"""Each role's main journey end to end in Chromium, with every page scanned by axe-core."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core import clock
from tests.web.conftest import (
    CASEWORKER,
    FOI_OFFICER,
    PASSWORD,
    PLANNER,
    Server,
    charity_email,
    sign_in,
)
from tests.web.pages import look

pytestmark = pytest.mark.browser


def _refer(page: Any, base: str, *, urgency: str, name: str, shots: bool) -> int:
    """Fill in 'refer a household', check the answers, submit; returns the referral id."""
    page.goto(f"{base}/app/caseworker/referrals/new")
    if shots:
        look(page, "caseworker-new-referral")
    page.get_by_label("Household's postcode").fill("LS9 7AB")
    page.get_by_label("How many people live in the household?").fill("3")
    page.get_by_label("Halal").check()
    page.get_by_label(urgency.capitalize(), exact=True).check()
    page.get_by_label("Yes, they can travel to collect").check()
    page.get_by_label("How far can they travel to collect, in kilometres?").fill("6")
    page.locator("#consent").check()
    page.get_by_label("Name of the person to contact (optional)").fill(name)
    page.get_by_label("Their phone number (optional)").fill("07700 900456")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    if shots:
        look(page, "caseworker-check-answers")
    if urgency == "emergency":  # placed at once on submit: the next page says so
        assert "the household will be offered the best free place" in page.inner_text("main")
    page.get_by_role("button", name="Submit referral").click()
    if urgency == "emergency":
        assert "Emergency referral submitted and offered a place at once" in page.inner_text("main")
        assert page.get_by_role("button", name="Place now").count() == 0
    else:
        assert "Referral submitted." in page.inner_text("main")
    match = re.search(r"/referrals/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def _place(page: Any) -> str:
    """Press 'place now' and return the charity the place was offered at."""
    page.get_by_role("button", name="Place now").click()
    return _offered_at(page)


def _offered_at(page: Any) -> str:
    """The charity the referral's page says the place was offered at."""
    panel = page.locator("#place").inner_text()
    assert panel.startswith("Offered to"), panel
    charity = re.search(r"\((Demo Charity \d+)\)", panel)
    assert charity, panel
    return charity.group(1)


def _journey(server: Server, new_page: Any, *, shots: bool) -> None:
    base = server.url
    caseworker = new_page()
    sign_in(caseworker, base, CASEWORKER)
    assert caseworker.url.endswith("/app/caseworker/referrals")
    if shots:
        look(caseworker, "caseworker-referrals")
    referral_id = _refer(caseworker, base, urgency="emergency", name="Amira Example", shots=shots)
    charity_name = _offered_at(caseworker)
    caseworker.get_by_label("Write a message").fill("Please call before noon.")
    caseworker.get_by_role("button", name="Send message").click()
    assert "Please call before noon." in caseworker.locator("#messages + ol").inner_text()
    if shots:
        look(caseworker, "caseworker-referral")

    charity = new_page()
    sign_in(charity, base, charity_email(charity_name))
    assert charity.url.endswith("/app/charity")
    if shots:
        look(charity, "charity-home")
    charity.get_by_role("link", name=re.compile(f"^Referral {referral_id}\\b")).first.click()
    assert "Please call before noon." in charity.inner_text("main")
    assert "Amira Example" not in charity.inner_text("main")  # not before accepting
    if shots:
        look(charity, "charity-offer")
    charity.get_by_role("button", name="Accept this household").click()
    assert "Offer accepted" in charity.inner_text("main")
    assert "Amira Example, 07700 900456" in charity.inner_text("main")

    caseworker.reload()
    assert caseworker.locator("main .govuk-tag").first.inner_text() == "Accepted"
    assert caseworker.locator("#place").inner_text().startswith("Accepted by")

    charity.get_by_label("Collected").check()
    charity.get_by_role("button", name="Record outcome").click()
    assert "Outcome recorded." in charity.inner_text("main")
    if shots:
        look(charity, "charity-offer-collected")
    caseworker.reload()
    assert caseworker.locator("main .govuk-tag").first.inner_text() == "Collected"


def test_referral_accepted_by_charity_shows_to_caseworker(server: Server, new_page: Any) -> None:
    """A referral submitted by a caseworker is accepted by the charity and shows as accepted."""
    _journey(server, new_page, shots=True)


@pytest.mark.postgres
def test_referral_journey_on_postgresql(pg_server: Server, new_page: Any) -> None:
    """The same caseworker-to-charity journey works on PostgreSQL."""
    _journey(pg_server, new_page, shots=False)


def test_charity_declines_with_reason_and_updates_capacity(server: Server, new_page: Any) -> None:
    """A charity declines an offer with a reason and sets this week's capacity of a site."""
    base = server.url
    caseworker = new_page()
    sign_in(caseworker, base, CASEWORKER)
    referral_id = _refer(caseworker, base, urgency="urgent", name="Ben Example", shots=False)
    charity_name = _place(caseworker)
    first_site = caseworker.locator("#place strong").inner_text()

    charity = new_page()
    sign_in(charity, base, charity_email(charity_name))
    charity.get_by_role("link", name=re.compile(f"^Referral {referral_id}\\b")).first.click()
    charity.get_by_role("button", name="Decline this household").click()
    summary = charity.locator(".govuk-error-summary")
    assert "Select why you are declining this offer" in summary.inner_text()
    look(charity, "charity-decline-error")
    charity.get_by_label("We have run out of stock").check()
    charity.get_by_label("Anything the council should know (optional)").fill("Halal ran out.")
    charity.get_by_role("button", name="Decline this household").click()
    assert "Offer declined." in charity.inner_text("main")
    assert charity.url.split("?")[0].endswith("/app/charity")
    assert charity.get_by_role("link", name=re.compile(f"^Referral {referral_id}\\b")).count() == 0

    caseworker.reload()
    assert f"Offered to {first_site}" not in caseworker.inner_text("main")

    charity.get_by_role("link", name=re.compile("^Update capacity")).first.click()
    look(charity, "charity-capacity")
    charity.get_by_label("How many households can you give a parcel to this week?").fill("")
    charity.get_by_role("button", name="Save capacity").click()
    assert charity.title().startswith("Error:")
    look(charity, "charity-capacity-error")
    charity.get_by_label("How many households can you give a parcel to this week?").fill("57")
    charity.get_by_role("button", name="Save capacity").click()
    assert "This week's capacity has been saved." in charity.inner_text("main")
    assert charity.locator("td", has_text=re.compile(r"^57$")).count() >= 1


def test_planner_runs_shipped_scenario_and_downloads_csv(server: Server, new_page: Any) -> None:
    """A planner runs a shipped what-if, sees the table, plots and map, and downloads CSV."""
    page = new_page()
    sign_in(page, server.url, PLANNER)
    assert page.url.endswith("/app/planner")
    look(page, "planner-home")
    # Only the chosen source's questions show (the shipped what-ifs are chosen at first).
    assert page.locator("#conditional-source").is_visible()
    assert not page.locator("#scenario_file").is_visible()

    page.get_by_label("My own scenario file").check()
    assert page.locator("#scenario_file").is_visible()
    assert not page.locator("#conditional-source").is_visible()
    upload = page.get_by_label("My own scenario file")
    assert upload.get_attribute("aria-controls") == "conditional-source-2"
    page.set_input_files(
        "#scenario_file",
        files=[
            {"name": "bad.toml", "mimeType": "text/plain", "buffer": b"[[scenario]]\nnme = 1\n"}
        ],
    )
    page.get_by_role("button", name="Run scenarios").click()
    assert "scenario_file" in page.locator(".govuk-error-summary a").first.get_attribute("href")
    look(page, "planner-upload-error")

    page.get_by_label("The shipped what-ifs for the Leeds sample region").check()
    page.get_by_label(re.compile(r"^\s*hope-hub-closes")).check()
    page.get_by_label("Longest time for each matching run, in seconds").fill("2")
    page.get_by_role("button", name="Run scenarios").click()
    page.get_by_role("heading", name="Compared with the baseline").wait_for(timeout=120_000)
    table = page.locator("table").first.inner_text()
    assert "Households matched" in table and "hope-hub-closes" in table
    # Figures as people read them: shares in %, changes in points, never 4 decimals.
    assert re.search(r"Share of households served\s+\d+\.\d%", table), table
    assert re.search(r"\d\.\d{4}", table) is None, table
    assert page.locator("figure img").count() == 2
    assert page.locator("svg.app-map circle").count() > 10
    # Every circle is labelled with its district, and the key names every colour.
    assert page.locator("svg.app-map text").count() == page.locator("svg.app-map circle").count()
    assert "under 50% served" in page.locator(".app-map-legend").inner_text()
    look(page, "planner-results")

    page.get_by_label("Show").select_option("hope-hub-closes")
    page.get_by_role("button", name="Show map").click()
    assert "hope-hub-closes" in page.locator("#map-title").text_content()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the comparison as CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["kpi", "baseline", "hope-hub-closes", "hope-hub-closes (diff)"]
    assert {r[0] for r in rows[1:]} >= {"households", "matched_total", "worst_served_district"}

    # The same what-if again: the recent runs list the two under different names.
    page.goto(f"{server.url}/app/planner")
    page.get_by_label(re.compile(r"^\s*hope-hub-closes")).check()
    page.get_by_label("Longest time for each matching run, in seconds").fill("1")
    page.get_by_role("button", name="Run scenarios").click()
    page.get_by_role("heading", name="Compared with the baseline").wait_for(timeout=120_000)
    page.goto(f"{server.url}/app/planner")
    names = page.locator("main table tbody tr td:first-child").all_inner_texts()
    assert len(names) == len(set(names)), names
    assert "hope-hub-closes on the Leeds sample region (2)" in names, names


def _record_a_message(base: str) -> None:
    """Through the JSON API: a caseworker refers, places and writes a message naming someone."""
    with httpx.Client(base_url=base, timeout=60) as http:
        token = http.post("/auth/token", data={"username": CASEWORKER, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = http.post(
            "/referrals",
            json={
                "household_size": 2,
                "dietary": [],
                "urgency": "urgent",
                "postcode": "LS8 1AA",
                "consent_to_share": True,
                "name": "Zebedee Quartermain",
            },
            headers=headers,
        )
        referral_id = created.json()["id"]
        assert http.post(f"/referrals/{referral_id}/place", headers=headers).status_code == 201
        posted = http.post(
            f"/referrals/{referral_id}/messages",
            json={"body": "Zebedee Quartermain on 07700 900123 needs the turnip parcel."},
            headers=headers,
        )
        assert posted.status_code == 201, posted.text


def test_foi_officer_searches_logs_request_and_exports(server: Server, new_page: Any) -> None:
    """An FOI officer finds a message redacted, logs a request with its due date, exports it."""
    _record_a_message(server.url)
    page = new_page()
    sign_in(page, server.url, FOI_OFFICER)
    assert page.url.endswith("/app/foi")
    look(page, "foi-search")
    page.get_by_label("Words to find").fill("turnip parcel")
    page.get_by_role("button", name="Search").click()
    results = page.locator(".app-results").inner_text()
    assert "turnip parcel" in results
    assert "Zebedee" not in results and "900123" not in results
    look(page, "foi-search-results")

    page.get_by_role("link", name="Request register").click()
    page.get_by_label("Reference").fill("FOI-WEB-1")
    page.get_by_label("What was asked for").fill("All messages about turnip parcels.")
    page.get_by_role("button", name="Add to register").click()
    assert (
        "Enter the date the request was received"
        in page.locator(".govuk-error-summary").inner_text()
    )
    look(page, "foi-register-error")
    today = clock.today()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_role("button", name="Add to register").click()
    assert "FOI request added to the register." in page.inner_text("main")
    row = page.locator("tr", has_text="FOI-WEB-1")
    assert re.search(r"\d{1,2} \w+ \d{4}", row.locator("td").nth(2).inner_text())
    look(page, "foi-register")

    row.get_by_role("link", name=re.compile("^Export")).click()
    page.get_by_label("Only records with these words (optional)").fill("turnip")
    look(page, "foi-export-new")
    page.get_by_role("button", name="Create export").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Export ")
    look(page, "foi-export")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the export (ZIP)").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        record = archive.read("record.csv").decode("utf-8")
    assert "turnip" in record and "Zebedee" not in record and "900123" not in record


def test_the_menu_folds_behind_a_button_on_a_phone(server: Server, new_page: Any) -> None:
    """At a phone's width the Design System's service navigation hides the links behind a
    Menu button that opens them; no script error on the way; axe finds nothing."""
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, server.url, PLANNER)
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible()
    assert not page.get_by_role("link", name="Match runs").is_visible()
    menu.click()
    assert page.get_by_role("link", name="Match runs").is_visible()
    look(page, "planner-home-phone")
    assert errors == []


@pytest.mark.parametrize(
    ("email", "paths"),
    [
        (CASEWORKER, ["/app/caseworker/referrals", "/app/caseworker/referrals/new"]),
        ("charity1@charity.demo", ["/app/charity", "/app/charity/history"]),
        (PLANNER, ["/app/planner", "/app/planner/build", "/app/planner/sweep"]),
        (FOI_OFFICER, ["/app/foi?q=offer", "/app/foi/requests", "/app/foi/exports/new"]),
        ("admin@leeds.demo", ["/app/admin", "/app/account"]),
    ],
)
def test_each_role_s_pages_at_a_phone_s_width(
    server: Server, new_page: Any, email: str, paths: list[str]
) -> None:
    """Every role's main pages at 375 px wide: nothing too small to tap, nothing else axe
    finds."""
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, server.url, email)
    for path in paths:
        page.goto(server.url + path)
        look(page, "phone" + path.replace("/", "-").replace("?", "-").replace("=", "-"))
