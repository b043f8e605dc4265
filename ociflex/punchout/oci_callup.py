"""The OCI call-up: ``/oci/<customer_id>``, the employee's booking form, or the answer to a
FUNCTION call sent to the same URL (see :mod:`ociflex.punchout.oci_functions`); and the booking
form posted back to ``/oci/<customer_id>/book``."""

from collections.abc import Mapping
from typing import Any

from flask import abort, make_response, request
from flask_babel import gettext

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking
from ociflex.booking.session import PunchoutSession
from ociflex.customers.model import Customer
from ociflex.db import DatabaseUnavailable, reachable
from ociflex.oci.basket import build_basket
from ociflex.oci.callup import CallupError, Params, log_values, read_callup, requested_function
from ociflex.oci.config import OCI, oci_settings
from ociflex.oci.form_encoding import (
    LEGACY_CHARSET,
    MAX_FIELDS,
    UNKNOWN_CHARSET,
    FormEncodingError,
    UnreadableForm,
    decode_form,
)
from ociflex.oci.hook_url import hook_origin
from ociflex.punchout.booking import submit_booking
from ociflex.punchout.common import (
    error_page,
    log,
    oci_bp,
    opening_form_page,
    record,
    served_customer,
)
from ociflex.punchout.oci_functions import function_call
from ociflex.return_urls import origin_of
from ociflex.text import N_
from ociflex.transfer_writer import transfer_writer


@oci_bp.context_processor
def _address_bar() -> dict[str, str | None]:
    """Any call-up with a query string, GET or POST, may carry the company password in the
    address bar: its pages replace the address with this clean one (see base.html)."""
    if request.endpoint == "oci.callup" and request.query_string:
        return {"clean_url": request.path}
    return {"clean_url": None}


def received_params(legacy: str) -> Params:
    """Query string and body, each decoded as UTF-8 or else in ``legacy``; FormEncodingError
    when there are too many, UnreadableForm when the bytes are in neither charset (never
    guessed: the values would be garbled)."""
    query, query_charset = decode_form(request.query_string, legacy)
    body_charset = None
    if request.mimetype == "application/x-www-form-urlencoded":
        body, body_charset = decode_form(request.get_data(cache=True), legacy)
    else:
        body = list(request.form.items(multi=True))
    if UNKNOWN_CHARSET in (query_charset, body_charset):
        raise UnreadableForm(f"neither UTF-8 nor {legacy}")
    return Params.merge(query, body)


def _unknown_callup() -> Mapping[str, Any]:
    """What the log keeps of a call-up to an unknown customer: nobody knows which parameter
    holds its password, so any that may is left out (see ociflex.transfers.is_password)."""
    try:
        params = received_params(LEGACY_CHARSET)
    except FormEncodingError:
        return {}
    return {"parameters": params.pairs, "return_origin": hook_origin(params.get("HOOK_URL"))}


def _callup_params(customer: Customer) -> Params:
    """Query string and body, each decoded in the charset the ERP's page used."""
    charset = oci_settings(customer).default_charset
    legacy = LEGACY_CHARSET if "utf" in charset.lower() else charset
    try:
        return received_params(legacy)
    except UnreadableForm:
        reason = f"the call-up is neither UTF-8 nor {legacy}"
        message = N_("The call-up contains bytes that are neither UTF-8 nor %(charset)s.")
        fix = N_("Ask your ERP administrator to send the call-up in UTF-8 or in %(charset)s.")
    except FormEncodingError:
        reason = f"the call-up has more than {MAX_FIELDS} parameters"
        message = N_("The call-up has more than %(max)s parameters.")
        fix = N_("Ask your ERP administrator to send only the parameters of this catalogue.")
    log.warning("call-up rejected: customer=%s status=400 reason=%s", customer.id, reason)
    record("callup", "rejected", 400, customer.id, OCI, reason=reason, **log_values(customer))
    abort(make_response(error_page(400, message, fix, charset=legacy, max=MAX_FIELDS)))


@oci_bp.route("/<customer_id>", methods=["GET", "POST"])
def callup(customer_id: str) -> tuple[str, int]:
    """An OCI call-up: the booking form, or a page that says what the ERP administrator must
    fix; a FUNCTION call is answered on the same URL."""
    customer = served_customer(customer_id, OCI, "callup", _unknown_callup)
    params = _callup_params(customer)
    if requested_function(params) is not None:
        return function_call(customer, params)
    try:
        session = read_callup(customer, params)
    except CallupError as error:
        log.warning(
            "call-up rejected: customer=%s status=%s reason=%s", customer.id, error.status, error
        )
        record(
            "callup",
            "rejected",
            error.status,
            customer.id,
            OCI,
            reason=str(error),
            **log_values(customer, params),
        )
        return error_page(error.status, error.message, error.fix, **error.params)
    record(
        "callup",
        "accepted",
        200,
        customer.id,
        OCI,
        punchout_id=session.id,
        **log_values(customer, params),
    )
    if transfer_writer().failing and not reachable():
        # The log's last entries could not be stored and the database does not answer: it
        # will not take the booking either, so say so now, before the form is filled in.
        raise DatabaseUnavailable()
    cart_return = session.cart_return
    log.info(
        "call-up accepted: customer=%s punchout=%s method=%s hook=%s target=%s charset=%s",
        customer.id,
        session.id,
        request.method,
        origin_of(cart_return.url) or cart_return.url,
        cart_return.target,
        cart_return.charset,
    )
    initial = {
        f"field_{name}": value
        for name, value in session.fields.items()
        if customer.fields[name].editable
    }
    # A call-up carries every field (each has its parameter).
    return opening_form_page(customer, session, initial, sent=customer.fields)


def _basket(customer: Customer, session: PunchoutSession, booking: Booking, reference: str) -> Cart:
    return build_basket(
        customer, booking, reference=reference, cart_return=session.cart_return, gettext=gettext
    )


@oci_bp.post("/<customer_id>/book")
def book(customer_id: str) -> tuple[str, int]:
    """The booking form of an OCI punch-out, posted back: registered, and the basket sent to
    the ERP through the browser."""
    return submit_booking(customer_id, OCI, _basket, log_values)
