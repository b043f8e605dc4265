"""A purchase order as its protocol read it: plain data, checked, before anything is stored."""

from dataclasses import dataclass
from decimal import Decimal

from ociflex.models import ORDER_TYPES


@dataclass(frozen=True)
class OrderedLine:
    """One line of an order: what was ordered for which booking."""

    line_number: int
    #: The ordered quantity: rental days.
    quantity: Decimal
    #: The vehicle code.
    supplier_part_id: str
    #: The reference of the request it pays for, as the cart carried it (``FF-000123``).
    reference: str
    unit_price: Decimal | None = None
    currency: str | None = None
    description: str = ""


@dataclass(frozen=True)
class ReceivedOrder:
    """An order document: its ids, who sent it, its lines, and the document itself."""

    #: The document's own id: the same document sent again is the same order.
    payload_id: str
    #: The ERP's purchase-order number.
    order_id: str
    #: One of :data:`~ociflex.models.ORDER_TYPES`.
    order_type: str
    order_date: str
    #: The payloadID of the order an update or delete changes, when the document names it.
    changes_payload_id: str | None
    total: Decimal | None
    currency: str | None
    #: The sending party (``NetworkID:AN01000012345``), and its software where it names it.
    sender: str
    user_agent: str
    #: The whole document as received, without its secrets.
    document: str
    lines: tuple[OrderedLine, ...]

    def __post_init__(self) -> None:
        if self.order_type not in ORDER_TYPES:
            raise ValueError(f"unknown order type {self.order_type!r}")
