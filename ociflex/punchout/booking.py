"""The booking: /oci/<customer_id>/book, the form posted back, registered and sent to the ERP
as its basket."""

from typing import NoReturn

from flask import abort, current_app, make_response, render_template, request
from flask_babel import gettext

from ociflex.customers.model import Customer
from ociflex.db import get_session
from ociflex.oci.basket import BasketError, Booking
from ociflex.oci.callup import Params, Punchout
from ociflex.oci.form_encoding import FormEncodingError, UnreadableForm, check_utf8_form
from ociflex.oci.hook_url import origin_of
from ociflex.punchout.blueprint import (
    _customer,
    _error_page,
    _form_page,
    _record,
    _tokens,
    bp,
    log,
)
from ociflex.punchout.forms import BookingForm, booking_form_class
from ociflex.punchout.register import register_request
from ociflex.punchout.token import TokenError, TokenExpired
from ociflex.text import N_
from ociflex.transfers import transfer_values
from ociflex.web import resendable


def _booking_params() -> Params:
    """The booking form as posted, without its token (opaque, and long), for the log."""
    return Params(tuple((k, v) for k, v in request.form.items(multi=True) if k != "punchout"))


def _refuse_booking(
    customer: Customer, reason: str, message: str, punchout_id: str | None = None
) -> NoReturn:
    log.warning("booking refused: customer=%s reason=%s", customer.id, reason)
    _record(
        "booking",
        "rejected",
        400,
        customer.id,
        customer,
        _booking_params(),
        reason=reason,
        punchout_id=punchout_id,
    )
    fix = N_("Nothing was booked. Start again from your purchasing system.")
    abort(make_response(_error_page(400, message, fix)))


def _check_form_encoding(customer: Customer) -> None:
    """The booking page is UTF-8, so its form comes back in UTF-8: anything else is refused,
    never guessed (a guess would store garbled text)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    try:
        check_utf8_form(request.get_data(cache=True))
    except UnreadableForm:
        _refuse_booking(
            customer,
            "form not UTF-8",
            N_("The form arrived with characters that are not valid UTF-8."),
        )
    except FormEncodingError:
        _refuse_booking(customer, "too many fields", N_("The form has too many fields."))


def _punchout_from_form(customer: Customer) -> Punchout:
    try:
        punchout = _tokens().loads(request.form.get("punchout", ""))
    except TokenExpired as expired:
        _refuse_booking(
            customer,
            "expired token",
            N_("This booking form has expired."),
            punchout_id=expired.punchout_id,
        )
    except TokenError:
        punchout = None
    if punchout is None or punchout.customer_id != customer.id:
        _refuse_booking(
            customer,
            "invalid token",
            N_("This booking form was not issued by FlexFleet or has been altered."),
        )
    return punchout


def _booking(customer: Customer, punchout: Punchout, form: BookingForm) -> Booking:
    fields = dict(punchout.fields)
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


@bp.post("/<customer_id>/book")
def book(customer_id: str) -> tuple[str, int]:
    # Sent twice, the form stores one request (the token's punch-out id is unique).
    resendable()
    customer = _customer(customer_id, "booking")
    _check_form_encoding(customer)
    punchout = _punchout_from_form(customer)
    form = booking_form_class(customer)(formdata=request.form)
    if not form.validate():
        return _form_page(customer, punchout, form, status=422)
    try:
        registration = register_request(
            get_session(),
            customer,
            punchout,
            _booking(customer, punchout, form),
            gettext,
            notify=current_app.config["OCIFLEX_OPS_EMAIL"],
            transfer=transfer_values(
                kind="basket",
                outcome="sent",
                status=200,
                customer_id=customer.id,
                customer=customer,
                method=request.method,
                punchout_id=punchout.id,
                hook_url=punchout.hook_url,
                client_address=request.remote_addr,
            ),
        )
    except BasketError as error:
        log.error("basket refused: customer=%s problems=%s", customer.id, error.problems)
        _record(
            "booking",
            "rejected",
            500,
            customer.id,
            customer,
            _booking_params(),
            reason=f"basket refused: {'; '.join(error.problems)}",
            punchout_id=punchout.id,
            hook_url=punchout.hook_url,
        )
        return _error_page(
            500,
            N_("Your request cannot be sent to your purchasing system: %(problem)s"),
            N_("Nothing was booked. Please contact Euromobil; the configuration needs a fix."),
            problem="; ".join(error.problems),
        )
    basket = registration.basket
    log.info(
        "basket sent: customer=%s reference=%s punchout=%s new=%s hook=%s fields=%d",
        customer.id,
        registration.request.reference,
        punchout.id,
        registration.created,
        origin_of(basket.action) or basket.action,
        len(basket.fields),
    )
    return render_template(
        "punchout/basket.html",
        customer=customer,
        rental=registration.request,
        basket=basket,
        repeated=not registration.created,
    ), 200
