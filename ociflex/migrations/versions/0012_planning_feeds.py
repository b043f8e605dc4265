"""The branches' calendar feeds with their token hashes, and the index a branch's feed reads
its rentals by (pickup location, pickup moment).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "planning_feeds",
        sa.Column("slug", sa.String(255), primary_key=True),
        sa.Column("branch", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("rotated_at", MOMENT, nullable=False),
        sa.Column("rotated_by", sa.Integer(), sa.ForeignKey("operators.id"), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_rental_requests_location_pickup", "rental_requests", ["pickup_location", "pickup_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_rental_requests_location_pickup", table_name="rental_requests")
    op.drop_table("planning_feeds")
