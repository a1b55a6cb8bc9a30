"""The audit trail of the service's own state changes: one call per change, in its transaction.

Referrals, match runs, offers, sites and capacity change here; messages, exports and erasures
record themselves in ``api.record``. Every event goes through the tamper-evident chain
(:func:`api.record.audit.record_event`), which keeps personal data out of it by reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from api.auth.tokens import Principal
from api.record.audit import record_event


def actor_label(principal: Principal | None) -> str:
    """Who acted, in words: a user, an organisation's API key, or the system itself."""
    if principal is None:
        return "system"
    if principal.user_id is not None:
        return "user"
    return f"api key {principal.api_key_id}"


def audit(
    session: Session,
    principal: Principal | None,
    *,
    action: str,
    entity_type: str,
    entity_id: int | str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    referral_id: int | None = None,
) -> None:
    """Append one event for a change the caller is about to commit."""
    record_event(
        session,
        actor_user_id=None if principal is None else principal.user_id,
        organisation_id=None if principal is None else principal.organisation_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        referral_id=referral_id,
        actor_label=actor_label(principal),
    )
