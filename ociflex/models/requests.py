"""Rental requests, their history, and the per-status counts the inbox shows."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.digits import plain_digits
from ociflex.models.base import Base, UtcDateTime, utcnow

REFERENCE_PREFIX = "FF-"

#: Every status a request can have; the workflow (ociflex.ops.workflow) says how it moves.
STATUSES = ("new", "in_progress", "scheduled", "confirmed", "rejected", "cancelled")


def format_reference(request_id: int) -> str:
    return f"{REFERENCE_PREFIX}{request_id:06d}"


def parse_reference(text: str) -> int | None:
    """The request id in a reference such as ``FF-000123`` or ``ff-123``; None if it is none."""
    text = text.strip().upper()
    if text.startswith(REFERENCE_PREFIX):
        text = text[len(REFERENCE_PREFIX) :]
    return int(text) if plain_digits(text) and len(text) <= 12 else None


def search_key(text: str) -> str:
    """How names are compared in searches: case-folded, single-spaced."""
    return " ".join(text.casefold().split())


class RentalRequest(Base):
    """One employee's request for a vehicle, as registered at the end of a punch-out.

    Every inbox list reads newest first, so each filter has an index ending in ``id``.
    """

    __tablename__ = "rental_requests"
    __table_args__ = (
        Index("ix_rental_requests_status_id", "status", "id"),
        Index("ix_rental_requests_customer_id_id", "customer_id", "id"),
        Index("ix_rental_requests_customer_status_id", "customer_id", "status", "id"),
        Index("ix_rental_requests_vehicle_id", "vehicle_code", "id"),
        Index("ix_rental_requests_start_id", "start_date", "id"),
        # Prefix searches compare byte-wise: on PostgreSQL only these operator classes serve
        # them under a linguistic collation (migration 0003, ociflex.ops.inbox_query.starts_with).
        Index(
            "ix_rental_requests_email",
            "requester_email",
            postgresql_ops={"requester_email": "varchar_pattern_ops"},
        ),
        Index(
            "ix_rental_requests_name_key",
            "name_key",
            postgresql_ops={"name_key": "varchar_pattern_ops"},
        ),
        Index("ix_rental_requests_cost_centre", "cost_centre"),
        Index("ix_rental_requests_po_number", "po_number"),
        Index("ix_rental_requests_erp_po_number", "erp_po_number"),
        # The planning: a week's pickups and returns, and what is still to plan by its first
        # day (ociflex.ops.planning).
        Index("ix_rental_requests_pickup_at", "pickup_at"),
        Index("ix_rental_requests_return_at", "return_at"),
        Index("ix_rental_requests_status_start", "status", "start_date"),
        UniqueConstraint("punchout_id", name="uq_rental_requests_punchout_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The punch-out session this request ends; unique, so a double submit stores one request.
    punchout_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64))
    #: The protocol the request came by: ``oci`` or ``cxml``.
    protocol: Mapped[str] = mapped_column(String(10), default="oci")
    status: Mapped[str] = mapped_column(String(20), default="new")
    language: Mapped[str] = mapped_column(String(5))
    #: Optimistic locking: two operators changing one request cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    #: Lower-cased, as e-mail addresses are compared in practice.
    requester_email: Mapped[str] = mapped_column(String(254))
    requester_name: Mapped[str] = mapped_column(String(255))
    #: :func:`search_key` of the requester's name, for prefix searches on an index.
    name_key: Mapped[str] = mapped_column(String(255), default="")
    vehicle_code: Mapped[str] = mapped_column(String(40))
    vehicle_name: Mapped[str] = mapped_column(String(255))
    day_rate: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(255))
    remarks: Mapped[str] = mapped_column(Text, default="")
    #: The customer fields named ``cost_centre`` and ``po_number``, copied for searching.
    cost_centre: Mapped[str | None] = mapped_column(String(255))
    po_number: Mapped[str | None] = mapped_column(String(255))

    #: Every customer field by ociflex name, as finally submitted (after the employee's edits).
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    #: The document that started the punch-out, without secrets, in its protocol's shape:
    #: OCI ``{"parameters": [[name, value], ...]}`` (the call-up in order, without the
    #: password); cXML ``{"document": "<cXML ...>"}`` (the PunchOutSetupRequest).
    inbound: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The latest cart exactly as posted to the buyer's system: action, target, charset,
    #: fields (and cXML's ``document``); see :class:`ociflex.booking.cart.Cart`.
    cart: Mapped[dict[str, Any]] = mapped_column(JSON)

    # What operations planned (set when the request is scheduled).
    planned_vehicle: Mapped[str | None] = mapped_column(String(255))
    licence_plate: Mapped[str | None] = mapped_column(String(20))
    pickup_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    return_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pickup_location: Mapped[str | None] = mapped_column(String(255))
    ops_notes: Mapped[str] = mapped_column(Text, default="")
    #: The purchase-order number the customer's ERP issued: from its order (ociflex.orders),
    #: or typed in by operations.
    erp_po_number: Mapped[str | None] = mapped_column(String(100))
    #: Why the request was rejected or cancelled (shown to the requester).
    reason: Mapped[str] = mapped_column(Text, default="")

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def reference(self) -> str:
        """Human reference shown to everyone and sent with the cart (OCI's EXT_QUOTE_ID, cXML's
        SupplierPartAuxiliaryID), e.g. ``FF-000123``."""
        return format_reference(self.id)


#: A plate planned twice (ociflex.ops.conflicts): plates are compared without their hyphens.
#: Written with literals, not bound parameters: a query uses the index only when its
#: expression is the index's own, character for character.
licence_plate_key = func.replace(
    RentalRequest.licence_plate, literal_column("'-'"), literal_column("''")
)
Index("ix_rental_requests_plate_key", licence_plate_key, RentalRequest.pickup_at)


class RequestEvent(Base):
    """One entry of a request's history: who changed what, when, from where."""

    __tablename__ = "request_events"
    __table_args__ = (Index("ix_request_events_request_id", "request_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("rental_requests.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The operator's user name, or ``employee`` for the registration through the punch-out.
    actor: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    #: Changed fields: name -> [old, new].
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_address: Mapped[str | None] = mapped_column(String(64))


class StatusCount(Base):
    """How many requests each customer has in each status, kept in step with every change,
    so the inbox shows its counts without counting a million rows."""

    __tablename__ = "request_status_counts"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
