"""A request's page (``GET /ops/requests/<id>``): its fields, call-up, basket, history and
e-mails, with the workflow actions of templates/ops/_actions.html."""

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime, gettext
from sqlalchemy import select

from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.db import get_session
from ociflex.models import OutboxMessage, RentalRequest, RequestEvent, Transfer
from ociflex.oci.config import OCI, oci_settings
from ociflex.ops import bp
from ociflex.ops.auth import login_required
from ociflex.ops.inbox_filters import MAX_ID
from ociflex.ops.labels import page_language, status_label
from ociflex.ops.outbox_page import is_failing, kind_label, outbox_status_label
from ociflex.text import N_

#: What each action in a request's history is called (others are shown by their name).
ACTION_LABELS = {
    "registered": N_("Registered through the punch-out"),
    "start": N_("Work started"),
    "schedule": N_("Planning saved"),
    "confirm": N_("Confirmed"),
    "reject": N_("Rejected"),
    "cancel": N_("Cancelled"),
    "po_number": N_("Purchase-order number saved"),
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
}
#: Changes holding a moment (ISO 8601 text in the history).
MOMENT_CHANGES = ("pickup_at", "return_at")
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
class ShownEvent:
    event: RequestEvent
    actor: str
    action: str
    changes: list[ShownChange]


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


def _change_value(name: str, value: object) -> str:
    if value is None or value == "":
        return "–"
    if name in MOMENT_CHANGES and isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value), "short")
        except ValueError:
            return value
    return str(value)


def shown_history(events: list[RequestEvent], customer: Customer | None) -> list[ShownEvent]:
    language = page_language()
    field_labels = (
        {name: f.label_in(language) for name, f in customer.fields.items()} if customer else {}
    )
    shown = []
    for event in events:
        changes = []
        for name, pair in (event.changes or {}).items():
            old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
            label = gettext(CHANGE_LABELS[name]) if name in CHANGE_LABELS else None
            changes.append(
                ShownChange(
                    label or field_labels.get(name, name),
                    _change_value(name, old),
                    _change_value(name, new),
                )
            )
        action = gettext(ACTION_LABELS[event.action]) if event.action in ACTION_LABELS else None
        actor = gettext("Requester") if event.actor == "employee" else event.actor
        shown.append(ShownEvent(event, actor, action or event.action, changes))
    return shown


@bp.get("/requests/<int:request_id>")
@login_required
def request_detail(request_id: int) -> ResponseReturnValue:
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
    # Where the transfer log tells this punch-out's story: its first entry (the call-up).
    transfer_id = session.scalar(
        select(Transfer.id)
        .where(Transfer.punchout_id == rental.punchout_id)
        .order_by(Transfer.id)
        .limit(1)
    )
    return render_template(
        "ops/request.html",
        rental=rental,
        transfer_id=transfer_id,
        customer=customer,
        customer_name=customer.name if customer is not None else rental.customer_id,
        status_label=status_label,
        fields=mapped_fields(rental, customer, page_language()),
        callup=shown_callup(rental, customer),
        basket=rental.cart or {},
        history=shown_history(events, customer),
        messages=messages,
        is_failing=is_failing,
        outbox_status_label=outbox_status_label,
        kind_label=kind_label,
    )
