"""The admin's sites (a charity's), retention (a council's) and the audit log's last check, over
HTTP on a real server, each limited to the admin's own organisation; and in Chromium, with axe."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from api.core import repository as repo
from api.core.clock import today
from api.core.tables import Organisation, Provider, Referral, ReferralPersonal, utcnow
from api.core.vocabulary import OrganisationKind, Role
from api.demo.seed import add_organisation, add_user
from api.record.retention import months_before
from api.record.retention_due import due_from
from api.record.settings import get_record_settings
from tests.web.conftest import PASSWORD, Server, _serve, sign_in
from tests.web.pages import look
from tests.web.test_pages_http import _client, _csrf, _sign_in, _submitted

ADMIN = "admin@leeds.demo"
CHARITY_ADMIN = "admin@charity1.demo"
OTHER_CHARITY_ADMIN = "admin@charity2.demo"
OTHER_COUNCIL_ADMIN = "admin@faraway.example"
OTHER_COUNCIL_PLANNER = "planner@faraway.example"
CELL = '<td class="govuk-table__cell">'


@pytest.fixture(scope="module")
def site_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server of its own (sites close, data is erased), with two charities' admins and a
    second council's admin."""
    target = tmp_path_factory.mktemp("sites") / "foodmatch.db"
    shutil.copyfile(sqlite_template, target)
    for server in _serve(f"sqlite:///{target}"):
        with server.db.write() as session:
            for email, name in ((CHARITY_ADMIN, "Demo Charity 1"),
                                (OTHER_CHARITY_ADMIN, "Demo Charity 2")):  # fmt: skip
                charity = session.scalar(select(Organisation).where(Organisation.name == name))
                assert charity is not None
                add_user(session, charity, email, Role.ADMIN, PASSWORD)
            other = add_organisation(session, "Faraway Council", OrganisationKind.COUNCIL)
            add_user(session, other, OTHER_COUNCIL_ADMIN, Role.ADMIN, PASSWORD)
            add_user(session, other, OTHER_COUNCIL_PLANNER, Role.PLANNER, PASSWORD)
        yield server


def _add_site(http: httpx.Client, **answers: str) -> httpx.Response:
    token = _csrf(http.get("/app/admin").text)
    return http.post("/app/admin/sites", data={"csrf_token": token} | answers)


def _site_id(server: Server, name: str) -> int:
    with server.db.read() as session:
        found = session.scalar(select(Provider.id).where(Provider.name == name))
    assert found is not None, name
    return found


def _matchable(server: Server) -> set[int]:
    """The sites a match run or a placement may offer today (open ones with capacity)."""
    with server.db.read() as session:
        return {p.id for p, _ in repo.current_supply(session, today())}


def test_a_charity_admin_adds_a_site_with_clear_errors(site_server: Server) -> None:
    """A site with a name, postcode, districts and delivery is listed as the service read it;
    each wrong answer is a linked error at its field and adds nothing."""
    with _client(site_server) as admin:
        _sign_in(admin, CHARITY_ADMIN)
        page = admin.get("/app/admin").text
        assert 'id="sites"' in page and "Add a site" in page and "Retention" not in page
        good = {"site_name": "Chapeltown Pantry", "site_postcode": "LS7 3AB",
                "site_area": "LS7, LS8", "site_delivery": "2.5"}  # fmt: skip
        for wrong, field in (
            ({"site_name": ""}, "site_name"),
            ({"site_postcode": ""}, "site_postcode"),
            ({"site_postcode": "NOT A CODE"}, "site_postcode"),
            ({"site_postcode": "ZZ99 9ZZ"}, "site_postcode"),
            ({"site_delivery": "far"}, "site_delivery"),
            ({"site_delivery": "-3"}, "site_delivery"),
            ({"site_delivery": "500"}, "site_delivery"),
            ({"site_area": "not an area!"}, "site_area"),
            ({"site_name": "x" * 201}, "site_name"),
        ):
            refused = _add_site(admin, **(good | wrong))
            assert refused.status_code == 400, (wrong, refused.status_code)
            assert f'href="#{field}"' in refused.text, (wrong, refused.text[-3000:])
        with site_server.db.read() as session:
            assert session.scalar(select(Provider.id).where(
                Provider.name == "Chapeltown Pantry")) is None  # fmt: skip
        added = _add_site(admin, **good)
        assert added.status_code == 303 and "done=site-added" in added.headers["location"]
        page = admin.get(added.headers["location"]).text
        row = page[page.index(f"{CELL}Chapeltown Pantry</td>") :][:800]
        assert "LS7 3AB" in row and "LS7, LS8" in row and "2.5 km" in row and "Open" in row
        found = admin.get("/app/foi", params={"q": "site added"}).text
        assert f"Site {_site_id(site_server, 'Chapeltown Pantry')} added" in found


def test_closing_a_site_stops_offers_and_only_its_charity_can(site_server: Server) -> None:
    """Closed, a site leaves the matchable sites (match runs and placements) and says Closed;
    opened again, it is back; another charity's admin and a council's admin cannot touch it."""
    with _client(site_server) as admin, _client(site_server) as other:
        _sign_in(admin, CHARITY_ADMIN)
        page = admin.get("/app/admin").text
        paths = re.findall(r'action="(/app/admin/sites/(\d+)/open)"', page)
        assert paths
        path, site = paths[0][0], int(paths[0][1])
        assert site in _matchable(site_server)
        _sign_in(other, OTHER_CHARITY_ADMIN)
        theirs = other.post(path, data={"csrf_token": _csrf(other.get("/app/admin").text),
                                        "open": "no"})  # fmt: skip
        assert theirs.status_code == 404 and site in _matchable(site_server)
        with _client(site_server) as council:
            _sign_in(council, ADMIN)
            token = _csrf(council.get("/app/admin").text)
            assert council.post(path, data={"csrf_token": token, "open": "no"}).status_code == 404
            assert council.post("/app/admin/sites", data={
                "csrf_token": token, "site_name": "Council site",
                "site_postcode": "LS1 1AA"}).status_code == 404  # fmt: skip
        token = _csrf(page)
        closed = admin.post(path, data={"csrf_token": token, "open": "no"})
        assert closed.status_code == 303 and "done=site-closed" in closed.headers["location"]
        assert site not in _matchable(site_server)
        assert "Closed" in admin.get("/app/admin").text
        reopened = admin.post(path, data={"csrf_token": token, "open": "yes"})
        assert "done=site-opened" in reopened.headers["location"]
        assert site in _matchable(site_server)
        for done in ("closed", "reopened"):
            found = admin.get("/app/foi", params={"q": f"site {done}"}).text
            assert f"Site {site} {done}" in found, done


def _close_long_ago(server: Server, referral_id: int, days: int) -> None:
    with server.db.write() as session:
        session.execute(update(Referral).where(Referral.id == referral_id)
                        .values(updated_at=utcnow() - timedelta(days=days)))  # fmt: skip


def test_a_council_admin_sees_what_retention_will_erase_and_runs_it(site_server: Server) -> None:
    """Two withdrawn referrals, one closed long ago and one last week: the first is listed as
    due now, the second as next with its day; another council's admin sees neither and its
    run erases nothing here; the run erases only the due one's personal data, audited."""
    months = get_record_settings().retention_months
    with _client(site_server) as http:
        old, auth = _submitted(http, "Rhiannon Oldcase", "standard")
        recent, _ = _submitted(http, "Tomasz Recentcase", "standard")
        for referral in (old, recent):
            gone = http.post(f"/referrals/{referral}/withdraw", json={"reason": "duplicate"},
                             headers=auth)  # fmt: skip
            assert gone.status_code == 200, gone.text
    _close_long_ago(site_server, old, days=31 * months + 5)
    _close_long_ago(site_server, recent, days=7)
    with site_server.db.read() as session:
        closed_recent = session.scalar(select(Referral.updated_at).where(Referral.id == recent))
    assert closed_recent is not None and months_before(due_from(closed_recent, months),
                                                       months) >= closed_recent  # fmt: skip
    with _client(site_server) as other:
        _sign_in(other, OTHER_COUNCIL_ADMIN)
        theirs = other.get("/app/admin").text
        assert f"{CELL}{old}</td>" not in theirs and "No household is due" in theirs
        ran = other.post("/app/admin/retention/run", data={"csrf_token": _csrf(theirs)})
        assert "No household was due: nothing was erased" in ran.text
    with site_server.db.read() as session:
        assert session.get(ReferralPersonal, old) is not None
    with _client(site_server) as admin:
        _sign_in(admin, ADMIN)
        page = admin.get("/app/admin").text
        due = page[page.index("Due now") : page.index("Erase the personal data")]
        assert f"{CELL}{old}</td>" in due and f"{CELL}{recent}</td>" not in due
        upcoming = page[page.index("Next to fall due") :]
        day = due_from(closed_recent, months).date()
        assert f"{CELL}{recent}</td>" in upcoming and f"{day.day} {day:%B %Y}" in upcoming
        ran = admin.post("/app/admin/retention/run", data={"csrf_token": _csrf(page)})
        assert ran.status_code == 200
        result = ran.text[ran.text.index('id="retention-result"') :]
        result = result[: result.index("</div>")]
        assert "has been erased" in result and str(old) in result and str(recent) not in result
        assert f"{CELL}{old}</td>" not in ran.text[ran.text.index('id="retention"') :]
        found = admin.get("/app/foi", params={"q": "personal data erased"}).text
        assert f"Referral {old}&#39;s personal data was erased" in found or (
            f"Referral {old}'s personal data was erased" in found)  # fmt: skip
    with site_server.db.read() as session:
        assert session.get(ReferralPersonal, recent) is not None
        kept = session.get(ReferralPersonal, old)
        assert kept is None or "Rhiannon" not in (kept.name or "")


def test_a_charity_admin_has_no_retention_to_run(site_server: Server) -> None:
    with _client(site_server) as admin:
        _sign_in(admin, CHARITY_ADMIN)
        token = _csrf(admin.get("/app/admin").text)
        assert admin.post("/app/admin/retention/run", data={"csrf_token": token}).status_code == 404


def test_the_last_audit_check_is_shown_to_every_admin(site_server: Server) -> None:
    with _client(site_server) as admin, _client(site_server) as other:
        _sign_in(admin, ADMIN)
        page = admin.get("/app/admin").text
        checked = admin.post("/app/admin/audit/verify", data={"csrf_token": _csrf(page)})
        assert "The audit log checks out." in checked.text
        _sign_in(other, CHARITY_ADMIN)
        shown = other.get("/app/admin").text
        last = shown[shown.index('id="audit-last"') :][:300]
        assert "Last checked" in last and "it checked out" in last


@pytest.mark.browser
def test_sites_and_retention_in_a_browser(site_server: Server, new_page: Any) -> None:
    """A charity admin adds a site with a mistake, corrects it, closes it; a council admin's
    page shows retention. axe finds nothing on any of them."""
    page = new_page()
    sign_in(page, site_server.url, CHARITY_ADMIN)
    look(page, "admin-charity")
    page.get_by_label("Site name").fill("Browser Pantry")
    page.get_by_label("Postcode").fill("nowhere")
    page.get_by_role("button", name="Add this site").click()
    assert page.locator(".govuk-error-summary").is_visible()
    look(page, "admin-site-error")
    page.get_by_label("Postcode").fill("LS6 1AA")
    page.get_by_role("button", name="Add this site").click()
    assert "The site has been added" in page.content()
    page.get_by_role("button", name="Close Browser Pantry").click()
    assert "The site has been closed" in page.content()
    council = new_page()
    sign_in(council, site_server.url, ADMIN)
    assert council.locator("#retention").is_visible()
    look(council, "admin-council")


def test_a_council_with_no_open_referrals_is_told_to_sweep_the_sample(site_server: Server) -> None:
    """Today's referrals of a council that has none cannot be swept: said at the choice, and
    nothing runs; the sample region can."""
    with _client(site_server) as http:
        _sign_in(http, OTHER_COUNCIL_PLANNER)
        token = _csrf(http.get("/app/planner/sweep").text)
        answers = {"csrf_token": token, "demand_low": "10", "demand_high": "40", "draws": "2",
                   "seed": "1", "seconds": "1"}  # fmt: skip
        live = http.post("/app/planner/sweep", data=answers | {"base": "live"})
        assert live.status_code == 400 and 'href="#base"' in live.text
        assert "no open referrals today" in live.text
        sample = http.post("/app/planner/sweep", data=answers | {"base": "sample"})
        assert sample.status_code == 303
