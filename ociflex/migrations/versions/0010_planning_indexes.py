"""Indexes for planning: a week's pickups and returns, what is still to plan by its first day,
and a licence plate planned for overlapping periods (compared without hyphens).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_rental_requests_pickup_at", "rental_requests", ["pickup_at"])
    op.create_index("ix_rental_requests_return_at", "rental_requests", ["return_at"])
    op.create_index("ix_rental_requests_status_start", "rental_requests", ["status", "start_date"])
    op.create_index(
        "ix_rental_requests_plate_key",
        "rental_requests",
        [sa.text("replace(licence_plate, '-', '')"), "pickup_at"],
    )


def downgrade() -> None:
    for name in (
        "ix_rental_requests_plate_key",
        "ix_rental_requests_status_start",
        "ix_rental_requests_return_at",
        "ix_rental_requests_pickup_at",
    ):
        op.drop_index(name, table_name="rental_requests")
