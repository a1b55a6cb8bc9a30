"""What the charity's history of households says (the offers' own schemas are shared, in
``api.core.schemas``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.core.schemas import ModeName, ReferralForCharity
from api.core.vocabulary import DeclineReason, OfferStatus


class OfferHistoryItem(BaseModel):
    """One household offered to one of the charity's sites, and what became of it.

    Each time is when that step was recorded; a step that did not happen is null. The
    household carries no personal data (no contact details, no notes), open or closed.
    """

    offer_id: int
    referral_id: int
    provider_id: int
    status: OfferStatus
    mode: ModeName
    offered_at: datetime
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    collected_at: datetime | None = None
    delivered_at: datetime | None = None
    no_show_at: datetime | None = None
    withdrawn_at: datetime | None = Field(
        default=None,
        description="When the council withdrew the referral (the place was given back).",
    )
    decline_reason: DeclineReason | None = None
    household: ReferralForCharity
