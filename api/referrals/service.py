"""Referrals: submit (idempotently), list and read, in the caller's organisation's view."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from api.auth.tokens import Principal
from api.core import minimise
from api.core import repository as repo
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import ProblemError, conflict, invalid, not_found
from api.core.schemas import Page, ReferralCreate, ReferralForCharity, ReferralRead, WithdrawRequest
from api.core.tables import IdempotencyKey, Offer, Organisation, Referral, ReferralPersonal, utcnow
from api.core.views import referral_read
from api.core.vocabulary import (
    CLOSED_REFERRAL_STATUSES,
    OfferStatus,
    OrganisationKind,
    ReferralStatus,
)
from api.geo import service as geo
from api.match_runs import adapter as convert
from api.record.trail import audit

CREATE_OPERATION = "POST /referrals"
_INSERT_REFERRAL = insert(cast(Table, Referral.__table__)).returning(
    cast(Table, Referral.__table__).c.id
)
_INSERT_PERSONAL = insert(cast(Table, ReferralPersonal.__table__))
_INSERT_IDEMPOTENCY_KEY = insert(cast(Table, IdempotencyKey.__table__))
"""Built once: a statement made per request costs more to construct than to run."""


@dataclass(frozen=True, slots=True)
class Stored:
    """A response to send: status, JSON body, and whether it replays an earlier one."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def _fingerprint(body: ReferralCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _replay(
    session: Session, principal: Principal, key: str, fingerprint: str, settings: Settings
) -> Stored | None:
    """The stored response for ``key``, if it exists and is still fresh."""
    row = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.organisation_id == principal.organisation_id,
            IdempotencyKey.key == key,
        )
    )
    if row is None:
        return None
    if row.created_at < utcnow() - timedelta(hours=settings.idempotency_hours):
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        session.flush()
        return None
    if row.operation != CREATE_OPERATION or row.fingerprint != fingerprint:
        raise ProblemError(
            409,
            "Idempotency-Key was already used with a different request; use a new key.",
            kind="idempotency-key-reused",
            reason="idempotency_key_reused",
        )
    return Stored(row.status_code, dict(row.response_body), replayed=True)


def locate_household(db: Database, principal: Principal, body: ReferralCreate) -> geo.Located:
    """Where the household is; a postcode outside the council's area needs confirming."""
    try:
        located = geo.locate(db, body.postcode)
    except geo.NotLocated as why:
        raise invalid("postcode", str(why)) from None
    with db.read() as session:
        council = session.get(Organisation, principal.organisation_id)
        area = geo.area_entries(council) if council is not None else []
    if not body.outside_area_confirmed and not geo.in_area(located.outcode, area):
        raise invalid(
            "outside_area_confirmed",
            f"{body.postcode} ({located.outcode}) is outside your council's area "
            f"({', '.join(area)}). Check the postcode; if the household does live there, "
            "confirm it.",
        )
    return located


def create_referral(
    db: Database,
    settings: Settings,
    principal: Principal,
    body: ReferralCreate,
    idempotency_key: str | None,
) -> Stored:
    """Store a new referral (or replay the first response to the same Idempotency-Key)."""
    if principal.organisation_kind is not OrganisationKind.COUNCIL:
        raise ProblemError(403, "Only a council's caseworkers submit referrals.")
    located = locate_household(db, principal, body)
    # Only a request with a key is ever compared with another, so only it needs a fingerprint.
    fingerprint = _fingerprint(body) if idempotency_key is not None else ""
    try:
        with db.write() as session:
            if idempotency_key is not None:
                earlier = _replay(session, principal, idempotency_key, fingerprint, settings)
                if earlier is not None:
                    return earlier
            now = utcnow()
            fields: dict[str, Any] = {
                "organisation_id": principal.organisation_id,
                "created_by_id": principal.user_id,
                "household_size": body.household_size,
                "dietary": ";".join(body.dietary),
                "urgency": body.urgency,
                "outcode": located.outcode,
                "latitude": located.latitude,
                "longitude": located.longitude,
                "located_by": located.located_by,
                "max_travel_km": body.max_travel_km,
                "needs_delivery": body.needs_delivery,
                "consent_to_share": body.consent_to_share,
                "status": ReferralStatus.OPEN,
                "created_at": now,
                "updated_at": now,
            }
            details: dict[str, Any] = {
                "name": body.name,
                "phone": body.phone,
                "address": body.address,
                "postcode": body.postcode,
                "notes": body.notes,
            }
            if body.notes:
                # Notes go to FOI search: the ORM flush runs the record's indexing hook
                # (api.record.indexing), in this transaction, for both rows at once.
                referral = Referral(**fields)
                personal = ReferralPersonal(**details)
                referral.personal = personal
                session.add(referral)
                session.flush()
            else:
                # Without notes the hook has nothing to index, so two prepared INSERTs do the
                # same work at a third of the ORM unit of work's cost (the hot path).
                connection = session.connection()
                new_id = connection.execute(_INSERT_REFERRAL, fields).scalar_one()
                connection.execute(_INSERT_PERSONAL, {"referral_id": new_id, **details})
                referral = Referral(id=new_id, **fields)  # transient: only for the response
                personal = ReferralPersonal(referral_id=new_id, **details)
            out = referral_read(referral, personal, None).model_dump(mode="json")
            if idempotency_key is not None:
                # A key another request stored first raises IntegrityError here, in the try.
                session.connection().execute(
                    _INSERT_IDEMPOTENCY_KEY,
                    {
                        "organisation_id": principal.organisation_id,
                        "key": idempotency_key,
                        "operation": CREATE_OPERATION,
                        "fingerprint": fingerprint,
                        "status_code": 201,
                        "response_body": out,
                        "created_at": now,
                    },
                )
            # Last, so the audit chain's queue (PostgreSQL) is held only until the commit.
            audit(
                session,
                principal,
                action="referral.created",
                entity_type="referral",
                entity_id=referral.id,
                after={
                    "household_size": body.household_size,
                    "dietary": list(body.dietary),
                    "urgency": str(body.urgency),
                    "outcode": located.outcode,
                    "located_by": located.located_by,
                    "needs_delivery": body.needs_delivery,
                    "consent_to_share": body.consent_to_share,
                },
            )
            return Stored(201, out)
    except IntegrityError:
        if idempotency_key is None:
            raise
    # Another request with the same key committed first: answer with its response.
    with db.read() as session:
        earlier = _replay(session, principal, idempotency_key, fingerprint, settings)
    if earlier is None:  # pragma: no cover - the conflicting row vanished (expired meanwhile)
        raise ProblemError(409, "A request with this Idempotency-Key is in progress; retry.")
    return earlier


def list_referrals(
    db: Database,
    principal: Principal,
    page: int,
    size: int,
    status: ReferralStatus | None,
    search: str | None = None,
    sort: str = "newest",
) -> Page[ReferralRead | ReferralForCharity]:
    """The caller's referrals: a council's own (``search`` and ``sort`` as in
    :func:`api.core.repository.council_referrals`), or (minimised) those offered to a
    charity."""
    with db.read() as session:
        items: list[ReferralRead | ReferralForCharity] = []
        if principal.organisation_kind is OrganisationKind.CHARITY:
            offers, total = repo.paginate(
                session, repo.charity_visible_offers(principal.organisation_id), page, size
            )
            for offer in offers:
                referral = repo.get_referral(session, offer.referral_id, with_personal=True)
                assert referral is not None
                items.append(minimise.for_charity(referral, offer, referral.personal))
        else:
            referrals, total = repo.paginate(
                session,
                repo.council_referrals(principal.organisation_id, status, search, sort),
                page,
                size,
            )
            offers_by_ref = repo.offers_for_referrals(session, [r.id for r in referrals])
            items.extend(referral_read(r, r.personal, offers_by_ref.get(r.id)) for r in referrals)
    return Page.of(items, total, page, size)


def get_referral(
    db: Database, principal: Principal, referral_id: int
) -> ReferralRead | ReferralForCharity:
    """One referral in the caller's view; 404 if the caller's organisation may not see it."""
    with db.read() as session:
        referral = repo.get_referral(session, referral_id, with_personal=True)
        if referral is None:
            raise not_found("referral", referral_id)
        if principal.organisation_kind is OrganisationKind.CHARITY:
            offer = repo.charity_offer_for_referral(session, referral_id, principal.organisation_id)
            if offer is None:
                raise not_found("referral", referral_id)
            return minimise.for_charity(referral, offer, referral.personal)
        if referral.organisation_id != principal.organisation_id:
            raise not_found("referral", referral_id)
        offer_now = repo.offers_for_referrals(session, [referral.id]).get(referral.id)
        return referral_read(referral, referral.personal, offer_now)


def households_for_offers(
    db: Database, principal: Principal, offer_ids: Iterable[int]
) -> dict[int, ReferralForCharity]:
    """``{offer id: the household as the charity sees it}`` for offers at the caller's sites.

    The batch form of :func:`get_referral` for a charity's list page, under the same rule (an
    offer at one of its sites, neither declined nor withdrawn; any other offer is left out),
    in two queries however many offers there are.
    """
    ids = sorted(set(offer_ids))
    if not ids or principal.organisation_kind is not OrganisationKind.CHARITY:
        return {}
    with db.read() as session:
        own = list(
            session.scalars(
                repo.charity_visible_offers(principal.organisation_id).where(Offer.id.in_(ids))
            ).all()
        )
        referrals = {
            r.id: r
            for r in session.scalars(
                select(Referral)
                .where(Referral.id.in_({o.referral_id for o in own}))
                .options(selectinload(Referral.personal))
            ).all()
        }
        return {
            o.id: minimise.for_charity(
                referrals[o.referral_id], o, referrals[o.referral_id].personal
            )
            for o in own
        }


def withdraw_referral(
    db: Database, principal: Principal, referral_id: int, body: WithdrawRequest
) -> ReferralRead:
    """The council withdraws a referral it no longer needs served; a place it held is freed.

    A fulfilled or already withdrawn referral cannot be withdrawn (409). The offer that held a
    place (offered or accepted) becomes ``withdrawn``: the charity sees that in its offers but
    no longer sees the household.
    """
    with db.write() as session:
        # Lock order as everywhere: referral, capacity, offer.
        referral = repo.get_referral(session, referral_id, lock=True, with_personal=True)
        if referral is None or referral.organisation_id != principal.organisation_id:
            raise not_found("referral", referral_id)
        if referral.status in CLOSED_REFERRAL_STATUSES:
            raise conflict(
                f"Referral {referral_id} is {referral.status.value}; only a referral still "
                "waiting for or holding a place can be withdrawn.",
                reason="wrong_status",
            )
        before: dict[str, object] = {"status": referral.status.value}
        after: dict[str, object] = {"status": ReferralStatus.WITHDRAWN.value, "reason": body.reason}
        held = repo.offers_for_referrals(session, [referral_id]).get(referral_id)
        if held is not None:
            capacity = repo.lock_capacity(session, [held.capacity_id])[held.capacity_id]
            offer = repo.get_offer(session, held.id, lock=True)
            assert offer is not None
            if offer.capacity_id != capacity.id:  # moved to a new figure meanwhile
                capacity = repo.lock_capacity(session, [offer.capacity_id])[offer.capacity_id]
            convert.release(capacity, referral, offer.mode)
            before["offer_status"] = offer.status.value
            offer.status = OfferStatus.WITHDRAWN
            after.update(offer_id=offer.id, provider_id=offer.provider_id)
        referral.status = ReferralStatus.WITHDRAWN
        referral.withdrawal_reason = body.reason
        referral.withdrawn_at = utcnow()
        session.flush()
        audit(
            session,
            principal,
            action="referral.withdrawn",
            entity_type="referral",
            entity_id=referral_id,
            before=before,
            after=after,
        )
        return referral_read(referral, referral.personal, None)
