"""One referral's history, in time order, as its caseworker reads it.

Built from what the service already keeps: the audit trail (every change to the referral and
its offers, with its time), the offers themselves (site, reason and note of a decline), the
match runs that looked at the household without placing it, and the messages. Nothing here
is written; the page shows the entries as they are.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from api.auth.tokens import Principal
from api.core.db import Database
from api.core.errors import not_found
from api.core.schemas import ReferralRead
from api.core.tables import MatchRun, MatchRunItem, Offer, Provider
from api.core.vocabulary import DeclineReason, OrganisationKind
from api.record.tables import AuditEvent, Message, MessageThread
from api.referrals.service import get_referral

DECLINE_WORDS = {
    DeclineReason.NO_STOCK: "it has run out of stock",
    DeclineReason.NO_CAPACITY: "it has no places left",
    DeclineReason.CANNOT_MEET_DIETARY: "it cannot meet the household's dietary needs",
    DeclineReason.OUT_OF_AREA: "the household is outside its area",
    DeclineReason.HOUSEHOLD_UNREACHABLE: "it could not reach the household",
    DeclineReason.NOT_ELIGIBLE: "the household is not eligible for its service",
    DeclineReason.OTHER: "another reason",
}
"""Why a site declined, as the end of the sentence "... declined the place because ..."."""

UNMATCHED_WORDS = {
    "no_provider_in_reach": "no site is within the household's reach",
    "dietary_unavailable": "no site in reach has stock for the household's dietary needs",
    "not_eligible": "the household is outside every site's service area",
    "capacity_exhausted": "every site in reach was full",
    "declined_before": "the sites in reach had declined the household before",
    "not_open": "it had already been placed by another request",
}
"""Why a match run left the household without a place, in plain words."""


class TimelineEntry(BaseModel):
    """One thing that happened to the referral: when, what (a short title) and the detail."""

    at: datetime
    kind: str
    title: str
    detail: str = ""


def _site_names(db: Database, ids: set[int]) -> dict[int, str]:
    """Site names by id (the referral's own offers only)."""
    if not ids:
        return {}
    with db.read() as session:
        rows = session.execute(select(Provider.id, Provider.name).where(Provider.id.in_(ids)))
        return {int(i): str(n) for i, n in rows}


def _offer_entry(event: AuditEvent, after: dict[str, Any], offer: Offer | None, site: str) -> str:
    """The sentence for one offer event (offer.made, offer.accepted, ...)."""
    action = event.action.removeprefix("offer.")
    mode = "to collect" if offer is not None and offer.mode == "collect" else "delivered"
    if action == "made":
        distance = ""
        if offer is not None and offer.mode == "collect":
            distance = f", {offer.distance_km:.1f} km away"
        return f"Offered a place at {site}{distance} ({mode})."
    if action == "accepted":
        return f"{site} accepted the household."
    if action == "declined":
        reason = after.get("decline_reason")
        words = DECLINE_WORDS.get(DeclineReason(reason), "") if reason else ""
        text = f"{site} declined the place" + (f" because {words}." if words else ".")
        if offer is not None and offer.decline_note:
            text += f" Their note: “{offer.decline_note}”"
        return text
    if action == "collected":
        return f"The household collected its parcel from {site}."
    if action == "delivered":
        return f"{site} delivered the parcel."
    if action == "no_show":
        return f"The household did not come to {site} for its parcel (no-show)."
    if action == "withdrawn":
        return f"The place at {site} was given back when the referral was withdrawn."
    return f"The offer at {site} changed ({action.replace('_', ' ')})."


_TITLES = {
    "referral.created": "Referral sent",
    "referral.withdrawn": "Referral withdrawn",
    "referral.not_placed": "No place free",
    "offer.made": "Place offered",
    "offer.accepted": "Accepted",
    "offer.declined": "Declined",
    "offer.collected": "Collected",
    "offer.delivered": "Delivered",
    "offer.no_show": "No-show",
    "offer.withdrawn": "Place given back",
}


def referral_timeline(
    db: Database, principal: Principal, referral: ReferralRead
) -> list[TimelineEntry]:
    """Everything that happened to ``referral``, oldest first, for its council's caseworker.

    ``referral`` is the council's view of the referral (from :func:`get_referral`, which has
    already checked that the caller's council owns it); a charity gets a 404 here.
    """
    if principal.organisation_kind is OrganisationKind.CHARITY:
        raise not_found("referral", referral.id)
    with db.read() as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.referral_id == referral.id)
                .order_by(AuditEvent.id)
            )
        )
        offers = {
            o.id: o for o in session.scalars(select(Offer).where(Offer.referral_id == referral.id))
        }
        unplaced = session.execute(
            select(MatchRunItem.reason, MatchRun.created_at, MatchRun.id)
            .join(MatchRun, MatchRun.id == MatchRunItem.match_run_id)
            .where(MatchRunItem.referral_id == referral.id, MatchRunItem.reason != "matched")
            .order_by(MatchRun.id)
        ).all()
        messages = session.execute(
            select(Message.created_at, Message.author_organisation_id)
            .join(MessageThread, MessageThread.id == Message.thread_id)
            .where(MessageThread.referral_id == referral.id)
            .order_by(Message.id)
        ).all()
    sites = _site_names(db, {o.provider_id for o in offers.values()})
    entries: list[TimelineEntry] = []
    for event in events:
        title = _TITLES.get(event.action)
        if title is None:
            continue
        after = json.loads(event.after_json or "{}") if event.after_json else {}
        if event.action.startswith("offer."):
            offer = offers.get(int(event.entity_id)) if event.entity_id.isdigit() else None
            site = sites.get(offer.provider_id, "the site") if offer else "the site"
            detail = _offer_entry(event, after, offer, site)
            if event.action == "offer.made" and any(
                e.action in ("offer.declined", "offer.no_show") and e.id < event.id for e in events
            ):
                title = "Offered again"
        elif event.action == "referral.created":
            detail = "The referral was sent to be matched."
        elif event.action == "referral.not_placed":
            why = str(after.get("why") or "").strip().rstrip(".")
            detail = "No place could be offered at once" + (f": {why}." if why else ".")
            detail += " It waits for the next match run."
        else:
            detail = "The referral was closed; any place it held was given back."
        entries.append(
            TimelineEntry(at=event.occurred_at, kind=event.action, title=title, detail=detail)
        )
    for reason, at, run_id in unplaced:
        words = UNMATCHED_WORDS.get(str(reason), str(reason).replace("_", " "))
        entries.append(
            TimelineEntry(
                at=at,
                kind="match_run.unplaced",
                title="Not placed",
                detail=f"Match run {run_id}: {words}.",
            )
        )
    own = principal.organisation_id
    for at, author in messages:
        who = "You wrote to the food bank" if author == own else "The food bank wrote"
        entries.append(TimelineEntry(at=at, kind="message", title="Message", detail=f"{who}."))
    entries.sort(key=lambda e: e.at)
    return entries


def history(db: Database, principal: Principal, referral_id: int) -> list[TimelineEntry]:
    """The timeline of a referral of the caller's council (404 for anyone else)."""
    referral = get_referral(db, principal, referral_id)
    if not isinstance(referral, ReferralRead):
        raise not_found("referral", referral_id)
    return referral_timeline(db, principal, referral)
