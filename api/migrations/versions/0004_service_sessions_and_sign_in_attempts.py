"""Sessions that can be ended, and failed sign-ins counted in the database.

``users.session_version`` goes up when a person signs out, is deactivated or gets a new
password; tokens and page sessions carry the value they were issued under, so every earlier
one stops working at once. ``sign_in_attempts`` holds the failed sign-ins of the last window
(keyed hashes of the e-mail or client address) so that every server process sharing the
database enforces the same limits.

Revision ID: 0004_service
Revises: 0003_service
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_service"
down_revision: str | Sequence[str] | None = "0003_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``users.session_version`` and the ``sign_in_attempts`` table."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index(op.f("ix_sign_in_attempts_at"), "sign_in_attempts", ["at"], unique=False)
    op.create_index("ix_sign_in_attempts_key_at", "sign_in_attempts", ["key", "at"], unique=False)


def downgrade() -> None:
    """Drop them again (every counted attempt is forgotten)."""
    op.drop_index("ix_sign_in_attempts_key_at", table_name="sign_in_attempts")
    op.drop_index(op.f("ix_sign_in_attempts_at"), table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
