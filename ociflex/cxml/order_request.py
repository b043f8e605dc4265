"""Reading an OrderRequest (PROTOCOL.md section 5) into a received purchase order.

Plain functions over a parsed document: the web layer authenticates it, hands it in, and gets
back a :class:`~ociflex.orders.received.ReceivedOrder` (matching and storing it is the orders
core's), or a :class:`~ociflex.cxml.status.CxmlRefusal` (400) that tells the buyer's
administrator what to fix: no payloadID (an order must be recognisable when it is sent again),
no orderID, no lines, a number that is none.

Real buyers leave out what the DTD gives a default for (``type`` is ``new``), number lines or
not (``lineNumber``; else their position), and name a line's request in
``SupplierPartAuxiliaryID``, which ociflex's cart filled with the request's reference; OCI
buyers map ``EXT_QUOTE_ID`` into it.
"""

import re
from decimal import Decimal

from lxml import etree

from ociflex.cxml.documents import child, children, path, text_of
from ociflex.cxml.header import Header
from ociflex.cxml.redact import without_secrets
from ociflex.cxml.status import CxmlRefusal
from ociflex.digits import plain_digits
from ociflex.models import ORDER_TYPES
from ociflex.orders.received import OrderedLine, ReceivedOrder
from ociflex.text import N_

#: The longest payloadID and orderID kept (the columns'): a longer one is refused, not cut, as
#: a cut one could name another document.
MAX_PAYLOAD_ID = 255
MAX_ORDER_ID = 100
#: Numbers beyond these are no rental: refused before a database column overflows.
MAX_QUANTITY = Decimal("1e9")
MAX_AMOUNT = Decimal("1e11")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def order_request_of(root: etree._Element) -> etree._Element | None:
    return path(root, "Request", "OrderRequest")


def read_order_request(root: etree._Element, header: Header) -> ReceivedOrder:
    """The order in ``root`` (an authenticated OrderRequest), checked."""
    order = order_request_of(root)
    if order is None:
        raise ValueError("no OrderRequest: dispatch on the request's type first")
    head = child(order, "OrderRequestHeader")
    if head is None:
        raise CxmlRefusal(
            400, N_("The OrderRequest has no OrderRequestHeader: send the order's header.")
        )
    total, currency = _money(path(head, "Total", "Money"), "Total")
    reference = child(head, "DocumentReference")
    sender = header.from_[0]
    return ReceivedOrder(
        payload_id=_payload_id(root),
        order_id=_order_id(head),
        order_type=_order_type(head),
        order_date=head.get("orderDate", "").strip(),
        changes_payload_id=(reference.get("payloadID", "").strip()[:MAX_PAYLOAD_ID] or None)
        if reference is not None
        else None,
        total=total,
        currency=currency,
        sender=f"{sender.domain}:{sender.identity}",
        user_agent=header.user_agent,
        document=without_secrets(root),
        lines=_lines(order),
    )


def _payload_id(root: etree._Element) -> str:
    payload_id = root.get("payloadID", "").strip()
    if not payload_id:
        raise CxmlRefusal(
            400,
            N_(
                "The document has no payloadID, so a repeated order could not be recognised. "
                "Send a payloadID that is unique for each document."
            ),
        )
    if len(payload_id) > MAX_PAYLOAD_ID:
        raise CxmlRefusal(
            400, N_("The payloadID is longer than %(max)s characters."), max=MAX_PAYLOAD_ID
        )
    return payload_id


def _order_id(head: etree._Element) -> str:
    order_id = head.get("orderID", "").strip()
    if not order_id:
        raise CxmlRefusal(
            400,
            N_("The OrderRequestHeader has no orderID. Send the purchase-order number in orderID."),
        )
    if len(order_id) > MAX_ORDER_ID:
        raise CxmlRefusal(
            400, N_("The orderID is longer than %(max)s characters."), max=MAX_ORDER_ID
        )
    return order_id


def _order_type(head: etree._Element) -> str:
    order_type = head.get("type", "new").strip().lower()
    if order_type not in ORDER_TYPES:
        raise CxmlRefusal(
            400,
            N_("The order type %(type)s is unknown; use new, update or delete."),
            type=head.get("type", "")[:40],
        )
    return order_type


def _lines(order: etree._Element) -> tuple[OrderedLine, ...]:
    items = children(order, "ItemOut")
    if not items:
        raise CxmlRefusal(
            400,
            N_("The order has no lines. Send an ItemOut for each booking it orders."),
        )
    return tuple(_line(item, position) for position, item in enumerate(items, start=1))


def _line(item: etree._Element, position: int) -> OrderedLine:
    sent_number = item.get("lineNumber", "").strip()
    line_number = (
        int(sent_number) if plain_digits(sent_number) and len(sent_number) < 9 else position
    )
    unit_price, currency = _money(
        path(item, "ItemDetail", "UnitPrice", "Money"), f"ItemOut {line_number} UnitPrice"
    )
    return OrderedLine(
        line_number=line_number,
        quantity=_quantity(item, line_number),
        supplier_part_id=text_of(path(item, "ItemID", "SupplierPartID")),
        reference=text_of(path(item, "ItemID", "SupplierPartAuxiliaryID")),
        unit_price=unit_price,
        currency=currency,
        description=text_of(path(item, "ItemDetail", "Description")),
    )


def _quantity(item: etree._Element, line_number: int) -> Decimal:
    sent = item.get("quantity", "").strip()
    quantity = _decimal(sent)
    if quantity is None or quantity < 0 or quantity >= MAX_QUANTITY:
        raise CxmlRefusal(
            400,
            N_(
                "The quantity of ItemOut %(line)s is %(quantity)s, which is not a number of "
                "days. Send the rental days as quantity."
            ),
            line=line_number,
            quantity=repr(sent[:20]),
        )
    return quantity


def _money(money: etree._Element | None, where: str) -> tuple[Decimal | None, str | None]:
    """The amount and currency of a ``Money``; (None, None) when there is none."""
    if money is None:
        return None, None
    sent = text_of(money)
    amount = _decimal(sent)
    if amount is None or abs(amount) >= MAX_AMOUNT:
        raise CxmlRefusal(
            400,
            N_("The amount %(amount)s in %(where)s is not a number. Write it as 1234.50."),
            amount=repr(sent[:20]),
            where=where,
        )
    currency = money.get("currency", "").strip().upper()
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise CxmlRefusal(
            400,
            N_(
                "The currency %(currency)s in %(where)s is not an ISO 4217 code. Send a code "
                "such as EUR."
            ),
            currency=repr(currency[:20]),
            where=where,
        )
    return amount, currency


def _decimal(text: str) -> Decimal | None:
    """``text`` as a decimal number written as XML Schema writes one (``64``, ``-1.50``), or
    None: Python would also read ``1_000``, ``NaN`` and digits of other scripts."""
    return Decimal(text) if _NUMBER.fullmatch(text) else None
