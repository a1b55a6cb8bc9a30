"""Personal data never leaves through FOI search or exports, and role words are not names.

Each test drives the service through HTTP on both databases, as an FOI officer would.
"""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.db import Database
from api.core.tables import ReferralPersonal
from api.core.vocabulary import Role
from api.record.tables import SearchDocument
from tests.api.conftest import World, add_referral

FOI, CW, CH, PL = Role.FOI_OFFICER, Role.CASEWORKER, Role.CHARITY, Role.PLANNER
NHS_SPACED, NHS_PLAIN = "943 476 5919", "9434765919"


def _export(client: TestClient, world: World, body: dict[str, object]) -> dict[str, str]:
    made = client.post("/foi/exports", json=body, headers=world.headers("A", FOI))
    assert made.status_code == 201, made.text
    zipped = client.get(made.json()["download_url"], headers=world.headers("A", FOI))
    assert zipped.status_code == 200
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def _search(client: TestClient, world: World, query: str) -> dict[str, object]:
    found = client.get(
        "/foi/search", params={"q": query, "size": 100}, headers=world.headers("A", FOI)
    )
    assert found.status_code == 200, found.text
    body: dict[str, object] = found.json()
    return body


def _rename(db: Database, referral: int, name: str) -> None:
    with db.write() as session:
        personal = session.get(ReferralPersonal, referral)
        assert personal is not None
        personal.name = name


def test_nhs_numbers_are_neither_searchable_nor_exported(
    client: TestClient, world: World, db: Database
) -> None:
    """An NHS number in a message or a note, spaced or not, is redacted: a search for it finds
    nothing and no export file carries it."""
    referral = world.ids["referral_a"]
    with db.write() as session:
        personal = session.get(ReferralPersonal, referral)
        assert personal is not None
        personal.notes = f"Diabetic. NHS number {NHS_SPACED}."
    posted = client.post(
        f"/referrals/{referral}/messages",
        json={"body": f"GP letter attached, her number is {NHS_PLAIN}"},
        headers=world.headers("A", CW),
    )
    assert posted.status_code == 201, posted.text
    for query in (NHS_PLAIN, "943", "5919"):
        assert _search(client, world, query)["total_items"] == 0, query
    files = _export(client, world, {"referral_id": referral})
    for name, content in files.items():
        for value in (NHS_PLAIN, NHS_SPACED, "5919"):
            assert value not in content, (name, value)
    assert "[NHS number]" in files["record.csv"]


def test_a_household_named_in_an_organisation_thread_is_redacted(
    client: TestClient, world: World, db: Database
) -> None:
    """A household's name written in an organisation-wide thread is redacted there too: search
    by the name finds nothing and the export does not release it."""
    _rename(db, world.ids["referral_a"], "Wilhelmina Ashdown")
    thread = client.post(
        "/threads",
        json={"counterpart_organisation_id": world.orgs["X"], "subject": "Christmas hampers",
              "body": "Can Wilhelmina Ashdown have a hamper? ashdown family, 4 people."},
        headers=world.headers("A", PL),
    )  # fmt: skip
    assert thread.status_code == 201, thread.text
    for query in ("Wilhelmina", "Ashdown", "ashdown family"):
        assert _search(client, world, query)["total_items"] == 0, query
    assert _search(client, world, "hamper")["total_items"] >= 1
    files = _export(client, world, {})
    for name, content in files.items():
        assert "Ashdown" not in content and "ashdown" not in content, name
        assert "Wilhelmina" not in content, name


def test_a_name_that_arrives_later_is_redacted_from_the_index(
    client: TestClient, world: World, db: Database
) -> None:
    """A message that named a family before the service held the name is redacted again, in
    the same transaction, when a household of that name is referred."""
    posted = client.post(
        f"/referrals/{world.ids['referral_a']}/messages",
        json={"body": "the zyxqiana parcel is ready"},
        headers=world.headers("A", CW),
    )
    assert posted.status_code == 201, posted.text
    assert _search(client, world, "zyxqiana")["total_items"] == 1  # not a name yet
    add_referral(db, world.orgs["A"], name="Zyxqiana Vqorthby")
    assert _search(client, world, "zyxqiana")["total_items"] == 0
    with db.read() as session:
        shown = session.scalars(select(SearchDocument.body_redacted)).all()
    assert not any("zyxqiana" in text.lower() for text in shown)


def test_role_words_references_and_identifiers_are_not_names(
    client: TestClient, world: World, db: Database
) -> None:
    """FOI references, role words and column names stay readable in an export even when staff
    display names are made of them ("foi_officer", "charity"); staff's real names go."""
    created = client.post(
        "/foi/requests",
        json={"reference": "FOI-2026-014", "summary": "Referral counts",
              "received_on": "2026-01-05"},
        headers=world.headers("A", FOI),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    client.post(
        f"/referrals/{world.ids['referral_a']}/messages",
        json={"body": "Charity staff asked the Council and the FOI officer about FOI-2026-014."},
        headers=world.headers("A", CW),
    )
    files = _export(client, world, {})
    csv_text = files["record.csv"]
    assert "FOI-2026-014" in csv_text and "[name]-2026-014" not in csv_text
    assert "FOI request" in csv_text and "[name] request" not in csv_text
    assert "Food bank: " in csv_text and "[name] bank" not in csv_text
    assert "Charity staff asked the Council and the FOI officer" in csv_text


def test_names_the_service_does_not_hold_are_redacted(
    client: TestClient, world: World, db: Database
) -> None:
    """Free-text names nobody registered ("ask for Sam", "her son Tomasz") leave neither through
    search nor through an export."""
    client.post(
        f"/referrals/{world.ids['referral_a']}/messages",
        json={"body": "Please ask for Sam at the door; her son Tomasz will sign. Thanks, Priya"},
        headers=world.headers("A", CW),
    )
    for name in ("Sam", "Tomasz", "Priya"):
        assert _search(client, world, name)["total_items"] == 0, name
    files = _export(client, world, {"referral_id": world.ids["referral_a"]})
    for content in files.values():
        for name in ("Sam ", "Tomasz", "Priya"):
            assert name not in content, name
    assert "ask for [name] at the door" in files["record.csv"]


def test_staff_names_are_redacted_in_every_thread_kind(
    client: TestClient, world: World, db: Database
) -> None:
    """A member of staff's real name (display name and e-mail) is redacted in a referral thread
    and in an organisation-wide thread alike."""
    from api.demo.seed import add_user

    with db.write() as session:
        from api.core.tables import Organisation

        org = session.get(Organisation, world.orgs["X"])
        assert org is not None
        user = add_user(
            session, org, "olumide.adeyemi@x.test", Role.CHARITY, "pw", password_hash="x"
        )
        user.display_name = "Olumide Adeyemi"
    text = "Olumide Adeyemi will deliver; adeyemi is on 07700 900777."
    client.post(
        f"/referrals/{world.ids['referral_a']}/messages",
        json={"body": text},
        headers=world.headers("A", CW),
    )
    client.post(
        "/threads",
        json={"counterpart_organisation_id": world.orgs["X"], "subject": "Rota", "body": text},
        headers=world.headers("A", PL),
    )
    assert _search(client, world, "Adeyemi")["total_items"] == 0
    files = _export(client, world, {})
    assert "Adeyemi" not in files["record.csv"] and "adeyemi" not in files["record.csv"]
    assert "Olumide" not in files["record.json"]


def test_audit_documents_use_the_names_the_service_holds(
    client: TestClient, world: World, db: Database
) -> None:
    """A household name the patterns alone would miss (lower case, no cue) is redacted from an
    audit event's stored text and search document, because the audit knows the service's names."""
    from api.record.audit import record_event

    _rename(db, world.ids["referral_a"], "Zebedee Quartermaine")
    with db.write() as session:
        record_event(
            session,
            actor_user_id=None,
            organisation_id=world.orgs["A"],
            action="referral.noted",
            entity_type="referral",
            entity_id=world.ids["referral_a"],
            before=None,
            after={"comment": "parcel for quartermaine left at the door"},
        )
    assert _search(client, world, "quartermaine")["total_items"] == 0
    assert _search(client, world, "door")["total_items"] >= 1  # the event itself was indexed
    with db.read() as session:
        texts = session.scalars(select(SearchDocument.body_redacted)).all()
    assert not any("quartermaine" in text.lower() for text in texts)
