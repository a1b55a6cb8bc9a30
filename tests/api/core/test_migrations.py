"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import pytest
from alembic import command

from api.core.migrate import alembic_config


# SQLite cannot reflect expression indexes (the record's full-text index); Alembic says so.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_match_the_tables(db_url: str) -> None:
    """After ``upgrade head`` Alembic finds nothing left to generate."""
    command.check(alembic_config(db_url))


def test_long_engine_descriptions_are_stored(db_url: str) -> None:
    """A match run keeps the engine's full method text, however long (PostgreSQL enforces it)."""
    from api.core.db import Database
    from api.core.tables import MatchRun
    from api.core.vocabulary import OrganisationKind
    from api.demo.seed import add_organisation

    method = "min-cost flow + LP-guided staged MIP (SCIP) on 2 of 371 components " * 3
    db = Database.from_url(db_url)
    with db.write() as session:
        council = add_organisation(session, "Council", OrganisationKind.COUNCIL)
        session.add(
            MatchRun(
                organisation_id=council.id,
                status="feasible (time limit)",
                method=method,
                referral_count=0,
                provider_count=0,
                matched_emergency=0,
                matched_urgent=0,
                matched_standard=0,
                total_distance_km=0.0,
                seconds=0.0,
                unmatched_by_reason={},
            )
        )
    with db.read() as session:
        assert session.query(MatchRun).one().method == method
    db.dispose()


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_downgrade_and_upgrade_round_trip(db_url: str) -> None:
    """The service's latest revision can be undone and redone."""
    config = alembic_config(db_url)
    command.downgrade(config, "record_0001")
    command.upgrade(config, "head")
    command.check(config)


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_record_indexed_before_the_search_vector_upgrade_stays_searchable(db_url: str) -> None:
    """Documents indexed before ``record_0002`` are found and ranked after it, on both databases;
    on PostgreSQL their tsvector is then a stored column that follows later redaction."""
    from datetime import UTC, datetime

    from sqlalchemy import text, update

    from api.core.db import Database
    from api.record.search import Scope, index_document, search
    from api.record.tables import DocumentKind, SearchDocument

    config = alembic_config(db_url)
    command.downgrade(config, "0002_service")
    db = Database.from_url(db_url)
    with db.write() as session:
        for number, body in enumerate(("Parcel ready at noon", "Collection after noon, noon")):
            index_document(
                session,
                kind=DocumentKind.MESSAGE,
                source_key=f"message:{number}",
                organisation_id=1,
                other_organisation_id=None,
                referral_id=None,
                occurred_at=datetime(2026, 11, 2, 9, number, tzinfo=UTC),
                body=body,
            )
    db.dispose()
    command.upgrade(config, "head")
    command.check(config)

    db = Database.from_url(db_url)
    with db.read() as session:
        hits = search(session, query="noon", scope=Scope(organisation_id=1)).items
        # PostgreSQL ranks the two mentions first; SQLite orders newest first: the same here.
        assert [hit.source_key for hit in hits] == ["message:1", "message:0"]
        if session.get_bind().dialect.name == "postgresql":
            generated = session.scalar(
                text(
                    "SELECT is_generated FROM information_schema.columns "
                    "WHERE table_name = 'search_documents' AND column_name = 'body_tsv'"
                )
            )
            assert generated == "ALWAYS"
    with db.write() as session:
        session.execute(
            update(SearchDocument)
            .where(SearchDocument.source_key == "message:1")
            .values(body_redacted="[redacted]")
        )
    with db.read() as session:
        hits = search(session, query="noon", scope=Scope(organisation_id=1)).items
        assert [hit.source_key for hit in hits] == ["message:0"]
    db.dispose()


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_a_database_in_use_goes_down_to_the_first_record_revision_and_back(
    db_url: str, password_hash: str
) -> None:
    """Councils, charities, referrals and offers that point at a match run survive the
    downgrade to ``record_0001`` and the upgrade back to head on both databases (on SQLite
    batch migrations copy ``referrals``, ``offers`` and ``match_runs``, which other rows
    reference), and every reference still resolves afterwards."""
    from sqlalchemy import func, select, text, update

    from api.core.config import Settings
    from api.core.db import Database
    from api.core.tables import MatchRun, Offer, Referral
    from tests.api.conftest import TEST_SECRET, build_world

    config = alembic_config(db_url)
    db = Database.from_url(db_url)
    build_world(db, Settings(database_url=db_url, jwt_secret=TEST_SECRET), password_hash)
    with db.write() as session:
        run_id = session.scalar(select(func.min(MatchRun.id)))
        session.execute(update(Offer).values(match_run_id=run_id))
    with db.read() as session:
        counts = [session.scalar(select(func.count()).select_from(t)) for t in (Offer, Referral)]
    db.dispose()

    command.downgrade(config, "record_0001")
    command.upgrade(config, "head")
    command.check(config)

    db = Database.from_url(db_url)
    with db.read() as session:
        assert counts[0] >= 1
        assert [
            session.scalar(select(func.count()).select_from(t)) for t in (Offer, Referral)
        ] == counts
        assert session.scalar(select(func.count()).where(Offer.match_run_id == run_id)) == counts[0]
        if session.get_bind().dialect.name == "sqlite":
            assert session.scalar(text("PRAGMA foreign_keys")) == 1  # enforcement is back on
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []
    db.dispose()
