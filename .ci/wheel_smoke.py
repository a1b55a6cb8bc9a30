"""HTTP checks of a running ``foodmatch serve --demo`` (run by .ci/wheel-check).

Usage: python wheel_smoke.py BASE_URL PLOTS, where PLOTS is how many plots the planner's run
page must show: 2 with the planning extra installed, 0 without (the page must then name the
extra in one line instead). Exits 1 with one line saying what failed.
"""

from __future__ import annotations

import html
import re
import sys
import time

import httpx

PASSWORD = "foodmatch-demo"
CASEWORKER = "caseworker@leeds.demo"
PLANNER = "planner@leeds.demo"
PLANNING_EXTRA = "pip install 'foodmatch[planning]'"


class SmokeError(Exception):
    """A check that failed, in words."""


def check(condition: bool, message: str) -> None:
    """Stop with ``message`` unless ``condition`` holds."""
    if not condition:
        raise SmokeError(message)


def wait_ready(http: httpx.Client, seconds: float = 90.0) -> None:
    """Poll /readyz until it answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if http.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SmokeError(f"/readyz did not answer 200 within {seconds:.0f} s")


def csrf(page: str) -> str:
    """The CSRF token of a form page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    check(found is not None, "no CSRF token on the page")
    assert found is not None
    return found.group(1)


def pages_and_assets(http: httpx.Client) -> None:
    """The sign-in page renders and every stylesheet, script and image it links is served."""
    page = http.get("/app/sign-in")
    check(page.status_code == 200, f"GET /app/sign-in answered {page.status_code}")
    check("text/html" in page.headers.get("content-type", ""), "/app/sign-in is not HTML")
    linked = re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js|svg|png|ico|woff2?))"', page.text)
    assets = sorted(set(linked))
    check(bool(assets), "the sign-in page links no stylesheet or script")
    for asset in assets:
        got = http.get(asset)
        check(got.status_code == 200, f"GET {asset} answered {got.status_code}")
    print(f"  sign-in page and {len(assets)} linked files: 200")


def api_with_token(http: httpx.Client) -> None:
    """A demo caseworker signs in over the API and lists the seeded referrals."""
    token = http.post("/auth/token", data={"username": CASEWORKER, "password": PASSWORD})
    check(token.status_code == 200, f"POST /auth/token answered {token.status_code}")
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    listed = http.get("/referrals", headers=headers)
    check(listed.status_code == 200, f"GET /referrals answered {listed.status_code}")
    check(bool(listed.json()["items"]), "GET /referrals lists no seeded referral")
    directory = http.get("/oruk/services")
    check(directory.status_code == 200, f"GET /oruk/services answered {directory.status_code}")
    print("  API sign-in, seeded referrals and the service directory: 200")


def planner_run(http: httpx.Client, plots: int) -> None:
    """The planner runs a shipped what-if from the web pages and sees its results."""
    form = http.get("/app/sign-in").text
    signed = http.post(
        "/app/sign-in",
        data={"email": PLANNER, "password": PASSWORD, "csrf_token": csrf(form), "next": ""},
    )
    check(signed.status_code == 303, f"planner sign-in answered {signed.status_code}")
    home = http.get("/app/planner")
    check(home.status_code == 200, f"GET /app/planner answered {home.status_code}")
    started = http.post(
        "/app/planner/runs",
        data={
            "csrf_token": csrf(home.text),
            "source": "shipped",
            "scenarios": "hope-hub-closes",
            "seconds": "2",
        },
    )
    check(started.status_code == 303, f"starting a what-if run answered {started.status_code}")
    location = started.headers["location"]
    deadline = time.monotonic() + 180
    page = ""
    while time.monotonic() < deadline:
        page = html.unescape(http.get(location).text)
        if "Compared with the baseline" in page or "could not finish" in page:
            break
        time.sleep(1)
    check("Compared with the baseline" in page, "the what-if run did not finish with results")
    drawn = page.count("data:image/svg+xml")
    check(drawn == plots, f"the run page shows {drawn} plots, expected {plots}")
    notes = [line.strip() for line in page.splitlines() if PLANNING_EXTRA in line]
    if plots:
        check(notes == [], "the run page asks for the planning extra although it is installed")
    else:
        check(len(notes) == 1, f"the run page names the planning extra {len(notes)} times")
        print(f"  run page without matplotlib says: {re.sub(r'<[^>]+>', '', notes[0])}")
    print(f"  planner what-if run from the web pages: results and {drawn} plots")


def main() -> int:
    """Run every check against the server at argv[1]."""
    base, plots = sys.argv[1], int(sys.argv[2])
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as http:
        try:
            wait_ready(http)
            print("  /readyz: 200")
            pages_and_assets(http)
            api_with_token(http)
            planner_run(http, plots)
        except SmokeError as err:
            print(f"serve check failed: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
