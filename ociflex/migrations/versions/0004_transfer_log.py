"""Transfer log: every call-up, FUNCTION call and refused booking, and every basket sent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("punchout_id", sa.String(64), nullable=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("rental_requests.id"), nullable=True),
        sa.Column("hook_origin", sa.String(255), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("parameter_count", sa.Integer(), nullable=False),
        sa.Column("basket", sa.JSON(), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
    )
    # The log newest first: per customer, per customer and outcome, per outcome.
    op.create_index("ix_transfers_customer_id_id", "transfers", ["customer_id", "id"])
    op.create_index(
        "ix_transfers_customer_outcome_id", "transfers", ["customer_id", "outcome", "id"]
    )
    op.create_index("ix_transfers_outcome_id", "transfers", ["outcome", "id"])
    # Pruning after the retention period, oldest first.
    op.create_index("ix_transfers_at", "transfers", ["at"])
    # The whole story of one punch-out: its call-up and its basket.
    op.create_index("ix_transfers_punchout_id", "transfers", ["punchout_id"])


def downgrade() -> None:
    op.drop_table("transfers")
