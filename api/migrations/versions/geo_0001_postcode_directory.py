"""The postcode directory, how each place was located, and each council's area.

- ``postcodes``: the full postcode directory a council imports (``foodmatch geo import``).
- ``referrals.located_by`` and ``providers.located_by``: ``postcode`` (its own centroid) or
  ``district`` (its district's centre); every row before this revision was a district.
- ``offers.distance_approximate``: the distance was measured from a district centre; true
  for every offer made before this revision.
- ``organisations.area``: the council's districts and postcode areas (empty: anywhere).

Revision ID: geo_0001
Revises: charity_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "geo_0001"
down_revision: str | Sequence[str] | None = "charity_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the directory table and the columns."""
    op.create_table(
        "postcodes",
        sa.Column("postcode", sa.String(8), nullable=False),
        sa.Column("outcode", sa.String(4), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("terminated", sa.String(7), nullable=True),
        sa.PrimaryKeyConstraint("postcode", name=op.f("pk_postcodes")),
    )
    op.create_index(op.f("ix_postcodes_outcode"), "postcodes", ["outcode"])
    for table in ("referrals", "providers"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("located_by", sa.String(8), nullable=False, server_default="district")
            )
    with op.batch_alter_table("offers") as batch:
        batch.add_column(
            sa.Column(
                "distance_approximate", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("area", sa.String(500), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("area")
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("distance_approximate")
    for table in ("providers", "referrals"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("located_by")
    op.drop_index(op.f("ix_postcodes_outcode"), table_name="postcodes")
    op.drop_table("postcodes")
