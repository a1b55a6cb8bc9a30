"""A charity's sites and their capacity per period (a new figure supersedes; history kept).

A figure must make sense on its own before anything is written: deliveries are some of the
parcels, so there cannot be more deliveries than parcels, and a dietary stock limit counts
parcels too, so no limit can exceed the parcels (a 422 naming each field that breaks a
rule). Weeks ahead and copying last week's figure are in ``api/sites/weeks.py``.
"""

from __future__ import annotations

from sqlalchemy import update

from api.auth.tokens import Principal
from api.core import clock
from api.core import repository as repo
from api.core.db import Database
from api.core.errors import FieldProblem, ProblemError, conflict, invalid, not_found
from api.core.schemas import CapacityRead, CapacityUpdate, Page, ProviderCreate, ProviderRead
from api.core.tables import Capacity, Offer, Provider, utcnow
from api.core.views import capacity_read, provider_read
from api.core.vocabulary import ACTIVE_OFFER_STATUSES, OrganisationKind
from api.geo import service as geo
from api.match_runs import adapter as convert
from api.record.trail import audit


def _own_provider(provider: Provider | None, principal: Principal, provider_id: int) -> Provider:
    if provider is None or provider.organisation_id != principal.organisation_id:
        raise not_found("site", provider_id)
    return provider


def create_provider(db: Database, principal: Principal, body: ProviderCreate) -> ProviderRead:
    """Add a site to the caller's charity."""
    if principal.organisation_kind is not OrganisationKind.CHARITY:
        raise ProblemError(403, "Only a charity adds sites.")
    try:
        located = geo.locate(db, body.postcode)
    except geo.NotLocated as why:
        raise invalid("postcode", str(why)) from None
    with db.write() as session:
        provider = Provider(
            organisation_id=principal.organisation_id,
            name=body.name,
            postcode=body.postcode,
            outcode=located.outcode,
            latitude=located.latitude,
            longitude=located.longitude,
            located_by=located.located_by,
            service_area=";".join(body.service_area),
            delivery_radius_km=body.delivery_radius_km,
        )
        session.add(provider)
        session.flush()
        audit(
            session,
            principal,
            action="site.created",
            entity_type="provider",
            entity_id=provider.id,
            after={
                "name": provider.name,
                "outcode": provider.outcode,
                "service_area": provider.service_area,
                "delivery_radius_km": provider.delivery_radius_km,
            },
        )
        return provider_read(provider, None)


def list_providers(db: Database, principal: Principal, page: int, size: int) -> Page[ProviderRead]:
    """The caller's charity's sites with their live capacity."""
    with db.read() as session:
        rows, total = repo.paginate(
            session, repo.charity_providers(principal.organisation_id), page, size
        )
        live = repo.live_capacity(session, [p.id for p in rows], clock.today())
        items = [provider_read(p, live.get(p.id)) for p in rows]
    return Page.of(items, total, page, size)


def get_provider(db: Database, principal: Principal, provider_id: int) -> ProviderRead:
    """One of the caller's sites."""
    with db.read() as session:
        provider = _own_provider(repo.get_provider(session, provider_id), principal, provider_id)
        live = repo.live_capacity(session, [provider.id], clock.today())
        return provider_read(provider, live.get(provider.id))


def capacity_history(
    db: Database, principal: Principal, provider_id: int, page: int, size: int
) -> Page[CapacityRead]:
    """Every capacity figure recorded for one of the caller's sites, newest first."""
    with db.read() as session:
        _own_provider(repo.get_provider(session, provider_id), principal, provider_id)
        rows, total = repo.paginate(session, repo.capacity_history(provider_id), page, size)
        items = [capacity_read(c) for c in rows]
    return Page.of(items, total, page, size)


def _check_not_below_booked(old: Capacity, body: CapacityUpdate) -> None:
    """Refuse a figure that would leave fewer places than households already hold."""
    booked = convert.usage_of(old)
    if body.parcels < booked.parcels:
        raise conflict(
            f"parcels: {booked.parcels} places are already offered this period; "
            f"capacity cannot go below that (asked for {body.parcels}).",
            reason="below_booked",
        )
    if body.people is not None and body.people < booked.people:
        raise conflict(
            f"people: offers already cover {booked.people} people this period.",
            reason="below_booked",
        )
    if body.delivery < booked.delivery:
        raise conflict(
            f"delivery: {booked.delivery} deliveries are already offered this period.",
            reason="below_booked",
        )
    for tag, used in booked.dietary.items():
        if used <= 0:
            continue
        if tag not in body.dietary:
            raise conflict(
                f"dietary.{tag}: {used} offers rely on this stock; keep listing it.",
                reason="below_booked",
            )
        cap = body.dietary[tag]
        if cap is not None and cap < used:
            raise conflict(
                f"dietary.{tag}: {used} offers already use this stock.", reason="below_booked"
            )


def check_capacity_rules(body: CapacityUpdate) -> None:
    """Refuse a figure that contradicts itself (422, one entry per field): more deliveries
    than parcels, or a dietary stock limit above the parcels."""
    found: list[FieldProblem] = []
    if body.delivery > body.parcels:
        found.append(
            FieldProblem(
                field="delivery",
                location="body",
                message=f"{body.delivery} deliveries is more than the {body.parcels} parcels; "
                f"each delivery is one of the parcels, so enter {body.parcels} or fewer",
            )
        )
    for tag, cap in sorted(body.dietary.items()):
        if cap is not None and cap > body.parcels:
            found.append(
                FieldProblem(
                    field=f"dietary.{tag}",
                    location="body",
                    message=f"the {str(tag).replace('_', ' ')} limit of {cap} is more than the "
                    f"{body.parcels} parcels; enter {body.parcels} or fewer, or leave it empty "
                    "for no limit",
                )
            )
    if found:
        raise ProblemError(422, "; ".join(f"{p.field}: {p.message}" for p in found), errors=found)


def set_capacity(
    db: Database, principal: Principal, provider_id: int, body: CapacityUpdate
) -> CapacityRead:
    """Record a site's capacity for a period; the figure it replaces is kept as history."""
    check_capacity_rules(body)
    with db.write() as session:
        _own_provider(repo.get_provider(session, provider_id), principal, provider_id)
        live = repo.live_rows_for_provider(session, provider_id, lock=True)
        same = [
            c
            for c in live
            if c.period_start == body.period_start and c.period_end == body.period_end
        ]
        for other in live:
            if other in same:
                continue
            if other.period_start <= body.period_end and body.period_start <= other.period_end:
                raise conflict(
                    f"period_start: the period overlaps the recorded period "
                    f"{other.period_start}..{other.period_end}; use the same dates to replace "
                    "it, or a period that does not overlap.",
                    reason="period_overlap",
                )
        old = same[0] if same else None
        if old is not None:
            _check_not_below_booked(old, body)
        capacity = Capacity(
            provider_id=provider_id,
            period_start=body.period_start,
            period_end=body.period_end,
            parcels=body.parcels,
            people=body.people,
            delivery=body.delivery,
            dietary={str(k): v for k, v in body.dietary.items()},
            parcels_booked=old.parcels_booked if old else 0,
            people_booked=old.people_booked if old else 0,
            delivery_booked=old.delivery_booked if old else 0,
            dietary_booked=dict(old.dietary_booked) if old else {},
            created_by_id=principal.user_id,
        )
        if old is not None:
            old.superseded_at = utcnow()
            session.flush()
        session.add(capacity)
        session.flush()
        if old is not None:
            session.execute(
                update(Offer)
                .where(Offer.capacity_id == old.id, Offer.status.in_(ACTIVE_OFFER_STATUSES))
                .values(capacity_id=capacity.id)
                .execution_options(synchronize_session=False)
            )
        audit(
            session,
            principal,
            action="capacity.updated" if old is not None else "capacity.set",
            entity_type="capacity",
            entity_id=capacity.id,
            before=None if old is None else _capacity_figures(old),
            after={"provider_id": provider_id, **_capacity_figures(capacity)},
        )
        return capacity_read(capacity)


def _capacity_figures(capacity: Capacity) -> dict[str, object]:
    """What a capacity record says, for the audit trail."""
    return {
        "period_start": capacity.period_start.isoformat(),
        "period_end": capacity.period_end.isoformat(),
        "parcels": capacity.parcels,
        "people": capacity.people,
        "delivery": capacity.delivery,
        "dietary": dict(capacity.dietary or {}),
    }


def organisation_sites(db: Database, principal: Principal) -> list[tuple[ProviderRead, bool]]:
    """Every site of the caller's charity, closed ones too, with whether each is open."""
    with db.read() as session:
        rows = list(session.scalars(repo.charity_providers(principal.organisation_id)))
        live = repo.live_capacity(session, [p.id for p in rows], clock.today())
        return [(provider_read(p, live.get(p.id)), p.closed_at is None) for p in rows]


def set_site_open(db: Database, principal: Principal, provider_id: int, open_: bool) -> None:
    """Close a site of the caller's charity (it is offered no more households; offers it
    already holds stay for the charity to answer) or open it again, audited. Another
    organisation's site is not found; asking for the state it is in changes nothing."""
    with db.write() as session:
        provider = _own_provider(
            session.get(Provider, provider_id, with_for_update={"of": Provider}),
            principal,
            provider_id,
        )
        if (provider.closed_at is None) == open_:
            return
        provider.closed_at = None if open_ else utcnow()
        session.flush()
        audit(session, principal, action="site.reopened" if open_ else "site.closed",
              entity_type="provider", entity_id=provider.id,
              before={"open": not open_}, after={"open": open_})  # fmt: skip
