"""ORUK 3.0 <-> foodmatch sites, field by field (docs/directory.md walks through the same table).

Import: each *physical* ``service_at_location`` of a service becomes one site (a
:class:`SiteDraft`), run by the charity its ``organization`` names. Publish: each site is a
``service_at_location`` of its service; sites imported from one multi-location service are
published together under that service's id again. Nothing here touches the database.

The modules: ``drafts`` (what an import makes of a source), ``from_oruk`` (ORUK services ->
drafts) and ``to_oruk`` (sites -> ORUK objects).
"""

from api.directory.mapping.drafts import (
    CapacityDraft,
    OrganisationRef,
    SiteDraft,
    Skip,
    record_fields,
    sheet_draft,
    site_fields,
)
from api.directory.mapping.from_oruk import (
    ADDRESS_FIELDS,
    CLOSED_STATUSES,
    DESCRIPTION_MAX,
    NAME_MAX,
    SCHEDULE_FIELDS,
    SERVICE_AREA_FIELDS,
    UK_COUNTRIES,
    UK_LATITUDE,
    UK_LONGITUDE,
    URL_MAX,
    feed_drafts,
    service_drafts,
)
from api.directory.mapping.to_oruk import (
    ORGANISATION_DESCRIPTION,
    ORUK_OPENAPI,
    ORUK_PROFILE,
    ORUK_VERSION,
    Site,
    api_meta,
    capacity,
    location,
    location_id,
    organization,
    organization_id,
    service,
    service_at_location,
    service_at_location_id,
    service_brief,
    service_id,
    taxonomy,
    taxonomy_term,
)

__all__ = [
    "ADDRESS_FIELDS",
    "CLOSED_STATUSES",
    "DESCRIPTION_MAX",
    "NAME_MAX",
    "ORGANISATION_DESCRIPTION",
    "ORUK_OPENAPI",
    "ORUK_PROFILE",
    "ORUK_VERSION",
    "SCHEDULE_FIELDS",
    "SERVICE_AREA_FIELDS",
    "UK_COUNTRIES",
    "UK_LATITUDE",
    "UK_LONGITUDE",
    "URL_MAX",
    "CapacityDraft",
    "OrganisationRef",
    "Site",
    "SiteDraft",
    "Skip",
    "api_meta",
    "capacity",
    "feed_drafts",
    "location",
    "location_id",
    "organization",
    "organization_id",
    "record_fields",
    "service",
    "service_at_location",
    "service_at_location_id",
    "service_brief",
    "service_drafts",
    "service_id",
    "sheet_draft",
    "site_fields",
    "taxonomy",
    "taxonomy_term",
]
