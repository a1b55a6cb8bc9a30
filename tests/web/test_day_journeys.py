"""The caseworker's and the charity's day in Chromium, each new page scanned by axe-core:
a decline seen by the caseworker, notes seen by the charity that accepts, an emergency placed
on submit, match runs started from the pages, the charity's history and next week's capacity,
a session that ends mid-form, and postcodes checked against an imported directory.

The journeys run on servers of their own: a match run offers every open referral, and an
imported postcode directory changes how every postcode is located.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from api.core.db import Database
from api.demo.seed import DEMO_COUNCIL, seed_demo
from api.web import security
from api.web.security import SESSION_COOKIE
from matching.geo import data_dir
from tests.api.geo import files
from tests.web.conftest import CASEWORKER, PASSWORD, Server, _serve, charity_email, sign_in
from tests.web.pages import look

pytestmark = pytest.mark.browser

NOTES = "Call after 3pm please"


@pytest.fixture(scope="module")
def day_server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    target = tmp_path_factory.mktemp("day") / "foodmatch.db"
    shutil.copyfile(sqlite_template, target)
    yield from _serve(f"sqlite:///{target}")


@pytest.fixture(scope="module")
def geo_server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The sample region with the small ONS Postcode Directory imported by the CLI, as a
    council would, and the demo council's area set to the LS postcode area."""
    folder = tmp_path_factory.mktemp("geo")
    target = folder / "foodmatch.db"
    shutil.copyfile(sqlite_template, target)
    url = f"sqlite:///{target}"
    db = Database.from_url(url)
    sample = data_dir() / "sample"
    seed_demo(db, sample / "referrals.csv", sample / "providers.csv")  # the council to set
    db.dispose()
    runner = CliRunner()
    for args in (
        ["geo", "import", str(files.onspd_csv(folder))],
        ["geo", "area", DEMO_COUNCIL, "LS"],
    ):
        done = runner.invoke(cli, [*args, "--database-url", url])
        assert done.exit_code == 0, done.output
    yield from _serve(url)


def _fill_referral(page: Any, base: str, *, postcode: str, urgency: str, name: str) -> None:
    """Fill in 'refer a household' (with notes for the food bank) and press Continue."""
    page.goto(f"{base}/app/caseworker/referrals/new")
    page.get_by_label("Household's postcode").fill(postcode)
    page.get_by_label("How many people live in the household?").fill("2")
    page.get_by_label(urgency.capitalize(), exact=True).check()
    page.get_by_label("Yes, they can travel to collect").check()
    page.get_by_label("How far can they travel to collect, in kilometres?").fill("8")
    page.locator("#consent").check()
    page.get_by_label("Name of the person to contact (optional)").fill(name)
    page.get_by_label("Notes for the food bank (optional)").fill(NOTES)
    page.get_by_role("button", name="Continue").click()


def _submit(page: Any) -> int:
    """On 'Check your answers': submit, and return the referral's number."""
    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    page.get_by_role("button", name="Submit referral").click()
    found = re.search(r"/referrals/(\d+)", page.url)
    assert found, page.url
    return int(found.group(1))


def _charity_of(page: Any) -> str:
    panel = page.locator("#place").inner_text()
    found = re.search(r"\((Demo Charity \d+)\)", panel)
    assert found, panel
    return found.group(1)


def _open_offer(charity: Any, referral_id: int) -> None:
    charity.get_by_role("link", name=re.compile(f"^Referral {referral_id}\\b")).first.click()


def test_a_decline_is_on_the_caseworkers_page_and_needs_attention(
    day_server: Server, new_page: Any
) -> None:
    """The site declines with a reason and a note; the caseworker's referral page says so in
    its history (which site, why, its note) beside the re-offer that followed, and the notes
    stayed hidden from the site that never accepted."""
    base = day_server.url
    caseworker = new_page()
    sign_in(caseworker, base, CASEWORKER)
    _fill_referral(caseworker, base, postcode="LS9 7AB", urgency="urgent", name="Dana Decline")
    referral_id = _submit(caseworker)
    caseworker.get_by_role("button", name="Place now").click()
    charity_name = _charity_of(caseworker)

    charity = new_page()
    sign_in(charity, base, charity_email(charity_name))
    _open_offer(charity, referral_id)
    assert NOTES not in charity.inner_text("main")  # not before accepting
    charity.get_by_label("We cannot meet the dietary needs").check()
    charity.get_by_label("Anything the council should know (optional)").fill("No halal tins.")
    charity.get_by_role("button", name="Decline this household").click()
    assert "Offer declined." in charity.inner_text("main")

    caseworker.reload()
    timeline = caseworker.locator("#timeline").inner_text()
    assert "Declined" in timeline and "No halal tins." in timeline
    assert "An earlier place fell through" in caseworker.inner_text("main")  # re-offered
    look(caseworker, "caseworker-referral-declined")
    caseworker.goto(f"{base}/app/caseworker/attention")
    assert caseworker.get_by_role("heading", level=1).inner_text().startswith("Referrals that")
    look(caseworker, "caseworker-attention")


def test_an_emergency_is_placed_on_submit_and_its_notes_reach_the_charity_that_accepts(
    day_server: Server, new_page: Any
) -> None:
    """Emergency: offered a place as it is submitted; the council's message is marked new for
    the food bank until seen; it sees the notes once it has accepted (the household
    consented), finds the household in its history, and copies this week's capacity into
    next week."""
    base = day_server.url
    caseworker = new_page()
    sign_in(caseworker, base, CASEWORKER)
    _fill_referral(caseworker, base, postcode="LS9 7AB", urgency="emergency", name="Eli Notes")
    assert "the household will be offered the best free place" in caseworker.inner_text("main")
    referral_id = _submit(caseworker)
    assert "offered a place at once" in caseworker.inner_text("main")
    assert caseworker.get_by_role("button", name="Place now").count() == 0
    charity_name = _charity_of(caseworker)
    caseworker.get_by_label("Write a message").fill("She works mornings.")
    caseworker.get_by_role("button", name="Send message").click()

    charity = new_page()
    sign_in(charity, base, charity_email(charity_name))
    _open_offer(charity, referral_id)
    assert NOTES not in charity.inner_text("main")
    messages = charity.locator("#messages + ol")
    assert "She works mornings." in messages.inner_text()
    assert messages.locator(".govuk-tag", has_text="New").count() == 1  # unread until seen
    charity.reload()
    assert charity.locator("#messages + ol .govuk-tag", has_text="New").count() == 0
    charity.get_by_role("button", name="Accept this household").click()
    assert "Offer accepted" in charity.inner_text("main")
    assert charity.locator("#notes").inner_text() == NOTES
    look(charity, "charity-offer-accepted-notes")
    charity.goto(f"{base}/app/charity/history")
    assert f"Referral {referral_id}" in charity.inner_text("main")
    look(charity, "charity-history")
    charity.goto(f"{base}/app/charity")
    charity.get_by_role("link", name=re.compile("^Update capacity")).first.click()
    charity.get_by_role("link", name=re.compile("to .*: change")).first.click()  # next week
    assert charity.get_by_role("heading", level=1).inner_text().startswith("Capacity for")
    charity.get_by_role("button", name="Copy last week's figures").click()
    assert "figures have been copied" in charity.inner_text("main")
    look(charity, "charity-capacity-next-week")


def test_match_runs_are_started_and_read_from_the_pages(day_server: Server, new_page: Any) -> None:
    """'Run matching now' runs it; the run's page explains its decisions; the list has it."""
    page = new_page()
    sign_in(page, day_server.url, CASEWORKER)
    page.goto(f"{day_server.url}/app/match-runs")
    look(page, "match-runs")
    # The engine's run is part of the request: wait for its answer as long as it takes.
    with page.expect_navigation(timeout=180_000):
        page.get_by_role("button", name="Run matching now").click(timeout=180_000)
    assert "Match run finished." in page.inner_text("main")
    assert re.search(r"/app/match-runs/\d+", page.url), page.url
    look(page, "match-run")
    page.goto(f"{day_server.url}/app/match-runs")
    assert page.locator("main table tbody tr").count() >= 1


def _end_session(page: Any, server: Server) -> None:
    """Make this browser's session one that ended an hour ago (as if its time ran out)."""
    context = page.context
    cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
    key = security._key(server.settings)
    claims = jwt.decode(cookie["value"], key, algorithms=["HS256"], audience=security.AUDIENCE)
    claims["exp"] = datetime.now(UTC) - timedelta(hours=1)
    context.add_cookies([{**cookie, "value": jwt.encode(claims, key, algorithm="HS256")}])


def test_a_session_that_ends_mid_form_says_so_and_keeps_the_answers(
    day_server: Server, new_page: Any
) -> None:
    """The caseworker fills the form, the session ends, Continue: the sign-in page says the
    session ended and nothing was sent; signing in again offers Carry on, which shows Check
    your answers with everything typed."""
    base = day_server.url
    page = new_page()
    sign_in(page, base, CASEWORKER)
    page.goto(f"{base}/app/caseworker/referrals/new")
    page.get_by_label("Household's postcode").fill("LS9 6NP")
    page.get_by_label("How many people live in the household?").fill("4")
    page.get_by_label("Vegan").check()
    page.get_by_label("Standard", exact=True).check()
    page.get_by_label("No, they need a delivery").check()
    page.locator("#consent").check()
    page.get_by_label("Name of the person to contact (optional)").fill("Kit Kept")
    _end_session(page, day_server)
    page.get_by_role("button", name="Continue").click()
    main = page.inner_text("main")
    assert "Your session has ended" in main and "answers have been kept" in main
    look(page, "sign-in-session-ended")
    page.get_by_label("Email address").fill(CASEWORKER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert "Nothing has been sent yet" in page.inner_text("main")
    look(page, "signed-in-again")
    page.get_by_role("button", name="Carry on").click()
    main = page.inner_text("main")
    assert main.startswith("Check your answers") or "Check your answers" in main
    for typed in ("LS9 6NP", "Kit Kept", "Vegan"):
        assert typed in main, typed


def test_postcodes_are_checked_against_the_imported_directory(
    geo_server: Server, new_page: Any
) -> None:
    """With a directory: an unknown postcode and an ended one are refused on the form with a
    clear message; one outside the council's area needs ticking a confirmation; a live one is
    placed by its own centroid, not its district's centre."""
    base = geo_server.url
    page = new_page()
    sign_in(page, base, CASEWORKER)
    _fill_referral(page, base, postcode="LS8 9QQ", urgency="standard", name="Geo Unknown")
    assert "not in the postcode directory" in page.locator(".govuk-error-summary").inner_text()
    page.get_by_label("Household's postcode").fill("LS8 2ZZ")
    page.get_by_role("button", name="Continue").click()
    assert "no longer in use" in page.locator(".govuk-error-summary").inner_text()
    page.get_by_label("Household's postcode").fill("EH1 1AA")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "outside" in summary, summary
    look(page, "caseworker-outside-area")
    page.get_by_label("Yes, I have checked the postcode and it is right").check()
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    _fill_referral(page, base, postcode="LS8 1AA", urgency="standard", name="Geo Live")
    referral_id = _submit(page)
    page.get_by_role("button", name="Place now").click()
    assert page.locator("#place").inner_text().startswith("Offered to")
    # The household is placed by its own postcode (the demo sites only by their districts).
    assert "LS8 1AA" in page.inner_text("main")
    assert "Distances are approximate: measured from the centre" not in page.inner_text("main")
    assert "0.0 km" not in page.inner_text("main")
    assert referral_id > 0
