"""The employee's side of a cXML punch-out, in the browser: the StartPage, the booking form posted
back, and the way back to the buyer's system without booking.

=====================================  ==========================================================
``GET /cxml/<id>/start/<token>``       the StartPage: the booking form (``create``; ``edit``
                                       while operations have not taken the booking further, filled
                                       in with it), else the booking to look at
``POST /cxml/<id>/book``               the form posted back: registered, or the booking changed;
                                       the cart goes to the BrowserFormPost URL
``POST /cxml/<id>/back``               back without booking: an empty cart (``create``: the
                                       employee cancelled; ``inspect``), or the booking's cart
                                       unchanged (an ``edit`` that could not change it)
=====================================  ==========================================================

The StartPage URL's token refers to a session stored at setup; from the page on, the session
travels in the page's own signed token, as in an OCI punch-out: no cookie is needed, in a
cross-site frame, a popup or a new window.
"""

from typing import Any

from flask import abort, make_response, render_template
from flask_babel import gettext

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking
from ociflex.booking.edit import booking_of, is_editable
from ociflex.booking.session import Operation, PunchoutSession
from ociflex.booking.token import TokenError, TokenExpired
from ociflex.customers.model import Customer
from ociflex.cxml.config import CXML
from ociflex.cxml.order_message import CartLine, build_cart
from ociflex.cxml.responses import Envelope
from ociflex.cxml.setup import fields_carried
from ociflex.db import get_session
from ociflex.models import RentalRequest, StartPage
from ociflex.ops.labels import status_label
from ociflex.punchout.booking import session_from_form, submit_booking
from ociflex.punchout.common import (
    cxml_bp,
    error_page,
    log,
    opening_form_page,
    public_host,
    record,
    served_customer,
    show_as,
    start_page_tokens,
    tokens,
)
from ociflex.return_urls import origin_of
from ociflex.text import N_
from ociflex.web import resendable

#: A cXML session has no call-up values to add to a log entry (OCI logs its parameters).
NO_LOG_VALUES: dict[str, Any] = {}


@cxml_bp.get("/<customer_id>/start/<token>")
def start(customer_id: str, token: str) -> tuple[str, int]:
    """The StartPage that the buyer's system opens in the employee's browser (see the module
    doc); an expired or altered link is a page that says to start again."""
    customer = served_customer(customer_id, CXML, "start")
    session = _started_session(customer, token)
    record(
        "start",
        "accepted",
        200,
        customer.id,
        CXML,
        punchout_id=session.id,
        return_origin=origin_of(session.cart_return.url),
    )
    if session.operation is Operation.CREATE:
        initial = {f"field_{name}": value for name, value in session.fields.items()}
        return opening_form_page(customer, session, initial, sent=fields_carried(customer))
    rental = _request_of(customer, session)
    if session.operation is Operation.EDIT and is_editable(rental):
        # The booking's own values, which its form checked: nothing received to correct.
        return opening_form_page(customer, session, _filled_in(customer, rental))
    return _booking_view(customer, session, rental)


def _started_session(customer: Customer, token: str) -> PunchoutSession:
    """The session a StartPage token names; refused with a page (and a log entry) when the
    token is altered, expired or its session gone."""
    try:
        session_id = start_page_tokens().loads(token)
    except TokenExpired as expired:
        _refuse_start(customer, 410, "expired StartPage", expired.punchout_id)
    except TokenError:
        _refuse_start(customer, 400, "invalid StartPage token")
    stored = get_session().get(StartPage, session_id)
    if stored is None or stored.customer_id != customer.id:
        _refuse_start(customer, 410, "StartPage no longer stored", session_id)
    return PunchoutSession.from_json(stored.session)


def _refuse_start(
    customer: Customer, status: int, reason: str, punchout_id: str | None = None
) -> None:
    log.warning("StartPage refused: customer=%s status=%s reason=%s", customer.id, status, reason)
    record("start", "rejected", status, customer.id, CXML, reason=reason, punchout_id=punchout_id)
    message = (
        N_("This link to FlexFleet has expired.")
        if status == 410
        else N_("This link to FlexFleet was not issued by FlexFleet or has been altered.")
    )
    fix = N_("Nothing was booked. Start again from your purchasing system.")
    abort(make_response(error_page(status, message, fix)))


def _request_of(customer: Customer, session: PunchoutSession) -> RentalRequest:
    rental = get_session().get(RentalRequest, session.request_id)
    if rental is None or rental.customer_id != customer.id:
        abort(404)
    return rental


def _filled_in(customer: Customer, rental: RentalRequest) -> dict[str, object]:
    """The booking form's values for ``rental`` as it stands."""
    editable = {
        f"field_{name}": (rental.fields or {}).get(name, "")
        for name, field in customer.fields.items()
        if field.editable
    }
    return {
        "vehicle": rental.vehicle_code,
        "start": rental.start_date,
        "end": rental.end_date,
        "location": rental.location,
        "remarks": rental.remarks,
        **editable,
    }


def _booking_view(
    customer: Customer, session: PunchoutSession, rental: RentalRequest, status: int = 200
) -> tuple[str, int]:
    """A booking to look at (inspect), or one that operations took further (edit): its
    details, why it cannot be changed here, and the way back to the buyer's system."""
    return render_template(
        "punchout/booking.html",
        customer=customer,
        punchout=session,
        rental=rental,
        status_label=status_label(rental.status),
        token=tokens().dumps(session),
        fields=[
            (field.label_in(customer.language), value)
            for name, field in customer.fields.items()
            if name not in ("email", "full_name") and (value := (rental.fields or {}).get(name))
        ],
    ), status


def _read_only(customer: Customer, session: PunchoutSession, _status: str) -> tuple[str, int]:
    """The answer to an edit whose booking operations took further while it was being
    changed: the booking as it stands (409: the change was not made)."""
    return _booking_view(customer, session, _request_of(customer, session), status=409)


def _envelope(customer: Customer) -> Envelope:
    return Envelope(host=public_host(), language=customer.language)


def _cart(
    customer: Customer,
    session: PunchoutSession,
    lines: list[CartLine],
    operation_allowed: str,
) -> Cart:
    return build_cart(
        customer, session.cart_return, lines, operation_allowed, _envelope(customer), gettext
    )


def _booked_cart(
    customer: Customer, session: PunchoutSession, booking: Booking, reference: str
) -> Cart:
    """The cart of a new or changed booking: the buyer may edit it later."""
    return _cart(customer, session, [CartLine(booking, reference)], "edit")


@cxml_bp.post("/<customer_id>/book")
def book(customer_id: str) -> tuple[str, int]:
    """The booking form of a cXML punch-out, posted back: registered (create) or the booking
    changed (edit), and the cart sent to the BrowserFormPost URL through the browser."""
    return submit_booking(
        customer_id, CXML, _booked_cart, lambda _customer: NO_LOG_VALUES, _read_only
    )


@cxml_bp.post("/<customer_id>/back")
def back(customer_id: str) -> tuple[str, int]:
    """Back to the buyer's system without a booking (see the module doc)."""
    resendable()
    customer = served_customer(customer_id, CXML, "booking")
    session = session_from_form(customer, CXML, NO_LOG_VALUES)
    show_as(customer)
    rental = None if session.request_id is None else _request_of(customer, session)
    if rental is None:
        cart = _cart(customer, session, [], "create")
    else:
        allowed = "edit" if is_editable(rental) else "inspect"
        lines = [] if session.operation is Operation.INSPECT else [_line(customer, rental)]
        cart = _cart(customer, session, lines, allowed)
    return _send_back(customer, session, cart, rental)


def _line(customer: Customer, rental: RentalRequest) -> CartLine:
    return CartLine(booking_of(rental, customer), rental.reference)


def _send_back(
    customer: Customer, session: PunchoutSession, cart: Cart, rental: RentalRequest | None
) -> tuple[str, int]:
    """Log the cart going back (with its request) and show the page that posts it."""
    record(
        "basket",
        "sent",
        200,
        customer.id,
        CXML,
        punchout_id=session.id,
        request_id=rental.id if rental else None,
        return_origin=origin_of(cart.action),
        cart=cart.to_json(),
    )
    log.info(
        "basket sent: customer=%s protocol=cxml reference=%s punchout=%s lines=%d unchanged",
        customer.id,
        rental.reference if rental else None,
        session.id,
        0 if rental is None or session.operation is Operation.INSPECT else 1,
    )
    return render_template(
        "punchout/back.html",
        customer=customer,
        rental=rental,
        basket=cart,
        form_id="cxml-basket",
        cancelled=session.operation is Operation.CREATE,
    ), 200
