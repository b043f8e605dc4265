"""Registering a booking: one stored request and the cart it was answered with.

The protocol gives the cart's builder: the cart carries the request's reference, so it is built
inside the transaction, once the row has its number.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking
from ociflex.booking.session import PunchoutSession
from ociflex.customers.model import Customer
from ociflex.db import begin_write
from ociflex.history import move_count, record_event
from ociflex.mail.compose import new_request_notification
from ociflex.mail.outbox import enqueue
from ociflex.models import RentalRequest, search_key
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
    if found is None:
        return None
    return Registration(found, Cart.from_json(found.cart), created=False)


def record_cart(
    session: Session, transfer: Mapping[str, Any] | None, registration: Registration
) -> None:
    """Write the transfer log's entry of the cart sent, in the session's transaction."""
    if transfer is None:
        return
    entry = {
        **transfer,
        "outcome": "sent" if registration.created else "resent",
        "request_id": registration.request.id,
        "cart": registration.cart.to_json(),
    }
    store_transfer(session.connection(), entry, budget_of(entry))


def _resend(
    session: Session, existing: Registration, transfer: Mapping[str, Any] | None
) -> Registration:
    """The registration of a double submit, with the cart sent again in the transfer log."""
    if transfer is not None:
        record_cart(session, transfer, existing)
        session.commit()
    return existing


def _new_row(customer: Customer, punchout: PunchoutSession, booking: Booking) -> RentalRequest:
    """The request as booked, ``new``; its cart is filled in once the row has its reference."""
    vehicle = booking.vehicle
    return RentalRequest(
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

    The cart carries the request's reference, so the row is flushed first to get its id; a
    :class:`~ociflex.booking.cart.CartError` from ``build_cart`` rolls everything back, leaving
    nothing stored. With ``notify`` (operations' address) an e-mail about the new request is
    queued in the same transaction. With ``transfer`` (an entry's values made by
    :func:`ociflex.transfers.transfer_values`) the cart is recorded in the transfer log in the
    same transaction too: its outcome (``sent``; ``resent`` for a double submit), request and
    cart are filled in here.
    """
    begin_write(session)
    existing = _existing(session, punchout)
    if existing is not None:
        return _resend(session, existing, transfer)
    row = _new_row(customer, punchout, booking)
    try:
        session.add(row)
        session.flush()
        cart = build_cart(row.reference)
        row.cart = cart.to_json()
        record_event(session, row, actor="employee", action="registered", to_status=row.status)
        move_count(session, customer.id, None, row.status)
        if notify:
            enqueue(session, new_request_notification(row, notify, customer), row)
        registration = Registration(row, cart, created=True)
        record_cart(session, transfer, registration)
        session.commit()
    except IntegrityError:
        # The same form submitted twice at once: the other submit stored it first.
        session.rollback()
        begin_write(session)
        existing = _existing(session, punchout)
        if existing is None:
            session.rollback()
            raise
        return _resend(session, existing, transfer)
    except BaseException:
        session.rollback()
        raise
    return registration
