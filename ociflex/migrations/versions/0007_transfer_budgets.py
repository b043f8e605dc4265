"""Transfer budgets: rejected entries and baskets sent again are counted per client address,
customer and minute; those over the budget are counted in one summary entry (its
``suppressed``), not stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("suppressed", sa.Integer(), nullable=True))
    op.create_table(
        "transfer_budgets",
        sa.Column("client_address", sa.String(64), primary_key=True),
        sa.Column("customer_key", sa.String(64), primary_key=True),
        sa.Column("outcome", sa.String(10), primary_key=True),
        sa.Column("window_start", MOMENT, primary_key=True),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("summary_id", sa.Integer(), sa.ForeignKey("transfers.id"), nullable=True),
    )
    # Pruning the windows that are over.
    op.create_index("ix_transfer_budgets_window_start", "transfer_budgets", ["window_start"])


def downgrade() -> None:
    op.drop_table("transfer_budgets")
    # A summary entry means nothing without the count it holds.
    op.execute("DELETE FROM transfers WHERE kind = 'suppressed'")
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("suppressed")
