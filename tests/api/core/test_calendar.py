"""'Today' is the local date (Europe/London by default), not the UTC one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.core import clock
from api.core.config import Settings
from api.core.vocabulary import Role
from api.demo.seed import current_week
from tests.api.conftest import TEST_SECRET, World

# 00:30 on Monday 1 June 2026 in London (British Summer Time) is still Sunday 31 May in UTC.
LATE_SUNDAY_UTC = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)


@pytest.fixture
def half_past_midnight_in_london(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.TIMEZONE_VARIABLE, raising=False)
    monkeypatch.setattr(clock, "now", lambda: LATE_SUNDAY_UTC)


@pytest.mark.usefixtures("half_past_midnight_in_london")
def test_today_and_the_capacity_week_follow_the_local_calendar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Just after midnight BST it is Monday: a new capacity week, whatever UTC says."""
    assert clock.today() == date(2026, 6, 1)
    assert current_week() == (date(2026, 6, 1), date(2026, 6, 7))
    monkeypatch.setenv(clock.TIMEZONE_VARIABLE, "UTC")
    assert clock.today() == date(2026, 5, 31)
    assert current_week() == (date(2026, 5, 25), date(2026, 5, 31))


@pytest.mark.usefixtures("half_past_midnight_in_london")
def test_an_foi_request_received_today_local_time_is_accepted(
    client: TestClient, world: World
) -> None:
    """A request logged at 00:30 BST as received today is not 'in the future'; tomorrow is."""
    officer = world.headers("A", Role.FOI_OFFICER)
    for received_on, status in (("2026-06-01", 201), ("2026-06-02", 422)):
        made = client.post(
            "/foi/requests",
            json={"reference": f"CAL-{received_on}", "summary": "s", "received_on": received_on},
            headers=officer,
        )
        assert made.status_code == status, made.text
    listed = client.get("/foi/requests", headers=officer).json()["items"]
    entry = next(item for item in listed if item["reference"] == "CAL-2026-06-01")
    assert entry["received_on"] == "2026-06-01"


def test_an_unknown_time_zone_is_refused_at_start_up() -> None:
    """A misspelt zone stops the settings from loading, naming the variable."""
    with pytest.raises(ValidationError, match="FOODMATCH_TIMEZONE='Europe/Londno'"):
        Settings(jwt_secret=TEST_SECRET, timezone="Europe/Londno")
