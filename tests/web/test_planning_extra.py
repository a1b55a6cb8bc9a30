"""The planner's run page without the planning extra: one line naming it instead of the plots."""

from __future__ import annotations

import html
import re
import sys
import time

import httpx
import pytest

from matching.scenarios import PLANNING_EXTRA
from tests.web.conftest import PASSWORD, PLANNER, Server


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _finished_run_page(http: httpx.Client) -> str:
    """Sign in as the planner, run one shipped what-if for 1 s, and return its finished page."""
    form = http.get("/app/sign-in").text
    http.post(
        "/app/sign-in",
        data={"email": PLANNER, "password": PASSWORD, "csrf_token": _csrf(form), "next": ""},
    )
    home = http.get("/app/planner").text
    started = http.post(
        "/app/planner/runs",
        data={
            "csrf_token": _csrf(home),
            "source": "shipped",
            "scenarios": "hope-hub-closes",
            "seconds": "1",
        },
    )
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            page = http.get(location).text
        except httpx.RemoteProtocolError:
            # The server closed an idle keep-alive connection as the poll reused it; a browser
            # retries such a GET on a new connection, and so does this.
            continue
        if "Compared with the baseline" in page or "could not finish" in page:
            return page
        time.sleep(0.5)
    raise AssertionError("the run did not finish in 120 s")


def test_run_page_names_the_planning_extra_when_matplotlib_is_missing(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without matplotlib the run page still shows its results and says which extra draws plots."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as http:
        page = html.unescape(_finished_run_page(http))
    assert "Compared with the baseline" in page
    assert "data:image/svg+xml" not in page
    lines = [line for line in page.splitlines() if PLANNING_EXTRA in line]
    assert len(lines) == 1 and "planning extra" in lines[0]


def test_run_page_draws_plots_when_matplotlib_is_installed(server: Server) -> None:
    """With matplotlib installed the same run shows its two plots and no note about the extra."""
    pytest.importorskip("matplotlib")
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as http:
        page = html.unescape(_finished_run_page(http))
    assert page.count("data:image/svg+xml") == 2
    assert PLANNING_EXTRA not in page
