"""The planner's sweep page: a range of demand (and capacity) drawn over many draws, with the
spread, the chance of unmet emergencies and where; over HTTP and in Chromium with axe."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from api.scenarios.store import RUNS
from tests.web.conftest import PASSWORD, PLANNER, Server, sign_in
from tests.web.pages import look
from tests.web.test_pages_http import _client, _csrf, _sign_in

GOOD = {"base": "sample", "demand_low": "10", "demand_high": "40", "capacity_low": "",
        "capacity_high": "", "draws": "6", "seed": "3", "seconds": "2"}  # fmt: skip


def _finished(http: httpx.Client, location: str) -> str:
    for _ in range(360):
        page = http.get(location).text
        if 'id="sweep-answer"' in page or "could not finish" in page:
            return page
        time.sleep(0.5)
    raise AssertionError("the sweep did not finish")


def _cells(page: str, row: str) -> list[str]:
    header = r"<th class=\"govuk-table__header\" scope=\"row\">"
    found = re.search(rf"{header}{re.escape(row)}</th>(.*?)</tr>", page, re.S)
    assert found, row
    return re.findall(r"<td[^>]*>([^<]*)</td>", found.group(1))


def test_wrong_answers_are_named_at_their_fields_and_nothing_runs(server: Server) -> None:
    with _client(server) as http:
        assert _sign_in(http, PLANNER).status_code == 303
        page = http.get("/app/planner/sweep")
        assert page.status_code == 200 and 'value="10"' in page.text and 'value="40"' in page.text
        token = _csrf(page.text)
        before = len(RUNS._runs)
        for wrong, field, words in (
            ({"demand_low": ""}, "demand_low", "Enter the lowest change"),
            ({"demand_high": "lots"}, "demand_high", "number of per cent"),
            ({"demand_high": "5"}, "demand_high", "must be above the lowest"),
            ({"demand_low": "-95"}, "demand_low", "from -90%"),
            ({"demand_high": "2500"}, "demand_high", "to +1900%"),
            ({"capacity_low": "-10"}, "capacity_high", "Enter the highest change in capacity"),
            ({"capacity_low": "-150", "capacity_high": "0"}, "capacity_low", "from -100%"),
            ({"draws": "1"}, "draws", "from 2 to 200"),
            ({"draws": "5000"}, "draws", "from 2 to 200"),
            ({"draws": "٣"}, "draws", "from 2 to 200"),
            ({"seed": "-1"}, "seed", "whole number"),
            ({"seconds": "0"}, "seconds", "from 1 to 60"),
            ({"seconds": "0.5"}, "seconds", "from 1 to 60"),
            ({"base": "elsewhere"}, "base", "Select what to sweep"),
        ):
            refused = http.post("/app/planner/sweep", data={"csrf_token": token} | GOOD | wrong)
            assert refused.status_code == 400, (wrong, refused.status_code)
            assert f'href="#{field}"' in refused.text and words in refused.text, (wrong, field)
        assert len(RUNS._runs) == before  # nothing was queued


def test_a_sweep_draws_demand_from_the_range_and_says_how_often_and_where(
    server: Server,
) -> None:
    """Demand is drawn from the range, so the households referred differ between draws (not one
    fixed surge); the page gives the chances with intervals, the spread against this week, and
    the districts; the API gives the same run as a sweep; the same first draw gives the same
    figures again."""
    with _client(server) as http:
        _sign_in(http, PLANNER)
        token = _csrf(http.get("/app/planner/sweep").text)
        started = http.post("/app/planner/sweep", data={"csrf_token": token} | GOOD
                            | {"capacity_low": "-20", "capacity_high": "0"})  # fmt: skip
        assert started.status_code == 303, started.text[:500]
        location = started.headers["location"]
        page = _finished(http, location)
        assert 'id="sweep-answer"' in page, page[-2000:]
        assert "Demand +10% to +40%, capacity -20% to +0%, 6 draws" in page
        assert re.search(r"\d+% of draws \(\d of 6; 95% interval \d+% to \d+%\)", page)
        households = [int(c.replace(",", "")) for c in _cells(page, "Households referred")]
        assert households[0] < households[4]  # p5 below p95: demand was drawn, not fixed
        drawn = _cells(page, "Demand drawn (change)")
        assert all(10 <= int(c.strip("+%")) <= 40 for c in drawn[:5]), drawn
        assert _cells(page, "Demand drawn (change)")[5] == "+0%"  # this week is x1
        capacity = [int(c.strip("+%")) for c in _cells(page, "Capacity drawn (change)")[:5]]
        assert all(-20 <= c <= 0 for c in capacity), capacity
        assert 'id="districts"' in page and ('id="districts-none"' in page
                                            or "Chance of an unmet emergency" in page)  # fmt: skip
        assert "<img" in page and "Each of 6 draws as a point" in page
        run_id = location.rsplit("/", 1)[1]
        token = http.post("/auth/token", data={"username": PLANNER, "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        api = http.get(f"/scenarios/{run_id}", headers=bearer)
        assert api.status_code == 200 and api.json()["kind"] == "sweep"
        assert api.json()["sweep"]["draws"] == 6 and api.json()["result"] is None
        assert http.get(f"{location}/comparison.csv").status_code == 404
        again = http.post("/app/planner/sweep", data={"csrf_token": _csrf(page)} | GOOD
                          | {"capacity_low": "-20", "capacity_high": "0"})  # fmt: skip
        repeat = _finished(http, again.headers["location"])
        assert _cells(repeat, "Households referred") == _cells(page, "Households referred")
        listed = http.get("/app/planner").text
        assert f"/app/planner/runs/{run_id}" in listed


@pytest.mark.browser
def test_a_sweep_in_a_browser(server: Server, new_page: Any) -> None:
    """From the planner's page to the sweep's answer; a mistake is shown at its field; axe
    finds nothing on the form, the error or the answer."""
    page = new_page()
    sign_in(page, server.url, PLANNER)
    page.get_by_role("button", name="Sweep uncertain demand").click()
    look(page, "sweep-form")
    page.get_by_label("Highest change (%)").fill("5")
    page.get_by_role("button", name="Run the sweep").click()
    assert page.locator(".govuk-error-summary").is_visible()
    look(page, "sweep-error")
    page.get_by_label("Highest change (%)").fill("30")
    page.get_by_label("Number of draws").fill("4")
    page.get_by_label("Longest time for each draw, in seconds").fill("2")
    page.get_by_role("button", name="Run the sweep").click()
    page.locator("#sweep-answer").wait_for(timeout=180_000)
    look(page, "sweep-answer")
    assert "of draws" in page.locator("#chance-unmet").inner_text()
