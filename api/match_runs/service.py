"""Match runs and single placements: the engine decides, the database books atomically.

Both read a snapshot, run the engine outside any write transaction, then book inside one
write transaction that re-checks every place under lock (PostgreSQL ``FOR UPDATE``; SQLite
``BEGIN IMMEDIATE``). A place taken meanwhile is reported, never double-booked.
"""

from __future__ import annotations

import logging
import threading
from datetime import date
from typing import Any

from sqlalchemy import insert, update

from api.auth.tokens import Principal
from api.core import clock
from api.core import repository as repo
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import ProblemError, conflict, not_found
from api.core.schemas import MatchRunRead, MatchRunSummary, OfferRead, Page
from api.core.tables import MatchRun, MatchRunItem, Offer, Referral
from api.core.views import match_run_read, match_run_summary, offer_read
from api.core.vocabulary import OfferStatus, OrganisationKind, ReferralStatus
from api.match_runs import adapter as convert
from api.offers import refusals
from api.record.indexing import index_match_run
from api.record.trail import audit

log = logging.getLogger("foodmatch.matching")
PLACE_ATTEMPTS = 4
TAKEN_MEANWHILE = "capacity_exhausted"
# One placement at a time in this process. A placement is Python work (the engine over the
# nearby sites, building the booking) between short database calls, so placements side by
# side only take turns on the interpreter while each holds its row and audit locks longer:
# at 4 in flight the slowest took 4x the typical one (docs/benchmarks.md, "Service"). Here they
# queue instead. Between processes (several workers or hosts) the database's locks decide,
# as they always did: `place` re-checks every place under lock before booking it.
_PLACING = threading.Lock()
DECLINED_BEFORE = "declined_before"


def _today() -> date:
    return clock.today()


def place_referral(
    db: Database, settings: Settings, principal: Principal, referral_id: int
) -> OfferRead:
    """Book the best feasible place for one of the caller's referrals now, or say why not."""
    return place(
        db, settings, referral_id, organisation_id=principal.organisation_id, principal=principal
    )


def place(
    db: Database,
    settings: Settings,
    referral_id: int,
    *,
    organisation_id: int | None = None,
    principal: Principal | None = None,
) -> OfferRead:
    """Book the best feasible place for a referral.

    With ``organisation_id``, a referral of any other organisation is a 404 (checked in the
    same read as the rest, before anything else is said about it); without it, no
    authorisation is done: callers check.
    """
    with _PLACING:
        return book_best_place(
            db, settings, referral_id, organisation_id=organisation_id, principal=principal
        )


def book_best_place(
    db: Database,
    settings: Settings,
    referral_id: int,
    *,
    organisation_id: int | None = None,
    principal: Principal | None = None,
) -> OfferRead:
    """:func:`place` without this process's queue: only the database's locks keep two
    bookings apart (as between processes). For tests of exactly that, and for ``place``."""
    for _attempt in range(PLACE_ATTEMPTS):
        with db.read() as session:
            referral = repo.get_referral(session, referral_id)
            if referral is None or (
                organisation_id is not None and referral.organisation_id != organisation_id
            ):
                raise not_found("referral", referral_id)
            if referral.status is not ReferralStatus.OPEN:
                raise conflict(
                    f"Referral {referral_id} is {referral.status.value}, not open: "
                    "it already holds a place.",
                    reason="not_open",
                )
            refused = refusals.refused_providers(session, referral_id)
            # Only sites that could reach the household matter for one placement; the rest
            # could neither take it nor change the reason it gets.
            reach = (
                repo.widest_delivery_km(session)
                if referral.needs_delivery
                else referral.max_travel_km
            )
            nearby = repo.current_supply(
                session, _today(), near=(referral.latitude, referral.longitude, reach)
            )
            supply = [(p, c) for p, c in nearby if p.id not in refused]
        result = convert.run_engine(
            convert.problem([referral], supply), settings.place_time_limit_s
        )
        match = result.matches[0]
        if not match.matched or match.provider_id is None or match.mode is None:
            raise conflict(
                match.explanation or f"No place can be offered now ({match.reason.value}).",
                reason=match.reason.value,
            )
        provider_id = int(match.provider_id)
        capacity_id = next(c.id for p, c in supply if p.id == provider_id)
        with db.write() as session:
            locked = repo.get_referral(session, referral_id, lock=True)
            if locked is None or locked.status is not ReferralStatus.OPEN:
                raise conflict(
                    f"Referral {referral_id} was placed by another request meanwhile.",
                    reason="not_open",
                )
            capacity = repo.lock_capacity(session, [capacity_id]).get(capacity_id)
            if (
                capacity is None
                or capacity.superseded_at is not None
                or convert.fits(locked, capacity, match.mode.value) is not None
            ):
                continue  # the place went to someone else meanwhile: think again
            convert.book(capacity, locked, match.mode.value)
            offer = Offer(
                referral_id=referral_id,
                provider_id=provider_id,
                capacity_id=capacity_id,
                mode=match.mode.value,
                distance_km=round(float(match.distance_km or 0.0), 3),
                distance_approximate=convert.approximate(
                    locked, next(p for p, _ in supply if p.id == provider_id)
                ),
                explanation=match.explanation,
                status=OfferStatus.OFFERED,
            )
            session.add(offer)
            locked.status = ReferralStatus.OFFERED
            session.flush()
            audit(
                session,
                principal,  # None when the system re-matches after a decline or no-show
                action="offer.made",
                entity_type="offer",
                entity_id=offer.id,
                after={
                    "provider_id": provider_id,
                    "mode": offer.mode,
                    "distance_km": offer.distance_km,
                    "by": "placement" if principal is not None else "re-match",
                },
                referral_id=referral_id,
            )
            return offer_read(offer)
    raise conflict(
        "Every feasible place was taken by other bookings while this one was being made.",
        reason=TAKEN_MEANWHILE,
    )


def rematch(db: Database, settings: Settings, referral_id: int) -> bool:
    """Offer a freed household a new place if one is free; ``False`` leaves it open."""
    try:
        place(db, settings, referral_id)
    except ProblemError as problem:
        log.info(
            "rematch found no place", extra={"referral_id": referral_id, "why": problem.detail}
        )
        return False
    return True


def run_matching(
    db: Database, settings: Settings, principal: Principal, time_limit: float | None
) -> MatchRunRead:
    """Match every open referral of the caller's council against current free capacity.

    The run, its decisions, the offers and the capacity counters are written in one
    transaction: a failure leaves nothing half-written.
    """
    if principal.organisation_kind is not OrganisationKind.COUNCIL:
        raise ProblemError(403, "Only a council runs matching over its referrals.")
    with db.read() as session:
        referrals = repo.open_referrals(session, principal.organisation_id)
        supply = repo.current_supply(session, _today())
        refused = refusals.refused_pairs(session, [r.id for r in referrals])
    result = convert.run_engine(
        convert.problem(referrals, supply), time_limit or settings.match_time_limit_s
    )
    capacity_of = {p.id: c.id for p, c in supply}
    site_of = {p.id: p for p, _ in supply}

    with db.write() as session:
        still_open = {
            r.id: r for r in repo.open_referrals(session, principal.organisation_id, lock=True)
        }
        capacities = repo.lock_capacity(session, list(capacity_of.values()))
        items: list[dict[str, Any]] = []
        offers: list[dict[str, Any]] = []
        offer_item_index: list[int] = []
        tiers = {"emergency": 0, "urgent": 0, "standard": 0}
        unmatched: dict[str, int] = {}
        total_km = 0.0
        for referral, match in zip(referrals, result.matches, strict=True):
            item: dict[str, Any] = {
                "referral_id": referral.id,
                "provider_id": None,
                "mode": None,
                "distance_km": None,
                "reason": match.reason.value,
                "explanation": match.explanation,
                "offer_id": None,
            }
            if match.matched and match.provider_id is not None and match.mode is not None:
                provider_id = int(match.provider_id)
                capacity = capacities.get(capacity_of[provider_id])
                current = still_open.get(referral.id)
                why_not = None
                if (referral.id, provider_id) in refused:
                    item["reason"] = DECLINED_BEFORE
                    why_not = (
                        "This site or its charity declined this household before, "
                        "so it was not re-offered."
                    )
                elif current is None:
                    item["reason"] = "not_open"
                    why_not = "The household was placed by another request during this run."
                elif (
                    capacity is None
                    or capacity.superseded_at is not None
                    or (convert.fits(current, capacity, match.mode.value) is not None)
                ):
                    item["reason"] = TAKEN_MEANWHILE
                    why_not = "The place was taken by another booking during this run."
                if why_not is None and capacity is not None and current is not None:
                    convert.book(capacity, current, match.mode.value)
                    item.update(
                        provider_id=provider_id,
                        mode=match.mode.value,
                        distance_km=round(float(match.distance_km or 0.0), 3),
                    )
                    offer_item_index.append(len(items))
                    offers.append(
                        {
                            "referral_id": referral.id,
                            "provider_id": provider_id,
                            "capacity_id": capacity.id,
                            "mode": match.mode.value,
                            "distance_km": item["distance_km"],
                            "distance_approximate": convert.approximate(
                                current, site_of[provider_id]
                            ),
                            "explanation": match.explanation,
                            "status": OfferStatus.OFFERED,
                        }
                    )
                    tiers[referral.urgency] += 1
                    total_km += item["distance_km"]
                else:
                    item["explanation"] = why_not or match.explanation
            if item["provider_id"] is None:
                unmatched[item["reason"]] = unmatched.get(item["reason"], 0) + 1
            items.append(item)

        run = MatchRun(
            organisation_id=principal.organisation_id,
            created_by_id=principal.user_id,
            status=result.status.value,
            method=result.method,
            referral_count=len(referrals),
            provider_count=len(supply),
            matched_emergency=tiers["emergency"],
            matched_urgent=tiers["urgent"],
            matched_standard=tiers["standard"],
            total_distance_km=round(total_km, 3),
            seconds=round(result.seconds, 3),
            unmatched_by_reason=unmatched,
        )
        session.add(run)
        session.flush()
        if offers:
            for offer in offers:
                offer["match_run_id"] = run.id
            offer_ids = session.scalars(
                insert(Offer).returning(Offer.id, sort_by_parameter_order=True), offers
            ).all()
            for index, offer_id in zip(offer_item_index, offer_ids, strict=True):
                items[index]["offer_id"] = offer_id
            session.execute(
                update(Referral),
                [{"id": o["referral_id"], "status": ReferralStatus.OFFERED} for o in offers],
            )
        for item in items:
            item["match_run_id"] = run.id
        if items:
            session.execute(insert(MatchRunItem), items)
        session.flush()
        index_match_run(session, run.id)  # bulk rows skip the flush hook: index them here
        offer_ids_made = [int(i["offer_id"]) for i in items if i.get("offer_id") is not None]
        audit(
            session,
            principal,
            action="match_run.completed",
            entity_type="match_run",
            entity_id=run.id,
            after={
                "status": run.status,
                "method": run.method,
                "referrals": run.referral_count,
                "sites": run.provider_count,
                "matched": dict(tiers),
                "unmatched": dict(unmatched),
                "offers_made": len(offer_ids_made),
                "offer_ids": [min(offer_ids_made), max(offer_ids_made)] if offer_ids_made else [],
            },
        )
        return match_run_read(run, repo.match_run_items(session, run.id))


def get_match_run(db: Database, principal: Principal, run_id: int) -> MatchRunRead:
    """One of the caller's council's match runs, with every decision."""
    with db.read() as session:
        run = repo.get_match_run(session, run_id)
        if run is None or run.organisation_id != principal.organisation_id:
            raise not_found("match run", run_id)
        return match_run_read(run, repo.match_run_items(session, run.id))


def list_match_runs(
    db: Database, principal: Principal, page: int, size: int
) -> Page[MatchRunSummary]:
    """The caller's council's match runs, newest first."""
    with db.read() as session:
        rows, total = repo.paginate(
            session, repo.council_match_runs(principal.organisation_id), page, size
        )
        items = [match_run_summary(r) for r in rows]
    return Page.of(items, total, page, size)
