"""Purchase orders: each order document a customer's ERP sends, and its lines, matched to the
requests they pay for. The ERP's purchase-order number grows to 100 characters, as an orderID
may be longer than SAP's ten digits.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("payload_id", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(100), nullable=False),
        sa.Column("order_type", sa.String(10), nullable=False),
        sa.Column("order_date", sa.String(40), nullable=False),
        sa.Column("changes_payload_id", sa.String(255), nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("handling", sa.String(10), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("received_at", MOMENT, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("dismissed_reason", sa.Text(), nullable=False),
        sa.Column("dismissed_by", sa.String(64), nullable=True),
        sa.Column("dismissed_at", MOMENT, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("customer_id", "payload_id", name="uq_purchase_orders_payload_id"),
    )
    op.create_index(
        "ix_purchase_orders_customer_order_id",
        "purchase_orders",
        ["customer_id", "order_id", "id"],
    )
    op.create_index("ix_purchase_orders_handling_id", "purchase_orders", ["handling", "id"])
    op.create_table(
        "purchase_order_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "purchase_order_id",
            sa.Integer(),
            sa.ForeignKey("purchase_orders.id"),
            nullable=False,
        ),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        sa.Column("supplier_part_id", sa.String(100), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("unit_price", sa.Numeric(14, 4), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("rental_requests.id"), nullable=True),
        sa.Column("linked_by", sa.String(64), nullable=True),
    )
    op.create_index(
        "ix_purchase_order_lines_order",
        "purchase_order_lines",
        ["purchase_order_id", "line_number"],
    )
    op.create_index("ix_purchase_order_lines_request_id", "purchase_order_lines", ["request_id"])
    with op.batch_alter_table("rental_requests") as batch:
        batch.alter_column(
            "erp_po_number", existing_type=sa.String(35), type_=sa.String(100), nullable=True
        )


def downgrade() -> None:
    """Orders are dropped; a longer purchase-order number is cut to 35 characters."""
    op.drop_table("purchase_order_lines")
    op.drop_table("purchase_orders")
    op.execute("UPDATE rental_requests SET erp_po_number = substr(erp_po_number, 1, 35)")
    with op.batch_alter_table("rental_requests") as batch:
        batch.alter_column(
            "erp_po_number", existing_type=sa.String(100), type_=sa.String(35), nullable=True
        )
