"""The record's generated text in plain words: what an FOI officer reads and searches.

Audit events and the engine's per-referral decisions are stored as data (a dotted action,
before and after values, a reason code). Their searchable text is made here from that data
alone, so nothing is added that the record does not hold: "Offer 7: the food bank declined
it. Reason for declining: cannot meet the household's dietary needs." rather than
"offer declined offer 7 decline_reason cannot_meet_dietary".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

HEADLINES = {
    "referral.created": "Referral {id} submitted by the council",
    "referral.withdrawn": "Referral {id} withdrawn by the council",
    "referral.not_placed": "Referral {id}: no place could be offered",
    "offer.made": "Offer {id} made",
    "offer.accepted": "Offer {id}: the food bank accepted the household",
    "offer.declined": "Offer {id}: the food bank declined the household",
    "offer.collected": "Offer {id}: the household collected its parcel",
    "offer.delivered": "Offer {id}: the parcel was delivered",
    "offer.no_show": "Offer {id}: the household did not come for its parcel (no-show)",
    "offer.withdrawn": "Offer {id} withdrawn with its referral",
    "message.posted": "Message {id} sent",
    "capacity.updated": "Capacity {id} updated",
    "capacity.changed": "Capacity {id} changed",
    "site.created": "Site {id} added",
    "site.updated": "Site {id} changed",
    "site.closed": "Site {id} closed",
    "site.reopened": "Site {id} reopened",
    "site.imported": "Site {id} imported from a service directory",
    "organisation.updated": "Organisation {id} changed",
    "organisation.imported": "Organisation {id} imported from a service directory",
    "directory.imported": "A service directory was imported",
    "postcodes.imported": "A postcode directory was imported",
    "council.area_set": "Council {id}'s area was set",
    "user.password_changed": "User {id}'s password was changed",
    "user.activated": "User {id}'s account was switched on",
    "user.deactivated": "User {id}'s account was switched off",
    "user.role_changed": "User {id}'s role was changed",
    "user.created": "User {id} was added to the organisation",
    "user.sign_in_link_made": "A one-time link to choose a password was made for user {id}",
    "user.password_chosen": "User {id} chose a password with a one-time link",
    "audit_log.checked": "The audit log was checked from the administration page",
    "sign_in.locked": "Signing in was locked after too many failed attempts",
    "match_run.completed": "Match run {id} finished",
    "scenario.run": "What-if run {id}",
    "personal_data.subject_access": "A copy of referral {id}'s personal data was made "
    "(subject access)",
    "personal_data.erased": "Referral {id}'s personal data was erased",
    "foi_request.created": "FOI request {id} logged",
    "foi_request.updated": "FOI request {id} updated",
    "foi_export.created": "FOI export {id} made",
    "foi_export.redacted": "FOI export {id} redacted again after an erasure",
}
"""The first sentence of each kind of event; ``{id}`` is the thing it is about."""

FIELD_WORDS = {
    "provider_id": "site",
    "referral_id": "referral",
    "match_run_id": "match run",
    "organisation_id": "organisation",
    "charity_organisation_id": "food bank",
    "council_organisation_id": "council",
    "thread_id": "conversation",
    "household_size": "household size",
    "max_travel_km": "travel limit (km)",
    "needs_delivery": "needs a delivery",
    "decline_reason": "reason for declining",
    "decline_note": "the food bank's note",
    "is_active": "account active",
    "period_start": "week starting",
    "period_end": "week ending",
    "received_on": "received on",
    "due_on": "due on",
    "closed_on": "closed on",
    "window_seconds": "counted over (seconds)",
    "sessions_ended": "sessions ended",
    "purpose": "made for",
    "events_checked": "events checked",
    "expires_at": "works until",
    "sha256": "file fingerprint (SHA-256)",
    "erased_referral_id": "erased referral",
    "dietary": "dietary needs",
}
"""Field names as words (any other: underscores as spaces, without a trailing ``_id``)."""

VALUE_WORDS = {
    "no_show": "no-show",
    "no_stock": "no stock",
    "no_capacity": "no capacity",
    "cannot_meet_dietary": "cannot meet the household's dietary needs",
    "out_of_area": "the household is out of the area",
    "household_unreachable": "the household could not be reached",
    "not_eligible": "not eligible for the service",
    "gluten_free": "gluten free",
    "helped_elsewhere": "helped elsewhere",
    "foi_officer": "FOI officer",
}
"""Stored codes as words (any other code: underscores as spaces)."""

MATCH_REASONS = {
    "matched": "offered a place",
    "no_provider_in_reach": "no site within the household's reach",
    "dietary_unavailable": "no site in reach has the dietary stock",
    "not_eligible": "not in any site's service area",
    "capacity_exhausted": "every site in reach is full",
    "declined_before": "every site in reach has declined it before",
    "not_open": "already placed by another request",
}
"""Why the engine did what it did for one referral, in words."""

MAX_DETAILS = 12
"""At most this many changed values are spelt out per event."""


def field_words(name: str) -> str:
    """A stored field's name as words."""
    if name in FIELD_WORDS:
        return FIELD_WORDS[name]
    return name.removesuffix("_id").replace("_", " ")


def value_words(value: Any) -> str:
    """A stored value as words: codes spelt out, yes/no, lists joined, 'none' for nothing."""
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(value_words(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{field_words(str(k))} {value_words(v)}" for k, v in value.items())
    text = str(value)
    if text in VALUE_WORDS:
        return VALUE_WORDS[text]
    if text.replace("_", "").isalnum() and text.islower():
        return text.replace("_", " ")
    return text


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """One sentence per value that was set, changed or removed."""
    said: list[str] = []
    for key, new in after.items():
        name = field_words(str(key))
        if key in before:
            old = before[key]
            if old != new:
                said.append(f"{name.capitalize()} changed from {value_words(old)} to "
                            f"{value_words(new)}")  # fmt: skip
        else:
            said.append(f"{name.capitalize()}: {value_words(new)}")
    for key, old in before.items():
        if key not in after:
            said.append(f"{field_words(str(key)).capitalize()} was {value_words(old)}")
    return said


def event_sentence(
    action: str, entity_type: str, entity_id: object, before: Any, after: Any
) -> str:
    """An audit event in sentences, from its action, what it is about and its values."""
    template = HEADLINES.get(action)
    if template is not None:
        head = template.format(id=entity_id)
    else:
        noun, _, verb = action.partition(".")
        thing = field_words(entity_type or noun).capitalize()
        head = f"{thing} {entity_id}: {verb.replace('_', ' ') or noun.replace('_', ' ')}"
    before_map = before if isinstance(before, Mapping) else {}
    after_map = after if isinstance(after, Mapping) else {}
    details = _changes(before_map, after_map)
    if len(details) > MAX_DETAILS:
        details = [*details[:MAX_DETAILS], f"and {len(details) - MAX_DETAILS} more values"]
    return " ".join(f"{sentence.rstrip('.')}." for sentence in [head, *details])


def match_decision_sentence(run_id: int, reason: str, explanation: str | None) -> str:
    """The engine's decision for one referral in one match run."""
    why = MATCH_REASONS.get(reason, value_words(reason))
    sentences = [f"Match run {run_id}: {why}", (explanation or "").strip()]
    return " ".join(f"{s.rstrip('.')}." for s in sentences if s.strip().rstrip("."))
