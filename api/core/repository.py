"""The queries of the matching features: referrals, offers, sites and their capacity, match runs.

Functions take a Session and never commit. The record (``api.record``: threads, audit, FOI,
retention), the directory import (``api.directory.repository``) and accounts
(``api.auth``) keep their own queries beside their own tables; routers and pages make none
(``tests/test_boundaries.py`` checks that).

``lock=True`` adds ``FOR UPDATE`` (PostgreSQL row locks; SQLite ignores it and relies on the
``BEGIN IMMEDIATE`` write lock taken by ``Database.write``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from api.core.tables import (
    Capacity,
    MatchRun,
    MatchRunItem,
    Offer,
    Provider,
    Referral,
    ReferralPersonal,
)
from api.core.vocabulary import ACTIVE_OFFER_STATUSES, OfferStatus, ReferralStatus

R = TypeVar("R")


@dataclass
class Usage:
    """What the offers holding places at one capacity figure use up."""

    parcels: int = 0
    people: int = 0
    delivery: int = 0
    dietary: dict[str, int] = field(default_factory=dict)


def paginate(session: Session, query: Select[R], page: int, size: int) -> tuple[list[R], int]:
    """One page of ``query`` and the total number of rows it matches."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.offset((page - 1) * size).limit(size)).all()
    return list(rows), int(total)


# --- referrals -----------------------------------------------------------------------------


def get_referral(
    session: Session, referral_id: int, *, lock: bool = False, with_personal: bool = False
) -> Referral | None:
    """The referral with this id (any organisation), or ``None``."""
    query = select(Referral).where(Referral.id == referral_id)
    if with_personal:
        query = query.options(selectinload(Referral.personal))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def council_referrals(
    organisation_id: int,
    status: ReferralStatus | None = None,
    search: str | None = None,
    sort: str = "newest",
) -> Select[Referral]:
    """A council's referrals, newest first (``sort`` ``oldest`` or ``urgency``: emergencies
    first, then urgent, then standard, newest first within each).

    ``search`` finds a referral by its number (``1501`` or ``R1501``), or by part of the
    household's name or postcode, or by its district; letter case and spaces do not matter.
    """
    query = (
        select(Referral)
        .where(Referral.organisation_id == organisation_id)
        .options(selectinload(Referral.personal))
    )
    if status is not None:
        query = query.where(Referral.status == status)
    words = (search or "").strip()
    if words:
        query = query.where(_matching(words))
    if sort == "oldest":
        return query.order_by(Referral.id)
    if sort == "urgency":
        rank = case(
            (Referral.urgency == "emergency", 0), (Referral.urgency == "urgent", 1), else_=2
        )
        return query.order_by(rank, Referral.id.desc())
    return query.order_by(Referral.id.desc())


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching itself anywhere (its wildcards escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(words: str) -> ColumnElement[bool]:
    """Referrals whose number, household name, postcode or district match ``words``."""
    compact = words.replace(" ", "").upper()
    named = select(ReferralPersonal.referral_id).where(
        or_(
            func.lower(ReferralPersonal.name).like(_like(words.lower()), escape="\\"),
            func.replace(func.upper(ReferralPersonal.postcode), " ", "").like(
                _like(compact), escape="\\"
            ),
        )
    )
    found: list[ColumnElement[bool]] = [Referral.id.in_(named), Referral.outcode == compact]
    number = compact.removeprefix("R")
    if re.fullmatch(r"[0-9]{1,9}", number):
        found.append(Referral.id == int(number))
    return or_(*found)


def open_referrals(session: Session, organisation_id: int, *, lock: bool = False) -> list[Referral]:
    """A council's open referrals in submission order (the engine's input order)."""
    query = (
        select(Referral)
        .where(Referral.organisation_id == organisation_id, Referral.status == ReferralStatus.OPEN)
        .order_by(Referral.id)
    )
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query).all())


def charity_offers(organisation_id: int, status: OfferStatus | None = None) -> Select[Offer]:
    """Offers made to the sites of one charity, newest first."""
    query = (
        select(Offer)
        .join(Provider, Provider.id == Offer.provider_id)
        .where(Provider.organisation_id == organisation_id)
        .order_by(Offer.id.desc())
    )
    if status is not None:
        query = query.where(Offer.status == status)
    return query


def council_offers(organisation_id: int, status: OfferStatus | None = None) -> Select[Offer]:
    """Offers made for one council's referrals, newest first."""
    query = (
        select(Offer)
        .join(Referral, Referral.id == Offer.referral_id)
        .where(Referral.organisation_id == organisation_id)
        .order_by(Offer.id.desc())
    )
    if status is not None:
        query = query.where(Offer.status == status)
    return query


def charity_visible_offers(organisation_id: int) -> Select[Offer]:
    """Offers a charity may still see the household of: not declined, not withdrawn."""
    return charity_offers(organisation_id).where(
        Offer.status.not_in((OfferStatus.DECLINED, OfferStatus.WITHDRAWN))
    )


def offers_for_referrals(session: Session, referral_ids: Sequence[int]) -> dict[int, Offer]:
    """The active offer of each referral that has one."""
    if not referral_ids:
        return {}
    rows = session.scalars(
        select(Offer).where(
            Offer.referral_id.in_(referral_ids), Offer.status.in_(ACTIVE_OFFER_STATUSES)
        )
    ).all()
    return {offer.referral_id: offer for offer in rows}


def charity_offer_for_referral(
    session: Session, referral_id: int, organisation_id: int
) -> Offer | None:
    """The latest offer of this referral to one of the charity's sites, if not declined."""
    return session.scalars(
        charity_visible_offers(organisation_id).where(Offer.referral_id == referral_id).limit(1)
    ).first()


def refused_providers(session: Session, referral_id: int) -> set[int]:
    """Sites that declined this household, or where it did not show: not offered again."""
    rows = session.scalars(
        select(Offer.provider_id).where(
            Offer.referral_id == referral_id,
            Offer.status.in_((OfferStatus.DECLINED, OfferStatus.NO_SHOW)),
        )
    ).all()
    return set(rows)


def refused_pairs(session: Session, referral_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(referral, site) pairs that ended in a decline or a no-show."""
    ids = list(referral_ids)
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = session.execute(
            select(Offer.referral_id, Offer.provider_id).where(
                Offer.referral_id.in_(chunk),
                Offer.status.in_((OfferStatus.DECLINED, OfferStatus.NO_SHOW)),
            )
        ).all()
        pairs.update((int(r), int(p)) for r, p in rows)
    return pairs


# --- providers and capacity ----------------------------------------------------------------


def get_provider(session: Session, provider_id: int) -> Provider | None:
    """The site with this id (any organisation), or ``None``."""
    return session.get(Provider, provider_id)


def charity_providers(organisation_id: int) -> Select[Provider]:
    """A charity's sites, in creation order."""
    return select(Provider).where(Provider.organisation_id == organisation_id).order_by(Provider.id)


def live_capacity(session: Session, provider_ids: Sequence[int], on: date) -> dict[int, Capacity]:
    """Each site's live capacity figure for the period containing ``on``."""
    if not provider_ids:
        return {}
    rows = session.scalars(
        select(Capacity).where(
            Capacity.provider_id.in_(provider_ids),
            Capacity.superseded_at.is_(None),
            Capacity.period_start <= on,
            Capacity.period_end >= on,
        )
    ).all()
    return {row.provider_id: row for row in rows}


def current_supply(
    session: Session, on: date, *, near: tuple[float, float, float] | None = None
) -> list[tuple[Provider, Capacity]]:
    """Every site with a live capacity figure for ``on``, in site order.

    ``near=(latitude, longitude, km)`` keeps only sites inside a box that contains the circle
    of that radius (a cheap index-free prefilter; the engine measures the real distance).
    """
    query = (
        select(Provider, Capacity)
        .join(Capacity, Capacity.provider_id == Provider.id)
        .where(
            Capacity.superseded_at.is_(None),
            Capacity.period_start <= on,
            Capacity.period_end >= on,
            Provider.closed_at.is_(None),
        )
        .order_by(Provider.id)
    )
    if near is not None:
        latitude, longitude, km = near
        dlat = km / 110.5 * 1.01 + 1e-6
        dlon = km / (111.32 * max(math.cos(math.radians(latitude)), 0.01)) * 1.01 + 1e-6
        query = query.where(
            Provider.latitude.between(latitude - dlat, latitude + dlat),
            Provider.longitude.between(longitude - dlon, longitude + dlon),
        )
    rows = session.execute(query).all()
    return [(p, c) for p, c in rows]


def widest_delivery_km(session: Session) -> float:
    """The largest delivery radius of any site (how far a delivery can come from)."""
    return float(session.scalar(select(func.max(Provider.delivery_radius_km))) or 0.0)


def lock_capacity(session: Session, capacity_ids: Sequence[int]) -> dict[int, Capacity]:
    """Lock capacity rows (in id order, so lockers never deadlock) and return them fresh."""
    if not capacity_ids:
        return {}
    rows = session.scalars(
        select(Capacity)
        .where(Capacity.id.in_(sorted(set(capacity_ids))))
        .order_by(Capacity.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def capacity_history(provider_id: int) -> Select[Capacity]:
    """All capacity figures ever recorded for a site, newest first."""
    return select(Capacity).where(Capacity.provider_id == provider_id).order_by(Capacity.id.desc())


def live_rows_for_provider(session: Session, provider_id: int, *, lock: bool) -> list[Capacity]:
    """A site's live (not superseded) capacity figures."""
    query = select(Capacity).where(
        Capacity.provider_id == provider_id, Capacity.superseded_at.is_(None)
    )
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query).all())


def usage_by_capacity(session: Session, capacity_ids: Sequence[int]) -> dict[int, Usage]:
    """What the active offers at each capacity figure use up."""
    usage: dict[int, Usage] = {cid: Usage() for cid in capacity_ids}
    if not capacity_ids:
        return usage
    rows = session.execute(
        select(Offer.capacity_id, Offer.mode, Referral.household_size, Referral.dietary)
        .join(Referral, Referral.id == Offer.referral_id)
        .where(Offer.capacity_id.in_(capacity_ids), Offer.status.in_(ACTIVE_OFFER_STATUSES))
    ).all()
    for capacity_id, mode, household_size, dietary in rows:
        entry = usage[capacity_id]
        entry.parcels += 1
        entry.people += household_size
        if mode == "deliver":
            entry.delivery += 1
        for tag in filter(None, dietary.split(";")):
            entry.dietary[tag] = entry.dietary.get(tag, 0) + 1
    return usage


def active_offers_at(session: Session, capacity_id: int) -> list[Offer]:
    """Offers holding a place at one capacity figure."""
    return list(
        session.scalars(
            select(Offer).where(
                Offer.capacity_id == capacity_id, Offer.status.in_(ACTIVE_OFFER_STATUSES)
            )
        ).all()
    )


# --- offers and match runs -----------------------------------------------------------------


def get_offer(session: Session, offer_id: int, *, lock: bool = False) -> Offer | None:
    """The offer with this id, or ``None``."""
    query = select(Offer).where(Offer.id == offer_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def get_match_run(session: Session, run_id: int) -> MatchRun | None:
    """The match run with this id, or ``None``."""
    return session.get(MatchRun, run_id)


def match_run_items(session: Session, run_id: int) -> list[MatchRunItem]:
    """A run's decisions, in the engine's input order."""
    return list(
        session.scalars(
            select(MatchRunItem)
            .where(MatchRunItem.match_run_id == run_id)
            .order_by(MatchRunItem.id)
        ).all()
    )


def council_match_runs(organisation_id: int) -> Select[MatchRun]:
    """A council's match runs, newest first."""
    return (
        select(MatchRun)
        .where(MatchRun.organisation_id == organisation_id)
        .order_by(MatchRun.id.desc())
    )
