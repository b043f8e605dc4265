"""Registering a booking: one stored request and the cart it was answered with.

The protocol gives the cart's builder: the cart carries the request's reference. The number is
taken first (:mod:`ociflex.booking.numbers`), so that the cart, the e-mail to operations, the
log entry and the words the request is searched by (:mod:`ociflex.booking.words`) are all built
before the booking's transaction, which then only writes: on SQLite it holds the database's
single writer, and every other booking waits for it.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking
from ociflex.booking.numbers import take_request_number
from ociflex.booking.session import PunchoutSession
from ociflex.booking.words import word_rows
from ociflex.customers.model import Customer
from ociflex.db import write_transaction
from ociflex.history import move_count, record_event
from ociflex.mail.compose import new_request_notification
from ociflex.mail.outbox import enqueue
from ociflex.models import RentalRequest, RequestWord, search_key
from ociflex.transfers import budget_of, store_transfer

#: Builds the cart of the request with the given reference; raises a CartError when it would
#: break a rule of its protocol (nothing is then stored).
CartBuilder = Callable[[str], Cart]


@dataclass(frozen=True)
class Registration:
    request: RentalRequest
    cart: Cart
    #: False when this punch-out had already registered its request (a double submit).
    created: bool


def _existing(session: Session, punchout: PunchoutSession) -> Registration | None:
    found = session.scalar(select(RentalRequest).where(RentalRequest.punchout_id == punchout.id))
    # Ends the read: what follows writes in transactions of its own (on SQLite BEGIN
    # IMMEDIATE, which a transaction that has read cannot become).
    session.commit()
    if found is None:
        return None
    return Registration(found, Cart.from_json(found.cart), created=False)


def cart_entry(
    transfer: Mapping[str, Any] | None, registration: Registration
) -> dict[str, Any] | None:
    """The transfer log's entry of the cart sent (``transfer`` filled in), if one is kept."""
    if transfer is None:
        return None
    return {
        **transfer,
        "outcome": "sent" if registration.created else "resent",
        "request_id": registration.request.id,
        "cart": registration.cart.to_json(),
    }


def record_cart(session: Session, entry: Mapping[str, Any] | None) -> None:
    """Write ``entry`` (:func:`cart_entry`) in the session's transaction."""
    if entry is not None:
        store_transfer(session.connection(), entry, budget_of(entry))


def _resend(
    session: Session, existing: Registration, transfer: Mapping[str, Any] | None
) -> Registration:
    """The registration of a double submit, with the cart sent again in the transfer log."""
    entry = cart_entry(transfer, existing)
    if entry is not None:
        with write_transaction(session):
            record_cart(session, entry)
    return existing


def _new_row(
    customer: Customer, punchout: PunchoutSession, booking: Booking, number: int
) -> RentalRequest:
    """The request as booked, ``new``, numbered; its cart is filled in once it is built."""
    vehicle = booking.vehicle
    return RentalRequest(
        id=number,
        punchout_id=punchout.id,
        customer_id=customer.id,
        protocol=punchout.protocol,
        status="new",
        language=customer.language,
        requester_email=booking.fields["email"].lower(),
        requester_name=booking.fields["full_name"],
        name_key=search_key(booking.fields["full_name"]),
        cost_centre=booking.fields.get("cost_centre") or None,
        po_number=booking.fields.get("po_number") or None,
        vehicle_code=vehicle.code,
        vehicle_name=vehicle.name.get(customer.language),
        day_rate=vehicle.day_rate,
        currency=customer.cart.currency,
        start_date=booking.start,
        end_date=booking.end,
        days=booking.days,
        location=booking.location,
        remarks=booking.remarks,
        fields=dict(booking.fields),
        inbound=punchout.inbound,
        cart={},
    )


def register_request(
    session: Session,
    customer: Customer,
    punchout: PunchoutSession,
    booking: Booking,
    build_cart: CartBuilder,
    notify: str | None = None,
    transfer: Mapping[str, Any] | None = None,
) -> Registration:
    """Store the request and its cart in one transaction, once per punch-out.

    A :class:`~ociflex.booking.cart.CartError` from ``build_cart`` leaves nothing stored. With
    ``notify`` (operations' address) an e-mail about the new request is queued in the same
    transaction. With ``transfer`` (an entry's values made by
    :func:`ociflex.transfers.transfer_values`) the cart is recorded in the transfer log in the
    same transaction too: its outcome (``sent``; ``resent`` for a double submit), request and
    cart are filled in here.
    """
    existing = _existing(session, punchout)
    if existing is not None:
        return _resend(session, existing, transfer)
    row = _new_row(customer, punchout, booking, take_request_number(session))
    cart = build_cart(row.reference)
    row.cart = cart.to_json()
    registration = Registration(row, cart, created=True)
    words = word_rows(row.id, row.requester_name)
    message = new_request_notification(row, notify, customer) if notify else None
    entry = cart_entry(transfer, registration)
    try:
        with write_transaction(session):
            session.add(row)
            session.flush()
            if words:  # a name of single letters has none
                session.execute(insert(RequestWord), words)
            record_event(session, row, actor="employee", action="registered", to_status=row.status)
            move_count(session, customer.id, None, row.status)
            if message is not None:
                enqueue(session, message, row)
            record_cart(session, entry)
    except IntegrityError:
        # The same form submitted twice at once: the other submit stored it first.
        existing = _existing(session, punchout)
        if existing is None:
            raise
        return _resend(session, existing, transfer)
    return registration
