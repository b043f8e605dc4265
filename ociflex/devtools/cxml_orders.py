"""The ERP simulator's purchase orders (PROTOCOL.md section 5): once the customer approved a
cart, its ERP sends an OrderRequest for the bookings, server to server, and ociflex answers 200
once the order is stored.

The cXML buyer's cart page offers the order form (:func:`first_order`): a new order with a fresh
orderID, each cart line with its days and reference. So does the OCI hook page for a customer
whose ERP sends its orders by cXML: its ERP maps each basket line's ``NEW_ITEM-EXT_QUOTE_ID``
into ``SupplierPartAuxiliaryID``. ``/dev/cxml/order`` sends what the form asks for and shows
ociflex's answer with a plain verdict, the document sent, and the form again:

- *send order*: a new document (payloadID) of the form's type; an update or delete names the
  order ociflex took last in its DocumentReference;
- *send the same order again*: the last document byte for byte, as an ERP does that got no
  answer; ociflex must answer 200 again and change nothing;
- *send a changed order*: an update of the order ociflex took last, with the form's values.

ociflex never writes an OrderRequest itself, so the document is built here, as a buyer's ERP
copies the approved cart into its order: an ItemOut per cart line with its ItemID and ItemDetail.
"""

import base64
import binascii
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_UP, Decimal

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from lxml import etree
from werkzeug.datastructures import MultiDict

from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.cxml.config import CXML, cxml_settings
from ociflex.cxml.documents import child, children, parse, path, text_of
from ociflex.cxml.dtd import dtd_problems
from ociflex.cxml.order_message import OWN_CREDENTIAL
from ociflex.cxml.responses import XML_LANG, serialized
from ociflex.cxml.status import CxmlRefusal
from ociflex.cxml.timestamps import payload_id, timestamp
from ociflex.devtools.common import bp
from ociflex.devtools.cxml_exchange import (
    BUYER_HOST,
    USER_AGENT,
    Answer,
    add_header,
    send,
    shown_document,
)
from ociflex.devtools.cxml_verdicts import Line, own_text
from ociflex.devtools.verdicts import Row
from ociflex.models import ORDER_TYPES

#: Verdicts that tell the buyer the order was not taken, or not as it should be.
PROBLEMS = ("refused", "retry", "repeat_refused", "unreadable")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class OrderLine:
    """One ItemOut: a booking of the cart, and the days ordered. The order form carries each
    value in an input of the same name, one per line."""

    part_id: str
    reference: str
    quantity: str
    unit_price: str
    currency: str
    description: str
    language: str
    unit: str
    #: The UNSPSC code.
    classification: str


LINE_FIELDS = tuple(field.name for field in fields(OrderLine))
#: What the form lets change on a line; the rest travels in hidden inputs.
EDITABLE = ("reference", "quantity")


@dataclass(frozen=True)
class OrderForm:
    """The order form: what the next order is made of, and what was sent before."""

    order_id: str
    order_type: str
    #: The Sender's SharedSecret ("": none sent).
    shared_secret: str
    lines: tuple[OrderLine, ...]
    #: The last document sent, in base64 ("": none yet): what "send the same order again" sends.
    sent: str = ""
    #: The payloadID of the latest order ociflex took (answered 200): a changed order names it.
    previous: str = ""


def order_customer(customer_id: str) -> Customer | None:
    """The served customer ``customer_id`` when it sends orders by cXML."""
    customer = customers().get(customer_id)
    return customer if customer is not None and customer.speaks(CXML) else None


def cart_lines(lines: Sequence[Line], language: str) -> tuple[OrderLine, ...]:
    """The order lines of a cXML cart's lines (``language``: a description's when it names
    none)."""
    return tuple(cart_line(line.item, language) for line in lines)


def cart_line(item: etree._Element, language: str) -> OrderLine:
    """The order line of a cart's ItemIn, as a buyer's ERP copies it from the requisition."""
    money = path(item, "ItemDetail", "UnitPrice", "Money")
    description = path(item, "ItemDetail", "Description")
    return OrderLine(
        part_id=text_of(path(item, "ItemID", "SupplierPartID")),
        reference=text_of(path(item, "ItemID", "SupplierPartAuxiliaryID")),
        quantity=item.get("quantity", ""),
        unit_price=text_of(money),
        currency="" if money is None else money.get("currency", ""),
        description="" if description is None else own_text(description),
        language=(description.get(XML_LANG) if description is not None else None) or language,
        unit=text_of(path(item, "ItemDetail", "UnitOfMeasure")),
        classification=_unspsc(item),
    )


def _unspsc(item: etree._Element) -> str:
    for element in children(child(item, "ItemDetail"), "Classification"):
        if element.get("domain", "").strip().upper() == "UNSPSC":
            # cXML 1.2.02x+ may carry the code in an attribute, the text then describing it.
            return element.get("code") or text_of(element)
    return ""


def basket_lines(lines: Mapping[int, Sequence[Row]], customer: Customer) -> tuple[OrderLine, ...]:
    """The order lines of an OCI basket's lines, as the customer's ERP maps them: the request's
    reference from ``NEW_ITEM-EXT_QUOTE_ID``, the vehicle from ``EXT_PRODUCT_ID``."""
    return tuple(_basket_line(rows, customer) for rows in lines.values())


def _basket_line(rows: Sequence[Row], customer: Customer) -> OrderLine:
    value = {row.field: row.value or "" for row in rows}.get
    return OrderLine(
        part_id=value("EXT_PRODUCT_ID", ""),
        reference=value("EXT_QUOTE_ID", ""),
        quantity=value("QUANTITY", ""),
        unit_price=value("PRICE", ""),
        currency=value("CURRENCY", ""),
        description=value("DESCRIPTION", ""),
        language=customer.language,
        unit=value("UNIT", ""),
        # The ERP's material group stands for a UNSPSC commodity, as in ociflex's own cart.
        classification=value("MATGROUP", "") or customer.cart.classification,
    )


def first_order(customer: Customer, lines: tuple[OrderLine, ...]) -> OrderForm:
    """The order of ``lines`` as the customer's ERP makes it: a new order with a fresh ten-digit
    number (SAP's 45000xxxxx), the SharedSecret of the file when it names a variable (a hash
    cannot be turned back)."""
    return OrderForm(
        order_id=f"45000{secrets.randbelow(100_000):05d}",
        order_type=ORDER_TYPES[0],
        shared_secret=cxml_settings(customer).shared_secret.value or "",
        lines=lines,
    )


def posted_order(form: MultiDict[str, str]) -> OrderForm:
    """The order form as posted: its lines are the rows of its per-line inputs."""
    columns = [form.getlist(name) for name in LINE_FIELDS]
    order_type = form.get("order_type", "")
    return OrderForm(
        order_id=form.get("order_id", ""),
        order_type=order_type if order_type in ORDER_TYPES else ORDER_TYPES[0],
        shared_secret=form.get("shared_secret", ""),
        lines=tuple(OrderLine(*row) for row in zip(*columns, strict=False)),
        sent=form.get("sent", ""),
        previous=form.get("previous", ""),
    )


# --- The document --------------------------------------------------------------------------------


def order_document(customer: Customer, order: OrderForm, payload: str, changes: str) -> bytes:
    """The OrderRequest of ``order`` with the payloadID ``payload``, its elements in the cXML
    DTD's order; ``changes`` is the payloadID its DocumentReference names ("": none)."""
    now = timestamp()
    root = etree.Element("cXML", payloadID=payload, timestamp=now)
    root.set(XML_LANG, customer.language)
    buyer = cxml_settings(customer).credentials[0]
    parties = (
        ("From", buyer.domain, buyer.identity),
        ("To", *OWN_CREDENTIAL),
        ("Sender", buyer.domain, buyer.identity),
    )
    add_header(root, parties, order.shared_secret, USER_AGENT)
    body = etree.SubElement(etree.SubElement(root, "Request"), "OrderRequest")
    header = etree.SubElement(
        body, "OrderRequestHeader", orderID=order.order_id, orderDate=now, type=order.order_type
    )
    _money(etree.SubElement(header, "Total"), _total(order.lines), customer.cart.currency)
    name = etree.SubElement(etree.SubElement(etree.SubElement(header, "BillTo"), "Address"), "Name")
    name.set(XML_LANG, customer.language)
    name.text = customer.name
    if changes:
        etree.SubElement(header, "DocumentReference", payloadID=changes)
    for number, line in enumerate(order.lines, start=1):
        _item_out(body, line, number)
    return serialized(root)


def _item_out(body: etree._Element, line: OrderLine, number: int) -> None:
    item = etree.SubElement(body, "ItemOut", quantity=line.quantity, lineNumber=str(number))
    item_id = etree.SubElement(item, "ItemID")
    etree.SubElement(item_id, "SupplierPartID").text = line.part_id
    if line.reference:
        etree.SubElement(item_id, "SupplierPartAuxiliaryID").text = line.reference
    detail = etree.SubElement(item, "ItemDetail")
    _money(etree.SubElement(detail, "UnitPrice"), line.unit_price, line.currency)
    description = etree.SubElement(detail, "Description")
    description.set(XML_LANG, line.language)
    description.text = line.description
    etree.SubElement(detail, "UnitOfMeasure").text = line.unit
    etree.SubElement(detail, "Classification", domain="UNSPSC").text = line.classification


def _money(parent: etree._Element, amount: str, currency: str) -> None:
    etree.SubElement(parent, "Money", currency=currency).text = amount


def _total(lines: Sequence[OrderLine]) -> str:
    """Days times day rate, added up over the lines whose numbers are numbers (a line typed
    wrong is sent as typed, for ociflex to refuse)."""
    amounts = [
        Decimal(line.quantity) * Decimal(line.unit_price)
        for line in lines
        if _NUMBER.fullmatch(line.quantity) and _NUMBER.fullmatch(line.unit_price)
    ]
    return str(sum(amounts, Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# --- Sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sending:
    """A document the order form sends, with the form as it sends it."""

    order: OrderForm
    document: bytes
    payload_id: str
    #: The document's type: new, update or delete.
    order_type: str
    #: True: the document ociflex took last, sent once more (ociflex must take it again).
    repeat: bool = False


def to_send(customer: Customer, order: OrderForm, action: str) -> Sending:
    """What the button ``action`` sends (see the module doc); ValueError for a value that no
    XML document can carry."""
    if action == "repeat" and order.sent:
        return _last_sent(order)
    if action == "change":
        order = replace(order, order_type="update")
    changes = order.previous if order.order_type != "new" else ""
    payload = payload_id(BUYER_HOST)
    document = order_document(customer, order, payload, changes)
    return Sending(order, document, payload, order.order_type)


def _last_sent(order: OrderForm) -> Sending:
    """The document sent last, once more."""
    try:
        document = base64.b64decode(order.sent, validate=True)
        root = parse(document)
    except (binascii.Error, CxmlRefusal):
        abort(400)  # the form's own hidden field, damaged on the way
    header = path(root, "Request", "OrderRequest", "OrderRequestHeader")
    order_type = "new" if header is None else header.get("type", "new")
    payload = root.get("payloadID", "")
    return Sending(order, document, payload, order_type, repeat=payload == order.previous)


def answered(sending: Sending, answer: Answer) -> OrderForm:
    """The form after ociflex's ``answer``: it keeps the document sent, and the payloadID of
    the order ociflex took."""
    order = sending.order
    taken = sending.payload_id if answer.code == "200" else order.previous
    return replace(order, sent=base64.b64encode(sending.document).decode("ascii"), previous=taken)


def verdict(sending: Sending, answer: Answer) -> str:
    """What ociflex's ``answer`` means to the buyer's ERP: the order type it took (``new``,
    ``update``, ``delete``), ``repeated`` (a document it had taken, taken again), or one of
    :data:`PROBLEMS`."""
    if answer.code is None:
        return "unreadable"
    if answer.code == "200":
        return "repeated" if sending.repeat else sending.order_type
    if sending.repeat:
        return "repeat_refused"
    return "retry" if answer.code.startswith("5") else "refused"


def order_form_values(customer: Customer, order: OrderForm, show_secret: bool) -> dict[str, object]:
    """What the order form shows besides ``order`` (both pages include it)."""
    settings = cxml_settings(customer)
    return {
        "order": order,
        "order_customer": customer,
        "order_types": ORDER_TYPES,
        "hidden_line_fields": [name for name in LINE_FIELDS if name not in EDITABLE],
        "order_secret_hashed": settings.shared_secret.hash is not None,
        "orders_without_secret": settings.orders_without_shared_secret,
        "show_order_secret": show_secret,
    }


@bp.post("/cxml/order")
def cxml_order() -> ResponseReturnValue:
    """The order form of the cart page (or of this page) sent: the document its button asks
    for (``action``: send, repeat, change) posted to ociflex, with ociflex's answer and a
    verdict."""
    customer = order_customer(request.form.get("customer", ""))
    if customer is None:
        abort(404)
    order = posted_order(request.form)
    show_secret = request.form.get("show_secret") == "1"
    try:
        sending = to_send(customer, order, request.form.get("action", ""))
    except ValueError:
        # lxml refuses text XML cannot hold (a control character typed into a field).
        page = order_form_values(customer, order, show_secret)
        return render_template("devtools/cxml_order.html", **page, unwritable=True), 422
    answer = send(customer, sending.document, request.host_url)
    return render_template(
        "devtools/cxml_order.html",
        **order_form_values(customer, answered(sending, answer), show_secret),
        answer=answer,
        verdict=verdict(sending, answer),
        problems=PROBLEMS,
        shown=shown_document(sending.document, show_secret),
        document_problems=dtd_problems(sending.document),
    )
