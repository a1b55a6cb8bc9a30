"""The few reads pages need that no service offers yet, built on the repository.

Each is a read-only lookup for display (names, the latest decision, the live snapshot);
nothing here decides or changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.auth.tokens import Principal
from api.core import clock, minimise
from api.core import repository as repo
from api.core.db import Database
from api.core.schemas import ReferralForCharity
from api.core.tables import MatchRunItem, Offer, Organisation, Provider, Referral
from api.match_runs import adapter as convert
from api.record import foi
from api.record.search import SearchFilters, SearchPage, search
from matching.models import Problem


def site_names(db: Database, provider_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{site id: (site name, charity name)}`` for display next to offers."""
    ids = sorted(set(provider_ids))
    if not ids:
        return {}
    with db.read() as session:
        rows = session.execute(
            select(Provider.id, Provider.name, Organisation.name)
            .join(Organisation, Organisation.id == Provider.organisation_id)
            .where(Provider.id.in_(ids))
        ).all()
    return {pid: (site, charity) for pid, site, charity in rows}


def organisation_names(db: Database, organisation_ids: Iterable[int]) -> dict[int, str]:
    """``{organisation id: name}`` for message authors."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return {}
    with db.read() as session:
        rows = session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
        ).all()
    return {oid: name for oid, name in rows}


def latest_decision(db: Database, referral_id: int) -> tuple[str, str] | None:
    """The engine's latest (reason, explanation) for a referral, if a match run saw it.

    Callers have already checked that the viewer's council owns the referral.
    """
    with db.read() as session:
        row = session.execute(
            select(MatchRunItem.reason, MatchRunItem.explanation)
            .where(MatchRunItem.referral_id == referral_id)
            .order_by(MatchRunItem.id.desc())
            .limit(1)
        ).first()
    return None if row is None else (row[0], row[1])


def live_problem(db: Database, principal: Principal) -> Problem:
    """Today's snapshot for a planner: the council's open referrals and every site's free
    capacity, as the engine would see them in a match run now."""
    with db.read() as session:
        referrals = repo.open_referrals(session, principal.organisation_id)
        supply = repo.current_supply(session, clock.today())
        return convert.problem(referrals, supply)


def foi_search(
    db: Database, principal: Principal, query: str, filters: SearchFilters, page: int, size: int
) -> SearchPage:
    """The record search the FOI API runs, in the reader's scope (redacted for officers)."""
    with db.read() as session:
        return search(
            session,
            query=query,
            scope=foi.scope_of(principal),
            filters=filters,
            page=page,
            size=size,
        )


def households_for_offers(
    db: Database, principal: Principal, offer_ids: Iterable[int]
) -> dict[int, ReferralForCharity]:
    """``{offer id: the household as the charity may see it}`` for the charity's own offers.

    The batch form of ``referrals.get_referral`` for a charity's list page (two queries
    instead of three per offer); every household still goes through ``api.core.minimise``.
    Offers at another organisation's sites are left out.
    """
    ids = sorted(set(offer_ids))
    if not ids:
        return {}
    with db.read() as session:
        own = list(
            session.scalars(
                select(Offer)
                .join(Provider, Provider.id == Offer.provider_id)
                .where(Offer.id.in_(ids), Provider.organisation_id == principal.organisation_id)
            ).all()
        )
        referrals = {
            r.id: r
            for r in session.scalars(
                select(Referral)
                .where(Referral.id.in_({o.referral_id for o in own}))
                .options(selectinload(Referral.personal))
            ).all()
        }
        return {
            o.id: minimise.for_charity(
                referrals[o.referral_id], o, referrals[o.referral_id].personal
            )
            for o in own
        }
