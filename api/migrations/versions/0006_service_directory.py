"""The council's directory: ORUK ids and directory facts of imported sites and charities.

``directory_sites`` holds, for each site taken in from an Open Referral UK feed or a council's
spreadsheet, the keys the next import finds it by and what the directory says about it
(description, schedules, service areas, address); ``directory_organisations`` the ORUK id of
each imported charity; ``directory_imports`` each import's report; ``directory_installation``
the random namespace the installation's published UUIDs are made in (one is drawn here). Sites
gain ``closed_at``: a closed site is not offered to households.

Revision ID: 0006_service
Revises: 0004_service
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_service"
down_revision: str | Sequence[str] | None = "0004_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the directory tables, draw the namespace, and let sites be closed."""
    installation = op.create_table(
        "directory_installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_installation")),
    )
    op.bulk_insert(installation, [{"id": 1, "namespace": str(uuid.uuid4())}])
    op.create_table(
        "directory_organisations",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("oruk_id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_directory_organisations_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_directory_organisations")),
        sa.UniqueConstraint("oruk_id", name=op.f("uq_directory_organisations_oruk_id")),
    )
    op.create_table(
        "directory_sites",
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "oruk",
                "spreadsheet",
                name="directory_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("oruk_service_id", sa.String(length=36), nullable=True),
        sa.Column("oruk_location_id", sa.String(length=36), nullable=True),
        sa.Column("oruk_service_at_location_id", sa.String(length=36), nullable=True),
        sa.Column("sheet_provider_id", sa.String(length=200), nullable=True),
        sa.Column("service_name", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("location_name", sa.String(length=200), nullable=True),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("schedules", sa.JSON(), nullable=False),
        sa.Column("service_areas", sa.JSON(), nullable=False),
        sa.Column("dietary", sa.String(length=200), nullable=False),
        sa.Column("closed_reason", sa.String(length=200), nullable=True),
        sa.Column("capacity_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_directory_sites_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_directory_sites_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["organisations.id"],
            name=op.f("fk_directory_sites_imported_by_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["capacity_id"], ["capacity.id"], name=op.f("fk_directory_sites_capacity_id_capacity")
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_directory_sites")),
        sa.UniqueConstraint(
            "oruk_service_at_location_id",
            name=op.f("uq_directory_sites_oruk_service_at_location_id"),
        ),
        sa.UniqueConstraint(
            "organisation_id", "sheet_provider_id", name="uq_directory_sites_sheet"
        ),
    )
    op.create_index(
        op.f("ix_directory_sites_organisation_id"), "directory_sites", ["organisation_id"]
    )
    op.create_index(
        op.f("ix_directory_sites_oruk_service_id"), "directory_sites", ["oruk_service_id"]
    )
    op.create_table(
        "directory_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_directory_imports_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_directory_imports_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_imports")),
    )
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the directory tables; closed sites open again (the column goes)."""
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("closed_at")
    op.drop_table("directory_imports")
    op.drop_index(op.f("ix_directory_sites_oruk_service_id"), table_name="directory_sites")
    op.drop_index(op.f("ix_directory_sites_organisation_id"), table_name="directory_sites")
    op.drop_table("directory_sites")
    op.drop_table("directory_organisations")
    op.drop_table("directory_installation")
