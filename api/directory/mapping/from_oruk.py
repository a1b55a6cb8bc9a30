"""Import: ORUK 3.0 services -> site drafts, field by field.

Each *physical* ``service_at_location`` of a service becomes one :class:`SiteDraft`, run by
the charity its ``organization`` names; a service with none, or only virtual ones, is
skipped with a reason. Every problem is listed with where it is (service id and field).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from api.directory import schemas as s
from api.directory.mapping.drafts import OrganisationRef, SiteDraft, Skip
from api.directory.schemata import service_errors
from api.directory.sources import Problem
from api.directory.vocabulary import vocabulary
from matching.geo import Gazetteer, is_service_area_entry, postcode_area, split_postcode
from matching.models import DIETARY_TAGS

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
