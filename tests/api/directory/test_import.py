"""Importing ORUK feeds and spreadsheets: refusals, idempotency, updates, closures, capacity."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from api.auth.tokens import Principal
from api.core import clock
from api.core import repository as core
from api.core.db import Database
from api.core.errors import ProblemError
from api.core.schemas import CapacityUpdate
from api.core.tables import Capacity, Organisation, Provider
from api.core.vocabulary import OrganisationKind, Role
from api.demo.seed import add_organisation, add_user, current_week
from api.directory.schemas import ImportReport
from api.directory.service import import_source
from api.directory.sources import (
    DirectoryInputError,
    Problem,
    feed_from_json,
    read_bytes,
    read_path,
)
from api.directory.tables import DirectorySite
from api.directory.vocabulary import vocabulary
from api.record.audit import verify_chain
from api.record.tables import AuditEvent
from api.sites import service as providers
from tests.api.directory.helpers import example, food_service, ident, page_of, snapshot, spec_dir

SHEET = (
    "provider_id,name,postcode,capacity,people_capacity,dietary,delivery_capacity,"
    "delivery_radius_km,service_area\n"
    "P1,Burmantofts Pantry,LS9 7AB,12,,halal;vegan:3,2,4.5,LS9;LS8\n"
    "P2,Seacroft Larder,LS14,5,20,,0,0,\n"
)


def _import(
    db: Database, value: Any, *, who: Principal | None = None, **kwargs: Any
) -> ImportReport:
    return import_source(db, who, feed_from_json(value, "feed.json"), **kwargs)


def _refusal(db: Database, value: Any) -> list[Problem]:
    with pytest.raises(DirectoryInputError) as caught:
        _import(db, value)
    return list(caught.value.problems)


def _council_admin(db: Database) -> Principal:
    with db.write() as session:
        council = add_organisation(session, "Leeds City Council", OrganisationKind.COUNCIL)
        user = add_user(session, council, "admin@leeds.test", Role.ADMIN, "", password_hash="x")
    return Principal(
        organisation_id=council.id,
        organisation_kind=OrganisationKind.COUNCIL,
        role=Role.ADMIN,
        user_id=user.id,
    )


def _sheet(
    db: Database, text: str, organisation: str | None = "Leeds Food Aid", **kw: Any
) -> ImportReport:
    return import_source(
        db, None, read_bytes(text.encode(), "sites.csv"), organisation=organisation, **kw
    )


def test_the_official_example_is_refused_naming_the_service_the_fields_and_what_was_expected(
    db: Database,
) -> None:
    """service_full.json places its location at latitude 100, longitude 101 (and a US address):
    refused whole, each problem naming the service id, the field and the expected value;
    nothing is stored."""
    before = snapshot(db)
    with pytest.raises(DirectoryInputError) as caught:
        import_source(db, None, read_path(str(spec_dir() / "oruk-3.0/examples/service_full.json")))
    problems = {(p.service_id, p.field): p.message for p in caught.value.problems}
    service = "ac148810-d857-441c-9679-408f346de14b"
    where = "service_at_locations[0].location"
    assert "latitude" in problems[(service, f"{where}.latitude")]
    assert "got 100" in problems[(service, f"{where}.latitude")]
    assert "longitude" in problems[(service, f"{where}.longitude")]
    assert "got 101" in problems[(service, f"{where}.longitude")]
    assert "UK postcode" in problems[(service, f"{where}.addresses[0].postal_code")]
    assert "UK address" in problems[(service, f"{where}.addresses[0].country")]
    assert f"service {service}: {where}.latitude" in str(caught.value)
    assert snapshot(db) == before


def test_a_list_page_without_locations_is_skipped_with_the_reason(db: Database) -> None:
    """The official service_list.json page (one of ten, one-to-one fields only) adds nothing:
    its service is skipped, saying a list page carries no locations; the page is not the whole
    directory, so nothing closes."""
    report = _import(db, example("service_list.json"))
    assert not report.complete and report.added == [] and report.closed == []
    assert [(s.key, s.reason) for s in report.skipped] == [
        ("ac148810-d857-441c-9679-408f346de14b", report.skipped[0].reason)
    ]
    assert "fully nested" in (report.skipped[0].reason or "")


def test_a_bad_feed_is_refused_listing_every_problem(db: Database) -> None:
    """Problems in several services (schema types, ids, places, duplicates) are all listed, each
    with its service id and field, and nothing is imported, not even the good service."""
    good = food_service("good")
    no_name = food_service("no-name")
    del no_name["name"]
    bad_id = food_service("bad-id")
    bad_id["id"] = "not-a-uuid"
    unknown = food_service("unknown", locations=[("a", None, None, "ZZ9 9ZZ")])
    half = food_service("half", locations=[("a", None, None, "LS9 7AB")])
    half["service_at_locations"][0]["location"]["latitude"] = 53.8  # and no longitude
    typed = food_service("typed", status="open")
    typed["service_at_locations"][0]["location"]["latitude"] = "53.8"
    twice = copy.deepcopy(good)
    before = snapshot(db)
    problems = _refusal(db, page_of([good, no_name, bad_id, unknown, half, typed, twice]))
    found = {(p.service_id, p.field) for p in problems}
    where = "service_at_locations[0].location"
    assert (no_name["id"], "(service)") in found  # 'name' is a required property
    assert ("not-a-uuid", "id") in found
    assert (unknown["id"], f"{where}.addresses[0].postal_code") in found
    assert (half["id"], f"{where}.longitude") in found
    assert (typed["id"], "status") in found and (typed["id"], f"{where}.latitude") in found
    assert (good["id"], "id") in found  # the second copy
    messages = " ".join(p.message for p in problems)
    assert "required" in messages and "uuid" in messages and "'ZZ9'" in messages
    assert snapshot(db) == before


def test_the_same_feed_twice_changes_nothing(db: Database) -> None:
    """A second import of an unchanged feed reports every site unchanged and leaves every site,
    charity, directory record and capacity row exactly as it was."""
    feed = page_of([food_service("a"), food_service("b", dietary=("halal",), areas=("LS9",))])
    first = _import(db, feed)
    assert len(first.added) == 2 and first.complete
    after_first = snapshot(db)
    second = _import(db, feed)
    assert (second.added, second.updated, second.closed, second.skipped) == ([], [], [], [])
    assert second.unchanged == 2 and second.organisations == []
    assert snapshot(db) == after_first


def test_a_changed_feed_updates_the_same_sites_and_reports_each_change(db: Database) -> None:
    """Keyed by the ORUK ids: a renamed and moved site keeps its id; a service gone from the
    whole feed closes, an inactive one closes, a new one is added, a virtual one skipped; the
    engine no longer sees closed sites; a closed site listed active again reopens."""
    a, b, c = food_service("a"), food_service("b"), food_service("c")
    _import(db, page_of([a, b, c]))
    with db.read() as session:
        before = {
            r.oruk_service_at_location_id: r.provider_id
            for r in session.scalars(select(DirectorySite))
        }
    start, end = current_week()
    with db.write() as session:  # each charity recorded a figure, so the engine sees each site
        for provider_id in before.values():
            session.add(Capacity(provider_id=provider_id, period_start=start, period_end=end,
                                 parcels=5, people=None, delivery=0, dietary={}))  # fmt: skip
    with db.read() as session:
        assert set(before.values()) <= {
            p.id for p, _ in core.current_supply(session, clock.today())
        }
    a["name"] = "A Food Bank (renamed)"
    a["service_at_locations"][0]["location"]["latitude"] = 53.80
    b["status"] = "inactive"
    virtual = food_service("online")
    virtual["service_at_locations"][0]["location"]["location_type"] = "virtual"
    d = food_service("d")
    report = _import(db, page_of([a, b, virtual, d]))
    key = lambda label: ident(f"sal:{label}:main")  # noqa: E731
    assert [(u.key, u.site_id, u.changed) for u in report.updated] == [
        (key("a"), before[key("a")], ["latitude", "name", "service_name"])
    ]
    assert sorted((x.key, x.reason) for x in report.closed) == sorted(
        [(key("b"), "inactive in the directory"), (key("c"), "no longer in the directory")]
    )
    assert [x.key for x in report.added] == [key("d")]
    assert [(x.key, x.reason) for x in report.skipped] == [
        (virtual["id"], "no physical location (only postal or virtual ones)")
    ]
    with db.read() as session:
        supply = {p.id for p, _ in core.current_supply(session, clock.today())}
        provider = session.get(Provider, before[key("a")])
        assert provider is not None and provider.name == "A Food Bank (renamed)"
    assert before[key("b")] not in supply and before[key("c")] not in supply
    b["status"] = "active"
    reopened = _import(db, page_of([a, b, virtual, d]))
    assert [(u.key, u.changed) for u in reopened.updated] == [(key("b"), ["open"])]


def test_a_partial_feed_never_closes_sites_it_does_not_list(db: Database) -> None:
    """One service, or one page of several, is not the whole directory: sites it leaves out
    stay open."""
    _import(db, page_of([food_service("a"), food_service("b")]))
    one = _import(db, food_service("a"))
    page = _import(db, page_of([food_service("a")], page=1, total_pages=2, total_items=2))
    for report in (one, page):
        assert not report.complete and report.closed == [] and report.unchanged == 1


def test_an_empty_whole_feed_is_refused(db: Database) -> None:
    """A feed that says it is everything but lists nothing would close every site: refused."""
    _import(db, page_of([food_service("a")]))
    problems = _refusal(db, page_of([]))
    assert "lists no services" in problems[0].message


def test_dietary_terms_and_service_areas_come_from_the_feed(db: Database) -> None:
    """Taxonomy terms spelling a dietary tag (or our own term ids) become the site's diets;
    service areas that are all postcode districts or areas restrict matching, any free-text
    area lifts the restriction (kept for display)."""
    ours = food_service("ours", dietary=("Gluten free",), areas=("LS9", "ls"))
    terms = vocabulary()
    for code in ("kosher", "food_delivery"):  # our own term ids: one a diet, one not
        ours["attributes"].append(
            {"id": ident(f"attr:{code}"), "taxonomy_term_id": terms.by_code(code).id}
        )
    ours["attributes"].append({"id": ident("attr:other"), "taxonomy_term_id": ident("unknown")})
    words = food_service("words", dietary=("Halal", "baby food"), areas=("LS9", "All of Leeds"))
    _import(db, page_of([ours, words]))
    with db.read() as session:
        rows = {
            r.oruk_service_id: (
                r.dietary,
                session.get(Provider, r.provider_id).service_area,
                len(r.service_areas),
            )  # type: ignore[union-attr]
            for r in session.scalars(select(DirectorySite))
        }
    assert rows[ours["id"]] == ("kosher;gluten_free", "LS;LS9", 2)
    assert rows[words["id"]] == ("halal;baby", "", 2)


def test_a_service_run_by_a_council_is_skipped(db: Database) -> None:
    """A food service whose organisation is a council in foodmatch becomes no site."""
    with db.write() as session:
        add_organisation(session, "Leeds City Council", OrganisationKind.COUNCIL)
    report = _import(db, page_of([food_service("civic", organisation="Leeds City Council")]))
    assert report.added == [] and "council" in (report.skipped[0].reason or "")


def test_an_import_is_audited_and_a_dry_run_changes_nothing(db: Database) -> None:
    """A council admin's import adds audit events for the charity, each site and the import,
    and the chain verifies; a dry run reports the same and stores nothing."""
    admin = _council_admin(db)
    feed = page_of([food_service("a"), food_service("b")])
    before = snapshot(db)
    with db.read() as session:
        events_before = session.scalar(select(func.count()).select_from(AuditEvent))
    dry = _import(db, feed, who=admin, dry_run=True)
    assert dry.dry_run and [a.site_id for a in dry.added] == [None, None] and dry.import_id is None
    assert snapshot(db) == before
    real = _import(db, feed, who=admin)
    assert [a.key for a in real.added] == [a.key for a in dry.added] and real.import_id
    with db.read() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert len(events) == (events_before or 0) + 4
        assert [e.action for e in events[-4:]] == [
            "organisation.imported",
            "site.imported",
            "site.imported",
            "directory.imported",
        ]
        assert {e.organisation_id for e in events[-4:]} == {admin.organisation_id}
        assert verify_chain(session).ok


def test_only_a_council_admin_imports(db: Database) -> None:
    """A charity's admin or a caseworker cannot import (403), and nothing changes."""
    for kind, role in (
        (OrganisationKind.CHARITY, Role.ADMIN),
        (OrganisationKind.COUNCIL, Role.CASEWORKER),
    ):
        who = Principal(organisation_id=1, organisation_kind=kind, role=role)
        with pytest.raises(ProblemError) as caught:
            _import(db, page_of([food_service("a")]), who=who)
        assert caught.value.status == 403


# --- spreadsheets --------------------------------------------------------------------------


def _xlsx(text: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in text.splitlines():
        cells: list[Any] = line.split(",")
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() else c for c in cells])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_and_xlsx_spreadsheets_import_the_same_sites_and_capacity(db: Database) -> None:
    """A providers spreadsheet (CSV, or the same rows in XLSX) adds the charity's sites with
    this week's capacity; importing either again changes nothing."""
    report = _sheet(db, SHEET)
    assert [a.key for a in report.added] == ["P1", "P2"]
    assert [(c.key, c.action, c.parcels) for c in report.capacity] == [
        ("P1", "set", 12),
        ("P2", "set", 5),
    ]
    assert [o.action for o in report.organisations] == ["added"]
    after = snapshot(db)
    again = import_source(
        db, None, read_bytes(_xlsx(SHEET), "sites.xlsx"), organisation="Leeds Food Aid"
    )
    assert again.format == "xlsx" and again.unchanged == 2 and again.capacity == []
    assert (again.added, again.updated, again.closed) == ([], [], [])
    assert snapshot(db) == after
    with db.read() as session:
        site = session.scalars(select(Provider).where(Provider.name == "Burmantofts Pantry")).one()
        live = core.live_capacity(session, [site.id], clock.today())[site.id]
    assert (site.service_area, site.delivery_radius_km, site.postcode) == (
        "LS8;LS9",
        4.5,
        "LS9 7AB",
    )
    assert (live.parcels, live.delivery, live.dietary) == (12, 2, {"halal": None, "vegan": 3})
    assert (live.period_start, live.period_end) == current_week()


def test_a_bad_spreadsheet_is_refused_listing_every_row_and_column(
    db: Database, tmp_path: Path
) -> None:
    """Every bad cell is listed with its row and column, in CSV and in XLSX, and nothing is
    imported; a spreadsheet without its charity is refused too."""
    bad = "provider_id,name,postcode,capacity\nP1,,LS9,-1\nP2,Two,ZZ9,3\nP1,Dup,LS9,2\n"
    with db.write() as session:
        add_organisation(session, "Leeds City Council", OrganisationKind.COUNCIL)
    before = snapshot(db)
    for data, name in ((bad.encode(), "bad.csv"), (_xlsx(bad), "bad.xlsx")):
        with pytest.raises(DirectoryInputError) as caught:
            import_source(db, None, read_bytes(data, name), organisation="Leeds Food Aid")
        found = {(p.row, p.field) for p in caught.value.problems}
        assert {(2, "name"), (2, "capacity"), (3, "postcode"), (4, "provider_id")} <= found
    with pytest.raises(DirectoryInputError) as caught:
        _sheet(db, SHEET, organisation=None)
    assert "--organisation" in str(caught.value)
    with pytest.raises(DirectoryInputError) as caught:
        _sheet(db, SHEET, organisation="Leeds City Council")
    assert "is a council" in str(caught.value)
    assert snapshot(db) == before
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DirectoryInputError) as caught:
        read_path(str(broken))
    assert "not a readable .xlsx" in str(caught.value)


def test_capacity_a_charity_set_is_never_overwritten(db: Database) -> None:
    """After the charity records its own figure for this week, a spreadsheet with another
    figure leaves it alone and says so; a figure the import set is updated, a site removed
    from the spreadsheet closes."""
    _sheet(db, SHEET)
    with db.read() as session:
        sites = {p.name: p for p in session.scalars(select(Provider))}
        charity = session.scalars(
            select(Organisation).where(Organisation.name == "Leeds Food Aid")
        ).one()
    start, end = current_week()
    own = Principal(
        organisation_id=charity.id, organisation_kind=OrganisationKind.CHARITY, role=Role.CHARITY
    )
    figure = CapacityUpdate(
        period_start=start, period_end=end, parcels=30, people=None, delivery=0, dietary={}
    )
    providers.set_capacity(db, own, sites["Burmantofts Pantry"].id, figure)
    changed = SHEET.replace(",12,", ",15,").replace("LS14,5,", "LS14,6,")
    report = _sheet(db, changed)
    notes = {c.key: (c.action, c.reason) for c in report.capacity}
    assert notes["P1"][0] == "kept" and "set by the charity" in (notes["P1"][1] or "")
    assert notes["P2"] == ("updated", None)
    with db.read() as session:
        live = core.live_capacity(session, [p.id for p in sites.values()], clock.today())
    assert live[sites["Burmantofts Pantry"].id].parcels == 30
    assert live[sites["Seacroft Larder"].id].parcels == 6
    only_two = _sheet(db, "provider_id,name,postcode,capacity\nP2,Seacroft Larder,LS14,6\n")
    assert [(c.key, c.reason) for c in only_two.closed] == [("P1", "no longer in the spreadsheet")]
    with db.read() as session:
        live = core.live_capacity(session, [sites["Burmantofts Pantry"].id], clock.today())
    assert live[sites["Burmantofts Pantry"].id].parcels == 30  # closing a site keeps its figure
