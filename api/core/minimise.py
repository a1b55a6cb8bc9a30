"""The one place personal data is cut down before it leaves the council.

A charity sees what it needs to decide on an offer: household size, dietary needs,
district, urgency, delivery. It sees name, phone, address and postcode only after it has
accepted the offer, and only if the household consented to share them.
"""

from __future__ import annotations

from api.core.schemas import PersonalDetails, ReferralForCharity
from api.core.tables import Offer, Referral, ReferralPersonal
from api.core.vocabulary import OfferStatus

CONTACT_VISIBLE_STATUSES = frozenset(
    {OfferStatus.ACCEPTED, OfferStatus.COLLECTED, OfferStatus.DELIVERED}
)
"""Offer statuses in which the accepting charity may see the household's contact details."""


def for_charity(
    referral: Referral, offer: Offer, personal: ReferralPersonal | None
) -> ReferralForCharity:
    """The minimised view of ``referral`` for the charity that holds ``offer``."""
    contact = None
    if referral.consent_to_share and offer.status in CONTACT_VISIBLE_STATUSES and personal:
        contact = PersonalDetails(
            name=personal.name,
            phone=personal.phone,
            address=personal.address,
            postcode=personal.postcode,
        )
    return ReferralForCharity(
        id=referral.id,
        household_size=referral.household_size,
        dietary=referral.dietary_tags,
        urgency=referral.urgency,
        district=referral.outcode,
        needs_delivery=referral.needs_delivery,
        offer_id=offer.id,
        offer_status=offer.status,
        contact=contact,
    )
