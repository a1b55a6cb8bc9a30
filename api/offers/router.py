"""The offer lifecycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth.tokens import Principal, require_roles
from api.core.deps import AUTHED, DbDep, ObjectId, PageNumber, PageSize, SettingsDep, problems
from api.core.schemas import (
    DeclineRequest,
    OfferChange,
    OfferRead,
    OutcomeRequest,
    Page,
    ReferralForCharity,
)
from api.core.vocabulary import OfferStatus, Role
from api.offers import history
from api.offers import service as offers
from api.offers.schemas import OfferHistoryItem

router = APIRouter(tags=["offers"])
Charity = Annotated[Principal, Depends(require_roles(Role.CHARITY))]
Party = Annotated[Principal, Depends(require_roles(Role.CHARITY, Role.CASEWORKER))]


@router.get(
    "/offers",
    response_model=Page[OfferRead],
    summary="Offers you are party to",
    responses=problems(*AUTHED),
)
def list_offers(
    principal: Party,
    db: DbDep,
    page: PageNumber = 1,
    size: PageSize = 50,
    status: Annotated[OfferStatus | None, Query(description="Only this status.")] = None,
) -> Page[OfferRead]:
    """Offers to your sites (charity) or for your referrals (caseworker), newest first."""
    return offers.list_offers(db, principal, page, size, status)


@router.get(
    "/offers/history",
    response_model=Page[OfferHistoryItem],
    summary="Your charity's history of households",
    responses=problems(*AUTHED),
)
def offer_history(
    principal: Charity,
    db: DbDep,
    page: PageNumber = 1,
    size: PageSize = 50,
    status: Annotated[OfferStatus | None, Query(description="Only this status.")] = None,
) -> Page[OfferHistoryItem]:
    """Every household offered to your sites, newest first: when it was offered, accepted,
    declined, collected, delivered, did not come or was withdrawn. No personal data."""
    return history.offer_history(db, principal, page, size, status)


@router.get(
    "/offers/{offer_id}/household",
    response_model=ReferralForCharity,
    summary="The household of an offer",
    responses=problems(*AUTHED, 404),
)
def offer_household(offer_id: ObjectId, principal: Charity, db: DbDep) -> ReferralForCharity:
    """The household as your charity may see it: its contact details and the council's
    notes for the food bank (redacted) once you have accepted, if it consented."""
    return offers.household_for_offer(db, principal, offer_id)


@router.get(
    "/offers/{offer_id}",
    response_model=OfferRead,
    summary="Read an offer",
    responses=problems(*AUTHED, 404),
)
def get_offer(offer_id: ObjectId, principal: Party, db: DbDep) -> OfferRead:
    """One offer."""
    return offers.get_offer(db, principal, offer_id)


@router.post(
    "/offers/{offer_id}/accept",
    response_model=OfferRead,
    summary="Accept an offer",
    responses=problems(*AUTHED, 404, 409),
)
def accept_offer(offer_id: ObjectId, principal: Charity, db: DbDep) -> OfferRead:
    """Take the household; its contact details open up if it consented."""
    return offers.accept(db, principal, offer_id)


@router.post(
    "/offers/{offer_id}/decline",
    response_model=OfferChange,
    summary="Decline an offer",
    responses=problems(*AUTHED, 404, 409),
)
def decline_offer(
    offer_id: ObjectId,
    body: DeclineRequest,
    principal: Charity,
    db: DbDep,
    settings: SettingsDep,
) -> OfferChange:
    """Turn the household down with a reason; the place is freed and it is matched again."""
    return offers.decline(db, settings, principal, offer_id, body)


@router.post(
    "/offers/{offer_id}/outcome",
    response_model=OfferChange,
    summary="Record what happened",
    responses=problems(*AUTHED, 404, 409),
)
def record_outcome(
    offer_id: ObjectId,
    body: OutcomeRequest,
    principal: Charity,
    db: DbDep,
    settings: SettingsDep,
) -> OfferChange:
    """Collected, delivered or no-show; a no-show frees the place and re-matches."""
    return offers.record_outcome(db, settings, principal, offer_id, body)
