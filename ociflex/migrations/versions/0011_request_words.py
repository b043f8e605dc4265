"""The words of each requester's name, for the inbox's search by the start of any word.

The table is filled for the requests stored before it, a batch of requests at a time
(:func:`ociflex.booking.words.fill_request_words`). That function is imported rather than
copied here: the rows must be exactly those the booking writes and the search looks up, and a
later change to what a word is needs a migration that fills the table anew anyway.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ociflex.booking.words import fill_request_words

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_words",
        sa.Column("word", sa.String(32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["rental_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("word", "request_id"),
        sqlite_with_rowid=False,
    )
    fill_request_words(op.get_bind())


def downgrade() -> None:
    op.drop_table("request_words")
