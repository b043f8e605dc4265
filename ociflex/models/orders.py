"""Purchase orders from the customers' ERPs, and their lines, each matched to the request it
pays for (or waiting for an operator to do so).

Every document received is one :class:`PurchaseOrder` row, kept whole (without its secrets):
a ``new`` order, an ``update`` that replaces the earlier order of its ``orderID``, a
``delete`` that withdraws it. The buyer's payloadID is unique per customer: a document sent
again is stored once.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.models.base import Base, UtcDateTime, utcnow

#: new: a first order; update: replaces the earlier order of its orderID; delete: withdraws it.
ORDER_TYPES = ("new", "update", "delete")
#: current: the order of its orderID in force; replaced: an update came after it; withdrawn:
#: a delete came after it (a delete itself is stored as withdrawn).
ORDER_STATES = ("current", "replaced", "withdrawn")
#: matched: every line found its request; unmatched: a line did not, an operator must link
#: it or dismiss the order; dismissed: an operator put it aside, with a reason.
ORDER_HANDLINGS = ("matched", "unmatched", "dismissed")


class PurchaseOrder(Base):
    """One order document from a customer's ERP, as received."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("customer_id", "payload_id", name="uq_purchase_orders_payload_id"),
        Index("ix_purchase_orders_customer_order_id", "customer_id", "order_id", "id"),
        Index("ix_purchase_orders_handling_id", "handling", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    #: The document's own id (cXML's payloadID): the same document again changes nothing.
    payload_id: Mapped[str] = mapped_column(String(255))
    #: The ERP's purchase-order number (cXML's orderID).
    order_id: Mapped[str] = mapped_column(String(100))
    order_type: Mapped[str] = mapped_column(String(10))
    #: The order's date as the ERP wrote it.
    order_date: Mapped[str] = mapped_column(String(40), default="")
    #: The payloadID of the order an update or delete changes, when the document names it.
    changes_payload_id: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(10), default="current")
    handling: Mapped[str] = mapped_column(String(10))
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    #: Who sent it: the From credentials as ``domain:identity``, and the sender's software.
    sender: Mapped[str] = mapped_column(String(255), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The whole document as received, without its secrets.
    document: Mapped[str] = mapped_column(Text)
    #: Why an operator dismissed it, who, when.
    dismissed_reason: Mapped[str] = mapped_column(Text, default="")
    dismissed_by: Mapped[str | None] = mapped_column(String(64))
    dismissed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Optimistic locking: two operators handling one order cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class PurchaseOrderLine(Base):
    """One line of an order: the booking it orders, by the reference ociflex sent in the cart."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        Index("ix_purchase_order_lines_order", "purchase_order_id", "line_number"),
        Index("ix_purchase_order_lines_request_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"))
    line_number: Mapped[int] = mapped_column(Integer)
    #: The ordered quantity: the rental days.
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    #: The vehicle code, as ociflex sent it (SupplierPartID).
    supplier_part_id: Mapped[str] = mapped_column(String(100), default="")
    #: The request's reference as sent back (SupplierPartAuxiliaryID), e.g. ``FF-000123``.
    reference: Mapped[str] = mapped_column(String(100), default="")
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text, default="")
    #: The request this line pays for; None while it is not matched.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("rental_requests.id"))
    #: The operator who linked the line by hand (None: matched on arrival).
    linked_by: Mapped[str | None] = mapped_column(String(64))
