"""A charity's history: every household offered to its sites and what became of it.

The times come from the audit trail (``offer.accepted``, ``offer.declined``,
``offer.collected``, ``offer.delivered``, ``offer.no_show``: each recorded when the step was
taken) and from the referral's withdrawal; the offer's own ``created_at`` is when it was
made. The household is given through :func:`api.core.minimise.for_history`: no contact
details and no notes, so a closed offer shows nothing personal.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from api.auth.tokens import Principal
from api.core import minimise
from api.core import repository as repo
from api.core.db import Database
from api.core.errors import ProblemError
from api.core.schemas import Page
from api.core.tables import Referral
from api.core.vocabulary import OfferStatus, OrganisationKind
from api.offers.schemas import OfferHistoryItem
from api.record.tables import AuditEvent

STEPS = {
    "offer.accepted": "accepted_at",
    "offer.declined": "declined_at",
    "offer.collected": "collected_at",
    "offer.delivered": "delivered_at",
    "offer.no_show": "no_show_at",
}
"""Audit actions of the offer lifecycle and the history field each one dates."""


def offer_history(
    db: Database, principal: Principal, page: int, size: int, status: OfferStatus | None
) -> Page[OfferHistoryItem]:
    """Every offer made to the caller's charity's sites, newest first, with its dates."""
    if principal.organisation_kind is not OrganisationKind.CHARITY:
        raise ProblemError(403, "Only a charity has a history of households offered to it.")
    with db.read() as session:
        rows, total = repo.paginate(
            session, repo.charity_offers(principal.organisation_id, status), page, size
        )
        referral_ids = sorted({o.referral_id for o in rows})
        referrals = {
            r.id: r
            for r in session.scalars(select(Referral).where(Referral.id.in_(referral_ids))).all()
        }
        dates: dict[str, dict[str, datetime]] = {}
        if rows:
            wanted = {str(o.id) for o in rows}
            events = session.execute(
                select(AuditEvent.entity_id, AuditEvent.action, AuditEvent.occurred_at).where(
                    AuditEvent.referral_id.in_(referral_ids),
                    AuditEvent.entity_type == "offer",
                    AuditEvent.action.in_(list(STEPS)),
                )
            ).all()
            for entity_id, action, occurred_at in events:
                if entity_id in wanted:
                    dates.setdefault(entity_id, {})[STEPS[action]] = occurred_at
        items = []
        for offer in rows:
            referral = referrals[offer.referral_id]
            withdrawn = referral.withdrawn_at if offer.status is OfferStatus.WITHDRAWN else None
            items.append(
                OfferHistoryItem(
                    offer_id=offer.id,
                    referral_id=offer.referral_id,
                    provider_id=offer.provider_id,
                    status=offer.status,
                    mode="deliver" if offer.mode == "deliver" else "collect",
                    offered_at=offer.created_at,
                    withdrawn_at=withdrawn,
                    decline_reason=offer.decline_reason,
                    household=minimise.for_history(referral, offer),
                    **dates.get(str(offer.id), {}),
                )
            )
    return Page.of(items, total, page, size)
