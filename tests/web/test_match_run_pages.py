"""Match runs from the pages, on a server of their own (a run changes every open referral):
start one, see it listed and explained, and who may do so."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import CASEWORKER, PLANNER, Server, _serve, charity_email
from tests.web.test_pages_http import _client, _csrf, _sign_in


@pytest.fixture(scope="module")
def run_server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    target = tmp_path_factory.mktemp("runs") / "foodmatch.db"
    shutil.copyfile(sqlite_template, target)
    yield from _serve(f"sqlite:///{target}")


def test_a_caseworker_starts_a_match_run_and_reads_what_it_decided(run_server: Server) -> None:
    """No run yet; 'Run matching now' runs it and shows placed households per urgency, why
    others have none, and the decisions with links to the referrals; the list then has it;
    the referral list's emergencies waiting for a place are fewer."""
    with _client(run_server) as http:
        _sign_in(http, CASEWORKER)
        before = http.get("/app/caseworker/attention")
        waiting = re.search(r"(\d+) referrals? needs? you", before.text)
        assert waiting
        listing = http.get("/app/match-runs")
        assert listing.status_code == 200 and "No match run yet." in listing.text
        assert 'id="schedule"' in listing.text
        started = http.post("/app/match-runs", data={"csrf_token": _csrf(listing.text)})
        assert started.status_code == 303, started.text
        assert re.fullmatch(r"/app/match-runs/\d+\?done=match-run", started.headers["location"])
        run = http.get(started.headers["location"])
        assert run.status_code == 200
        summary = re.search(
            r"(\d+) of (\d+) open referrals were offered a place at (\d+) sites: (\d+) "
            r"emergency, (\d+) urgent and (\d+) standard",
            run.text,
        )
        assert summary, run.text[:2000]
        placed, looked_at = int(summary.group(1)), int(summary.group(2))
        assert 0 < placed <= looked_at
        tiers = sum(int(summary.group(i)) for i in (4, 5, 6))
        assert tiers == placed
        assert 'id="decisions"' in run.text and "/app/caseworker/referrals/" in run.text
        assert "Match run finished" in run.text
        again = http.get("/app/match-runs")
        assert 'id="runs"' in again.text and "1 match run, newest first" in again.text
        after = http.get("/app/caseworker/attention")
        still = re.search(r"(\d+) referrals? needs? you", after.text)
        assert still is None or int(still.group(1)) < int(waiting.group(1))


def test_a_planner_may_see_runs_and_a_charity_may_not(run_server: Server) -> None:
    """The planner's menu has match runs; a charity gets the 403 page."""
    with _client(run_server) as http:
        _sign_in(http, PLANNER)
        page = http.get("/app/match-runs")
        assert page.status_code == 200 and 'href="/app/match-runs"' in page.text
    with _client(run_server) as http:
        _sign_in(http, charity_email("Demo Charity 1"))
        refused = http.get("/app/match-runs")
        assert refused.status_code == 403
        refused_post = http.post("/app/match-runs", data={"csrf_token": "x"})
        assert refused_post.status_code == 403


def test_an_unknown_run_is_the_not_found_page(run_server: Server) -> None:
    with _client(run_server) as http:
        _sign_in(http, CASEWORKER)
        missing = http.get("/app/match-runs/999999")
    assert missing.status_code == 404 and "<html" in missing.text
