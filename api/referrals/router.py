"""Referrals: submit, list, read; and place one now."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from api.auth.tokens import Principal, require_roles
from api.core.deps import AUTHED, DbDep, ObjectId, PageNumber, PageSize, SettingsDep, problems
from api.core.schemas import (
    NO_NUL,
    OfferRead,
    Page,
    ReferralCreate,
    ReferralForCharity,
    ReferralRead,
    ReferralView,
    WithdrawRequest,
)
from api.core.vocabulary import ReferralStatus, Role
from api.match_runs import service as matching
from api.referrals import attention, intake, timeline
from api.referrals import service as referrals

router = APIRouter(tags=["referrals"])
Caseworker = Annotated[Principal, Depends(require_roles(Role.CASEWORKER))]
Reader = Annotated[Principal, Depends(require_roles(Role.CASEWORKER, Role.CHARITY))]


@router.post(
    "/referrals",
    response_model=ReferralRead,
    status_code=201,
    summary="Submit a referral",
    responses=problems(*AUTHED, 409),
)
def create_referral(
    body: ReferralCreate,
    principal: Caseworker,
    db: DbDep,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Send the same key when retrying: one referral, the first response.",
        ),
    ] = None,
) -> JSONResponse:
    """A caseworker refers a household. Retries with one ``Idempotency-Key`` store it once.

    An emergency is offered the best free place at once (unless the council has turned that
    off: `FOODMATCH_PLACE_EMERGENCIES_ON_SUBMIT`); the answer shows its offer, or, if no place
    was free, the referral open for the next match run (its history says why)."""
    stored = intake.submit_referral(db, settings, principal, body, idempotency_key)
    headers = {"Location": f"/referrals/{stored.body['id']}"}
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(stored.body, status_code=stored.status, headers=headers)


@router.get(
    "/referrals",
    response_model=Page[ReferralView],
    summary="List referrals you may see",
    responses=problems(*AUTHED),
)
def list_referrals(
    principal: Reader,
    db: DbDep,
    page: PageNumber = 1,
    size: PageSize = 50,
    status: Annotated[
        ReferralStatus | None, Query(description="Only this status (councils only).")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=NO_NUL,
            description="Find by referral number (1501 or R1501), part of the household's "
            "name or postcode, or district (councils only).",
        ),
    ] = None,
    sort: Annotated[
        Literal["newest", "oldest", "urgency"],
        Query(description="Order: newest first, oldest first, or emergencies first."),
    ] = "newest",
) -> Page[ReferralRead | ReferralForCharity]:
    """A council's referrals; for a charity, the ones offered to it (minimised)."""
    return referrals.list_referrals(db, principal, page, size, status, q, sort)


@router.get(
    "/referrals/needs-attention",
    response_model=Page[attention.AttentionItem],
    summary="Referrals that need a caseworker",
    responses=problems(*AUTHED),
)
def needs_attention(
    principal: Caseworker,
    db: DbDep,
    settings: SettingsDep,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> Page[attention.AttentionItem]:
    """Your council's referrals that need you now, most pressing first: emergencies without
    a place, declined and not placed again, no-shows, and offers a food bank has not answered
    within `FOODMATCH_OFFER_ANSWER_HOURS` (48 by default)."""
    return attention.needs_attention(db, settings, principal, page, size)


@router.get(
    "/referrals/{referral_id}/history",
    response_model=list[timeline.TimelineEntry],
    summary="A referral's history",
    responses=problems(*AUTHED, 404),
)
def referral_history(
    referral_id: ObjectId, principal: Caseworker, db: DbDep
) -> list[timeline.TimelineEntry]:
    """Everything that happened to one of your council's referrals, oldest first: sent, each
    offer made, accepted, declined (with the reason and note), collected, delivered, no-show,
    withdrawn, match runs that left it unplaced, and messages (by time, not their text)."""
    return timeline.history(db, principal, referral_id)


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralView,
    summary="Read a referral",
    responses=problems(*AUTHED, 404),
)
def get_referral(
    referral_id: ObjectId, principal: Reader, db: DbDep
) -> ReferralRead | ReferralForCharity:
    """One referral in your organisation's view (minimised for a charity)."""
    return referrals.get_referral(db, principal, referral_id)


@router.post(
    "/referrals/{referral_id}/place",
    response_model=OfferRead,
    status_code=201,
    summary="Place a referral now",
    responses=problems(*AUTHED, 404, 409),
)
def place_referral(
    referral_id: ObjectId, principal: Caseworker, db: DbDep, settings: SettingsDep
) -> OfferRead:
    """Book the best feasible place at once; 409 says why none could be booked."""
    return matching.place_referral(db, settings, principal, referral_id)


@router.post(
    "/referrals/{referral_id}/withdraw",
    response_model=ReferralRead,
    summary="Withdraw a referral",
    responses=problems(*AUTHED, 404, 409),
)
def withdraw_referral(
    referral_id: ObjectId, body: WithdrawRequest, principal: Caseworker, db: DbDep
) -> ReferralRead:
    """The household no longer needs this referral: it is closed, and a place it held is freed
    (its offer becomes ``withdrawn``). 409 if it was already fulfilled or withdrawn."""
    return referrals.withdraw_referral(db, principal, referral_id, body)
