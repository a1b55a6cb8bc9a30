"""Rows -> response bodies (the council's view; the charity's goes through api.core.minimise)."""

from __future__ import annotations

from typing import Any

from api.core.schemas import (
    ApiKeyRead,
    CapacityRead,
    MatchItem,
    MatchRunRead,
    MatchRunSummary,
    OfferBrief,
    OfferRead,
    PersonalDetails,
    ProviderRead,
    ReferralRead,
    TierCountsRead,
)
from api.core.tables import (
    ApiKey,
    Capacity,
    MatchRun,
    MatchRunItem,
    Offer,
    Provider,
    Referral,
    ReferralPersonal,
)


def personal_read(personal: ReferralPersonal | None) -> PersonalDetails | None:
    """A household's personal data, for its own council."""
    if personal is None:
        return None
    return PersonalDetails(
        name=personal.name,
        phone=personal.phone,
        address=personal.address,
        postcode=personal.postcode,
        notes=personal.notes,
    )


def referral_read(
    referral: Referral, personal: ReferralPersonal | None, offer: Offer | None
) -> ReferralRead:
    """A referral as its council sees it."""
    brief = None
    if offer is not None:
        brief = OfferBrief(
            id=offer.id,
            provider_id=offer.provider_id,
            status=offer.status,
            mode=offer.mode,
            distance_km=offer.distance_km,
            distance_approximate=offer.distance_approximate,
        )
    return ReferralRead(
        id=referral.id,
        status=referral.status,
        household_size=referral.household_size,
        dietary=referral.dietary_tags,
        urgency=referral.urgency,
        district=referral.outcode,
        needs_delivery=referral.needs_delivery,
        max_travel_km=referral.max_travel_km,
        consent_to_share=referral.consent_to_share,
        created_at=referral.created_at,
        personal=personal_read(personal),
        current_offer=brief,
        withdrawal_reason=referral.withdrawal_reason,
        withdrawn_at=referral.withdrawn_at,
        located_by=referral.located_by,
    )


def capacity_read(capacity: Capacity) -> CapacityRead:
    """One capacity figure with what is booked and free."""
    return CapacityRead(
        id=capacity.id,
        provider_id=capacity.provider_id,
        period_start=capacity.period_start,
        period_end=capacity.period_end,
        parcels=capacity.parcels,
        people=capacity.people,
        delivery=capacity.delivery,
        dietary={str(k): (None if v is None else int(v)) for k, v in capacity.dietary.items()},
        parcels_booked=capacity.parcels_booked,
        parcels_free=max(capacity.parcels - capacity.parcels_booked, 0),
        created_at=capacity.created_at,
        superseded_at=capacity.superseded_at,
    )


def provider_read(provider: Provider, capacity: Capacity | None) -> ProviderRead:
    """A site and its live capacity figure."""
    return ProviderRead(
        id=provider.id,
        organisation_id=provider.organisation_id,
        name=provider.name,
        postcode=provider.postcode,
        district=provider.outcode,
        latitude=provider.latitude,
        longitude=provider.longitude,
        service_area=[a for a in provider.service_area.split(";") if a],
        delivery_radius_km=provider.delivery_radius_km,
        current_capacity=capacity_read(capacity) if capacity is not None else None,
    )


def offer_read(offer: Offer) -> OfferRead:
    """An offer."""
    return OfferRead(
        id=offer.id,
        referral_id=offer.referral_id,
        provider_id=offer.provider_id,
        match_run_id=offer.match_run_id,
        status=offer.status,
        mode=offer.mode,
        distance_km=offer.distance_km,
        distance_approximate=offer.distance_approximate,
        explanation=offer.explanation,
        decline_reason=offer.decline_reason,
        decline_note=offer.decline_note,
        created_at=offer.created_at,
        updated_at=offer.updated_at,
    )


def _tiers(run: MatchRun) -> TierCountsRead:
    return TierCountsRead(
        emergency=run.matched_emergency, urgent=run.matched_urgent, standard=run.matched_standard
    )


def match_run_summary(run: MatchRun) -> MatchRunSummary:
    """A match run without its decisions."""
    return MatchRunSummary(
        id=run.id,
        status=run.status,
        created_at=run.created_at,
        referral_count=run.referral_count,
        matched=_tiers(run),
    )


def match_run_read(run: MatchRun, items: list[MatchRunItem]) -> MatchRunRead:
    """A match run with every decision."""
    unmatched: dict[str, Any] = run.unmatched_by_reason
    return MatchRunRead(
        id=run.id,
        status=run.status,
        method=run.method,
        created_at=run.created_at,
        referral_count=run.referral_count,
        provider_count=run.provider_count,
        matched=_tiers(run),
        total_distance_km=run.total_distance_km,
        seconds=run.seconds,
        unmatched_by_reason={str(k): int(v) for k, v in unmatched.items()},
        matches=[
            MatchItem(
                referral_id=item.referral_id,
                provider_id=item.provider_id,
                offer_id=item.offer_id,
                mode=item.mode,
                distance_km=item.distance_km,
                reason=item.reason,
                explanation=item.explanation,
            )
            for item in items
        ],
    )


def api_key_read(key: ApiKey) -> ApiKeyRead:
    """An API key's record (never the key)."""
    return ApiKeyRead(
        id=key.id,
        name=key.name,
        role=key.role,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
