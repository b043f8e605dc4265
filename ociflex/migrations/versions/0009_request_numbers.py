"""Request numbers taken before the row exists: on SQLite the last one handed out is kept in
``request_numbers`` (PostgreSQL uses the id's own sequence).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No first row: the first number taken makes it (ociflex/booking/numbers.py).
    op.create_table(
        "request_numbers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("request_numbers")
