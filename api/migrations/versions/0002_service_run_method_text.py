"""Match runs: the engine's method description is free text, its status up to 64 characters.

The engine describes how it solved a run in words ("min-cost flow + LP-guided staged MIP
(SCIP) on 2 of 371 components"); 64 characters were too few on PostgreSQL.

Revision ID: 0002_service
Revises: record_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_service"
down_revision: str | Sequence[str] | None = "record_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Widen match_runs.method to TEXT and match_runs.status to 64 characters."""
    with op.batch_alter_table("match_runs") as batch:
        batch.alter_column("method", type_=sa.Text(), existing_nullable=False)
        batch.alter_column(
            "status",
            type_=sa.String(length=64),
            existing_type=sa.String(length=32),
            existing_nullable=False,
        )


def downgrade() -> None:
    """Back to the first revision's widths (longer values are cut)."""
    with op.batch_alter_table("match_runs") as batch:
        batch.alter_column(
            "method",
            type_=sa.String(length=64),
            existing_type=sa.Text(),
            existing_nullable=False,
            postgresql_using="left(method, 64)",
        )
        batch.alter_column(
            "status",
            type_=sa.String(length=32),
            existing_type=sa.String(length=64),
            existing_nullable=False,
            postgresql_using="left(status, 32)",
        )
