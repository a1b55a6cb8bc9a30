"""The service's words for who and where things stand: roles, organisation kinds, statuses, reasons.

Plain enumerations with no database or HTTP in them, so that the tables (``api.core.tables``),
the request and response schemas and the pages all take them from one place.
"""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    """A council refers households; a charity runs food sites."""

    COUNCIL = "council"
    CHARITY = "charity"


class Role(StrEnum):
    """What a user (or API key) may do."""

    CASEWORKER = "caseworker"
    CHARITY = "charity"
    PLANNER = "planner"
    FOI_OFFICER = "foi_officer"
    ADMIN = "admin"


class ReferralStatus(StrEnum):
    """Where a referral stands: waiting, offered to a site, accepted, served, or withdrawn by
    the council (no longer needed)."""

    OPEN = "open"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    FULFILLED = "fulfilled"
    WITHDRAWN = "withdrawn"


CLOSED_REFERRAL_STATUSES: tuple[ReferralStatus, ...] = (
    ReferralStatus.FULFILLED,
    ReferralStatus.WITHDRAWN,
)
"""Referrals that are finished: nothing more happens to them but retention."""


class OfferStatus(StrEnum):
    """The offer lifecycle: offered -> accepted/declined -> collected/delivered/no_show."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COLLECTED = "collected"
    DELIVERED = "delivered"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"  # the council withdrew the referral before it was served


ACTIVE_OFFER_STATUSES: tuple[OfferStatus, ...] = (
    OfferStatus.OFFERED,
    OfferStatus.ACCEPTED,
    OfferStatus.COLLECTED,
    OfferStatus.DELIVERED,
)
"""Offers that hold a place; declined, no-show and withdrawn offers have given theirs back."""


class WithdrawalReason(StrEnum):
    """Why a council withdrew a referral."""

    NO_LONGER_NEEDED = "no_longer_needed"
    HELPED_ELSEWHERE = "helped_elsewhere"
    DUPLICATE = "duplicate"
    HOUSEHOLD_UNCONTACTABLE = "household_uncontactable"
    OTHER = "other"


class DeclineReason(StrEnum):
    """Why a charity turned an offer down."""

    NO_STOCK = "no_stock"
    NO_CAPACITY = "no_capacity"
    CANNOT_MEET_DIETARY = "cannot_meet_dietary"
    OUT_OF_AREA = "out_of_area"
    HOUSEHOLD_UNREACHABLE = "household_unreachable"
    NOT_ELIGIBLE = "not_eligible"
    OTHER = "other"
