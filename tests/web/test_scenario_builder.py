"""The scenario builder: what-ifs made on a page (no TOML), compared side by side, downloaded as
the scenario file that runs again; over HTTP on a real server and in Chromium with axe-core."""

from __future__ import annotations

import html
import re
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx

from api.web import planner
from matching.scenarios import parse_scenarios
from tests.web.conftest import PLANNER, Server, sign_in
from tests.web.pages import look
from tests.web.test_pages_http import _client, _csrf, _sign_in


def _draft(page: str) -> str:
    found = re.search(r'name="draft" value="([^"]*)"', page)
    assert found, "no draft on the page"
    return html.unescape(found.group(1))


def _form(page: str, **fields: Any) -> dict[str, Any]:
    """What the builder's main form sends: the kept draft and base plus ``fields``."""
    return {
        "csrf_token": _csrf(page),
        "base": "sample",
        "draft": _draft(page),
        "seconds": "2",
        **fields,
    }


def _builder(http: httpx.Client) -> str:
    assert _sign_in(http, PLANNER).status_code == 303
    page = http.get("/app/planner/build")
    assert page.status_code == 200
    return page.text


def _wait_done(http: httpx.Client, location: str) -> str:
    for _ in range(240):
        page = http.get(location).text
        if "Compared with the baseline" in page or "The run failed" in page:
            return page
        time.sleep(0.5)
    raise AssertionError("the run did not finish")


def test_sites_are_listed_by_name_district_and_capacity(server: Server) -> None:
    """Sites are chosen by what people know them by, never by an id to type."""
    with _client(server) as http:
        page = _builder(http)
    assert "Hope Food Hub, LS11: 92 parcels" in page
    assert 'value="P017"' in page  # the id is the checkbox's value, not something to type
    sites = planner.sample_problem().providers
    assert page.count('name="close"') == len(sites)


def test_two_scenarios_are_built_run_side_by_side_and_downloaded(server: Server) -> None:
    """Close a site; a custom demand rise with a new site and a van; the comparison holds
    both, the download parses as the scenario file, and uploaded again it runs."""
    with _client(server) as http:
        page = _builder(http)
        first = http.post("/app/planner/build", data=_form(
            page, action="add", name="hope-hub-closes", close=["P017"],
            description="What if Hope Food Hub closed?"))  # fmt: skip
        assert first.status_code == 200, first.text
        assert 'Added "hope-hub-closes"' in first.text
        assert "Closes Hope Food Hub." in first.text
        assert "Scenarios to compare (1)" in first.text
        second = http.post("/app/planner/build", data=_form(
            first.text, action="add", name="winter plus van", demand="custom",
            demand_factor="1.3", demand_seed="7", capacity_percent="90",
            capacity_scope="districts", capacity_districts="ls9, LS11",
            open_name="Saturday Pop-up", open_postcode="ls9 8aa", open_capacity="40",
            delivery_site="P030", delivery_capacity="20", delivery_radius="8"))  # fmt: skip
        assert second.status_code == 200, second.text
        words = html.unescape(second.text)
        for said in (
            "Demand x1.3 (draw 7).",
            "Capacity at 90% at sites in LS9, LS11.",
            "Opens Saturday Pop-up at LS9 8AA with 40 parcels.",
            "Delivery from Helping Hands Community Pantry: 20 parcels within 8.0 km.",
        ):
            assert said in words, said

        download = http.post("/app/planner/build", data=_form(second.text, action="download"))
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
        text = download.text
        data = tomllib.loads(text)
        assert data["base"] == {"referrals": "referrals.csv", "providers": "providers.csv"}
        assert data["settings"] == {"time_limit": 2.0}
        names = [s.name for s in parse_scenarios(data, source="download")]
        assert names == ["hope-hub-closes", "winter plus van"]
        assert data["scenario"][1]["demand"] == {"factor": 1.3, "seed": 7}

        # The downloaded file, uploaded on the planner's page, runs (its [base] is noted).
        home = http.get("/app/planner").text
        uploaded = http.post(
            "/app/planner/runs",
            data={"csrf_token": _csrf(home), "source": "upload", "base": "sample",
                  "seconds": "1"},
            files={"scenario_file": ("what-if-scenarios.toml", text.encode(), "text/plain")},
        )  # fmt: skip
        assert uploaded.status_code == 303, uploaded.text

        run = http.post("/app/planner/build", data=_form(second.text, action="run"))
        assert run.status_code == 303, run.text
        result = _wait_done(http, run.headers["location"])
        assert "Compared with the baseline" in result, result
        assert "hope-hub-closes" in result and "winter plus van" in result
        listed = http.get("/app/planner").text
        assert "hope-hub-closes, winter plus van on the Leeds sample region" in listed


def test_what_was_filled_in_is_added_when_run_is_pressed(server: Server) -> None:
    """A planner who fills in one scenario and presses Run gets it run, not an error."""
    with _client(server) as http:
        page = _builder(http)
        run = http.post("/app/planner/build", data=_form(
            page, action="run", name="fewer parcels", capacity_percent="50"))  # fmt: skip
        assert run.status_code == 303, run.text
        result = _wait_done(http, run.headers["location"])
        assert "fewer parcels" in result


def test_wrong_answers_are_said_by_field_and_change_nothing(server: Server) -> None:
    """Each mistake is named at its field; the scenarios built so far stay as they were."""
    with _client(server) as http:
        page = _builder(http)
        built = http.post("/app/planner/build", data=_form(
            page, action="add", name="closes", close=["P017"])).text  # fmt: skip
        draft = _draft(built)
        cases = [
            ({"name": ""}, "name", "Enter a name for the scenario"),
            ({"name": "closes", "capacity_percent": "80"}, "name", "already called"),
            ({"name": "baseline", "capacity_percent": "80"}, "name", "already called"),
            ({"name": "nothing"}, "close", "Change at least one thing"),
            ({"name": "x", "capacity_percent": "eighty"}, "capacity_percent", "percentage"),
            ({"name": "x", "capacity_percent": "80", "capacity_scope": "districts",
              "capacity_districts": "Leeds 9"}, "capacity_districts", "postcode districts"),
            ({"name": "x", "capacity_percent": "80", "capacity_scope": "sites"},
             "capacity_sites", "Select the sites"),
            ({"name": "x", "close": ["P999"]}, "close", "from the list"),
            ({"name": "x", "demand": "custom", "demand_factor": "0"}, "demand_factor", "above 0"),
            ({"name": "x", "demand": "custom", "demand_factor": "21"}, "demand_factor", "up to 20"),
            ({"name": "x", "demand": "1.2", "demand_seed": "-1"}, "demand_seed", "whole number"),
            ({"name": "x", "open_name": "Pop-up", "open_postcode": "ZZ99 9ZZ",
              "open_capacity": "10"}, "open_postcode", "not a postcode"),
            ({"name": "x", "open_name": "Pop-up"}, "open_postcode", "postcode"),
            ({"name": "x", "travel_km": "0"}, "travel_km", "above 0"),
            ({"name": "x", "delivery_site": "P030"}, "delivery_capacity", "whole number"),
        ]  # fmt: skip
        for fields, field, message in cases:
            answer = http.post("/app/planner/build", data=_form(built, action="add", **fields))
            assert answer.status_code == 400, fields
            text = html.unescape(answer.text)
            found = re.search(rf'id="{field}-error"[^>]*>.*?</span> ([^<]*)<', text, re.S)
            assert found and message in found.group(1), (fields, text[:3000])
            assert f'href="#{field}"' in text, fields  # the summary links to the field
            assert _draft(answer.text) == draft, fields
        nothing = http.post("/app/planner/build", data=_form(page, action="run"))
        assert nothing.status_code == 400 and "Build at least one scenario" in nothing.text


def test_an_edited_draft_is_refused_not_run(server: Server) -> None:
    """The scenarios travel with the form; one edited to name an unknown site, or to be no
    TOML at all, is refused with a plain message and no run starts."""
    with _client(server) as http:
        page = _builder(http)
        before = http.get("/app/planner").text.count("/app/planner/runs/")
        for draft in ('[[scenario]]\nname = "x"\nclose = ["P999"]\n', "not = [toml", "a = 1\n"):
            answer = http.post("/app/planner/build", data={**_form(page, action="run"),
                                                           "draft": draft})  # fmt: skip
            assert answer.status_code == 400, draft
            assert "The scenarios built so far" in answer.text
        assert http.get("/app/planner").text.count("/app/planner/runs/") == before


def test_a_scenario_is_removed_from_the_comparison(server: Server) -> None:
    with _client(server) as http:
        page = _builder(http)
        one = http.post("/app/planner/build", data=_form(
            page, action="add", name="one", capacity_percent="80")).text  # fmt: skip
        two = http.post("/app/planner/build", data=_form(
            one, action="add", name="two", travel_km="3")).text  # fmt: skip
        assert "Scenarios to compare (2)" in two
        removed = http.post("/app/planner/build", data=_form(two, action="remove-0"))
        assert removed.status_code == 200
        assert "Scenarios to compare (1)" in removed.text
        assert "Households travel at most 3.0 km." in removed.text
        assert [s["name"] for s in tomllib.loads(_draft(removed.text))["scenario"]] == ["two"]


def test_the_builder_in_a_browser(server: Server, new_page: Any) -> None:
    """Build two scenarios with the keyboard and mouse, see a mistake at its field, remove and
    run, then download the file: every page passes axe."""
    page = new_page()
    sign_in(page, server.url, PLANNER)
    page.get_by_role("button", name="Build scenarios on a page").click()
    page.get_by_role("heading", name="Build what-if scenarios").wait_for()
    look(page, "builder-empty")
    # Conditional questions show only for the chosen answer.
    assert not page.locator("#demand_factor").is_visible()
    page.get_by_label("Another factor").check()
    assert page.locator("#demand_factor").is_visible()
    page.get_by_label("Demand factor").fill("25")
    page.get_by_label("Scenario name").fill("big surge")
    page.get_by_role("button", name="Add this scenario").click()
    summary = page.locator(".govuk-error-summary a").first
    assert summary.get_attribute("href") == "#demand_factor"
    look(page, "builder-error")
    summary.click()
    assert page.evaluate("document.activeElement.id") == "demand_factor"
    page.get_by_label("Demand factor").fill("1.25")
    page.get_by_role("button", name="Add this scenario").click()
    page.get_by_text('Added "big surge"').wait_for()

    page.get_by_text("Close sites").click()
    page.get_by_label("Hope Food Hub, LS11: 92 parcels").first.check()
    page.get_by_label("Scenario name").fill("hope closes")
    page.get_by_role("button", name="Add this scenario").click()
    page.get_by_text("Closes Hope Food Hub.").wait_for()
    look(page, "builder-two-scenarios")
    assert "Scenarios to compare (2)" in page.content()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download as a scenario file (TOML)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert [s["name"] for s in tomllib.loads(text)["scenario"]] == ["big surge", "hope closes"]

    page.get_by_label("Longest time for each matching run, in seconds").fill("2")
    page.get_by_role("button", name="Run the comparison").click()
    page.get_by_role("heading", name="Compared with the baseline").wait_for(timeout=120_000)
    table = page.locator("table").first.inner_text()
    assert "big surge" in table and "hope closes" in table
    look(page, "builder-results")


def test_hostile_answers_in_every_field_are_refused_without_a_server_error(
    server: Server,
) -> None:
    """Every builder field (and the action and draft) given each hostile value the page sweep
    uses: an answer page (4xx or the builder), never a 5xx; with every field hostile no run
    starts."""
    from api.web.builder import SCENARIO_FIELDS
    from tests.api.core.test_bad_input import HOSTILE

    with _client(server) as http:
        page = _builder(http)
        before = http.get("/app/planner").text.count("/app/planner/runs/")
        for hostile in HOSTILE:
            for action in ("add", "run", "download", hostile):
                fields = {name: hostile for name in SCENARIO_FIELDS}
                answer = http.post("/app/planner/build", data=_form(page, action=action, **fields))
                assert answer.status_code < 500, (action, hostile[:20], answer.text[:300])
                assert answer.status_code != 303, (action, hostile[:20])
        assert http.get("/app/planner").text.count("/app/planner/runs/") == before
        for hostile in HOSTILE:
            for field in ("draft", "seconds", "name"):
                answer = http.post("/app/planner/build", data={
                    **_form(page, action="download", capacity_percent="80", name="x"),
                    field: hostile})  # fmt: skip
                assert answer.status_code < 500, (field, hostile[:20], answer.text[:300])


def test_the_builder_on_todays_referrals_lists_the_councils_sites(server: Server) -> None:
    """On the live base the sites are the service's own (named, with today's free places),
    and a scenario closing one runs on today's open referrals."""
    from api.core.tables import Provider

    with server.db.read() as session:
        names = {str(p.id): p.name for p in session.query(Provider)}
    with _client(server) as http:
        _builder(http)
        page = http.get("/app/planner/build", params={"base": "live"})
        assert page.status_code == 200
        text = html.unescape(re.sub(r"</?strong>", "", page.text))
        assert "Built on today's open referrals and free places" in text
        listed = re.findall(r'name="close" type="checkbox" value="([^"]+)"', page.text)
        assert listed and set(listed) <= set(names)
        site_id = listed[0]
        name = names[site_id]
        assert name in text
        fields = _form(page.text, action="add", name="one closes", close=[site_id])
        added = http.post("/app/planner/build", data={**fields, "base": "live"})
        assert added.status_code == 200, added.text
        assert f"Closes {name}." in html.unescape(added.text)
        assert http.get("/app/planner/build", params={"base": "elsewhere"}).status_code == 400
