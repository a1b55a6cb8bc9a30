"""The record's search: on PostgreSQL the redacted text's tsvector becomes a stored column.

Before, the GIN index was over the expression ``to_tsvector('english', coalesce(body_redacted,
''))``; a search still parsed every matching document again to rank it, which grew with the
record (a match run indexes one decision per referral). Now the tsvector is a generated, stored
column ``body_tsv`` with the GIN index over it, so matching and ranking read what is stored.
SQLite (FTS5) is unchanged. The SQL is written out here so this revision never changes.

Revision ID: record_0002
Revises: 0002_service
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "record_0002"
down_revision: str | Sequence[str] | None = "0002_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPRESSION = "to_tsvector('english', coalesce(body_redacted, ''))"


def upgrade() -> None:
    """Replace the expression index with a stored tsvector column and its GIN index."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_documents_body_tsv")
    op.execute(
        "ALTER TABLE search_documents ADD COLUMN body_tsv tsvector "
        f"GENERATED ALWAYS AS ({EXPRESSION}) STORED"
    )
    op.execute("CREATE INDEX ix_search_documents_body_tsv ON search_documents USING gin (body_tsv)")


def downgrade() -> None:
    """Back to the GIN index over the expression, without the stored column."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_documents_body_tsv")
    op.execute("ALTER TABLE search_documents DROP COLUMN body_tsv")
    op.execute(
        f"CREATE INDEX ix_search_documents_body_tsv ON search_documents USING gin ({EXPRESSION})"
    )
