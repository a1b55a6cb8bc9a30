"""Directory fixtures: the seeded world plus sites of every kind the feed publishes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from api.core.db import Database
from api.core.tables import Capacity, Provider
from api.demo.seed import current_week
from api.directory.service import import_source
from api.directory.sources import feed_from_json
from api.match_runs.adapter import locate
from tests.api.conftest import World, add_referral
from tests.api.directory.helpers import food_service, page_of

HOUSEHOLD_NAMES = ("Canary Household", "Wendeline Quarrington", "Osgar Pemberton-Vash")
HOUSEHOLD_PHONES = ("07700 900123",)
HOUSEHOLD_POSTCODES = ("LS9 7ZZ", "LS6 7ZZ", "LS28 7ZZ")


@dataclass
class Published:
    """The world, and what was added for publishing: ids of sites and the imported feed."""

    world: World
    feed: list[dict[str, object]]
    sites: dict[str, int] = field(default_factory=dict)


def add_native_site(
    db: Database,
    organisation_id: int,
    name: str,
    postcode: str,
    *,
    parcels: int | None,
    service_area: str = "",
    dietary: dict[str, int | None] | None = None,
    delivery: int = 0,
    radius: float = 0.0,
) -> int:
    """A site made in foodmatch (no directory record), with a figure this week if ``parcels``."""
    located = locate(postcode)
    assert located is not None
    start, end = current_week()
    with db.write() as session:
        site = Provider(
            organisation_id=organisation_id,
            name=name,
            postcode=postcode,
            outcode=located[2],
            latitude=located[0],
            longitude=located[1],
            service_area=service_area,
            delivery_radius_km=radius,
        )
        session.add(site)
        session.flush()
        if parcels is not None:
            session.add(
                Capacity(
                    provider_id=site.id,
                    period_start=start,
                    period_end=end,
                    parcels=parcels,
                    people=None,
                    delivery=delivery,
                    dietary=dietary or {},
                )
            )
        return site.id


@pytest.fixture
def published(db: Database, world: World) -> Published:
    """The world's two sites, a native site with a service area, and an imported two-location
    service, with referrals (and their personal data) in three districts."""
    feed = [
        food_service(
            "harehills",
            organisation="Harehills Community Pantry",
            locations=[
                ("north", 53.8130, -1.5180, "LS8 5AA"),
                ("south", 53.7990, -1.5200, "LS9 6BB"),
            ],
            dietary=("halal", "vegetarian"),
            areas=("LS8", "LS9"),
        )
    ]
    import_source(db, None, feed_from_json(page_of(feed), "feed.json"))
    published = Published(world=world, feed=feed)
    published.sites["native"] = add_native_site(
        db,
        world.orgs["X"],
        "Armley Pantry",
        "LS12 3AB",
        parcels=4,
        service_area="LS12;LS13",
        dietary={"gluten_free": 2, "baby": None},
        delivery=1,
        radius=3.0,
    )
    published.sites["no_capacity"] = add_native_site(
        db, world.orgs["Y"], "Headingley Larder", "LS6", parcels=None
    )
    for name, postcode in zip(HOUSEHOLD_NAMES[1:], HOUSEHOLD_POSTCODES[1:], strict=True):
        referral = add_referral(db, world.orgs["A"], outcode=postcode.split()[0], name=name)
        published.sites[f"referral:{name}"] = referral
    return published
