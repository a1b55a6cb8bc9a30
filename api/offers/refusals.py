"""Where a household may be offered again after a site turned it down (the re-offer policy).

A decline is read for what it says about the *organisation*, not only the site:

- "We have no places left", "We have run out of stock", "The household is outside our area":
  a fact about one site. The same charity's other sites may be offered the household (the
  engine still checks each one's free places, service area and reach).
- "We cannot meet the dietary needs": about one site's stock. Another of the charity's sites
  may be offered it only if that site lists the household's dietary needs with stock left,
  which is what the engine's dietary rule already requires of every site, so this too
  excludes only the site that declined.
- "We cannot reach the household", "The household is not eligible for our service" and
  "Another reason": about the charity's dealings with the household. None of that charity's
  sites is offered the household again; another charity may be.

A no-show excludes the site where the household did not come (it may go to another site,
of any charity). Declined and no-show sites are never offered the same household again.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.tables import Offer, Provider
from api.core.vocabulary import DeclineReason, OfferStatus

SITE_ONLY_REASONS = frozenset(
    {
        DeclineReason.NO_CAPACITY,
        DeclineReason.NO_STOCK,
        DeclineReason.CANNOT_MEET_DIETARY,
        DeclineReason.OUT_OF_AREA,
    }
)
"""Declines that say something about one site only: the charity's other sites may be asked."""

WHOLE_ORGANISATION_REASONS = frozenset(
    {DeclineReason.HOUSEHOLD_UNREACHABLE, DeclineReason.NOT_ELIGIBLE, DeclineReason.OTHER}
)
"""Declines that rule out every site of the charity that declined."""

REFUSED = (OfferStatus.DECLINED, OfferStatus.NO_SHOW)


def excludes_organisation(reason: DeclineReason | None) -> bool:
    """Whether a decline for ``reason`` keeps the household away from the whole charity."""
    return reason is not None and reason not in SITE_ONLY_REASONS


def refused_pairs(session: Session, referral_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(referral, site) pairs that may not be offered: the site declined or saw a no-show,
    or another site of the same charity declined for a reason that covers the charity."""
    ids = sorted(set(referral_ids))
    pairs: set[tuple[int, int]] = set()
    barred: set[tuple[int, int]] = set()  # (referral, charity)
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(
                Offer.referral_id, Offer.provider_id, Offer.decline_reason, Provider.organisation_id
            )
            .join(Provider, Provider.id == Offer.provider_id)
            .where(Offer.referral_id.in_(ids[start : start + 1000]), Offer.status.in_(REFUSED))
        ).all()
        for referral_id, provider_id, reason, organisation_id in rows:
            pairs.add((int(referral_id), int(provider_id)))
            if excludes_organisation(reason):
                barred.add((int(referral_id), int(organisation_id)))
    if barred:
        sites_of: dict[int, list[int]] = {}
        organisations = sorted({o for _, o in barred})
        for provider_id, organisation_id in session.execute(
            select(Provider.id, Provider.organisation_id).where(
                Provider.organisation_id.in_(organisations)
            )
        ).all():
            sites_of.setdefault(int(organisation_id), []).append(int(provider_id))
        for referral_id, organisation_id in barred:
            pairs.update((referral_id, site) for site in sites_of.get(organisation_id, []))
    return pairs


def refused_providers(session: Session, referral_id: int) -> set[int]:
    """Sites the household may not be offered again (see :func:`refused_pairs`)."""
    return {site for _, site in refused_pairs(session, [referral_id])}
