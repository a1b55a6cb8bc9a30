"""A site's capacity: rules within one figure, the weeks ahead, and copying last week's.

Each test runs on SQLite and PostgreSQL against the seeded two-charity world (Site X: 10
parcels, 2 deliveries, halal with no limit, one place offered this week).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from api.core.vocabulary import Role
from api.demo.seed import current_week
from tests.api.conftest import World

CH = Role.CHARITY


def _history(client: TestClient, world: World) -> list[dict[str, object]]:
    response = client.get(
        f"/providers/{world.ids['site_x']}/capacity", headers=world.headers("X", CH)
    )
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_more_deliveries_or_stock_than_parcels_is_refused_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    """10 deliveries against 6 parcels, or a halal limit of 8 against 6 parcels: a 422
    problem naming each field and saying what would do, and the recorded figure stays."""
    start, end = current_week()
    before = _history(client, world)

    response = client.put(
        f"/providers/{world.ids['site_x']}/capacity",
        json={
            "period_start": str(start),
            "period_end": str(end),
            "parcels": 6,
            "delivery": 10,
            "dietary": {"halal": 8, "vegetarian": None},
        },
        headers=world.headers("X", CH),
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {"delivery", "dietary.halal"}
    assert "10 deliveries is more than the 6 parcels" in errors["delivery"]
    assert "enter 6 or fewer" in errors["delivery"]
    assert "halal limit of 8 is more than the 6 parcels" in errors["dietary.halal"]
    assert _history(client, world) == before

    equal = client.put(
        f"/providers/{world.ids['site_x']}/capacity",
        json={
            "period_start": str(start),
            "period_end": str(end),
            "parcels": 6,
            "delivery": 6,
            "dietary": {"halal": 6},
        },
        headers=world.headers("X", CH),
    )
    assert equal.status_code == 200, equal.text


def test_weeks_ahead_and_copy_last_week(client: TestClient, world: World) -> None:
    """This week has its figure and later weeks none; copying fills next week with this
    week's figures (and none of its bookings), then the week after from next week's; a
    week whose previous week has nothing is refused and nothing is written."""
    charity = world.headers("X", CH)
    site = world.ids["site_x"]
    monday, _ = current_week()
    next_monday = monday + timedelta(weeks=1)

    weeks = client.get(f"/providers/{site}/capacity/weeks?count=3", headers=charity).json()
    assert [w["period_start"] for w in weeks] == [
        str(monday + timedelta(weeks=i)) for i in range(3)
    ]
    assert [w["current"] for w in weeks] == [True, False, False]
    assert weeks[0]["capacity"]["parcels"] == 10 and weeks[1]["capacity"] is None

    copied = client.post(
        f"/providers/{site}/capacity/copy", json={"week_start": str(next_monday)}, headers=charity
    )
    assert copied.status_code == 200, copied.text
    body = copied.json()
    assert (body["period_start"], body["period_end"]) == (
        str(next_monday),
        str(next_monday + timedelta(days=6)),
    )
    assert (body["parcels"], body["delivery"], body["dietary"]) == (10, 2, {"halal": None})
    assert body["parcels_booked"] == 0

    later = next_monday + timedelta(weeks=1)
    assert (
        client.post(
            f"/providers/{site}/capacity/copy", json={"week_start": str(later)}, headers=charity
        ).status_code
        == 200
    )
    weeks = client.get(f"/providers/{site}/capacity/weeks?count=4", headers=charity).json()
    assert [w["capacity"] is not None for w in weeks] == [True, True, True, False]
    this_week = client.get(f"/providers/{site}", headers=charity).json()["current_capacity"]
    assert this_week["parcels_booked"] == 1  # this week's figure and its bookings are untouched

    before = _history(client, world)
    far = monday + timedelta(weeks=5)
    empty = client.post(
        f"/providers/{site}/capacity/copy", json={"week_start": str(far)}, headers=charity
    )
    assert empty.status_code == 409 and empty.json()["reason"] == "nothing_to_copy"
    assert "no capacity is recorded for the week of" in empty.json()["detail"]
    assert _history(client, world) == before


def test_copy_refuses_a_day_that_is_not_a_monday_a_past_week_and_another_charitys_site(
    client: TestClient, world: World
) -> None:
    """The week is a Monday from this week on (422 naming week_start); a site of another
    charity is not found."""
    charity = world.headers("X", CH)
    site = world.ids["site_x"]
    monday, _ = current_week()

    wednesday = client.post(
        f"/providers/{site}/capacity/copy",
        json={"week_start": str(monday + timedelta(days=9))},
        headers=charity,
    )
    assert wednesday.status_code == 422
    assert wednesday.json()["errors"][0]["field"] == "week_start"
    assert "expected the Monday" in wednesday.json()["errors"][0]["message"]
    past = client.post(
        f"/providers/{site}/capacity/copy",
        json={"week_start": str(monday - timedelta(weeks=1))},
        headers=charity,
    )
    assert past.status_code == 422 and "has ended" in past.json()["detail"]
    theirs = client.post(
        f"/providers/{world.ids['site_y']}/capacity/copy",
        json={"week_start": str(monday + timedelta(weeks=1))},
        headers=charity,
    )
    assert theirs.status_code == 404
    assert (
        client.get(f"/providers/{world.ids['site_y']}/capacity/weeks", headers=charity).status_code
        == 404
    )
