"""Publish: foodmatch sites -> ORUK 3.0 objects.

Each site is a ``service_at_location`` of its service; sites imported from one
multi-location service are published together under that service's id again, and objects
made in foodmatch get ids from the installation's namespace (``api.directory.ids``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from api.core.tables import Capacity, Organisation, Provider
from api.directory import ids
from api.directory import schemas as s
from api.directory.tables import DirectoryOrganisation, DirectorySite
from api.directory.vocabulary import FOOD_DELIVERY, FOOD_PARCEL, Term, vocabulary
from matching.models import DIETARY_TAGS

ORGANISATION_DESCRIPTION = "Runs food sites that take referrals through foodmatch."
ORUK_VERSION = "HSDS-UK-3.0"
ORUK_PROFILE = "https://openreferraluk.org/"
ORUK_OPENAPI = "https://openreferraluk.org/specifications/3.0/openapi.json"


@dataclass(slots=True)
class Site:
    """One open site and everything publishing it needs."""

    provider: Provider
    organisation: Organisation
    organisation_record: DirectoryOrganisation | None
    record: DirectorySite | None
    capacity: Capacity | None
    capacity_updated: datetime | None = None

    def service_key(self) -> str:
        """Sites of one imported service share this; a site made here is its own service."""
        if self.record is not None and self.record.oruk_service_id:
            return self.record.oruk_service_id
        return f"site:{self.provider.id}"

    def dietary_tags(self) -> list[str]:
        """The diets the site caters for: listed this period, or as its directory said."""
        if self.capacity is not None:
            listed = set(self.capacity.dietary)
        else:
            listed = set(filter(None, (self.record.dietary if self.record else "").split(";")))
        return [t for t in DIETARY_TAGS if t in listed]

    def delivers(self) -> bool:
        """Whether the site delivers this period."""
        return (
            self.capacity is not None
            and self.capacity.delivery > 0
            and self.provider.delivery_radius_km > 0
        )


def _uuid(text: str) -> uuid.UUID:
    return uuid.UUID(text)


def organization_id(space: uuid.UUID, site: Site) -> uuid.UUID:
    """The organisation's ORUK id, or its public UUID when it was made here."""
    if site.organisation_record is not None:
        return _uuid(site.organisation_record.oruk_id)
    return ids.encode(space, ids.Kind.ORGANIZATION, site.organisation.id)


def service_id(space: uuid.UUID, site: Site) -> uuid.UUID:
    """The service's ORUK id, or its public UUID when the site was made here."""
    if site.record is not None and site.record.oruk_service_id:
        return _uuid(site.record.oruk_service_id)
    return ids.encode(space, ids.Kind.SERVICE, site.provider.id)


def location_id(space: uuid.UUID, site: Site) -> uuid.UUID:
    """The location's ORUK id, or its public UUID."""
    if site.record is not None and site.record.oruk_location_id:
        return _uuid(site.record.oruk_location_id)
    return ids.encode(space, ids.Kind.LOCATION, site.provider.id)


def service_at_location_id(space: uuid.UUID, site: Site) -> uuid.UUID:
    """The service_at_location's ORUK id, or its public UUID."""
    if site.record is not None and site.record.oruk_service_at_location_id:
        return _uuid(site.record.oruk_service_at_location_id)
    return ids.encode(space, ids.Kind.SERVICE_AT_LOCATION, site.provider.id)


def taxonomy_term(term: Term) -> s.TaxonomyTerm:
    """A vocabulary term as ORUK publishes it."""
    words = vocabulary()
    return s.TaxonomyTerm(
        id=_uuid(term.id),
        name=term.name,
        description=term.description,
        parent_id=_uuid(term.parent_id) if term.parent_id else None,
        taxonomy=words.name,
        taxonomy_id=_uuid(words.taxonomy_id),
        term=term.term,
    )


def taxonomy(*, with_terms: bool) -> s.Taxonomy:
    """The food-support vocabulary."""
    words = vocabulary()
    return s.Taxonomy(
        id=_uuid(words.taxonomy_id),
        name=words.name,
        description=words.description,
        version=words.version,
        taxonomy_terms=[taxonomy_term(t) for t in words.terms] if with_terms else None,
    )


def organization(space: uuid.UUID, site: Site) -> s.Organization:
    """The charity running a site."""
    record = site.organisation_record
    return s.Organization(
        id=organization_id(space, site),
        name=site.organisation.name,
        description=(record.description if record else "") or ORGANISATION_DESCRIPTION,
        website=record.website if record else None,
    )


def location(space: uuid.UUID, site: Site) -> s.Location:
    """Where a site is: its coordinates and address (a site made here: its postcode only)."""
    record, provider = site.record, site.provider
    place = location_id(space, site)
    addresses: list[s.Address] | None = None
    if record is not None and record.address:
        stored = dict(record.address)
        stored.setdefault("id", str(ids.child(place, "address")))
        addresses = [s.Address.model_validate(stored)]
    elif provider.postcode:
        addresses = [
            s.Address(
                id=ids.child(place, "address"),
                address_1="",
                city="",
                state_province="",
                postal_code=provider.postcode,
                country="GB",
                address_type="physical",
            )
        ]
    return s.Location(
        id=place,
        location_type="physical",
        name=(record.location_name if record else None) or provider.name,
        latitude=provider.latitude,
        longitude=provider.longitude,
        addresses=addresses,
    )


def _period_text(start: date, end: date) -> str:
    return f"{start.isoformat()} to {end.isoformat()}"


def capacity(space: uuid.UUID, site: Site) -> s.ServiceCapacity | None:
    """HSDS 3.1 service_capacity of a site this period (``None`` without a figure)."""
    figure = site.capacity
    if figure is None:
        return None
    words = vocabulary()
    place = site.record.location_name if site.record and site.record.location_name else None
    where = place or site.provider.name
    return s.ServiceCapacity(
        id=ids.child(service_at_location_id(space, site), "capacity:food_parcels"),
        unit=s.Unit(
            id=_uuid(words.unit_id), name=words.unit_name, identifier=words.unit_identifier
        ),
        available=max(figure.parcels - figure.parcels_booked, 0),
        maximum=figure.parcels,
        description=(
            f"Food parcels at {where} for {_period_text(figure.period_start, figure.period_end)}: "
            "maximum is the period's figure, available what is not yet offered to a household."
        ),
        updated=max(figure.created_at, site.capacity_updated or figure.created_at),
    )


def _attributes(link: uuid.UUID, sites: Iterable[Site]) -> list[s.Attribute]:
    words = vocabulary()
    codes = {FOOD_PARCEL}
    for site in sites:
        codes.update(site.dietary_tags())
        if site.delivers():
            codes.add(FOOD_DELIVERY)
    terms = [t for t in words.terms if t.term in codes]
    return [
        s.Attribute(
            id=ids.child(link, f"attribute:{term.id}"),
            link_id=link,
            link_type="service",
            taxonomy_term_id=_uuid(term.id),
            taxonomy_term=taxonomy_term(term),
        )
        for term in terms
    ]


def _service_areas(link: uuid.UUID, sites: Sequence[Site]) -> list[s.ServiceArea]:
    areas: dict[uuid.UUID, s.ServiceArea] = {}
    for site in sites:
        if site.record is not None and site.record.oruk_service_id:
            for stored in site.record.service_areas:
                item = dict(stored)
                item.setdefault("id", str(ids.child(link, f"service_area:{item.get('name')}")))
                area = s.ServiceArea.model_validate(item)
                areas.setdefault(area.id, area)
            continue
        for code in filter(None, site.provider.service_area.split(";")):
            area = s.ServiceArea(
                id=ids.child(link, f"service_area:{code}"), name=code, service_area=code
            )
            areas.setdefault(area.id, area)
    return list(areas.values())


def _schedules(sites: Sequence[Site]) -> list[s.Schedule]:
    found: dict[uuid.UUID, s.Schedule] = {}
    for site in sites:
        for stored in site.record.schedules if site.record else []:
            if "id" not in stored:
                continue
            schedule = s.Schedule.model_validate(stored)
            found.setdefault(schedule.id, schedule)
    return list(found.values())


def _service_name(site: Site) -> str:
    if site.record is not None and site.record.service_name:
        return site.record.service_name
    return site.provider.name


def service_brief(space: uuid.UUID, site: Site) -> s.ServiceBrief:
    """A service's own fields, nested in one of its sites."""
    link = service_id(space, site)
    figure = capacity(space, site)
    return s.ServiceBrief(
        id=link,
        organization_id=organization_id(space, site),
        name=_service_name(site),
        description=(site.record.description if site.record else "") or None,
        url=site.record.url if site.record else None,
        status="active",
        organization=organization(space, site),
        attributes=_attributes(link, [site]),
        capacities=[figure] if figure else [],
    )


def service_at_location(space: uuid.UUID, site: Site, *, with_service: bool) -> s.ServiceAtLocation:
    """One site as an ORUK service_at_location."""
    return s.ServiceAtLocation(
        id=service_at_location_id(space, site),
        service_id=service_id(space, site),
        location_id=location_id(space, site),
        location=location(space, site),
        service=service_brief(space, site) if with_service else None,
    )


def service(space: uuid.UUID, sites: Sequence[Site]) -> s.Service:
    """A fully nested ORUK service: its sites, charity, schedules, areas, terms, capacities."""
    first = sites[0]
    link = service_id(space, first)
    capacities = [c for c in (capacity(space, site) for site in sites) if c is not None]
    return s.Service(
        id=link,
        organization_id=organization_id(space, first),
        name=_service_name(first),
        description=(first.record.description if first.record else "") or None,
        url=first.record.url if first.record else None,
        status="active",
        schedules=_schedules(sites),
        service_areas=_service_areas(link, sites),
        service_at_locations=[
            service_at_location(space, site, with_service=False) for site in sites
        ],
        organization=organization(space, first),
        attributes=_attributes(link, sites),
        capacities=capacities,
    )


def api_meta() -> s.ApiMeta:
    """The ORUK root object."""
    return s.ApiMeta(version=ORUK_VERSION, profile=ORUK_PROFILE, openapi_url=ORUK_OPENAPI)
