"""Service fixtures: a seeded two-council, two-charity world, clients and a live server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth.tokens import hash_password, issue_token
from api.core.config import Settings
from api.core.db import Database
from api.core.tables import (
    ApiKey,
    Capacity,
    MatchRun,
    Offer,
    Organisation,
    Provider,
    Referral,
    ReferralPersonal,
    User,
)
from api.core.vocabulary import OfferStatus, OrganisationKind, ReferralStatus, Role
from api.demo.seed import add_organisation, add_user, current_week

PASSWORD = "correct horse battery staple"
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-signing"
COUNCIL_ROLES = (Role.CASEWORKER, Role.PLANNER, Role.FOI_OFFICER, Role.ADMIN)
CHARITY_ROLES = (Role.CHARITY, Role.ADMIN)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2 hash shared by every test user (hashing is slow on purpose)."""
    return hash_password(PASSWORD)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings pointing at this test's database."""
    return Settings(
        database_url=db_url,
        jwt_secret=TEST_SECRET,
        match_time_limit_s=20,
        place_time_limit_s=5,
        log_level="WARNING",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The test's database."""
    database = Database.from_url(settings.database_url)
    yield database
    database.dispose()


@dataclass
class World:
    """Two councils (A, B), two charities (X, Y), their users, sites and a few objects.

    ``ids[name]`` holds object ids: referral_a / referral_b (open, each offered: offer_a to
    X's site, offer_b to Y's site), site_x / site_y, run_a / run_b, key_a / key_b.
    """

    settings: Settings
    orgs: dict[str, int] = field(default_factory=dict)
    users: dict[tuple[str, Role], User] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def token(self, org: str, role: Role) -> str:
        """A bearer token for the ``role`` user of organisation ``org``."""
        access, _ = issue_token(self.users[(org, role)], self.settings)
        return access

    def headers(self, org: str, role: Role) -> dict[str, str]:
        """Authorization headers for the ``role`` user of organisation ``org``."""
        return {"Authorization": f"Bearer {self.token(org, role)}"}


def add_site(
    db: Database, organisation_id: int, name: str, parcels: int, *, outcode: str = "LS9"
) -> tuple[int, int]:
    """A site in Leeds ``outcode`` with ``parcels`` places this week: (site id, capacity id)."""
    from api.match_runs.adapter import locate

    located = locate(outcode)
    assert located is not None
    start, end = current_week()
    with db.write() as session:
        site = Provider(
            organisation_id=organisation_id,
            name=name,
            postcode=outcode,
            outcode=outcode,
            latitude=located[0],
            longitude=located[1],
            service_area="",
            delivery_radius_km=5.0,
        )
        session.add(site)
        session.flush()
        capacity = Capacity(
            provider_id=site.id,
            period_start=start,
            period_end=end,
            parcels=parcels,
            people=None,
            delivery=2,
            dietary={"halal": None},
        )
        session.add(capacity)
        session.flush()
        return site.id, capacity.id


def parcels_booked(db: Database, capacity_id: int) -> int:
    """How many parcels of a capacity figure are booked now."""
    from api.core.tables import Capacity

    with db.read() as session:
        capacity = session.get(Capacity, capacity_id)
        assert capacity is not None
        return capacity.parcels_booked


def add_referral(
    db: Database,
    organisation_id: int,
    *,
    outcode: str = "LS9",
    consent: bool = True,
    household_size: int = 2,
    urgency: str = "urgent",
    name: str = "Canary Household",
) -> int:
    """An open referral in Leeds ``outcode`` with personal data; returns its id."""
    from api.match_runs.adapter import locate

    located = locate(outcode)
    assert located is not None
    with db.write() as session:
        referral = Referral(
            organisation_id=organisation_id,
            household_size=household_size,
            dietary="",
            urgency=urgency,
            outcode=outcode,
            latitude=located[0],
            longitude=located[1],
            max_travel_km=5.0,
            needs_delivery=False,
            consent_to_share=consent,
            status=ReferralStatus.OPEN,
        )
        session.add(referral)
        session.flush()
        session.add(
            ReferralPersonal(
                referral_id=referral.id,
                name=name,
                phone="07700 900123",
                address="1 Canary Row, Leeds",
                postcode=f"{outcode} 7ZZ",
            )
        )
        return referral.id


def _offer(db: Database, referral_id: int, site_id: int, capacity_id: int) -> int:
    with db.write() as session:
        capacity = session.get(Capacity, capacity_id)
        referral = session.get(Referral, referral_id)
        assert capacity is not None and referral is not None
        capacity.parcels_booked += 1
        capacity.people_booked += referral.household_size
        referral.status = ReferralStatus.OFFERED
        offer = Offer(
            referral_id=referral_id,
            provider_id=site_id,
            capacity_id=capacity_id,
            mode="collect",
            distance_km=0.0,
            explanation="seeded for tests",
            status=OfferStatus.OFFERED,
        )
        session.add(offer)
        session.flush()
        return offer.id


def _run(db: Database, organisation_id: int) -> int:
    with db.write() as session:
        run = MatchRun(
            organisation_id=organisation_id,
            status="optimal",
            method="seeded",
            referral_count=0,
            provider_count=0,
            matched_emergency=0,
            matched_urgent=0,
            matched_standard=0,
            total_distance_km=0.0,
            seconds=0.0,
            unmatched_by_reason={},
        )
        session.add(run)
        session.flush()
        return run.id


def build_world(db: Database, settings: Settings, password_hash: str) -> World:
    """Seed the two-council, two-charity world."""
    world = World(settings=settings)
    with db.write() as session:
        for key, kind, roles in (
            ("A", OrganisationKind.COUNCIL, COUNCIL_ROLES),
            ("B", OrganisationKind.COUNCIL, COUNCIL_ROLES),
            ("X", OrganisationKind.CHARITY, CHARITY_ROLES),
            ("Y", OrganisationKind.CHARITY, CHARITY_ROLES),
        ):
            org: Organisation = add_organisation(session, f"Organisation {key}", kind)
            world.orgs[key] = org.id
            for role in roles:
                user = add_user(
                    session,
                    org,
                    f"{role.value}@{key.lower()}.test",
                    role,
                    PASSWORD,
                    password_hash=password_hash,
                )
                session.refresh(user, ["organisation"])
                world.users[(key, role)] = user
        for key in ("A", "B"):
            api_key = ApiKey(
                organisation_id=world.orgs[key],
                name=f"key {key}",
                role=Role.CASEWORKER,
                prefix=f"seed{key.lower()}",
                key_hash="0" * 64,
            )
            session.add(api_key)
            session.flush()
            world.ids[f"key_{key.lower()}"] = api_key.id
    site_x, cap_x = add_site(db, world.orgs["X"], "Site X", 10)
    site_y, cap_y = add_site(db, world.orgs["Y"], "Site Y", 10)
    world.ids.update(site_x=site_x, site_y=site_y, cap_x=cap_x, cap_y=cap_y)
    world.ids["referral_a"] = add_referral(db, world.orgs["A"])
    world.ids["referral_b"] = add_referral(db, world.orgs["B"])
    world.ids["offer_a"] = _offer(db, world.ids["referral_a"], site_x, cap_x)
    world.ids["offer_b"] = _offer(db, world.ids["referral_b"], site_y, cap_y)
    world.ids["run_a"] = _run(db, world.orgs["A"])
    world.ids["run_b"] = _run(db, world.orgs["B"])
    return world


@pytest.fixture
def world(db: Database, settings: Settings, password_hash: str) -> World:
    """The seeded two-council, two-charity world."""
    return build_world(db, settings, password_hash)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    """The application on this test's database."""
    return create_app(settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An in-process HTTP client."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """A real uvicorn server for ``app`` on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:  # pragma: no cover - server failed to start
        raise RuntimeError("uvicorn did not start")
    yield base
    server.should_exit = True
    thread.join(timeout=10)
