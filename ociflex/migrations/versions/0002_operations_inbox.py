"""Operations inbox: operators and their sessions, request history, status counts, outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("last_login_at", MOMENT, nullable=True),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operators.id"), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("last_seen_at", MOMENT, nullable=False),
        sa.Column("ended_at", MOMENT, nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
    )
    op.create_index("ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "at"])
    op.create_index("ix_login_attempts_address_at", "login_attempts", ["client_address", "at"])

    with op.batch_alter_table("rental_requests") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("name_key", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("cost_centre", sa.String(255), nullable=True))
        batch.add_column(sa.Column("po_number", sa.String(255), nullable=True))
        batch.add_column(sa.Column("planned_vehicle", sa.String(255), nullable=True))
        batch.add_column(sa.Column("licence_plate", sa.String(20), nullable=True))
        batch.add_column(sa.Column("pickup_at", MOMENT, nullable=True))
        batch.add_column(sa.Column("return_at", MOMENT, nullable=True))
        batch.add_column(sa.Column("pickup_location", sa.String(255), nullable=True))
        batch.add_column(sa.Column("ops_notes", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("erp_po_number", sa.String(35), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
        batch.drop_index("ix_rental_requests_customer_created")
        batch.drop_index("ix_rental_requests_status_created")
    # Requests registered before this revision: searchable like new ones.
    op.execute("UPDATE rental_requests SET name_key = lower(requester_name)")
    op.execute("UPDATE rental_requests SET requester_email = lower(requester_email)")
    with op.batch_alter_table("rental_requests") as batch:
        for column in ("version", "name_key", "ops_notes", "reason"):
            batch.alter_column(column, server_default=None)
    for name, columns in {
        "ix_rental_requests_status_id": ["status", "id"],
        "ix_rental_requests_customer_id_id": ["customer_id", "id"],
        "ix_rental_requests_vehicle_id": ["vehicle_code", "id"],
        "ix_rental_requests_start_id": ["start_date", "id"],
        "ix_rental_requests_email": ["requester_email"],
        "ix_rental_requests_name_key": ["name_key"],
        "ix_rental_requests_cost_centre": ["cost_centre"],
        "ix_rental_requests_po_number": ["po_number"],
        "ix_rental_requests_erp_po_number": ["erp_po_number"],
    }.items():
        op.create_index(name, "rental_requests", columns)

    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("rental_requests.id"), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operators.id"), nullable=True),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
    )
    op.create_index("ix_request_events_request_id", "request_events", ["request_id", "id"])

    op.create_table(
        "request_status_counts",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(20), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.execute(
        "INSERT INTO request_status_counts (customer_id, status, count) "
        "SELECT customer_id, status, count(*) FROM rental_requests GROUP BY customer_id, status"
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.String(255), nullable=False, unique=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("rental_requests.id"), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", MOMENT, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("claimed_until", MOMENT, nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("sent_at", MOMENT, nullable=True),
    )
    op.create_index("ix_outbox_status_next_attempt", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_request_id", "outbox", ["request_id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("request_status_counts")
    op.drop_table("request_events")
    for name in (
        "ix_rental_requests_status_id",
        "ix_rental_requests_customer_id_id",
        "ix_rental_requests_vehicle_id",
        "ix_rental_requests_start_id",
        "ix_rental_requests_email",
        "ix_rental_requests_name_key",
        "ix_rental_requests_cost_centre",
        "ix_rental_requests_po_number",
        "ix_rental_requests_erp_po_number",
    ):
        op.drop_index(name, "rental_requests")
    with op.batch_alter_table("rental_requests") as batch:
        for column in (
            "version",
            "name_key",
            "cost_centre",
            "po_number",
            "planned_vehicle",
            "licence_plate",
            "pickup_at",
            "return_at",
            "pickup_location",
            "ops_notes",
            "erp_po_number",
            "reason",
        ):
            batch.drop_column(column)
        batch.create_index("ix_rental_requests_customer_created", ["customer_id", "created_at"])
        batch.create_index("ix_rental_requests_status_created", ["status", "created_at"])
    op.drop_table("login_attempts")
    op.drop_table("operator_sessions")
    op.drop_table("operators")
