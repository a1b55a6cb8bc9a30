"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import pytest
from alembic import command

from api.migrate import alembic_config


# SQLite cannot reflect expression indexes (the record's full-text index); Alembic says so.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_match_the_tables(db_url: str) -> None:
    """After ``upgrade head`` Alembic finds nothing left to generate."""
    command.check(alembic_config(db_url))


def test_long_engine_descriptions_are_stored(db_url: str) -> None:
    """A match run keeps the engine's full method text, however long (PostgreSQL enforces it)."""
    from api.db import Database
    from api.seed import add_organisation
    from api.tables import MatchRun, OrganisationKind

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
