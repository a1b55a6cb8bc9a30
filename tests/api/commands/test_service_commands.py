"""`foodmatch db upgrade` and `foodmatch db seed-demo` prepare a working database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import app
from api.core.db import Database
from api.core.tables import Capacity, Organisation, Referral, User


def test_seed_demo_loads_the_sample_region_and_prints_sign_ins(tmp_path: Path) -> None:
    """seed-demo creates the schema, the sample's referrals and sites, and demo accounts."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    runner = CliRunner()

    first = runner.invoke(app, ["db", "seed-demo", "--database-url", url])
    again = runner.invoke(app, ["db", "seed-demo", "--database-url", url])

    assert first.exit_code == 0, first.output
    assert "caseworker@leeds.demo" in first.output and "charity1@charity.demo" in first.output
    assert again.exit_code == 0
    db = Database.from_url(url)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Referral)) == 1500
        assert session.scalar(select(func.count()).select_from(Capacity)) == 40
        assert session.scalar(select(func.count()).select_from(Organisation)) == 11
        roles = set(session.scalars(select(User.role)).all())
    db.dispose()
    assert {r.value for r in roles} == {"caseworker", "planner", "foi_officer", "admin", "charity"}


def test_db_upgrade_is_repeatable(tmp_path: Path) -> None:
    """Upgrading an up-to-date database changes nothing and succeeds."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0 and "up to date" in result.output
