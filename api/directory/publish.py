"""The directory's public reads: the Open Referral UK 3.0 API.

Reads are public and see only sites, charities and capacity: no household. Services group
the open sites of one ORUK service (or one site made in foodmatch); pages follow ORUK's
envelope; a postcode filter keeps the sites that serve it, nearest first.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from api.core import clock
from api.core.db import Database
from api.core.errors import ProblemError, invalid
from api.directory import ids, mapping
from api.directory import repository as repo
from api.directory import schemas as s
from api.directory.mapping import Site
from api.directory.vocabulary import FOOD_DELIVERY, FOOD_PARCEL, vocabulary
from api.match_runs import adapter as convert
from matching.geo import great_circle_km, postcode_area

T = TypeVar("T")


def _envelope(items: Sequence[T], page: int, per_page: int) -> tuple[list[T], dict[str, Any]]:
    total = len(items)
    pages = math.ceil(total / per_page)
    chosen = list(items[(page - 1) * per_page : page * per_page])
    return chosen, {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": per_page,
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not chosen,
    }


def _index(db: Database) -> list[repo.IndexRow]:
    with db.read() as session:
        return repo.site_index(session, clock.today())


def _load(db: Database, provider_ids: Sequence[int]) -> tuple[uuid.UUID, list[Site]]:
    with db.read() as session:
        return ids.namespace(session), repo.load_sites(session, provider_ids, clock.today())


def _carries(row: repo.IndexRow, term_id: uuid.UUID) -> bool:
    """Whether a site carries the vocabulary term with this id (published as an attribute)."""
    term = vocabulary().by_id(str(term_id))
    if term is None:
        return False
    if term.term == FOOD_PARCEL:
        return True
    if term.term == FOOD_DELIVERY:
        return row.delivers
    return term.term in row.dietary


def _groups(rows: Sequence[repo.IndexRow]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for row in rows:
        groups.setdefault(row.service_key, []).append(row.provider_id)
    return list(groups.values())


def api_meta() -> s.ApiMeta:
    """The ORUK root."""
    return mapping.api_meta()


def services_page(
    db: Database, page: int, per_page: int, taxonomy_term_id: uuid.UUID | None
) -> s.OrukPage[s.Service]:
    """Services with at least one open site, oldest first."""
    rows = _index(db)
    if taxonomy_term_id is not None:
        keys = {r.service_key for r in rows if _carries(r, taxonomy_term_id)}
        rows = [r for r in rows if r.service_key in keys]
    chosen, envelope = _envelope(_groups(rows), page, per_page)
    space, sites = _load(db, [i for group in chosen for i in group])
    by_id = {site.provider.id: site for site in sites}
    contents = [
        mapping.service(space, [by_id[i] for i in group if i in by_id])
        for group in chosen
        if any(i in by_id for i in group)
    ]
    return s.OrukPage[s.Service](contents=contents, **envelope)


def service_by_id(db: Database, service_id: uuid.UUID) -> s.Service:
    """One fully nested service."""
    with db.read() as session:
        space = ids.namespace(session)
        provider_ids = repo.sites_of_oruk_service(session, str(service_id))
        native = ids.decode(space, service_id, ids.Kind.SERVICE)
        if not provider_ids and native is not None and repo.oruk_ids_of(session, native)[0] is None:
            provider_ids = [native]
        sites = repo.load_sites(session, provider_ids, clock.today())
    if not sites:
        raise ProblemError(404, f"No service with id {service_id} is published here.")
    return mapping.service(space, sites)


def service_at_locations_page(
    db: Database,
    page: int,
    per_page: int,
    *,
    postcode: str | None,
    proximity_m: float | None,
    taxonomy_term_id: uuid.UUID | None,
) -> s.OrukPage[s.ServiceAtLocation]:
    """Sites, optionally for a postcode: in its service area, within ``proximity_m`` metres of
    its district's centre, nearest first."""
    if proximity_m is not None and postcode is None:
        raise invalid(
            "proximity",
            "is measured from a postcode's centre: give postcode as well",
            location="query",
        )
    centre: tuple[float, float, str] | None = None
    if postcode is not None:
        centre = convert.locate(postcode)
        if centre is None:
            raise invalid(
                "postcode", f"{postcode!r} is not a known UK postcode district", location="query"
            )
    rows = _index(db)
    if taxonomy_term_id is not None:
        rows = [r for r in rows if _carries(r, taxonomy_term_id)]
    if centre is not None:
        latitude, longitude, outcode = centre
        wanted = {outcode, postcode_area(outcode)}
        rows = [r for r in rows if not r.service_area or wanted & set(r.service_area.split(";"))]
        metres = 1000.0 * great_circle_km(
            np.full(len(rows), latitude),
            np.full(len(rows), longitude),
            np.array([r.latitude for r in rows], dtype=np.float64),
            np.array([r.longitude for r in rows], dtype=np.float64),
        )
        ranked = sorted(
            (float(m), row.provider_id, row)
            for m, row in zip(metres, rows, strict=True)
            if proximity_m is None or m <= proximity_m
        )
        rows = [row for _, _, row in ranked]
    chosen, envelope = _envelope(rows, page, per_page)
    space, sites = _load(db, [row.provider_id for row in chosen])
    return s.OrukPage[s.ServiceAtLocation](
        contents=[mapping.service_at_location(space, site, with_service=True) for site in sites],
        **envelope,
    )


def service_at_location_by_id(db: Database, link_id: uuid.UUID) -> s.ServiceAtLocation:
    """One site with its location and service."""
    with db.read() as session:
        space = ids.namespace(session)
        record = repo.site_by_link(session, str(link_id))
        provider_id = record.provider_id if record is not None else None
        native = ids.decode(space, link_id, ids.Kind.SERVICE_AT_LOCATION)
        if (
            provider_id is None
            and native is not None
            and repo.oruk_ids_of(session, native)[1] is None
        ):
            provider_id = native
        sites = repo.load_sites(session, [provider_id] if provider_id else [], clock.today())
    if not sites:
        raise ProblemError(404, f"No service_at_location with id {link_id} is published here.")
    return mapping.service_at_location(space, sites[0], with_service=True)


def taxonomies_page(page: int, per_page: int) -> s.OrukPage[s.Taxonomy]:
    """The one taxonomy foodmatch publishes."""
    chosen, envelope = _envelope([mapping.taxonomy(with_terms=False)], page, per_page)
    return s.OrukPage[s.Taxonomy](contents=chosen, **envelope)


def taxonomy_by_id(taxonomy_id: uuid.UUID) -> s.Taxonomy:
    """The taxonomy with its terms."""
    found = mapping.taxonomy(with_terms=True)
    if found.id != taxonomy_id:
        raise ProblemError(404, f"No taxonomy with id {taxonomy_id} is published here.")
    return found


def taxonomy_terms_page(page: int, per_page: int) -> s.OrukPage[s.TaxonomyTerm]:
    """Every term of the vocabulary, in its published order."""
    terms = [mapping.taxonomy_term(t) for t in vocabulary().terms]
    chosen, envelope = _envelope(terms, page, per_page)
    return s.OrukPage[s.TaxonomyTerm](contents=chosen, **envelope)


def taxonomy_term_by_id(term_id: uuid.UUID) -> s.TaxonomyTerm:
    """One term."""
    term = vocabulary().by_id(str(term_id))
    if term is None:
        raise ProblemError(404, f"No taxonomy term with id {term_id} is published here.")
    return mapping.taxonomy_term(term)
