"""Match runs: the engine over all open referrals, stored whole."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from api.auth.tokens import Principal, require_roles
from api.core.deps import AUTHED, DbDep, ObjectId, PageNumber, PageSize, SettingsDep, problems
from api.core.schemas import MatchRunCreate, MatchRunRead, MatchRunSummary, Page
from api.core.vocabulary import Role
from api.match_runs import service as matching

router = APIRouter(tags=["match runs"])
Matcher = Annotated[Principal, Depends(require_roles(Role.CASEWORKER, Role.PLANNER))]


@router.post(
    "/match-runs",
    response_model=MatchRunRead,
    status_code=201,
    summary="Match all open referrals now",
    responses=problems(*AUTHED),
)
def create_match_run(
    principal: Matcher,
    db: DbDep,
    settings: SettingsDep,
    body: Annotated[MatchRunCreate, Body(examples=[{}, {"time_limit_s": 10}])],
) -> MatchRunRead:
    """Run the engine over your council's open referrals and the free capacity of every site.

    Matched households get offers; the rest carry the reason. Stored in one transaction.
    Send ``{}`` for the defaults.
    """
    return matching.run_matching(db, settings, principal, body.time_limit_s)


@router.get(
    "/match-runs",
    response_model=Page[MatchRunSummary],
    summary="Your council's match runs",
    responses=problems(*AUTHED),
)
def list_match_runs(
    principal: Matcher, db: DbDep, page: PageNumber = 1, size: PageSize = 50
) -> Page[MatchRunSummary]:
    """Match runs, newest first, without their per-referral decisions."""
    return matching.list_match_runs(db, principal, page, size)


@router.get(
    "/match-runs/{run_id}",
    response_model=MatchRunRead,
    summary="Read a match run",
    responses=problems(*AUTHED, 404),
)
def get_match_run(run_id: ObjectId, principal: Matcher, db: DbDep) -> MatchRunRead:
    """Status, per-tier counts, every match with its explanation, the unmatched with reasons."""
    return matching.get_match_run(db, principal, run_id)
