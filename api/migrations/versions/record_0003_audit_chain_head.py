"""The audit chain on PostgreSQL: one call takes the append lock and reads the chain's head.

Appends queue on a transaction-level advisory lock, then read the newest event to link to.
Done as two statements, the lock's holder needed two round trips before it could write; the
function ``audit_chain_head(lock_key)`` does both in one. It must be PL/pgSQL: each statement
in it takes a new snapshot, so the head is read after the lock is granted and sees the event
the previous holder committed. SQLite is unchanged (its writers queue on BEGIN IMMEDIATE).
The SQL is written out here so this revision never changes.

Revision ID: record_0003
Revises: record_0002
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "record_0003"
down_revision: str | Sequence[str] | None = "record_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``audit_chain_head(bigint)``."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint, OUT id bigint, "
        "OUT hash varchar) LANGUAGE plpgsql VOLATILE AS $$ BEGIN "
        "PERFORM pg_advisory_xact_lock(lock_key); "
        "SELECT e.id, e.hash INTO id, hash FROM audit_events e ORDER BY e.id DESC LIMIT 1; "
        "END; $$"
    )


def downgrade() -> None:
    """Drop ``audit_chain_head(bigint)``."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS audit_chain_head(bigint)")
