"""A charity's sites and their capacity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth.tokens import Principal, require_roles
from api.core.deps import AUTHED, DbDep, ObjectId, PageNumber, PageSize, problems
from api.core.schemas import CapacityRead, CapacityUpdate, Page, ProviderCreate, ProviderRead
from api.core.vocabulary import Role
from api.sites import service as providers
from api.sites import weeks
from api.sites.schemas import CapacityCopy, WeekCapacity

router = APIRouter(tags=["providers"])
Charity = Annotated[Principal, Depends(require_roles(Role.CHARITY))]


@router.get(
    "/providers",
    response_model=Page[ProviderRead],
    summary="Your charity's sites",
    responses=problems(*AUTHED),
)
def list_providers(
    principal: Charity, db: DbDep, page: PageNumber = 1, size: PageSize = 50
) -> Page[ProviderRead]:
    """Your sites with their capacity for the current period."""
    return providers.list_providers(db, principal, page, size)


@router.post(
    "/providers",
    response_model=ProviderRead,
    status_code=201,
    summary="Add a site",
    responses=problems(*AUTHED),
)
def create_provider(body: ProviderCreate, principal: Charity, db: DbDep) -> ProviderRead:
    """Add a food bank or pantry site to your charity."""
    return providers.create_provider(db, principal, body)


@router.get(
    "/providers/{provider_id}",
    response_model=ProviderRead,
    summary="Read a site",
    responses=problems(*AUTHED, 404),
)
def get_provider(provider_id: ObjectId, principal: Charity, db: DbDep) -> ProviderRead:
    """One of your sites."""
    return providers.get_provider(db, principal, provider_id)


@router.put(
    "/providers/{provider_id}/capacity",
    response_model=CapacityRead,
    summary="Set a site's capacity for a period",
    responses=problems(*AUTHED, 404, 409, 422),
)
def set_capacity(
    provider_id: ObjectId, body: CapacityUpdate, principal: Charity, db: DbDep
) -> CapacityRead:
    """Record what the site can give in a period; the previous figure is kept as history.

    Cannot go below the places already offered for that period (409). Deliveries and each
    dietary stock limit cannot exceed the parcels (422, naming the field).
    """
    return providers.set_capacity(db, principal, provider_id, body)


@router.get(
    "/providers/{provider_id}/capacity",
    response_model=Page[CapacityRead],
    summary="A site's capacity history",
    responses=problems(*AUTHED, 404),
)
def capacity_history(
    provider_id: ObjectId,
    principal: Charity,
    db: DbDep,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> Page[CapacityRead]:
    """Every capacity figure recorded for the site, newest first."""
    return providers.capacity_history(db, principal, provider_id, page, size)


@router.get(
    "/providers/{provider_id}/capacity/weeks",
    response_model=list[WeekCapacity],
    summary="A site's capacity this week and the weeks ahead",
    responses=problems(*AUTHED, 404),
)
def capacity_weeks(
    provider_id: ObjectId,
    principal: Charity,
    db: DbDep,
    count: Annotated[
        int, Query(ge=1, le=weeks.MAX_WEEKS_AHEAD + 1, description="How many weeks, from this one.")
    ] = 4,
) -> list[WeekCapacity]:
    """Each Monday-to-Sunday week from this one, with the figure recorded for it (or null)."""
    return weeks.capacity_weeks(db, principal, provider_id, count)


@router.post(
    "/providers/{provider_id}/capacity/copy",
    response_model=CapacityRead,
    summary="Copy last week's capacity into a week",
    responses=problems(*AUTHED, 404, 409, 422),
)
def copy_capacity(
    provider_id: ObjectId, body: CapacityCopy, principal: Charity, db: DbDep
) -> CapacityRead:
    """Record the week starting `week_start` (a Monday, this week or later) with the figures
    of the week before it. 409 if that week has no figure, or if places already offered in
    the target week do not fit the copied figure."""
    return weeks.copy_previous_week(db, principal, provider_id, body.week_start)
