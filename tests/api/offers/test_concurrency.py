"""Races through a real server: the last place goes to exactly one caller; retries store once."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from api.auth.tokens import issue_token
from api.core.errors import ProblemError
from api.core.tables import Capacity, Offer, Referral, ReferralPersonal
from api.core.vocabulary import OrganisationKind, Role
from api.demo.seed import add_organisation, add_user
from api.match_runs.service import book_best_place
from tests.api.conftest import PASSWORD, add_referral, add_site
from tests.conftest import run_coroutine


def _caseworker(db, settings, password_hash: str) -> tuple[int, dict[str, str], int]:
    """A council with a caseworker and one charity: (charity id, auth headers, council id)."""
    with db.write() as session:
        council = add_organisation(session, "Council", OrganisationKind.COUNCIL)
        charity = add_organisation(session, "Charity", OrganisationKind.CHARITY)
        user = add_user(
            session, council, "cw@c.test", Role.CASEWORKER, PASSWORD, password_hash=password_hash
        )
        session.refresh(user, ["organisation"])
        token, _ = issue_token(user, settings)
        return charity.id, {"Authorization": f"Bearer {token}"}, council.id


async def _burst(base: str, requests: list[tuple[str, str, dict]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        return await asyncio.gather(
            *(http.request(method, url, **kwargs) for method, url, kwargs in requests)
        )


def test_two_hundred_racers_for_the_last_place(live_server, db, settings, password_hash) -> None:
    """200 concurrent placements for 1 place: one 201, 199 clean 409s, never overbooked."""
    charity_id, headers, council_id = _caseworker(db, settings, password_hash)
    _site, capacity_id = add_site(db, charity_id, "Last Place Pantry", 1)
    referral_ids = [add_referral(db, council_id, name=f"Racer {i}") for i in range(200)]

    responses = run_coroutine(
        _burst(
            live_server,
            [("POST", f"/referrals/{rid}/place", {"headers": headers}) for rid in referral_ids],
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1
    assert statuses.count(409) == 199, statuses
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["reason"] in {"capacity_exhausted", "no_provider_in_reach"}
    with db.read() as session:
        capacity = session.get(Capacity, capacity_id)
        assert capacity is not None
        assert capacity.parcels_booked == 1
        assert session.scalar(select(func.count()).select_from(Offer)) == 1


def test_fifty_identical_retries_store_one_referral(
    live_server, db, settings, password_hash
) -> None:
    """50 concurrent POSTs with one Idempotency-Key create one referral and return one answer."""
    _charity, headers, _council = _caseworker(db, settings, password_hash)
    body = {
        "household_size": 3,
        "urgency": "urgent",
        "postcode": "LS6 1AA",
        "consent_to_share": False,
        "name": "Retry Household",
    }
    keyed = {**headers, "Idempotency-Key": "retry-7f3c"}

    responses = run_coroutine(
        _burst(live_server, [("POST", "/referrals", {"json": body, "headers": keyed})] * 50)
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.text for r in responses}) == 1
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Referral)) == 1
        assert session.scalar(select(func.count()).select_from(ReferralPersonal)) == 1


def test_bookings_racing_past_the_process_queue_still_book_once(
    db, settings, password_hash
) -> None:
    """Placements in one process queue (``place``); between processes only the database's
    locks keep bookings apart. 40 threads booking without the queue, as 40 workers would,
    for 3 places: exactly 3 offers, the rest clean conflicts, never overbooked."""
    charity_id, _headers, council_id = _caseworker(db, settings, password_hash)
    _site, capacity_id = add_site(db, charity_id, "Three Places Pantry", 3)
    referral_ids = [add_referral(db, council_id, name=f"Worker {i}") for i in range(40)]
    start = threading.Barrier(len(referral_ids))

    def book(referral_id: int) -> str:
        start.wait()
        try:
            book_best_place(db, settings, referral_id)
        except ProblemError as problem:
            assert problem.status == 409, problem.detail
            return "conflict"
        return "booked"

    with ThreadPoolExecutor(max_workers=len(referral_ids)) as pool:
        outcomes = list(pool.map(book, referral_ids))

    assert outcomes.count("booked") == 3 and outcomes.count("conflict") == 37
    with db.read() as session:
        capacity = session.get(Capacity, capacity_id)
        assert capacity is not None and capacity.parcels_booked == 3
        assert session.scalar(select(func.count()).select_from(Offer)) == 3
