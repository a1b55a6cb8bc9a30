"""Pydantic models: the published ORUK 3.0 objects (with HSDS 3.1 capacities) and import reports.

Optional fields are left out of responses when empty (ORUK's schemata type them as strings or
numbers, never null). Field names and meanings are the ORUK 3.0 ones; ``capacities`` is HSDS
3.1's ``service_capacity``, which ORUK 3.0 does not have yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

T = TypeVar("T")

ServiceStatus = Literal["active", "inactive", "defunct", "temporarily closed"]
LocationType = Literal["physical", "postal", "virtual"]


class ApiMeta(BaseModel):
    """What this API is: the ORUK profile and version it follows."""

    version: str = Field(description="The HSDS profile and version: `HSDS-UK-3.0`.")
    profile: str = Field(description="Where the profile is described.")
    openapi_url: str = Field(description="The OpenAPI definition this API follows.")


class OrukPage(BaseModel, Generic[T]):
    """One page of a list, in the ORUK envelope."""

    total_items: int = Field(ge=0, description="How many items the list has in all.")
    total_pages: int = Field(ge=0, description="How many pages of `size` that makes.")
    page_number: int = Field(ge=1, description="This page's number (from 1).")
    size: int = Field(ge=1, description="The page size asked for (`per_page`).")
    first_page: bool
    last_page: bool
    empty: bool = Field(description="Whether this page holds no items.")
    contents: list[T]


class TaxonomyTerm(BaseModel):
    """A term of the food-support vocabulary."""

    id: UUID
    name: str
    description: str
    parent_id: UUID | None = None
    taxonomy: str | None = None
    taxonomy_id: UUID | None = None
    term: str | None = Field(default=None, description="The term's code (a dietary tag).")


class Taxonomy(BaseModel):
    """The food-support vocabulary."""

    id: UUID
    name: str
    description: str
    version: str | None = None
    taxonomy_terms: list[TaxonomyTerm] | None = None


class Attribute(BaseModel):
    """A taxonomy term attached to a service (what it offers, which diets it caters for)."""

    id: UUID
    link_id: UUID | None = None
    link_type: str | None = None
    taxonomy_term_id: UUID
    taxonomy_term: TaxonomyTerm


class Address(BaseModel):
    """A site's address (foodmatch itself holds only the postcode of sites made here)."""

    id: UUID
    address_1: str
    city: str
    region: str | None = None
    state_province: str
    postal_code: str
    country: str
    address_type: LocationType


class Location(BaseModel):
    """Where a site is."""

    id: UUID
    location_type: LocationType
    name: str | None = None
    description: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    addresses: list[Address] | None = None


class Organization(BaseModel):
    """The charity that runs the service."""

    id: UUID
    name: str
    description: str
    website: str | None = None


class Schedule(BaseModel):
    """When a service is open, as its directory gave it (kept for display)."""

    id: UUID
    valid_from: str | None = None
    valid_to: str | None = None
    dtstart: str | None = None
    freq: Literal["WEEKLY", "MONTHLY"] | None = None
    interval: int | float | None = None
    byday: str | None = None
    bymonthday: str | None = None
    description: str | None = None
    opens_at: str | None = None
    closes_at: str | None = None
    schedule_link: str | None = None
    attending_type: str | None = None
    notes: str | None = None


class ServiceArea(BaseModel):
    """Who a service is for: a postcode district (`LS9`) or area (`LS`), or the directory's
    words for it."""

    id: UUID
    name: str | None = None
    extent: str | None = None
    extent_type: str | None = None
    uri: str | None = None
    service_area: str | None = None


class Unit(BaseModel):
    """HSDS 3.1 unit of a capacity: food parcels."""

    id: UUID
    name: str
    identifier: str | None = None


class ServiceCapacity(BaseModel):
    """HSDS 3.1 ``service_capacity``: a site's food parcels in the current period."""

    id: UUID
    unit: Unit
    available: int = Field(ge=0, description="Parcels not yet offered to a household.")
    maximum: int | None = Field(default=None, ge=0, description="The period's figure.")
    description: str | None = None
    updated: datetime = Field(description="When the figure or a place held against it changed.")


class ServiceBrief(BaseModel):
    """A service's own fields, as nested in a service at a location."""

    id: UUID
    organization_id: UUID | None = None
    name: str
    description: str | None = None
    url: str | None = None
    status: ServiceStatus
    organization: Organization | None = None
    attributes: list[Attribute] | None = None
    capacities: list[ServiceCapacity] | None = None


class ServiceAtLocation(BaseModel):
    """A service at one location: one foodmatch site."""

    id: UUID
    service_id: UUID | None = None
    location_id: UUID | None = None
    location: Location
    service: ServiceBrief | None = None


class Service(BaseModel):
    """A fully nested ORUK 3.0 service with its HSDS 3.1 capacities."""

    id: UUID
    organization_id: UUID | None = None
    name: str
    description: str | None = None
    url: str | None = None
    status: ServiceStatus
    schedules: list[Schedule] | None = None
    service_areas: list[ServiceArea] | None = None
    service_at_locations: list[ServiceAtLocation] | None = None
    organization: Organization | None = None
    attributes: list[Attribute] | None = None
    capacities: list[ServiceCapacity] | None = None


# --- import reports ------------------------------------------------------------------------


class SiteOutcome(BaseModel):
    """What an import did with one site of the source."""

    key: str = Field(description="The ORUK service_at_location id, or the row's provider_id.")
    name: str
    site_id: int | None = Field(
        default=None, description="The foodmatch site (none if new in a dry run)."
    )
    changed: list[str] = Field(default_factory=list, description="Fields that changed.")
    reason: str | None = Field(default=None, description="Why it was closed or skipped.")


class OrganisationOutcome(BaseModel):
    """A charity the import added, linked to its ORUK id, or updated."""

    name: str
    organisation_id: int | None = None
    action: Literal["added", "linked", "updated"]


class CapacityOutcome(BaseModel):
    """What happened to a spreadsheet's capacity figure for one site this period."""

    key: str
    site_id: int | None = None
    action: Literal["set", "updated", "kept"]
    parcels: int
    reason: str | None = None


class ImportReport(BaseModel):
    """What an import added, updated, closed and skipped (the same from the CLI and the API)."""

    import_id: int | None = Field(
        default=None, description="The stored report (none in a dry run)."
    )
    source: str
    format: Literal["oruk", "csv", "xlsx"]
    dry_run: bool
    complete: bool = Field(
        description="Whether the source is the whole directory (then sites missing from it close)."
    )
    added: list[SiteOutcome] = Field(default_factory=list)
    updated: list[SiteOutcome] = Field(default_factory=list)
    closed: list[SiteOutcome] = Field(default_factory=list)
    skipped: list[SiteOutcome] = Field(default_factory=list)
    unchanged: int = 0
    organisations: list[OrganisationOutcome] = Field(default_factory=list)
    capacity: list[CapacityOutcome] = Field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        """Whether the import changed a site, a charity or a capacity figure."""
        return bool(
            self.added
            or self.updated
            or self.closed
            or self.organisations
            or any(c.action != "kept" for c in self.capacity)
        )
