"""Stateful property test: whatever callers do, bookings match offers and never exceed capacity."""

from __future__ import annotations

from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from api.auth.tokens import Principal
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import ProblemError
from api.core.schemas import CapacityUpdate, DeclineRequest, OutcomeRequest
from api.core.tables import Capacity, Offer, Referral
from api.core.vocabulary import ACTIVE_OFFER_STATUSES, OrganisationKind, ReferralStatus, Role
from api.demo.seed import current_week
from api.match_runs import service as matching
from api.offers import service as offers
from api.sites import service as providers
from tests.api.conftest import TEST_SECRET, add_referral, build_world
from tests.conftest import fresh_database


def test_bookings_always_match_offers_and_capacity(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, password_hash: str
) -> None:
    """Random placements, runs, declines, outcomes and capacity edits keep every invariant."""
    start, end = current_week()

    class Service(RuleBasedStateMachine):
        """One caller after another, against a fresh database per example."""

        def __init__(self) -> None:
            super().__init__()
            self.stack = ExitStack()
            url = self.stack.enter_context(fresh_database(backend, request, tmp_path))
            self.settings = Settings(database_url=url, jwt_secret=TEST_SECRET, log_level="WARNING")
            self.db = Database.from_url(url)
            self.stack.callback(self.db.dispose)
            self.world = build_world(self.db, self.settings, password_hash)
            orgs, ids = self.world.orgs, self.world.ids
            self.council = Principal(orgs["A"], OrganisationKind.COUNCIL, Role.CASEWORKER)
            self.charities = {
                ids["site_x"]: Principal(orgs["X"], OrganisationKind.CHARITY, Role.CHARITY),
                ids["site_y"]: Principal(orgs["Y"], OrganisationKind.CHARITY, Role.CHARITY),
            }

        def teardown(self) -> None:
            self.stack.close()

        @rule(
            size=st.integers(1, 8),
            outcode=st.sampled_from(["LS9", "LS8", "LS7", "LS28"]),
            urgency=st.sampled_from(["emergency", "urgent", "standard"]),
        )
        def refer(self, size: int, outcode: str, urgency: str) -> None:
            add_referral(
                self.db, self.world.orgs["A"], household_size=size, outcode=outcode, urgency=urgency
            )

        @rule(pick=st.integers(0, 10_000))
        def place(self, pick: int) -> None:
            open_ids = _ids(
                self.db,
                Referral,
                Referral.status == ReferralStatus.OPEN,
                Referral.organisation_id == self.world.orgs["A"],
            )
            if open_ids:
                try:
                    matching.place_referral(
                        self.db, self.settings, self.council, open_ids[pick % len(open_ids)]
                    )
                except ProblemError as problem:
                    assert problem.status == 409

        @rule()
        def run(self) -> None:
            matching.run_matching(self.db, self.settings, self.council, 5.0)

        @rule(pick=st.integers(0, 10_000), action=st.sampled_from(["accept", "decline"]))
        def respond(self, pick: int, action: str) -> None:
            offered = _offers(self.db, "offered")
            if offered:
                offer = offered[pick % len(offered)]
                who = self.charities[offer.provider_id]
                if action == "accept":
                    offers.accept(self.db, who, offer.id)
                else:
                    offers.decline(
                        self.db, self.settings, who, offer.id, DeclineRequest(reason="no_stock")
                    )

        @rule(
            pick=st.integers(0, 10_000),
            outcome=st.sampled_from(["collected", "no_show"]),
        )
        def finish(self, pick: int, outcome: str) -> None:
            accepted = _offers(self.db, "accepted")
            if accepted:
                offer = accepted[pick % len(accepted)]
                offers.record_outcome(
                    self.db,
                    self.settings,
                    self.charities[offer.provider_id],
                    offer.id,
                    OutcomeRequest(outcome=outcome),  # type: ignore[arg-type]
                )

        @rule(site=st.sampled_from(["site_x", "site_y"]), parcels=st.integers(0, 12))
        def set_capacity(self, site: str, parcels: int) -> None:
            body = CapacityUpdate(
                period_start=start, period_end=end, parcels=parcels, delivery=min(2, parcels)
            )
            try:
                providers.set_capacity(
                    self.db, self.charities[self.world.ids[site]], self.world.ids[site], body
                )
            except ProblemError as problem:
                assert problem.status == 409 and problem.reason == "below_booked"

        @invariant()
        def counters_match_offers(self) -> None:
            with self.db.read() as session:
                live = session.execute(
                    select(Offer.capacity_id, Referral.household_size)
                    .join(Referral, Referral.id == Offer.referral_id)
                    .where(Offer.status.in_(ACTIVE_OFFER_STATUSES))
                ).all()
                parcels: Counter[int] = Counter()
                people: defaultdict[int, int] = defaultdict(int)
                for capacity_id, size in live:
                    parcels[capacity_id] += 1
                    people[capacity_id] += size
                live_rows = select(Capacity).where(Capacity.superseded_at.is_(None))
                for capacity in session.scalars(live_rows).all():
                    assert capacity.parcels_booked == parcels[capacity.id]
                    assert capacity.people_booked == people[capacity.id]
                    assert 0 <= capacity.parcels_booked <= capacity.parcels
                stale = (
                    select(Offer.id)
                    .join(Capacity, Capacity.id == Offer.capacity_id)
                    .where(
                        Capacity.superseded_at.is_not(None), Offer.status.in_(ACTIVE_OFFER_STATUSES)
                    )
                )
                assert session.scalars(stale).all() == []

        @invariant()
        def one_live_offer_per_household(self) -> None:
            with self.db.read() as session:
                referral_ids = session.scalars(
                    select(Offer.referral_id).where(Offer.status.in_(ACTIVE_OFFER_STATUSES))
                ).all()
                assert len(referral_ids) == len(set(referral_ids))
                open_with_offer = session.scalars(
                    select(Referral.id).where(
                        Referral.status == ReferralStatus.OPEN, Referral.id.in_(referral_ids)
                    )
                ).all()
                assert open_with_offer == []

    run_state_machine_as_test(
        Service,
        settings=settings_for_machine,
    )


settings_for_machine = settings(
    max_examples=12,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _ids(db: Database, table: type[Referral], *where: object) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(table.id).where(*where).order_by(table.id)).all())  # type: ignore[arg-type]


def _offers(db: Database, status: str) -> list[Offer]:
    with db.read() as session:
        return list(session.scalars(select(Offer).where(Offer.status == status).order_by(Offer.id)))
