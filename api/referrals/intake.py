"""Submitting a referral as the council has set it up: stored, then, for an emergency, placed.

An emergency cannot wait for the next match run. With ``place_emergencies_on_submit`` (on
by default) a newly stored emergency referral is offered the best free place at once, by the
same placement as "Place now"; the answer to the submission is the referral as it stands
after that (offered, or still open). When no place is free, the reason is kept in the
referral's history (``referral.not_placed``), so the caseworker reads why on its page, and the
referral waits for the next run like any other.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from sqlalchemy import Table, update

from api.auth.tokens import Principal
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import ProblemError
from api.core.schemas import ReferralCreate, ReferralRead
from api.core.tables import IdempotencyKey
from api.match_runs import service as matching
from api.record.trail import audit
from api.referrals import service as referrals
from api.referrals.service import CREATE_OPERATION, Stored

_KEYS = cast(Table, IdempotencyKey.__table__)


def submit_referral(
    db: Database,
    settings: Settings,
    principal: Principal,
    body: ReferralCreate,
    idempotency_key: str | None,
) -> Stored:
    """Store the referral (idempotently) and place it now if it is an emergency."""
    stored = referrals.create_referral(db, settings, principal, body, idempotency_key)
    if stored.replayed or body.urgency != "emergency" or not settings.place_emergencies_on_submit:
        return stored
    referral_id = int(stored.body["id"])
    try:
        matching.place_referral(db, settings, principal, referral_id)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        _note_not_placed(db, principal, referral_id, problem)
    now = referrals.get_referral(db, principal, referral_id)
    assert isinstance(now, ReferralRead)
    answer = now.model_dump(mode="json")
    if idempotency_key is not None:
        # A retry with the same key answers what this request answers: the referral as placed.
        with db.write() as session:
            session.execute(
                update(_KEYS)
                .where(
                    _KEYS.c.organisation_id == principal.organisation_id,
                    _KEYS.c.key == idempotency_key,
                    _KEYS.c.operation == CREATE_OPERATION,
                )
                .values(response_body=answer)
            )
    return replace(stored, body=answer)


def _note_not_placed(
    db: Database, principal: Principal, referral_id: int, problem: ProblemError
) -> None:
    """Keep why the emergency found no place at once (read back in its history)."""
    with db.write() as session:
        audit(
            session,
            principal,
            action="referral.not_placed",
            entity_type="referral",
            entity_id=referral_id,
            after={"reason": problem.reason or "", "why": problem.detail},
        )
