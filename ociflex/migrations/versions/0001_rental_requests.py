"""Rental requests registered at the end of a punch-out.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rental_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("punchout_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("requester_email", sa.String(254), nullable=False),
        sa.Column("requester_name", sa.String(255), nullable=False),
        sa.Column("vehicle_code", sa.String(40), nullable=False),
        sa.Column("vehicle_name", sa.String(255), nullable=False),
        sa.Column("day_rate", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(255), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("callup", sa.JSON(), nullable=False),
        sa.Column("basket", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("punchout_id", name="uq_rental_requests_punchout_id"),
    )
    op.create_index(
        "ix_rental_requests_customer_created", "rental_requests", ["customer_id", "created_at"]
    )
    op.create_index(
        "ix_rental_requests_status_created", "rental_requests", ["status", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("rental_requests")
