"""Changing a request through an edit session, and the booking a stored request stands for.

A buyer's system may open a request again (cXML's ``edit``): while operations have not taken it
further, the employee changes it in the same form, and the request keeps its reference; what
changed is written into its history, for operations to see. Once operations started on it, it
can no longer be changed this way (:class:`NotEditable`): changes then go through operations.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ociflex.booking.details import Booking
from ociflex.booking.register import CartBuilder, Registration, cart_entry, record_cart
from ociflex.booking.session import PunchoutSession
from ociflex.customers.model import Customer, Localized, Vehicle
from ociflex.db import begin_write
from ociflex.history import record_event
from ociflex.models import RentalRequest

#: The statuses in which the requester may still change a request: the workflow's first
#: (:mod:`ociflex.ops.workflow`), before operations start on it.
EDITABLE_STATUSES = ("new",)

#: Where the history names a changed customer field: ``fields.cost_centre`` (the request's
#: own columns go by their names, and a field may have a column's name).
FIELD_CHANGE_PREFIX = "fields."


class NotEditable(Exception):
    """The request has moved on (operations started on it) and is no longer the requester's to
    change; ``status`` is where it stands."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def is_editable(request: RentalRequest) -> bool:
    return request.status in EDITABLE_STATUSES


def booking_of(request: RentalRequest, customer: Customer) -> Booking:
    """The booking ``request`` stands for, at the price it was booked at: the vehicle as the
    customer file describes it today, or as stored when the file no longer offers it."""
    offered = customer.vehicle(request.vehicle_code)
    vehicle = Vehicle(
        code=request.vehicle_code,
        name=offered.name if offered else Localized({request.language: request.vehicle_name}),
        day_rate=request.day_rate,
        description=offered.description if offered else request.vehicle_code[:18],
    )
    return Booking(
        vehicle=vehicle,
        start=request.start_date,
        end=request.end_date,
        location=request.location,
        fields=dict(request.fields or {}),
        remarks=request.remarks,
    )


def update_request(
    session: Session,
    customer: Customer,
    punchout: PunchoutSession,
    booking: Booking,
    build_cart: CartBuilder,
    transfer: Mapping[str, Any] | None = None,
    client_address: str | None = None,
) -> Registration:
    """Change the request ``punchout`` opened to ``booking``, with its new cart, in one
    transaction: the changes go into its history (none, no event), the cart into the transfer
    log. :class:`NotEditable` when operations took it further, also while this ran."""
    arguments = (session, customer, punchout, booking, build_cart, transfer, client_address)
    try:
        return _update(*arguments)
    except StaleDataError:
        # An operator changed the request between reading and writing it: once more, on what
        # is stored now (its status decides whether it can still be changed).
        return _update(*arguments)


def _update(
    session: Session,
    customer: Customer,
    punchout: PunchoutSession,
    booking: Booking,
    build_cart: CartBuilder,
    transfer: Mapping[str, Any] | None,
    client_address: str | None,
) -> Registration:
    begin_write(session)
    try:
        row = session.get(RentalRequest, punchout.request_id, populate_existing=True)
        if row is None or row.customer_id != customer.id:
            raise LookupError(f"request {punchout.request_id} of customer {customer.id}")
        if not is_editable(row):
            raise NotEditable(row.status)
        changes = _apply(row, customer, booking)
        cart = build_cart(row.reference)
        row.cart = cart.to_json()
        if changes:
            record_event(
                session,
                row,
                actor="employee",
                action="edited",
                changes=changes,
                client_address=client_address,
            )
        registration = Registration(row, cart, created=True)
        session.flush()
        record_cart(session, cart_entry(transfer, registration))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return registration


def _apply(row: RentalRequest, customer: Customer, booking: Booking) -> dict[str, list[Any]]:
    """Set ``row`` to ``booking``; what changed, column or ``fields.<name>`` -> [old, new]
    (dates as ISO text)."""
    vehicle = booking.vehicle
    wanted: dict[str, Any] = {
        "vehicle_code": vehicle.code,
        "start_date": booking.start,
        "end_date": booking.end,
        "days": booking.days,
        "location": booking.location,
        "remarks": booking.remarks,
    }
    changes: dict[str, list[Any]] = {}
    for column, new in wanted.items():
        old = getattr(row, column)
        if old != new:
            changes[column] = [_shown(old), _shown(new)]
            setattr(row, column, new)
    if "vehicle_code" in changes:
        row.vehicle_name = vehicle.name.get(customer.language)
        if row.day_rate != vehicle.day_rate:
            changes["day_rate"] = [_shown(row.day_rate), _shown(vehicle.day_rate)]
            row.day_rate = vehicle.day_rate
    fields = dict(row.fields or {})
    for name, new in booking.fields.items():
        if fields.get(name, "") != new:
            changes[FIELD_CHANGE_PREFIX + name] = [fields.get(name) or None, new or None]
            fields[name] = new
    if fields != row.fields:
        row.fields = fields
        row.cost_centre = fields.get("cost_centre") or None
        row.po_number = fields.get("po_number") or None
    return changes


def _shown(value: object) -> object:
    """A value as the history keeps it (JSON): dates as ISO text, amounts as text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
