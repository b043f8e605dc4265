"""The booking form posted back, for either protocol: checked, registered (or, in an edit
session, the request changed), and the cart sent to the buyer's system through the browser.

Each protocol's view hands in how its cart is built (:data:`CartMaker`) and what its transfer
log entries keep besides (:data:`LogValues`); everything else is the same for both.
"""

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from flask import abort, current_app, make_response, render_template, request

from ociflex.booking.cart import Cart, CartError
from ociflex.booking.details import Booking
from ociflex.booking.edit import NotEditable, update_request
from ociflex.booking.form import BookingForm, booking_form_class
from ociflex.booking.register import Registration, register_request
from ociflex.booking.session import Operation, PunchoutSession
from ociflex.booking.token import TokenError, TokenExpired
from ociflex.customers.model import Customer
from ociflex.db import get_session
from ociflex.oci.encodings import form_codec
from ociflex.oci.form_encoding import FormEncodingError, UnreadableForm, check_utf8_form
from ociflex.punchout.common import error_page, form_page, log, record, served_customer, tokens
from ociflex.return_urls import origin_of
from ociflex.text import N_
from ociflex.transfers import transfer_values
from ociflex.web import resendable

#: Builds the cart of a booking with the given reference, as the session asks.
CartMaker = Callable[[Customer, PunchoutSession, Booking, str], Cart]
#: What a protocol's transfer-log entries keep besides (OCI: which parameter is the password).
LogValues = Callable[[Customer], Mapping[str, Any]]
#: Shows the page of a session whose request can no longer be changed (cXML's edit).
ReadOnlyPage = Callable[[Customer, PunchoutSession, str], tuple[str, int]]


def booking_params() -> tuple[tuple[str, str], ...]:
    """The booking form as posted, without its token (opaque, and long), for the log."""
    return tuple((k, v) for k, v in request.form.items(multi=True) if k != "punchout")


def _refuse(
    customer: Customer,
    protocol: str,
    reason: str,
    message: str,
    log_values: Mapping[str, Any],
    punchout_id: str | None = None,
) -> NoReturn:
    log.warning("booking refused: customer=%s reason=%s", customer.id, reason)
    record(
        "booking",
        "rejected",
        400,
        customer.id,
        protocol,
        booking_params(),
        reason=reason,
        punchout_id=punchout_id,
        **log_values,
    )
    fix = N_("Nothing was booked. Start again from your purchasing system.")
    abort(make_response(error_page(400, message, fix)))


def _check_form_encoding(customer: Customer, protocol: str, log_values: Mapping[str, Any]) -> None:
    """The booking page is UTF-8, so its form comes back in UTF-8: anything else is refused,
    never guessed (a guess would store garbled text)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    try:
        check_utf8_form(request.get_data(cache=True))
    except UnreadableForm:
        _refuse(
            customer,
            protocol,
            "form not UTF-8",
            N_("The form arrived with characters that are not valid UTF-8."),
            log_values,
        )
    except FormEncodingError:
        _refuse(
            customer, protocol, "too many fields", N_("The form has too many fields."), log_values
        )


def session_from_form(
    customer: Customer, protocol: str, log_values: Mapping[str, Any]
) -> PunchoutSession:
    """The punch-out session the posted form's token carries; refused (400) when it is expired,
    altered, or of another customer or protocol."""
    try:
        session = tokens().loads(request.form.get("punchout", ""))
    except TokenExpired as expired:
        _refuse(
            customer,
            protocol,
            "expired token",
            N_("This booking form has expired."),
            log_values,
            punchout_id=expired.punchout_id,
        )
    except TokenError:
        session = None
    if session is None or session.customer_id != customer.id or session.protocol != protocol:
        _refuse(
            customer,
            protocol,
            "invalid token",
            N_("This booking form was not issued by FlexFleet or has been altered."),
            log_values,
        )
    if form_codec(session.cart_return.charset) is None:
        # Signed before the call-up refused such charsets: the cart could not be encoded.
        _refuse(
            customer,
            protocol,
            "cart charset no browser form can be posted in",
            N_(
                "Your purchasing system asked for the basket in a character set that no "
                "browser can send."
            ),
            log_values,
            punchout_id=session.id,
        )
    return session


def _booking(customer: Customer, session: PunchoutSession, form: BookingForm) -> Booking:
    fields = dict(session.fields)
    for field, form_field in form.editable_fields():
        fields[field.name] = form_field.data or ""
    return Booking(
        vehicle=customer.vehicle(form.vehicle.data),
        start=form.start.data,
        end=form.end.data,
        location=form.location.data if customer.locations else None,
        fields=fields,
        remarks=(form.remarks.data or "").strip(),
    )


def submit_booking(
    customer_id: str,
    protocol: str,
    make_cart: CartMaker,
    log_values: LogValues,
    read_only_page: ReadOnlyPage | None = None,
) -> tuple[str, int]:
    """Answer a booking form posted back to a ``protocol``'s booking URL (see the module doc).

    ``read_only_page`` answers an edit session whose request operations took further while the
    employee filled in the form."""
    # Sent twice, the form stores one request (the session id is unique).
    resendable()
    customer = served_customer(
        customer_id, protocol, "booking", lambda: {"parameters": booking_params()}
    )
    extra = log_values(customer)
    _check_form_encoding(customer, protocol, extra)
    session = session_from_form(customer, protocol, extra)
    if session.operation is Operation.INSPECT:
        _refuse(
            customer,
            protocol,
            "booking form of an inspect session",
            N_("This booking can only be looked at, not changed."),
            extra,
            punchout_id=session.id,
        )
    form = booking_form_class(customer)(formdata=request.form)
    if not form.validate():
        return form_page(customer, session, form, status=422)
    booking = _booking(customer, session, form)
    transfer = _basket_entry(customer, protocol, session, extra)
    try:
        registration = _store(customer, session, booking, make_cart, transfer)
    except NotEditable as refused:
        if read_only_page is None:
            raise
        return read_only_page(customer, session, refused.status)
    except CartError as error:
        return _cart_refused(customer, protocol, session, extra, error)
    return cart_page(customer, registration, session)


def _basket_entry(
    customer: Customer, protocol: str, session: PunchoutSession, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """The transfer log's entry of the basket sent, stored with the request it registers."""
    return transfer_values(
        kind="basket",
        outcome="sent",
        status=200,
        customer_id=customer.id,
        protocol=protocol,
        method=request.method,
        punchout_id=session.id,
        return_origin=origin_of(session.cart_return.url) or None,
        client_address=request.remote_addr,
        **extra,
    )


def _cart_refused(
    customer: Customer,
    protocol: str,
    session: PunchoutSession,
    extra: Mapping[str, Any],
    error: CartError,
) -> tuple[str, int]:
    """A cart that breaks a rule of its protocol (a configuration to fix): nothing is stored;
    logged, and the employee is told."""
    log.error("basket refused: customer=%s problems=%s", customer.id, error.problems)
    record(
        "booking",
        "rejected",
        500,
        customer.id,
        protocol,
        booking_params(),
        reason=f"basket refused: {'; '.join(error.problems)}",
        punchout_id=session.id,
        **extra,
    )
    return error_page(
        500,
        N_("Your request cannot be sent to your purchasing system: %(problem)s"),
        N_("Nothing was booked. Please contact Euromobil; the configuration needs a fix."),
        problem="; ".join(error.problems),
    )


def _store(
    customer: Customer,
    session: PunchoutSession,
    booking: Booking,
    make_cart: CartMaker,
    transfer: Mapping[str, Any],
) -> Registration:
    def build_cart(reference: str) -> Cart:
        return make_cart(customer, session, booking, reference)

    if session.operation is Operation.EDIT:
        return update_request(
            get_session(),
            customer,
            session,
            booking,
            build_cart,
            transfer=transfer,
            client_address=request.remote_addr,
        )
    return register_request(
        get_session(),
        customer,
        session,
        booking,
        build_cart,
        notify=current_app.config["OCIFLEX_OPS_EMAIL"],
        transfer=transfer,
    )


def cart_page(
    customer: Customer, registration: Registration, session: PunchoutSession
) -> tuple[str, int]:
    """The page that posts the cart to the buyer's system as soon as it has loaded."""
    cart = registration.cart
    log.info(
        "basket sent: customer=%s protocol=%s reference=%s punchout=%s new=%s return=%s fields=%d",
        customer.id,
        session.protocol,
        registration.request.reference,
        session.id,
        registration.created,
        origin_of(cart.action) or cart.action,
        len(cart.fields),
    )
    return render_template(
        "punchout/basket.html",
        customer=customer,
        rental=registration.request,
        basket=cart,
        form_id=f"{session.protocol}-basket",
        changed=session.operation is Operation.EDIT,
        repeated=not registration.created,
    ), 200
