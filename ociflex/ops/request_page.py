"""A request's page (``GET /ops/requests/<id>``): its fields and total, the purchase orders
that pay for it, the document that started its punch-out (an OCI call-up, a cXML setup
request), its cart, history and e-mails, with the workflow actions of
templates/ops/_actions.html."""

import codecs
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_datetime, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from ociflex.booking.edit import FIELD_CHANGE_PREFIX
from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.cxml.documents import indented, parse
from ociflex.cxml.status import CxmlRefusal
from ociflex.db import get_session
from ociflex.models import (
    OutboxMessage,
    PurchaseOrder,
    PurchaseOrderLine,
    RentalRequest,
    RequestEvent,
    Transfer,
    parse_reference,
)
from ociflex.money import money, request_total
from ociflex.oci.config import OCI, oci_settings
from ociflex.ops import bp
from ociflex.ops.auth import login_required
from ociflex.ops.conflicts import (
    CONFIRMED_CONFLICTS,
    ShownConflict,
    conflicts_among,
    shown_conflicts,
)
from ociflex.ops.inbox_filters import MAX_ID
from ociflex.ops.labels import days_label, page_language, status_label
from ociflex.ops.order_labels import shown_differences, state_label, type_label
from ociflex.ops.outbox_page import is_failing, kind_label, outbox_status_label
from ociflex.protocols import PROTOCOL_NAMES
from ociflex.text import N_

#: The action of a change the requester made in an edit session (:mod:`ociflex.booking.edit`).
EDITED = "edited"
#: What each action in a request's history is called (others are shown by their name).
ACTION_LABELS = {
    "registered": N_("Registered through the punch-out"),
    "start": N_("Work started"),
    "schedule": N_("Planning saved"),
    "confirm": N_("Confirmed"),
    "reject": N_("Rejected"),
    "cancel": N_("Cancelled"),
    "po_number": N_("Purchase-order number saved"),
    "po_received": N_("Purchase order received"),
    "po_changed": N_("Purchase order changed"),
    "po_withdrawn": N_("Purchase order withdrawn"),
    "po_linked": N_("Purchase order linked by hand"),
    EDITED: N_("Changed by the requester"),
}
#: The request's own columns, as named in the changes of its history.
CHANGE_LABELS = {
    "status": N_("Status"),
    "planned_vehicle": N_("Planned vehicle"),
    "licence_plate": N_("Licence plate"),
    "pickup_at": N_("Pickup"),
    "return_at": N_("Return"),
    "pickup_location": N_("Pickup location"),
    "ops_notes": N_("Notes for operations"),
    "reason": N_("Reason"),
    "erp_po_number": N_("Purchase-order number from the ERP"),
    "purchase_order": N_("Purchase order"),
}
#: The request's own columns that its requester may change in an edit session, labelled as
#: the page labels their values.
EDIT_LABELS = {
    "vehicle_code": N_("Vehicle"),
    "start_date": N_("First day"),
    "end_date": N_("Last day"),
    "days": N_("Rental period"),
    "location": N_("Location"),
    "remarks": N_("Remarks"),
    "day_rate": N_("Day rate"),
}
#: Changes holding a moment (ISO 8601 text in the history).
MOMENT_CHANGES = ("pickup_at", "return_at")
#: Changes holding a day (ISO 8601 text in the history).
DAY_CHANGES = ("start_date", "end_date")
#: The fields every customer has, when its file gives them no label.
BUILTIN_FIELD_LABELS = {"email": N_("E-mail"), "full_name": N_("Name")}


@dataclass(frozen=True)
class ShownField:
    name: str
    label: str
    value: str


@dataclass(frozen=True)
class ShownChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class ShownOrder:
    """A purchase order with a line that pays for the request."""

    order: PurchaseOrder
    #: What its lines say that the request does not, in words (of a current order).
    differences: list[str]


@dataclass(frozen=True)
class ShownReference:
    """Another request, named by its reference: a link to its page."""

    reference: str
    url: str | None


@dataclass(frozen=True)
class ShownEvent:
    event: RequestEvent
    actor: str
    action: str
    changes: list[ShownChange]
    #: The requests planned on the same plate that the operator confirmed planning it next to.
    confirmed_conflicts: list[ShownReference]


def mapped_fields(
    rental: RentalRequest, customer: Customer | None, language: str
) -> list[ShownField]:
    """The request's customer fields: in the customer file's order with its labels while the
    customer is served; then any others (or all, when it is not) by their own names."""
    values = dict(rental.fields or {})
    shown = []
    if customer is not None:
        for name, definition in customer.fields.items():
            if name in values:
                if definition.label is None and name in BUILTIN_FIELD_LABELS:
                    label = gettext(BUILTIN_FIELD_LABELS[name])
                else:
                    label = definition.label_in(language)
                shown.append(ShownField(name, label, values.pop(name)))
    shown.extend(ShownField(name, name, value) for name, value in values.items())
    return shown


def hidden_params(customer: Customer | None) -> set[str]:
    """OCI parameters never shown (case-folded): the company password's."""
    hidden = {"password"}
    if customer is not None and customer.speaks(OCI):
        hidden.add(oci_settings(customer).login.password_param.casefold())
    return hidden


def shown_callup(rental: RentalRequest, customer: Customer | None) -> list[tuple[str, str | None]]:
    """An OCI request's call-up as received, in order; the value None where it is a password
    (the request is stored without it: this only makes sure it never shows)."""
    hidden = hidden_params(customer)
    return [
        (name, None if name.casefold() in hidden else value)
        for name, value in (rental.inbound or {}).get("parameters", [])
    ]


def readable_document(text: str | None) -> str | None:
    """A cXML document as people read it: one element a line, indented, as ociflex writes its
    own (mixed content such as a Description stays as it is). It is parsed as hostile (nothing
    resolved or fetched, no entities); one that does not parse, such as a refused document or
    one the transfer log cut, is shown as stored."""
    if text is None:
        return None
    try:
        # The text is decoded already: a byte order mark has it read as UTF-8, whatever
        # encoding its XML declaration names.
        root = parse(codecs.BOM_UTF8 + text.encode("utf-8"))
    except CxmlRefusal:
        return text
    return indented(root)


def protocol_name(protocol: str) -> str:
    return PROTOCOL_NAMES.get(protocol, protocol)


def _vehicle(code: str, rental: RentalRequest, customer: Customer | None) -> str:
    """A vehicle as the page writes it: "name (code)" while the customer offers it."""
    vehicle = customer.vehicle(code) if customer is not None else None
    return f"{vehicle.name.get(rental.language)} ({code})" if vehicle is not None else code


def _column_value(
    name: str, value: object, rental: RentalRequest, customer: Customer | None
) -> str:
    """A changed column's value as the page writes it elsewhere: moments, days and money in
    the page's language, a vehicle by its name; a value that is none of these as it is."""
    if value is None or value == "":
        return "–"
    text = str(value)
    try:
        if name in MOMENT_CHANGES:
            return format_datetime(datetime.fromisoformat(text), "short")
        if name in DAY_CHANGES:
            return format_date(date.fromisoformat(text), "full")
        if name == "days":
            return days_label(int(text))
        if name == "day_rate":
            return money(Decimal(text), rental.currency)
    except (ValueError, ArithmeticError):
        return text
    return _vehicle(text, rental, customer) if name == "vehicle_code" else text


def _field_value(value: object) -> str:
    return "–" if value is None or value == "" else str(value)


def _columns(event: RequestEvent) -> Mapping[str, str]:
    """The request's own columns ``event`` may have changed, with their labels (any other
    change is of a customer field): the requester's in an edit session, else operations'."""
    return EDIT_LABELS if event.action == EDITED else CHANGE_LABELS


def shown_history(
    events: list[RequestEvent], rental: RentalRequest, customer: Customer | None
) -> list[ShownEvent]:
    language = page_language()
    field_labels = (
        {name: f.label_in(language) for name, f in customer.fields.items()} if customer else {}
    )
    shown = []
    for event in events:
        columns = _columns(event)
        changes = []
        recorded = dict(event.changes or {})
        confirmed = _confirmed_conflicts(recorded.pop(CONFIRMED_CONFLICTS, None))
        for name, pair in recorded.items():
            old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
            if name in columns:
                change = ShownChange(
                    gettext(columns[name]),
                    _column_value(name, old, rental, customer),
                    _column_value(name, new, rental, customer),
                )
            else:
                field = name.removeprefix(FIELD_CHANGE_PREFIX)
                change = ShownChange(
                    field_labels.get(field, field), _field_value(old), _field_value(new)
                )
            changes.append(change)
        action = gettext(ACTION_LABELS[event.action]) if event.action in ACTION_LABELS else None
        actor = gettext("Requester") if event.actor == "employee" else event.actor
        shown.append(ShownEvent(event, actor, action or event.action, changes, confirmed))
    return shown


def _confirmed_conflicts(recorded: object) -> list[ShownReference]:
    """The references an event's :data:`CONFIRMED_CONFLICTS` holds ([None, references]), each
    with a link to its request's page (none for one that is no reference)."""
    if not (isinstance(recorded, list) and len(recorded) == 2 and isinstance(recorded[1], list)):
        return []
    shown = []
    for reference in map(str, recorded[1]):
        request_id = parse_reference(reference)
        url = url_for("ops.request_detail", request_id=request_id) if request_id else None
        shown.append(ShownReference(reference, url))
    return shown


def planned_twice(session: Session, rental: RentalRequest) -> list[ShownConflict]:
    """The other requests planned on ``rental``'s plate in an overlapping period, when it is
    planned itself."""
    return shown_conflicts(conflicts_among(session, [rental.id]).get(rental.id, []))


def shown_orders(session: Session, rental: RentalRequest) -> list[ShownOrder]:
    """The purchase orders with a line that pays for ``rental``, oldest first, each with the
    differences of those lines. The page never reads the orders' documents."""
    rows = session.execute(
        select(PurchaseOrder, PurchaseOrderLine)
        .join(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == PurchaseOrder.id)
        .options(defer(PurchaseOrder.document, raiseload=True))
        .where(PurchaseOrderLine.request_id == rental.id)
        .order_by(PurchaseOrder.id, PurchaseOrderLine.line_number)
    )
    shown: dict[int, ShownOrder] = {}
    for order, line in rows:
        item = shown.setdefault(order.id, ShownOrder(order, []))
        item.differences.extend(shown_differences(order, line, rental))
    return list(shown.values())


@bp.get("/requests/<int:request_id>")
@login_required
def request_detail(request_id: int) -> ResponseReturnValue:
    """One request: what its requester and the buyer's system sent, the purchase orders that
    pay for it, its cart, its history and its e-mails; 404 when there is no such request."""
    session = get_session()
    rental = session.get(RentalRequest, request_id) if request_id <= MAX_ID else None
    if rental is None:
        return render_template("ops/request.html", rental=None, request_id=request_id), 404
    customer = customers().get(rental.customer_id)
    events = list(
        session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == rental.id)
            .order_by(RequestEvent.id)
        )
    )
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.request_id == rental.id)
            .order_by(OutboxMessage.id)
        )
    )
    # Where the transfer log tells this punch-out's story: its first entry (the call-up, the
    # setup request).
    transfer_id = session.scalar(
        select(Transfer.id)
        .where(Transfer.punchout_id == rental.punchout_id)
        .order_by(Transfer.id)
        .limit(1)
    )
    cart = rental.cart or {}
    return render_template(
        "ops/request.html",
        rental=rental,
        transfer_id=transfer_id,
        customer=customer,
        customer_name=customer.name if customer is not None else rental.customer_id,
        status_label=status_label,
        money=money,
        total=request_total(rental),
        fields=mapped_fields(rental, customer, page_language()),
        orders=shown_orders(session, rental),
        order_type_label=type_label,
        order_state_label=state_label,
        protocol_name=protocol_name(rental.protocol),
        callup=shown_callup(rental, customer),
        setup_document=readable_document((rental.inbound or {}).get("document")),
        cart=cart,
        cart_document=readable_document(cart.get("document")),
        history=shown_history(events, rental, customer),
        conflicts=planned_twice(session, rental),
        messages=messages,
        is_failing=is_failing,
        outbox_status_label=outbox_status_label,
        kind_label=kind_label,
    )
