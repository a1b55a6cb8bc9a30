"""The one place personal data is cut down before it leaves the council.

A charity sees what it needs to decide on an offer: household size, dietary needs,
district, urgency, delivery. It sees name, phone, address and postcode only after it has
accepted the offer, only if the household consented to share them, and only until the offer
is closed (collected, delivered, no-show). The caseworker's
notes for the food bank ("Call after 3pm please") travel under the same rule, and only
redacted: the caller passes the redaction (``api.core`` knows no feature, so it cannot
reach the redaction component itself), and without one the notes stay at the council.

Once an offer is closed (collected, delivered, no-show, declined, withdrawn) its place in
the charity's history (:func:`for_history`) carries no personal data at all.
"""

from __future__ import annotations

from collections.abc import Callable

from api.core.schemas import PersonalDetails, ReferralForCharity
from api.core.tables import Offer, Referral, ReferralPersonal
from api.core.vocabulary import OfferStatus

CONTACT_VISIBLE_STATUSES = frozenset({OfferStatus.ACCEPTED})
"""Offer statuses in which the accepting charity may see the household's contact details:
only while it holds the accepted place. Once the parcel is collected or delivered (or the
household did not come) the offer is closed and the details are no longer given."""

NotesRedaction = Callable[[str, ReferralPersonal], str]
"""Redacts a note for the food bank, keeping only the household's own contact details."""


def for_charity(
    referral: Referral,
    offer: Offer,
    personal: ReferralPersonal | None,
    *,
    redact_notes: NotesRedaction | None = None,
) -> ReferralForCharity:
    """The minimised view of ``referral`` for the charity that holds ``offer``.

    Contact details and (with ``redact_notes``) the redacted notes for the food bank are
    given only once the charity has accepted and only if the household consented.
    """
    contact = None
    notes = None
    if referral.consent_to_share and offer.status in CONTACT_VISIBLE_STATUSES and personal:
        contact = PersonalDetails(
            name=personal.name,
            phone=personal.phone,
            address=personal.address,
            postcode=personal.postcode,
        )
        if redact_notes is not None and personal.notes and personal.notes.strip():
            notes = redact_notes(personal.notes, personal) or None
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
        notes=notes,
    )


def for_history(referral: Referral, offer: Offer) -> ReferralForCharity:
    """The household in the charity's history: what it was offered for, no personal data
    (no contact details, no notes), whatever the offer's status."""
    return ReferralForCharity(
        id=referral.id,
        household_size=referral.household_size,
        dietary=referral.dietary_tags,
        urgency=referral.urgency,
        district=referral.outcode,
        needs_delivery=referral.needs_delivery,
        offer_id=offer.id,
        offer_status=offer.status,
        contact=None,
        notes=None,
    )
