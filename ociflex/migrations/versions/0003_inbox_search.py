"""Inbox search: prefix searches on an index under any collation; customer and status together.

The inbox finds names and e-mail addresses by their first letters, as a range of code points
(``name_key >= 'jan' AND name_key < 'jao'``, see ``ociflex.ops.inbox_query.starts_with``). SQLite
compares text byte by byte (BINARY), so its ordinary index serves that range as it is. A
PostgreSQL database with a linguistic collation (en_US.UTF-8, ICU) orders text differently
("de vries" next to "dé vries" and "de-vries"), so there the range uses the byte-wise
operators ``~>=~`` and ``~<~``, which only an index with ``varchar_pattern_ops`` serves. Such an
index serves equality too, so it replaces the ordinary one (no query orders these columns).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Index name -> column: byte-wise ordered on PostgreSQL.
PATTERN_INDEXES = {
    "ix_rental_requests_email": "requester_email",
    "ix_rental_requests_name_key": "name_key",
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        for name, column in PATTERN_INDEXES.items():
            op.drop_index(name, "rental_requests")
            op.create_index(
                name,
                "rental_requests",
                [column],
                postgresql_ops={column: "varchar_pattern_ops"},
            )
    # A customer's status tab: that customer's requests in one status, newest first.
    op.create_index(
        "ix_rental_requests_customer_status_id",
        "rental_requests",
        ["customer_id", "status", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_rental_requests_customer_status_id", "rental_requests")
    if _postgresql():
        for name, column in PATTERN_INDEXES.items():
            op.drop_index(name, "rental_requests")
            op.create_index(name, "rental_requests", [column])
