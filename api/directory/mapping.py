"""ORUK 3.0 <-> foodmatch sites, field by field (docs/directory.md walks through the same table).

Import: each *physical* ``service_at_location`` of a service becomes one site (a
:class:`SiteDraft`), run by the charity its ``organization`` names. Publish: each site is a
``service_at_location`` of its service; sites imported from one multi-location service are
published together under that service's id again. Nothing here touches the database.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from api.core.tables import Capacity, Organisation, Provider
from api.directory import ids
from api.directory import schemas as s
from api.directory.schemata import service_errors
from api.directory.sources import Problem
from api.directory.tables import DirectoryOrganisation, DirectorySite
from api.directory.vocabulary import FOOD_DELIVERY, FOOD_PARCEL, Term, vocabulary
from matching.geo import Gazetteer, is_service_area_entry, postcode_area, split_postcode
from matching.models import DIETARY_TAGS
from matching.models import Provider as ProviderModel

UK_LATITUDE = (49.0, 61.0)
UK_LONGITUDE = (-9.0, 2.0)
UK_COUNTRIES = frozenset(
    {"gb", "gbr", "uk", "united kingdom", "england", "scotland", "wales", "northern ireland"}
)
NAME_MAX = 200
URL_MAX = 500
DESCRIPTION_MAX = 10_000
SCHEDULE_FIELDS = tuple(s.Schedule.model_fields)
SERVICE_AREA_FIELDS = tuple(s.ServiceArea.model_fields)
ADDRESS_FIELDS = tuple(s.Address.model_fields)
CLOSED_STATUSES = {
    "inactive": "inactive in the directory",
    "defunct": "defunct in the directory",
    "temporarily closed": "temporarily closed in the directory",
}
ORGANISATION_DESCRIPTION = "Runs food sites that take referrals through foodmatch."
ORUK_VERSION = "HSDS-UK-3.0"
ORUK_PROFILE = "https://openreferraluk.org/"
ORUK_OPENAPI = "https://openreferraluk.org/specifications/3.0/openapi.json"


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


# --- import: ORUK service -> site drafts ---------------------------------------------------


class _Checker:
    """Collects the problems of one service."""

    def __init__(self, source: str, service_id: str) -> None:
        self.source = source
        self.service_id = service_id
        self.problems: list[Problem] = []

    def fail(self, field_name: str, message: str) -> None:
        self.problems.append(
            Problem(self.source, message, service_id=self.service_id, field=field_name)
        )


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a list (anything else in it, or a non-list, the schema check reports)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _known_areas(gazetteer: Gazetteer) -> frozenset[str]:
    return frozenset(postcode_area(code) for code in gazetteer.centroids)


def _area_code(area: dict[str, Any], gazetteer: Gazetteer, areas: frozenset[str]) -> str | None:
    """The outward code or postcode area a service area names, if it names a real one."""
    for key in ("name", "service_area", "extent"):
        text = _text(area.get(key))
        if text is None:
            continue
        code = text.upper().replace(" ", "")
        if is_service_area_entry(code) and (code in gazetteer.centroids or code in areas):
            return code
    return None


def _clean(value: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Only the fields foodmatch publishes again, with their plain (string or number) values."""
    return {
        k: value[k]
        for k in fields
        if k in value and isinstance(value[k], str | int | float) and not isinstance(value[k], bool)
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _postcode(text: str) -> tuple[str, str] | None:
    """(normalised postcode, outward code) of a UK postcode, or ``None``."""
    parts = split_postcode(text)
    if parts is None:
        return None
    outcode, inward = parts
    return (outcode if inward is None else f"{outcode} {inward}"), outcode


def _organisation(service: dict[str, Any], check: _Checker) -> OrganisationRef | None:
    nested = service.get("organization")
    top = _text(service.get("organization_id"))
    if isinstance(nested, dict):
        nested_id = _text(nested.get("id"))
        if top is not None and nested_id is not None and top.lower() != nested_id.lower():
            check.fail(
                "organization_id", f"names {top}, but the nested organization is {nested_id}"
            )
        name = _text(nested.get("name"))
        if name is not None and len(name) > NAME_MAX:
            check.fail("organization.name", f"expected at most {NAME_MAX} characters")
        website = _text(nested.get("website"))
        if website is not None and len(website) > URL_MAX:
            check.fail("organization.website", f"expected at most {URL_MAX} characters")
        return OrganisationRef(
            oruk_id=(nested_id or top or "").lower() or None,
            name=name,
            description=_text(nested.get("description")) or "",
            website=website,
        )
    if top is not None:
        return OrganisationRef(oruk_id=top.lower(), name=None)
    return None


def _dietary(attributes: Any) -> set[str]:
    tags: set[str] = set()
    words = vocabulary()
    for attribute in _dicts(attributes):
        term = attribute.get("taxonomy_term")
        tag = words.dietary_tag(
            term if isinstance(term, dict) else None, _text(attribute.get("taxonomy_term_id"))
        )
        if tag is not None:
            tags.add(tag)
    return tags


def _place(
    location: dict[str, Any], prefix: str, check: _Checker, gazetteer: Gazetteer
) -> tuple[float, float, str | None, str | None, dict[str, Any] | None] | None:
    """(latitude, longitude, postcode, outcode, address) of a physical location."""
    addresses = _dicts(location.get("addresses"))
    chosen = next((a for a in addresses if a.get("address_type") == "physical"), None)
    chosen = chosen or (addresses[0] if addresses else None)
    postcode = outcode = None
    address_index = addresses.index(chosen) if chosen is not None else 0
    if chosen is not None:
        where = f"{prefix}.addresses[{address_index}]"
        country = _text(chosen.get("country"))
        if country is not None and country.lower() not in UK_COUNTRIES:
            check.fail(f"{where}.country", f"expected a UK address (GB), got {country!r}")
        raw = _text(chosen.get("postal_code"))
        if raw is not None:
            parsed = _postcode(raw)
            if parsed is None:
                check.fail(f"{where}.postal_code", f"expected a UK postcode, got {raw!r}")
            else:
                postcode, outcode = parsed
    raw_lat, raw_lon = location.get("latitude"), location.get("longitude")
    lat, lon = _number(raw_lat), _number(raw_lon)
    if (raw_lat is None) != (raw_lon is None):
        missing = "longitude" if raw_lon is None else "latitude"
        check.fail(f"{prefix}.{missing}", "latitude and longitude must be given together")
        return None
    if raw_lat is not None:
        good = True
        if lat is None or not UK_LATITUDE[0] <= lat <= UK_LATITUDE[1]:
            low, high = UK_LATITUDE
            check.fail(
                f"{prefix}.latitude", f"expected a UK latitude ({low} to {high}), got {raw_lat!r}"
            )
            good = False
        if lon is None or not UK_LONGITUDE[0] <= lon <= UK_LONGITUDE[1]:
            low, high = UK_LONGITUDE
            check.fail(
                f"{prefix}.longitude", f"expected a UK longitude ({low} to {high}), got {raw_lon!r}"
            )
            good = False
        if not good or lat is None or lon is None:
            return None
        return lat, lon, postcode, outcode, _clean(chosen, ADDRESS_FIELDS) if chosen else None
    if chosen is None or postcode is None:
        check.fail(
            prefix,
            "a physical location needs latitude and longitude, or an address with a UK postcode",
        )
        return None
    centroid = gazetteer.centroids.get(outcode or "")
    if centroid is None:
        check.fail(
            f"{prefix}.addresses[{address_index}].postal_code",
            f"unknown postcode district {outcode!r} (not in the UK table); "
            "give latitude and longitude",
        )
        return None
    return centroid[0], centroid[1], postcode, outcode, _clean(chosen, ADDRESS_FIELDS)


def service_drafts(
    service: Any,
    source: str,
    position: int,
    gazetteer: Gazetteer,
    known_areas: frozenset[str] | None = None,
) -> tuple[list[SiteDraft], list[Skip], list[Problem]]:
    """The sites one ORUK service describes, the reason it describes none, or its problems.

    ``known_areas`` (the postcode areas of the gazetteer) may be passed in, computed once.
    """
    if not isinstance(service, dict):
        problem = Problem(
            source, "expected an ORUK service (a JSON object)", field=f"services[{position}]"
        )
        return [], [], [problem]
    service_id = _text(service.get("id")) or f"#{position + 1}"
    check = _Checker(source, service_id)
    for path, message in service_errors(service):
        check.fail(path or "(service)", message)
    name = _text(service.get("name"))
    if name is not None and len(name) > NAME_MAX:
        check.fail("name", f"expected at most {NAME_MAX} characters, got {len(name)}")
    url = _text(service.get("url"))
    if url is not None and len(url) > URL_MAX:
        check.fail("url", f"expected at most {URL_MAX} characters")
    description = (_text(service.get("description")) or "")[:DESCRIPTION_MAX]
    status = service.get("status")
    closed_reason = CLOSED_STATUSES.get(status) if isinstance(status, str) else None
    organisation = _organisation(service, check)

    gaz_areas = known_areas if known_areas is not None else _known_areas(gazetteer)
    areas = _dicts(service.get("service_areas"))
    codes = [_area_code(a, gazetteer, gaz_areas) for a in areas]
    restrict = ";".join(sorted({c for c in codes if c})) if codes and all(codes) else ""
    tags = _dietary(service.get("attributes"))
    schedules = [_clean(x, SCHEDULE_FIELDS) for x in _dicts(service.get("schedules"))]
    kept_areas = [_clean(a, SERVICE_AREA_FIELDS) for a in areas]

    links = service.get("service_at_locations")
    located: list[tuple[str, dict[str, Any], str]] = []
    if isinstance(links, list):
        for index, link in enumerate(links):
            prefix = f"service_at_locations[{index}]"
            if not isinstance(link, dict):
                continue
            location = link.get("location")
            if not isinstance(location, dict):
                check.fail(
                    f"{prefix}.location",
                    "expected the location nested in the service_at_location (a fully nested "
                    "service, as /services/{id} returns it)",
                )
                continue
            if location.get("location_type") != "physical":
                continue
            link_id = _text(link.get("id"))
            if link_id is not None:
                located.append((link_id.lower(), location, f"{prefix}.location"))

    drafts: list[SiteDraft] = []
    for link_id, location, prefix in located:
        place = _place(location, prefix, check, gazetteer)
        if place is None or name is None:
            continue
        lat, lon, postcode, outcode, address = place
        location_name = _text(location.get("name"))
        site_name = name
        if len(located) > 1:
            site_name = f"{name} ({location_name or link_id[:8]})"[:NAME_MAX]
        location_tags = _dietary(location.get("attributes"))
        drafts.append(
            SiteDraft(
                key=link_id,
                where=f"service {service_id}",
                name=site_name,
                postcode=postcode,
                outcode=outcode,
                latitude=lat,
                longitude=lon,
                service_area=restrict,
                open=closed_reason is None,
                closed_reason=closed_reason,
                organisation=organisation,
                service_id=service_id.lower(),
                location_id=(_text(location.get("id")) or "").lower() or None,
                service_name=name,
                description=description,
                url=url,
                location_name=location_name[:NAME_MAX] if location_name else None,
                address=address,
                schedules=schedules,
                service_areas=kept_areas,
                dietary=";".join(t for t in DIETARY_TAGS if t in tags | location_tags),
            )
        )
    if check.problems:
        return [], [], check.problems
    if not located:
        reason = (
            "no service_at_locations: a list page carries only a service's own fields; import "
            "the fully nested services (or the API base URL)"
            if not isinstance(links, list) or not links
            else "no physical location (only postal or virtual ones)"
        )
        return [], [Skip(service_id, name or service_id, reason)], []
    return drafts, [], []


def feed_drafts(
    services: Sequence[Any], source: str, gazetteer: Gazetteer
) -> tuple[list[SiteDraft], list[Skip], list[Problem]]:
    """Every site of a feed; problems of every service, and duplicates across services."""
    drafts: list[SiteDraft] = []
    skips: list[Skip] = []
    problems: list[Problem] = []
    seen_services: dict[str, int] = {}
    seen_links: dict[str, str] = {}
    areas = _known_areas(gazetteer)
    for position, service in enumerate(services):
        found, skipped, wrong = service_drafts(service, source, position, gazetteer, areas)
        problems.extend(wrong)
        ident = service.get("id") if isinstance(service, dict) else None
        if isinstance(ident, str):
            key = ident.lower()
            if key in seen_services:
                problems.append(
                    Problem(
                        source,
                        f"appears twice in the feed (as services {seen_services[key] + 1} and "
                        f"{position + 1}); each service once",
                        service_id=ident,
                        field="id",
                    )
                )
            seen_services.setdefault(key, position)
        for draft in found:
            if draft.key in seen_links:
                problems.append(
                    Problem(
                        source,
                        f"service_at_location {draft.key} is also listed by "
                        f"{seen_links[draft.key]}",
                        service_id=draft.service_id,
                        field="service_at_locations",
                    )
                )
            seen_links.setdefault(draft.key, draft.where)
        drafts.extend(found)
        skips.extend(skipped)
    return drafts, skips, problems


# --- import: spreadsheet row -> site draft -------------------------------------------------


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


# --- publish: sites -> ORUK objects --------------------------------------------------------


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
