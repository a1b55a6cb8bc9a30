"""What needs a caseworker's attention today, so nothing is learned only by e-mail or phone.

A referral of the caller's council is listed when one of these holds (the first that holds
names it, in this order):

1. ``emergency_unplaced``: an emergency still open, with no place;
2. ``declined``: its last offer was declined and it has not been placed again;
3. ``no_show``: the household did not come for its last offer and has not been placed again;
4. ``unanswered``: an offer the food bank has not answered for longer than the council allows
   (``offer_answer_hours``; ageing from when the offer was made).

The list is worked out from the referrals and their latest offers each time it is read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, or_, select

from api.auth.tokens import Principal
from api.core import lookups
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import ProblemError
from api.core.schemas import Page
from api.core.tables import Offer, Referral, ReferralPersonal, utcnow
from api.core.vocabulary import OfferStatus, OrganisationKind, ReferralStatus
from api.referrals.timeline import DECLINE_WORDS

AttentionReason = Literal["emergency_unplaced", "declined", "no_show", "unanswered"]


class AttentionItem(BaseModel):
    """One referral that needs the caseworker, and why, since when."""

    referral_id: int
    name: str | None = Field(description="The household's name, if the caseworker gave one.")
    urgency: str
    district: str | None
    reason: AttentionReason
    detail: str = Field(description="What happened, in plain words.")
    since: datetime = Field(description="When it started needing attention.")


def _hours(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} hour{'' if hours == 1 else 's'}"


def needs_attention(
    db: Database, settings: Settings, principal: Principal, page: int, size: int
) -> Page[AttentionItem]:
    """The council's referrals that need a caseworker now, most pressing first."""
    if principal.organisation_kind is not OrganisationKind.COUNCIL:
        raise ProblemError(403, "Only a council's caseworkers have referrals to attend to.")
    now = utcnow()
    cutoff = now - timedelta(hours=settings.offer_answer_hours)
    latest = (
        select(Offer.referral_id, func.max(Offer.id).label("offer_id"))
        .group_by(Offer.referral_id)
        .subquery()
    )
    is_open = Referral.status == ReferralStatus.OPEN
    emergency = and_(is_open, Referral.urgency == "emergency")
    declined = and_(is_open, Offer.status == OfferStatus.DECLINED)
    no_show = and_(is_open, Offer.status == OfferStatus.NO_SHOW)
    unanswered = and_(
        Referral.status == ReferralStatus.OFFERED,
        Offer.status == OfferStatus.OFFERED,
        Offer.created_at < cutoff,
    )
    rank = case((emergency, 0), (declined, 1), (no_show, 2), else_=3)
    query = (
        select(Referral, Offer, ReferralPersonal.name)
        .outerjoin(latest, latest.c.referral_id == Referral.id)
        .outerjoin(Offer, Offer.id == latest.c.offer_id)
        .outerjoin(ReferralPersonal, ReferralPersonal.referral_id == Referral.id)
        .where(
            Referral.organisation_id == principal.organisation_id,
            or_(emergency, declined, no_show, unanswered),
        )
        .order_by(rank, Referral.id)
    )
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(query.offset((page - 1) * size).limit(size)).all()
    sites = lookups.site_names(db, [o.provider_id for _r, o, _n in rows if o is not None])
    items = []
    for referral, offer, name in rows:
        site = sites.get(offer.provider_id, ("the site", ""))[0] if offer is not None else ""
        reason: AttentionReason
        if referral.status is ReferralStatus.OPEN and referral.urgency == "emergency":
            reason, since = "emergency_unplaced", referral.created_at
            detail = "An emergency with no place yet."
            if offer is not None and offer.status is OfferStatus.DECLINED:
                detail += f" {site} declined it."
                since = offer.updated_at
            elif offer is not None and offer.status is OfferStatus.NO_SHOW:
                detail += f" The household did not come to {site}."
                since = offer.updated_at
        elif offer is not None and offer.status is OfferStatus.DECLINED:
            reason, since = "declined", offer.updated_at
            why = DECLINE_WORDS.get(offer.decline_reason) if offer.decline_reason else None
            detail = f"{site} declined the place" + (f" because {why}." if why else ".")
            detail += " No other site had a free place; it waits for the next match run."
        elif offer is not None and offer.status is OfferStatus.NO_SHOW:
            reason, since = "no_show", offer.updated_at
            detail = f"The household did not come to {site} for its parcel."
        else:
            assert offer is not None
            reason, since = "unanswered", offer.created_at
            detail = f"{site} has not answered the offer for {_hours(now - offer.created_at)}."
        items.append(
            AttentionItem(
                referral_id=referral.id,
                name=name,
                urgency=referral.urgency,
                district=referral.outcode,
                reason=reason,
                detail=detail,
                since=since,
            )
        )
    return Page.of(items, int(total), page, size)
