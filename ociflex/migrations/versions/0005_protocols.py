"""Protocols: a request and a transfer-log entry record the protocol they came by (OCI, cXML),
the inbound document and the cart; cXML StartPages wait in their own table.

Existing rows came by OCI. A request's call-up (``callup``, the parameters in order) moves into
``inbound`` as ``{"parameters": [...]}`` unchanged, and its ``basket`` is its ``cart`` as it
was; a transfer-log entry's ``basket`` becomes ``cart`` and ``hook_origin`` ``return_origin``.
The move is one statement per table on the server (JSON functions of PostgreSQL and SQLite),
so that a million requests are not read into Python and written back.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)

#: ``{"parameters": callup}``, and back, in each engine's JSON functions.
_WRAP = {
    "postgresql": "json_build_object('parameters', callup)",
    "sqlite": "json_object('parameters', json(callup))",
}
_UNWRAP = {
    "postgresql": "COALESCE(inbound -> 'parameters', '[]'::json)",
    "sqlite": "COALESCE(json_extract(inbound, '$.parameters'), '[]')",
}


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade() -> None:
    with op.batch_alter_table("rental_requests") as batch:
        batch.add_column(sa.Column("protocol", sa.String(10), nullable=False, server_default="oci"))
        batch.add_column(sa.Column("inbound", sa.JSON(), nullable=True))
        batch.alter_column("basket", new_column_name="cart")
    op.execute(f"UPDATE rental_requests SET inbound = {_WRAP[_dialect()]}")  # noqa: S608
    with op.batch_alter_table("rental_requests") as batch:
        batch.alter_column("inbound", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("callup")

    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("protocol", sa.String(10), nullable=False, server_default="oci"))
        batch.add_column(sa.Column("document", sa.Text(), nullable=True))
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))
        batch.alter_column("basket", new_column_name="cart")
        batch.alter_column("hook_origin", new_column_name="return_origin")

    op.create_table(
        "start_pages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("session", sa.JSON(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
    )
    op.create_index("ix_start_pages_created_at", "start_pages", ["created_at"])


def downgrade() -> None:
    """Back to OCI only: cXML requests keep no call-up (an empty one), their entries no
    document; StartPages are dropped."""
    op.drop_table("start_pages")
    with op.batch_alter_table("transfers") as batch:
        batch.alter_column("return_origin", new_column_name="hook_origin")
        batch.alter_column("cart", new_column_name="basket")
        batch.drop_column("answer")
        batch.drop_column("document")
        batch.drop_column("protocol")

    with op.batch_alter_table("rental_requests") as batch:
        batch.add_column(sa.Column("callup", sa.JSON(), nullable=True))
    op.execute(f"UPDATE rental_requests SET callup = {_UNWRAP[_dialect()]}")  # noqa: S608
    with op.batch_alter_table("rental_requests") as batch:
        batch.alter_column("callup", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("cart", new_column_name="basket")
        batch.drop_column("inbound")
        batch.drop_column("protocol")
