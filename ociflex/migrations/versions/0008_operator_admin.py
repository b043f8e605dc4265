"""Operator administration: an ``admin`` flag on operators, and the trail of what admins did.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Operators who exist already are no admins: the first admin is named on the command line.
    with op.batch_alter_table("operators") as batch:
        batch.add_column(
            sa.Column("admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("operators") as batch:
        batch.alter_column("admin", server_default=None)
    op.create_table(
        "operator_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("operators.id"), nullable=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operators.id"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("operator_events")
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("admin")
