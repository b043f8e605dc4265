"""The employee's side: call-up, booking form, and the basket back to the ERP; and the ERP's
FUNCTION calls (DETAIL, VALIDATE, searches), answered on the call-up's URL.

Each of them is written to the transfer log (:mod:`ociflex.transfers`), accepted or rejected,
without the password: a basket in the transaction that registers its request, the rest in a
short transaction of its own, whose failure never keeps the ERP from its answer.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from flask import Blueprint, abort, current_app, g, make_response, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import format_currency, gettext

from ociflex.customers.model import Customer, Vehicle
from ociflex.customers.registry import customers
from ociflex.db import get_session
from ociflex.oci.basket import Basket, BasketError, Booking
from ociflex.oci.callup import CallupError, Params, Punchout, read_callup, requested_function
from ociflex.oci.form_encoding import LEGACY_CHARSET, MAX_FIELDS, FormEncodingError, decode_form
from ociflex.oci.functions import (
    Function,
    FunctionCall,
    catalogue_basket_for,
    read_function_call,
    search_vehicles,
    shown,
    vehicles_for,
)
from ociflex.oci.hook_url import origin_of
from ociflex.punchout.forms import BookingForm, booking_form_class, today
from ociflex.punchout.register import register_request
from ociflex.punchout.token import PunchoutTokens, TokenError, TokenExpired
from ociflex.text import N_
from ociflex.transfers import record_transfer, transfer_entry

bp = Blueprint("punchout", __name__, url_prefix="/oci")
log = logging.getLogger(__name__)


@bp.record_once
def _make_tokens(state: BlueprintSetupState) -> None:
    config = state.app.config
    state.app.extensions["ociflex.tokens"] = PunchoutTokens(
        config["SECRET_KEY"], config["SECRET_KEY_FALLBACKS"], config["OCIFLEX_PUNCHOUT_MAX_AGE"]
    )


def _tokens() -> PunchoutTokens:
    return current_app.extensions["ociflex.tokens"]


#: The reason the transfer log gives for a customer id that no customer file serves.
UNKNOWN_CUSTOMER = "unknown customer: no customer file with this id is served"


def _record(
    kind: str,
    outcome: str,
    status: int,
    customer_id: str,
    customer: Customer | None,
    parameters: Params | None = None,
    **fields: object,
) -> None:
    """Write an entry of the transfer log in a transaction of its own (never failing)."""
    record_transfer(
        kind=kind,
        outcome=outcome,
        status=status,
        customer_id=customer_id,
        customer=customer,
        parameters=parameters.pairs if parameters is not None else (),
        method=request.method,
        client_address=request.remote_addr,
        **fields,
    )


def _customer(customer_id: str, kind: str) -> Customer:
    """The served customer ``customer_id``; else 404, recorded in the transfer log as a
    rejected ``kind`` (``callup`` or ``booking``)."""
    customer = customers().get(customer_id)
    if customer is None:
        log.warning("call-up for unknown or unserved customer %r", customer_id[:64])
        try:
            exclude = ("punchout",) if kind == "booking" else ()
            parameters = _received_params(LEGACY_CHARSET, exclude)
        except FormEncodingError:
            parameters = None
        _record(
            kind,
            "rejected",
            404,
            customer_id,
            None,
            parameters,
            reason=UNKNOWN_CUSTOMER,
            hook_url=parameters.get("HOOK_URL") if parameters is not None else None,
        )
        abort(404)
    g.language = customer.language
    g.frame_ancestors = customer.frame_ancestors
    return customer


def _error_page(status: int, message: str, fix: str, **params: object) -> tuple[str, int]:
    return render_template(
        "punchout/error.html",
        message=gettext(message, **params),
        fix=gettext(fix, **params),
    ), status


def _form_page(
    customer: Customer, punchout: Punchout, form: BookingForm, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "punchout/form.html",
        customer=customer,
        punchout=punchout,
        form=form,
        today=today(),
    ), status


@bp.context_processor
def _address_bar() -> dict[str, str | None]:
    """Any call-up with a query string, GET or POST, may carry the company password in the
    address bar: its pages replace the address with this clean one (see base.html)."""
    if request.endpoint == "punchout.callup" and request.query_string:
        return {"clean_url": request.path}
    return {"clean_url": None}


def _received_params(legacy: str, exclude: tuple[str, ...] = ()) -> Params:
    """Query string and body, each decoded as UTF-8 or else in ``legacy``, without the
    parameters named in ``exclude``; FormEncodingError when there are too many."""
    query, _ = decode_form(request.query_string, legacy)
    if request.mimetype == "application/x-www-form-urlencoded":
        body, _ = decode_form(request.get_data(cache=True), legacy)
    else:
        body = list(request.form.items(multi=True))
    params = Params.merge(query, body)
    return Params(params.without(*exclude)) if exclude else params


def _callup_params(customer: Customer) -> Params:
    """Query string and body, each decoded in the charset the ERP's page used."""
    charset = customer.default_charset
    legacy = LEGACY_CHARSET if "utf" in charset.lower() else charset
    try:
        return _received_params(legacy)
    except FormEncodingError:
        _record(
            "callup",
            "rejected",
            400,
            customer.id,
            customer,
            reason=f"the call-up has more than {MAX_FIELDS} parameters",
        )
        abort(400)


@bp.route("/<customer_id>", methods=["GET", "POST"])
def callup(customer_id: str) -> tuple[str, int]:
    customer = _customer(customer_id, "callup")
    params = _callup_params(customer)
    if requested_function(params) is not None:
        return _function_call(customer, params)
    try:
        punchout = read_callup(customer, params)
    except CallupError as error:
        log.warning(
            "call-up rejected: customer=%s status=%s reason=%s", customer.id, error.status, error
        )
        _record(
            "callup",
            "rejected",
            error.status,
            customer.id,
            customer,
            params,
            reason=str(error),
            hook_url=params.get("HOOK_URL"),
        )
        return _error_page(error.status, error.message, error.fix, **error.params)
    _record(
        "callup",
        "accepted",
        200,
        customer.id,
        customer,
        params,
        punchout_id=punchout.id,
        hook_url=punchout.hook_url,
    )
    log.info(
        "call-up accepted: customer=%s punchout=%s method=%s hook=%s target=%s charset=%s",
        customer.id,
        punchout.id,
        request.method,
        origin_of(punchout.hook_url) or punchout.hook_url,
        punchout.target,
        punchout.charset,
    )
    form_class = booking_form_class(customer)
    initial = {
        f"field_{name}": value
        for name, value in punchout.fields.items()
        if customer.fields[name].editable
    }
    form = form_class(formdata=None, data={"punchout": _tokens().dumps(punchout), **initial})
    return _form_page(customer, punchout, form)


# --- FUNCTION calls (PROTOCOL.md section 3): answered on the call-up's URL, nothing stored --------


@dataclass(frozen=True)
class VehicleView:
    """A vehicle as a catalogue page shows it, in the customer's language."""

    code: str
    name: str
    rate: str
    description: str
    #: The form that adds the vehicle to the ERP's basket (DETAILADD, SOURCING), if any.
    basket: Basket | None = None


def _vehicle_view(
    customer: Customer, vehicle: Vehicle, basket: Basket | None = None
) -> VehicleView:
    rate = format_currency(vehicle.day_rate, customer.basket["CURRENCY"])
    return VehicleView(
        code=vehicle.code,
        name=vehicle.name.get(customer.language),
        rate=gettext("%(amount)s per day", amount=rate),
        description=vehicle.description,
        basket=basket,
    )


def _function_call(customer: Customer, params: Params) -> tuple[str, int]:
    """Check a FUNCTION call as a call-up (login, HOOK_URL) and answer it; see
    :mod:`ociflex.oci.functions` for what each function answers. The transfer log gets the
    call with the answer's status and what it answered (see :func:`_log_function`)."""
    function = shown(requested_function(params) or "")
    try:
        call = read_function_call(customer, params)
    except CallupError as error:
        log.warning(
            "function call rejected: customer=%s function=%s status=%s reason=%s",
            customer.id,
            function,
            error.status,
            error,
        )
        _record(
            "function",
            "rejected",
            error.status,
            customer.id,
            customer,
            params,
            reason=f"{function}: {error}",
            hook_url=params.get("HOOK_URL"),
        )
        return _error_page(error.status, error.message, error.fix, **error.params)
    try:
        page, status = _ANSWERS[call.function](customer, call)
    except BasketError as error:
        log.error(
            "function call failed: customer=%s function=%s problems=%s",
            customer.id,
            call.function,
            error.problems,
        )
        _record(
            "function",
            "rejected",
            500,
            customer.id,
            customer,
            params,
            reason=f"{call.function}: basket refused: {'; '.join(error.problems)}",
            hook_url=call.hook_url,
        )
        return _error_page(
            500,
            N_("The catalogue cannot answer your purchasing system: %(problem)s"),
            N_("Please contact Euromobil; the configuration needs a fix."),
            problem="; ".join(error.problems),
        )
    answer = g.pop("function_answer", "")
    reason = f"{call.function}: {answer}" if answer else str(call.function)
    _record(
        "function",
        "accepted",
        status,
        customer.id,
        customer,
        params,
        reason=reason,
        hook_url=call.hook_url,
    )
    return page, status


def _log_function(customer: Customer, call: FunctionCall, outcome: str, *args: object) -> None:
    log.info(
        "function call answered: customer=%s function=%s method=%s hook=%s outcome=" + outcome,
        customer.id,
        call.function,
        request.method,
        origin_of(call.hook_url) or call.hook_url,
        *args,
    )
    # What was answered, for the transfer log's entry of this call (see _function_call).
    g.function_answer = outcome % args


def _detail(customer: Customer, call: FunctionCall) -> tuple[str, int]:
    """DETAIL: the vehicle's page; DETAILADD: with a form that adds it to the ERP's basket."""
    line = call.request.lines[0]
    vehicle = customer.vehicle(line.product_id)
    if vehicle is None:
        _log_function(customer, call, "unknown product=%r", shown(line.product_id))
        return _error_page(
            404,
            N_("The vehicle %(code)s is not offered in this catalogue (any more)."),
            N_("Search the catalogue for another vehicle, or start again from your ERP."),
            code=shown(line.product_id),
        )
    basket = None
    if call.function is Function.DETAILADD:
        basket = catalogue_basket_for(customer, call, [(vehicle, line.quantity)], gettext)
    _log_function(customer, call, "shown product=%s", vehicle.code)
    item = _vehicle_view(customer, vehicle, basket)
    return render_template("punchout/vehicle.html", customer=customer, item=item), 200


def _validate(customer: Customer, call: FunctionCall) -> tuple[str, int]:
    """The current lines of the vehicles still offered, auto-posted; no form when none is."""
    found, missing = vehicles_for(customer, call.request.lines)
    basket = catalogue_basket_for(customer, call, found, gettext) if found else None
    missing_shown = [shown(product_id) for product_id in missing]
    _log_function(customer, call, "validated lines=%d missing=%r", len(found), missing_shown)
    return render_template(
        "punchout/validate.html", customer=customer, basket=basket, missing=missing_shown
    ), 200


def _background_search(customer: Customer, call: FunctionCall) -> tuple[str, int]:
    """Every hit as a basket line, not submitted: SAP reads the form."""
    hits = search_vehicles(customer, call.request.search)
    basket = catalogue_basket_for(customer, call, [(vehicle, "1") for vehicle in hits], gettext)
    _log_function(customer, call, "hits=%d", len(hits))
    return render_template(
        "punchout/search.html", customer=customer, basket=basket, hits=len(hits)
    ), 200


def _sourcing(customer: Customer, call: FunctionCall) -> tuple[str, int]:
    """Interactive results: each hit with the form that DETAILADD shows."""
    hits = search_vehicles(customer, call.request.search)
    items = [
        _vehicle_view(
            customer, vehicle, catalogue_basket_for(customer, call, [(vehicle, "1")], gettext)
        )
        for vehicle in hits
    ]
    _log_function(customer, call, "hits=%d", len(hits))
    return render_template(
        "punchout/sourcing.html", customer=customer, items=items, search=call.request.search
    ), 200


_ANSWERS: dict[Function, Callable[[Customer, FunctionCall], tuple[str, int]]] = {
    Function.DETAIL: _detail,
    Function.DETAILADD: _detail,
    Function.VALIDATE: _validate,
    Function.BACKGROUND_SEARCH: _background_search,
    Function.SOURCING: _sourcing,
}


# --- Booking ------------------------------------------------------------------------------------


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
    customer = _customer(customer_id, "booking")
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
            transfer=transfer_entry(
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
