"""The FOI-ready record: audit chain, threads, messages, search index, FOI register, erasures.

Also installs what the ORM cannot describe: triggers refusing UPDATE/DELETE (and TRUNCATE) on
``audit_events``, the SQLite FTS5 index and its sync triggers, and the PostgreSQL GIN index
over the redacted text. The SQL is copied here (not imported) so this revision never changes.

Revision ID: record_0001
Revises: 0001_service
Create Date: 2026-11-23 19:33:25.931683
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "record_0001"
down_revision: str | Sequence[str] | None = "0001_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("before_json", sa.Text(), nullable=False),
        sa.Column("after_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_referral_id"), ["referral_id"], unique=False
        )

    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=80), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("other_organisation_id", sa.Integer(), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_redacted", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("source_key", name="uq_search_documents_source_key"),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_documents_org_time", ["organisation_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_search_documents_other_org", ["other_organisation_id"], unique=False
        )
        batch_op.create_index("ix_search_documents_referral", ["referral_id"], unique=False)

    op.create_table(
        "foi_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("due_on > received_on", name=op.f("ck_foi_requests_due_after_received")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_foi_requests_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_foi_requests_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foi_requests")),
        sa.UniqueConstraint("organisation_id", "reference", name="uq_foi_requests_org_reference"),
    )
    with op.batch_alter_table("foi_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_foi_requests_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "audit_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["erased_by_id"], ["users.id"], name=op.f("fk_erasures_erased_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_erasures_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_erasures_referral_id")),
    )
    op.create_table(
        "foi_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("foi_request_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("redaction_counts", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_foi_exports_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["foi_request_id"],
            ["foi_requests.id"],
            name=op.f("fk_foi_exports_foi_request_id_foi_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_foi_exports_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foi_exports")),
    )
    with op.batch_alter_table("foi_exports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_foi_exports_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "message_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("council_organisation_id", sa.Integer(), nullable=False),
        sa.Column("charity_organisation_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'referral' AND referral_id IS NOT NULL) OR "
            "(kind = 'organisation' AND referral_id IS NULL)",
            name=op.f("ck_message_threads_kind_matches_referral"),
        ),
        sa.ForeignKeyConstraint(
            ["charity_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_message_threads_charity_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["council_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_message_threads_council_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_message_threads_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_message_threads_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_threads")),
    )
    with op.batch_alter_table("message_threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_threads_orgs",
            ["council_organisation_id", "charity_organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_message_threads_referral_charity",
            ["referral_id", "charity_organisation_id"],
            unique=True,
        )

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("author_organisation_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_messages_author_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"], ["users.id"], name=op.f("fk_messages_author_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["message_threads.id"],
            name=op.f("fk_messages_thread_id_message_threads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_thread_id_id", ["thread_id", "id"], unique=False)

    op.create_table(
        "thread_read_markers",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_read_message_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["message_threads.id"],
            name=op.f("fk_thread_read_markers_thread_id_message_threads"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_thread_read_markers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("thread_id", "user_id", name=op.f("pk_thread_read_markers")),
    )

    _install_database_rules()


def downgrade() -> None:
    """Revert this revision."""
    _remove_database_rules()
    op.drop_table("thread_read_markers")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_thread_id_id")

    op.drop_table("messages")
    with op.batch_alter_table("message_threads", schema=None) as batch_op:
        batch_op.drop_index("uq_message_threads_referral_charity")
        batch_op.drop_index("ix_message_threads_orgs")

    op.drop_table("message_threads")
    with op.batch_alter_table("foi_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_foi_exports_organisation_id"))

    op.drop_table("foi_exports")
    op.drop_table("erasures")
    with op.batch_alter_table("foi_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_foi_requests_organisation_id"))

    op.drop_table("foi_requests")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_search_documents_referral")
        batch_op.drop_index("ix_search_documents_other_org")
        batch_op.drop_index("ix_search_documents_org_time")

    op.drop_table("search_documents")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_referral_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")


SQLITE_RULES = (
    "CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
    "CREATE VIRTUAL TABLE search_documents_fts USING fts5("
    "body_redacted, content='search_documents', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_documents_fts(rowid, body_redacted) VALUES (new.id, new.body_redacted); "
    "END",
    "CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_documents_fts(search_documents_fts, rowid, body_redacted) "
    "VALUES ('delete', old.id, old.body_redacted); END",
    "CREATE TRIGGER search_documents_fts_update AFTER UPDATE OF body_redacted "
    "ON search_documents BEGIN "
    "INSERT INTO search_documents_fts(search_documents_fts, rowid, body_redacted) "
    "VALUES ('delete', old.id, old.body_redacted); "
    "INSERT INTO search_documents_fts(rowid, body_redacted) VALUES (new.id, new.body_redacted); "
    "END",
)
POSTGRES_RULES = (
    "CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING "
    "MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused', ERRCODE = '42501'; "
    "END; $$",
    "CREATE TRIGGER audit_events_refuse_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()",
    "CREATE TRIGGER audit_events_refuse_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()",
    "CREATE INDEX ix_search_documents_body_tsv ON search_documents "
    "USING gin (to_tsvector('english', coalesce(body_redacted, '')))",
)


def _install_database_rules() -> None:
    """Append-only triggers and the full-text index, in the dialect's own SQL."""
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_RULES if dialect == "sqlite" else POSTGRES_RULES:
        op.execute(statement)


def _remove_database_rules() -> None:
    """Drop what ``_install_database_rules`` made (the tables' drops take the triggers)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_documents_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_documents_body_tsv")
        op.execute("DROP TRIGGER IF EXISTS audit_events_refuse_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_refuse_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")
