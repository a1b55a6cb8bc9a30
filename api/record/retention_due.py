"""What retention will erase, and when: the admin's preview before a run.

A closed (fulfilled or withdrawn) referral's personal data falls due for erasure the retention
period after it closed; :func:`retention_preview` lists those due now and those next, each
with its day, and changes nothing. The erasing itself is :func:`api.record.retention.run_retention`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from api.core.db import Database
from api.core.tables import Referral, utcnow
from api.core.vocabulary import CLOSED_REFERRAL_STATUSES
from api.record.retention import due_for_erasure, months_before
from api.record.settings import get_record_settings
from api.record.tables import Erasure


def due_from(closed: datetime, months: int) -> datetime:
    """The first day on which a referral closed at ``closed`` is past the retention period
    (the inverse of :func:`months_before`, stepping over days a shorter month lacks)."""
    moment = months_before(closed, -months)
    while months_before(moment, months) < closed:
        moment += timedelta(days=1)
    return moment


@dataclass(frozen=True)
class RetentionRow:
    """A closed referral whose personal data retention will erase, and from when."""

    referral_id: int
    status: str
    closed_at: datetime
    due_from: datetime


@dataclass(frozen=True)
class RetentionPreview:
    """What a retention run would erase now, and what follows (soonest first)."""

    months: int
    due: list[RetentionRow]
    upcoming: list[RetentionRow]
    upcoming_total: int


def retention_preview(
    db: Database,
    organisation_id: int,
    *,
    now: datetime | None = None,
    months: int | None = None,
    upcoming: int = 10,
) -> RetentionPreview:
    """The organisation's closed referrals not yet erased: those due now (all of them) and the
    next ``upcoming`` after, each with the day it falls due. Nothing is changed."""
    moment = now or utcnow()
    period = months if months is not None else get_record_settings().retention_months
    with db.read() as session:
        due_ids = set(due_for_erasure(session, now=moment, months=period,
                                      organisation_id=organisation_id))  # fmt: skip
        rows = session.execute(
            select(Referral.id, Referral.status, Referral.updated_at)
            .where(
                Referral.organisation_id == organisation_id,
                Referral.status.in_(CLOSED_REFERRAL_STATUSES),
                Referral.id.not_in(select(Erasure.referral_id)),
            )
            .order_by(Referral.updated_at, Referral.id)
        ).all()
    listed = [RetentionRow(rid, getattr(status, "value", str(status)), closed,
                           due_from(closed, period)) for rid, status, closed in rows]  # fmt: skip
    later = [row for row in listed if row.referral_id not in due_ids]
    return RetentionPreview(period, [row for row in listed if row.referral_id in due_ids],
                            later[:upcoming], len(later))  # fmt: skip
