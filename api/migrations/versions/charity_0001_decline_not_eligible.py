"""A charity can decline because the household is not eligible for its service.

``not_eligible`` joins the decline reasons: such a decline keeps the household away from
every site of that charity (``api/offers/refusals.py``). The CHECK constraint of
``offers.decline_reason`` gains the value (on SQLite through a batch copy of the table).

Revision ID: charity_0001
Revises: 0006_service
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "charity_0001"
down_revision: str | Sequence[str] | None = "0006_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "no_stock",
    "no_capacity",
    "cannot_meet_dietary",
    "out_of_area",
    "household_unreachable",
    "other",
)
AFTER = (*BEFORE[:5], "not_eligible", "other")


def _in(values: Sequence[str]) -> str:
    return f"decline_reason IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Allow ``not_eligible`` as a decline reason."""
    with op.batch_alter_table("offers") as batch:
        batch.drop_constraint(op.f("ck_offers_decline_reason"), type_="check")
        batch.create_check_constraint(op.f("ck_offers_decline_reason"), _in(AFTER))


def downgrade() -> None:
    """Declines for ``not_eligible`` become ``other`` (the reason a charity gave is kept in
    words in the note), then the value goes."""
    op.execute(
        "UPDATE offers SET decline_reason = 'other', decline_note = COALESCE(decline_note, "
        "'The household is not eligible for our service') WHERE decline_reason = 'not_eligible'"
    )
    with op.batch_alter_table("offers") as batch:
        batch.drop_constraint(op.f("ck_offers_decline_reason"), type_="check")
        batch.create_check_constraint(op.f("ck_offers_decline_reason"), _in(BEFORE))
