"""Referrals can be withdrawn: a ``withdrawn`` status for referrals and offers, and why.

A council withdraws a referral the household no longer needs (helped elsewhere, a duplicate,
not reachable). The referral keeps the reason and when; an offer it held is marked
``withdrawn`` and its place freed. The CHECK constraints of both status columns gain the new
value (on SQLite through a batch copy of each table).

Revision ID: 0003_service
Revises: record_0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_service"
down_revision: str | Sequence[str] | None = "record_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERRAL_BEFORE = ("open", "offered", "accepted", "fulfilled")
OFFER_BEFORE = ("offered", "accepted", "declined", "collected", "delivered", "no_show")
REASONS = (
    "no_longer_needed",
    "helped_elsewhere",
    "duplicate",
    "household_uncontactable",
    "other",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Add the withdrawal columns and the ``withdrawn`` statuses."""
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("withdrawal_reason", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_referrals_referral_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_referrals_referral_status"), _in("status", (*REFERRAL_BEFORE, "withdrawn"))
        )
        batch.create_check_constraint(
            op.f("ck_referrals_withdrawal_reason"), _in("withdrawal_reason", REASONS)
        )
    with op.batch_alter_table("offers") as batch:
        batch.drop_constraint(op.f("ck_offers_offer_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_offers_offer_status"), _in("status", (*OFFER_BEFORE, "withdrawn"))
        )


def downgrade() -> None:
    """Withdrawn referrals become fulfilled (closed) and withdrawn offers declined, then the
    columns and statuses go."""
    op.execute("UPDATE offers SET status = 'declined' WHERE status = 'withdrawn'")
    op.execute("UPDATE referrals SET status = 'fulfilled' WHERE status = 'withdrawn'")
    with op.batch_alter_table("offers") as batch:
        batch.drop_constraint(op.f("ck_offers_offer_status"), type_="check")
        batch.create_check_constraint(op.f("ck_offers_offer_status"), _in("status", OFFER_BEFORE))
    with op.batch_alter_table("referrals") as batch:
        batch.drop_constraint(op.f("ck_referrals_withdrawal_reason"), type_="check")
        batch.drop_constraint(op.f("ck_referrals_referral_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_referrals_referral_status"), _in("status", REFERRAL_BEFORE)
        )
        batch.drop_column("withdrawn_at")
        batch.drop_column("withdrawal_reason")
