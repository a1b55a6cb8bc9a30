"""The directory's queries. Functions take a Session and never commit."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.core import repository as core
from api.core.tables import Capacity, Offer, Organisation, Provider
from api.directory.mapping import Site
from api.directory.tables import DirectoryOrganisation, DirectorySite, DirectorySource


@dataclass(frozen=True, slots=True)
class IndexRow:
    """What searching and paging need of one open site, without loading it."""

    provider_id: int
    latitude: float
    longitude: float
    service_area: str
    service_key: str
    dietary: frozenset[str]
    delivers: bool


def site_index(session: Session, on: date) -> list[IndexRow]:
    """Every open site, by id, with its service, place, area, diets and delivery for ``on``."""
    rows = session.execute(
        select(
            Provider.id,
            Provider.latitude,
            Provider.longitude,
            Provider.service_area,
            Provider.delivery_radius_km,
            DirectorySite.oruk_service_id,
            DirectorySite.dietary,
        )
        .outerjoin(DirectorySite, DirectorySite.provider_id == Provider.id)
        .where(Provider.closed_at.is_(None))
        .order_by(Provider.id)
    ).all()
    figures = {
        provider_id: (dietary, delivery)
        for provider_id, dietary, delivery in session.execute(
            select(Capacity.provider_id, Capacity.dietary, Capacity.delivery).where(
                Capacity.superseded_at.is_(None),
                Capacity.period_start <= on,
                Capacity.period_end >= on,
            )
        ).all()
    }
    index = []
    for provider_id, lat, lon, area, radius, service_id, listed in rows:
        figure = figures.get(provider_id)
        if figure is not None:
            tags = frozenset(str(tag) for tag in figure[0] or {})
        else:
            tags = frozenset(filter(None, (listed or "").split(";")))
        index.append(
            IndexRow(
                provider_id=provider_id,
                latitude=lat,
                longitude=lon,
                service_area=area,
                service_key=service_id or f"site:{provider_id}",
                dietary=tags,
                delivers=figure is not None and figure[1] > 0 and radius > 0,
            )
        )
    return index


def load_sites(session: Session, provider_ids: Sequence[int], on: date) -> list[Site]:
    """These open sites, in this order, with everything publishing them needs."""
    if not provider_ids:
        return []
    rows = session.execute(
        select(Provider, Organisation, DirectorySite, DirectoryOrganisation)
        .join(Organisation, Organisation.id == Provider.organisation_id)
        .outerjoin(DirectorySite, DirectorySite.provider_id == Provider.id)
        .outerjoin(DirectoryOrganisation, DirectoryOrganisation.organisation_id == Organisation.id)
        .where(Provider.id.in_(list(provider_ids)), Provider.closed_at.is_(None))
    ).all()
    found = {p.id: Site(p, o, org_record, record, None) for p, o, record, org_record in rows}
    sites = [found[i] for i in provider_ids if i in found]
    live = core.live_capacity(session, [site.provider.id for site in sites], on)
    changed = _offers_changed(session, [c.id for c in live.values()])
    for site in sites:
        figure = live.get(site.provider.id)
        site.capacity = figure
        site.capacity_updated = changed.get(figure.id) if figure is not None else None
    return sites


def sites_of_oruk_service(session: Session, service_id: str) -> list[int]:
    """The open sites imported from this ORUK service, by id."""
    return list(
        session.scalars(
            select(DirectorySite.provider_id)
            .join(Provider, Provider.id == DirectorySite.provider_id)
            .where(DirectorySite.oruk_service_id == service_id, Provider.closed_at.is_(None))
            .order_by(DirectorySite.provider_id)
        ).all()
    )


def oruk_ids_of(session: Session, provider_id: int) -> tuple[str | None, str | None]:
    """The ORUK service and service_at_location ids a site was imported with, if any."""
    record = session.get(DirectorySite, provider_id)
    if record is None:
        return None, None
    return record.oruk_service_id, record.oruk_service_at_location_id


def _offers_changed(session: Session, capacity_ids: list[int]) -> dict[int, datetime]:
    """When an offer holding (or giving back) a place at each capacity figure last changed."""
    if not capacity_ids:
        return {}
    rows = session.execute(
        select(Offer.capacity_id, func.max(Offer.updated_at))
        .where(Offer.capacity_id.in_(capacity_ids))
        .group_by(Offer.capacity_id)
    ).all()
    return {int(cid): moment for cid, moment in rows if moment is not None}


def site_by_link(session: Session, link_id: str) -> DirectorySite | None:
    """The site imported from this ORUK service_at_location id."""
    return session.scalars(
        select(DirectorySite).where(DirectorySite.oruk_service_at_location_id == link_id)
    ).first()


def site_by_sheet_key(session: Session, organisation_id: int, key: str) -> DirectorySite | None:
    """The charity's site imported from a spreadsheet row with this ``provider_id``."""
    return session.scalars(
        select(DirectorySite).where(
            DirectorySite.organisation_id == organisation_id,
            DirectorySite.sheet_provider_id == key,
        )
    ).first()


def organisation_by_oruk_id(session: Session, oruk_id: str) -> DirectoryOrganisation | None:
    """The charity linked to this ORUK organization id."""
    return session.scalars(
        select(DirectoryOrganisation).where(DirectoryOrganisation.oruk_id == oruk_id)
    ).first()


def organisation_by_name(session: Session, name: str) -> Organisation | None:
    """The organisation with this name (names are unique)."""
    return session.scalars(select(Organisation).where(Organisation.name == name)).first()


def link_of(session: Session, organisation_id: int) -> DirectoryOrganisation | None:
    """The ORUK link of an organisation, if it has one."""
    return session.get(DirectoryOrganisation, organisation_id)


def missing_sites(
    session: Session,
    source: DirectorySource,
    seen: Collection[int],
    *,
    imported_by_id: int | None = None,
    organisation_id: int | None = None,
) -> list[tuple[DirectorySite, Provider]]:
    """Open sites imported from ``source`` (by this importer, or of this charity) not ``seen``."""
    query = (
        select(DirectorySite, Provider)
        .join(Provider, Provider.id == DirectorySite.provider_id)
        .where(DirectorySite.source == source, Provider.closed_at.is_(None))
        .order_by(Provider.id)
    )
    if seen:
        query = query.where(DirectorySite.provider_id.not_in(sorted(seen)))
    if source is DirectorySource.ORUK:
        query = query.where(
            DirectorySite.imported_by_id.is_(None)
            if imported_by_id is None
            else DirectorySite.imported_by_id == imported_by_id
        )
    else:
        query = query.where(DirectorySite.organisation_id == organisation_id)
    return [(record, provider) for record, provider in session.execute(query).all()]
