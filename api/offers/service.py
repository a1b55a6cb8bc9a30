"""The offer lifecycle: offered -> accepted / declined -> collected / delivered / no_show.

A decline or a no-show gives the place back and tries to place the household again
elsewhere: never at a site that turned it down, and never at any site of a charity whose
reason covers the whole charity (``api/offers/refusals.py``). Locks are taken in one order
everywhere (referral, then capacity, then offer) so concurrent changes cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from sqlalchemy.orm import Session

from api.auth.tokens import Principal
from api.core import minimise
from api.core import repository as repo
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import conflict, not_found
from api.core.schemas import (
    DeclineRequest,
    OfferChange,
    OfferRead,
    OutcomeRequest,
    Page,
    ReferralForCharity,
)
from api.core.tables import Offer, Provider, Referral
from api.core.views import offer_read
from api.core.vocabulary import OfferStatus, OrganisationKind, ReferralStatus
from api.match_runs import adapter as convert
from api.match_runs.service import rematch
from api.offers.notes import notes_redaction
from api.record.trail import audit


def _visible(session: Session, offer: Offer | None, principal: Principal) -> bool:
    """Whether the caller's organisation may know of this offer."""
    if offer is None:
        return False
    if principal.organisation_kind is OrganisationKind.CHARITY:
        provider = session.get(Provider, offer.provider_id)
        return provider is not None and provider.organisation_id == principal.organisation_id
    referral = session.get(Referral, offer.referral_id)
    return referral is not None and referral.organisation_id == principal.organisation_id


def list_offers(
    db: Database, principal: Principal, page: int, size: int, status: OfferStatus | None
) -> Page[OfferRead]:
    """Offers to the caller's sites (charity) or for the caller's referrals (council)."""
    with db.read() as session:
        if principal.organisation_kind is OrganisationKind.CHARITY:
            query = repo.charity_offers(principal.organisation_id, status)
        else:
            query = repo.council_offers(principal.organisation_id, status)
        rows, total = repo.paginate(session, query, page, size)
        items = [offer_read(o) for o in rows]
    return Page.of(items, total, page, size)


def get_offer(db: Database, principal: Principal, offer_id: int) -> OfferRead:
    """One offer the caller's organisation is party to."""
    with db.read() as session:
        offer = repo.get_offer(session, offer_id)
        if offer is None or not _visible(session, offer, principal):
            raise not_found("offer", offer_id)
        return offer_read(offer)


def household_for_offer(db: Database, principal: Principal, offer_id: int) -> ReferralForCharity:
    """The household of one of the charity's offers, minimised: contact details and the
    redacted notes for the food bank once it has accepted a household that consented.

    404 for an offer at another charity's site, and for a declined or withdrawn offer (the
    household is no longer the charity's to see).
    """
    with db.read() as session:
        offer = repo.get_offer(session, offer_id)
        hidden = offer is None or principal.organisation_kind is not OrganisationKind.CHARITY
        if hidden or not _visible(session, offer, principal):
            raise not_found("offer", offer_id)
        assert offer is not None
        if offer.status in (OfferStatus.DECLINED, OfferStatus.WITHDRAWN):
            raise not_found("offer", offer_id)
        referral = repo.get_referral(session, offer.referral_id, with_personal=True)
        assert referral is not None
        return minimise.for_charity(
            referral, offer, referral.personal, redact_notes=notes_redaction(session)
        )


def _reoffered_to(
    db: Database, referral_id: int, charity_id: int
) -> Literal["same_charity", "another_charity"] | None:
    """Where the household's live offer is now: the same charity, another one, or nowhere."""
    with db.read() as session:
        offer = repo.offers_for_referrals(session, [referral_id]).get(referral_id)
        if offer is None or offer.status is not OfferStatus.OFFERED:
            return None
        provider = session.get(Provider, offer.provider_id)
        same = provider is not None and provider.organisation_id == charity_id
        return "same_charity" if same else "another_charity"


def _change(
    db: Database,
    principal: Principal,
    offer_id: int,
    step: Callable[[Session, Referral, Offer], None],
    *,
    frees_place: bool,
) -> OfferRead:
    """Apply one lifecycle step to a charity's own offer under the proper locks."""
    with db.read() as session:
        offer = repo.get_offer(session, offer_id)
        if offer is None or principal.organisation_kind is not OrganisationKind.CHARITY:
            raise not_found("offer", offer_id)
        if not _visible(session, offer, principal):
            raise not_found("offer", offer_id)
        referral_id = offer.referral_id
    with db.write() as session:
        referral = repo.get_referral(session, referral_id, lock=True)
        assert referral is not None
        # Lock order: referral, capacity, offer. A capacity update may move the offer to a
        # new figure meanwhile; then the new figure is locked too.
        current = repo.get_offer(session, offer_id)
        assert current is not None
        capacity = None
        if frees_place:
            capacity = repo.lock_capacity(session, [current.capacity_id])[current.capacity_id]
        locked = repo.get_offer(session, offer_id, lock=True)
        assert locked is not None
        if capacity is not None and locked.capacity_id != capacity.id:
            capacity = repo.lock_capacity(session, [locked.capacity_id])[locked.capacity_id]
        before = {"status": locked.status.value, "referral_status": referral.status.value}
        step(session, referral, locked)
        if frees_place and locked.status in (OfferStatus.DECLINED, OfferStatus.NO_SHOW):
            assert capacity is not None
            convert.release(capacity, referral, locked.mode)
            referral.status = ReferralStatus.OPEN
        session.flush()
        after: dict[str, object] = {
            "status": locked.status.value,
            "referral_status": referral.status.value,
            "provider_id": locked.provider_id,
        }
        if locked.decline_reason is not None:
            after["decline_reason"] = str(locked.decline_reason)
        audit(
            session,
            principal,
            action=f"offer.{locked.status.value}",
            entity_type="offer",
            entity_id=locked.id,
            before=before,
            after=after,
            referral_id=referral.id,
        )
        return offer_read(locked)


def accept(db: Database, principal: Principal, offer_id: int) -> OfferRead:
    """The charity takes the household: the offer is accepted and contact details open up."""

    def step(_session: Session, referral: Referral, offer: Offer) -> None:
        if offer.status is not OfferStatus.OFFERED:
            raise conflict(
                f"Offer {offer.id} is {offer.status.value}; only an offered place can be accepted.",
                reason="wrong_status",
            )
        offer.status = OfferStatus.ACCEPTED
        referral.status = ReferralStatus.ACCEPTED

    return _change(db, principal, offer_id, step, frees_place=False)


def decline(
    db: Database, settings: Settings, principal: Principal, offer_id: int, body: DeclineRequest
) -> OfferChange:
    """The charity turns the offer down: the place is freed and the household re-matched."""

    def step(_session: Session, _referral: Referral, offer: Offer) -> None:
        if offer.status is not OfferStatus.OFFERED:
            raise conflict(
                f"Offer {offer.id} is {offer.status.value}; only an offered place can be declined.",
                reason="wrong_status",
            )
        offer.status = OfferStatus.DECLINED
        offer.decline_reason = body.reason
        offer.decline_note = body.note

    changed = _change(db, principal, offer_id, step, frees_place=True)
    again = rematch(db, settings, changed.referral_id)
    where = _reoffered_to(db, changed.referral_id, principal.organisation_id) if again else None
    return OfferChange(offer=changed, rematched=again, reoffered_to=where)


def record_outcome(
    db: Database, settings: Settings, principal: Principal, offer_id: int, body: OutcomeRequest
) -> OfferChange:
    """What happened to an accepted offer; a no-show frees the place and re-matches."""

    def step(_session: Session, referral: Referral, offer: Offer) -> None:
        if offer.status is not OfferStatus.ACCEPTED:
            raise conflict(
                f"Offer {offer.id} is {offer.status.value}; an outcome is recorded only for "
                "an accepted offer.",
                reason="wrong_status",
            )
        if body.outcome == "collected" and offer.mode != "collect":
            raise conflict(
                "outcome: this offer is a delivery; expected delivered or no_show.",
                reason="wrong_mode",
            )
        if body.outcome == "delivered" and offer.mode != "deliver":
            raise conflict(
                "outcome: this offer is a collection; expected collected or no_show.",
                reason="wrong_mode",
            )
        offer.status = OfferStatus(body.outcome)
        if offer.status is not OfferStatus.NO_SHOW:
            referral.status = ReferralStatus.FULFILLED

    changed = _change(db, principal, offer_id, step, frees_place=body.outcome == "no_show")
    again = body.outcome == "no_show" and rematch(db, settings, changed.referral_id)
    where = _reoffered_to(db, changed.referral_id, principal.organisation_id) if again else None
    return OfferChange(offer=changed, rematched=again, reoffered_to=where)
