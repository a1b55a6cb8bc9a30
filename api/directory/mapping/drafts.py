"""What an import makes of a source before it touches the database: site drafts.

A :class:`SiteDraft` is one site as a source describes it (with the charity that runs it,
:class:`OrganisationRef`, and a spreadsheet's :class:`CapacityDraft`); a :class:`Skip` says
why a listed service gives no site. :func:`sheet_draft` makes a draft of a spreadsheet row;
:func:`site_fields` and :func:`record_fields` are what a draft writes to a site and to its
directory record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matching.models import Provider as ProviderModel


@dataclass(frozen=True, slots=True)
class OrganisationRef:
    """The charity a service names: its ORUK id, and its own fields when nested."""

    oruk_id: str | None
    name: str | None
    description: str = ""
    website: str | None = None


@dataclass(frozen=True, slots=True)
class CapacityDraft:
    """A spreadsheet's capacity for the current period."""

    parcels: int
    people: int | None
    delivery: int
    dietary: dict[str, int | None]


@dataclass(slots=True)
class SiteDraft:
    """One site as the source describes it, ready to compare with what is stored."""

    key: str
    where: str
    name: str
    postcode: str | None
    outcode: str | None
    latitude: float
    longitude: float
    service_area: str
    open: bool = True
    closed_reason: str | None = None
    organisation: OrganisationRef | None = None
    service_id: str | None = None
    location_id: str | None = None
    service_name: str | None = None
    description: str = ""
    url: str | None = None
    location_name: str | None = None
    address: dict[str, Any] | None = None
    schedules: list[dict[str, Any]] = field(default_factory=list)
    service_areas: list[dict[str, Any]] = field(default_factory=list)
    dietary: str = ""
    delivery_radius_km: float | None = None
    capacity: CapacityDraft | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """A service the source lists that becomes no site, and why."""

    key: str
    name: str
    reason: str


def sheet_draft(provider: ProviderModel, row: int) -> SiteDraft:
    """A site from a providers row (already checked by the contract's reader)."""
    return SiteDraft(
        key=provider.provider_id,
        where=f"row {row}",
        name=provider.name,
        postcode=provider.postcode,
        outcode=provider.outcode,
        latitude=provider.latitude,
        longitude=provider.longitude,
        service_area=";".join(sorted(provider.service_area)),
        delivery_radius_km=provider.delivery_radius_km,
        capacity=CapacityDraft(
            parcels=provider.capacity,
            people=provider.people_capacity,
            delivery=provider.delivery_capacity,
            dietary=dict(provider.dietary),
        ),
    )


def site_fields(draft: SiteDraft) -> dict[str, Any]:
    """The site columns a draft sets (a spreadsheet also sets the delivery radius)."""
    values: dict[str, Any] = {
        "name": draft.name,
        "postcode": draft.postcode,
        "outcode": draft.outcode,
        "latitude": draft.latitude,
        "longitude": draft.longitude,
        "service_area": draft.service_area,
    }
    if draft.delivery_radius_km is not None:
        values["delivery_radius_km"] = draft.delivery_radius_km
    return values


def record_fields(draft: SiteDraft) -> dict[str, Any]:
    """The directory columns an ORUK draft sets (a spreadsheet sets none of them)."""
    if draft.service_id is None:
        return {}
    return {
        "oruk_service_id": draft.service_id,
        "oruk_location_id": draft.location_id,
        "service_name": draft.service_name,
        "description": draft.description,
        "url": draft.url,
        "location_name": draft.location_name,
        "address": draft.address,
        "schedules": draft.schedules,
        "service_areas": draft.service_areas,
        "dietary": draft.dietary,
    }
