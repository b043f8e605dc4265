"""FUNCTION calls (PROTOCOL.md section 3): answered on the call-up's URL, nothing stored."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import g, render_template, request
from flask_babel import format_currency, gettext

from ociflex.booking.cart import Cart
from ociflex.customers.model import Customer, Vehicle
from ociflex.oci.basket import BasketError
from ociflex.oci.callup import CallupError, Params, log_values, requested_function
from ociflex.oci.config import OCI
from ociflex.oci.functions import (
    Function,
    FunctionCall,
    catalogue_basket,
    read_function_call,
    search_vehicles,
    shown,
    vehicles_for,
)
from ociflex.punchout.common import error_page, log, record
from ociflex.return_urls import origin_of
from ociflex.text import N_


@dataclass(frozen=True)
class VehicleView:
    """A vehicle as a catalogue page shows it, in the customer's language."""

    code: str
    name: str
    rate: str
    description: str
    #: The form that adds the vehicle to the ERP's basket (DETAILADD, SOURCING), if any.
    basket: Cart | None = None


def _vehicle_view(customer: Customer, vehicle: Vehicle, basket: Cart | None = None) -> VehicleView:
    rate = format_currency(vehicle.day_rate, customer.cart.currency)
    return VehicleView(
        code=vehicle.code,
        name=vehicle.name.get(customer.language),
        rate=gettext("%(amount)s per day", amount=rate),
        description=vehicle.description,
        basket=basket,
    )


def function_call(customer: Customer, params: Params) -> tuple[str, int]:
    """Check a FUNCTION call as a call-up (login, HOOK_URL) and answer it; see
    :mod:`ociflex.oci.functions` for what each function answers. The transfer log gets the
    call with the answer's status and what it answered (see :func:`_log_function`)."""
    function = shown(requested_function(params) or "")
    try:
        call = read_function_call(customer, params)
    except CallupError as error:
        return _call_refused(customer, params, function, error)
    try:
        page, status = _ANSWERS[call.function](customer, call)
    except BasketError as error:
        return _basket_refused(customer, params, call, error)
    answer = g.pop("function_answer", "")
    reason = f"{call.function}: {answer}" if answer else str(call.function)
    record(
        "function",
        "accepted",
        status,
        customer.id,
        OCI,
        reason=reason,
        **log_values(customer, params),
    )
    return page, status


def _call_refused(
    customer: Customer, params: Params, function: str, error: CallupError
) -> tuple[str, int]:
    """A call that fails the call-up's checks: logged, and the page says what to fix."""
    log.warning(
        "function call rejected: customer=%s function=%s status=%s reason=%s",
        customer.id,
        function,
        error.status,
        error,
    )
    record(
        "function",
        "rejected",
        error.status,
        customer.id,
        OCI,
        reason=f"{function}: {error}",
        **log_values(customer, params),
    )
    return error_page(error.status, error.message, error.fix, **error.params)


def _basket_refused(
    customer: Customer, params: Params, call: FunctionCall, error: BasketError
) -> tuple[str, int]:
    """An answer whose basket breaks an OCI rule (a configuration to fix): logged, and the
    page says so."""
    log.error(
        "function call failed: customer=%s function=%s problems=%s",
        customer.id,
        call.function,
        error.problems,
    )
    record(
        "function",
        "rejected",
        500,
        customer.id,
        OCI,
        reason=f"{call.function}: basket refused: {'; '.join(error.problems)}",
        **log_values(customer, params),
    )
    return error_page(
        500,
        N_("The catalogue cannot answer your purchasing system: %(problem)s"),
        N_("Please contact Euromobil; the configuration needs a fix."),
        problem="; ".join(error.problems),
    )


def _log_function(customer: Customer, call: FunctionCall, outcome: str, *args: object) -> None:
    log.info(
        "function call answered: customer=%s function=%s method=%s hook=%s outcome=" + outcome,
        customer.id,
        call.function,
        request.method,
        origin_of(call.cart_return.url) or call.cart_return.url,
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
        return error_page(
            404,
            N_("The vehicle %(code)s is not offered in this catalogue (any more)."),
            N_("Search the catalogue for another vehicle, or start again from your ERP."),
            code=shown(line.product_id),
        )
    basket = None
    if call.function is Function.DETAILADD:
        basket = catalogue_basket(customer, [(vehicle, line.quantity)], call.cart_return, gettext)
    _log_function(customer, call, "shown product=%s", vehicle.code)
    item = _vehicle_view(customer, vehicle, basket)
    return render_template("punchout/vehicle.html", customer=customer, item=item), 200


def _validate(customer: Customer, call: FunctionCall) -> tuple[str, int]:
    """The current lines of the vehicles still offered, auto-posted; no form when none is."""
    found, missing = vehicles_for(customer, call.request.lines)
    basket = catalogue_basket(customer, found, call.cart_return, gettext) if found else None
    missing_shown = [shown(product_id) for product_id in missing]
    _log_function(customer, call, "validated lines=%d missing=%r", len(found), missing_shown)
    return render_template(
        "punchout/validate.html", customer=customer, basket=basket, missing=missing_shown
    ), 200


def _background_search(customer: Customer, call: FunctionCall) -> tuple[str, int]:
    """Every hit as a basket line, not submitted: SAP reads the form."""
    hits = search_vehicles(customer, call.request.search)
    basket = catalogue_basket(
        customer, [(vehicle, "1") for vehicle in hits], call.cart_return, gettext
    )
    _log_function(customer, call, "hits=%d", len(hits))
    return render_template(
        "punchout/search.html", customer=customer, basket=basket, hits=len(hits)
    ), 200


def _sourcing(customer: Customer, call: FunctionCall) -> tuple[str, int]:
    """Interactive results: each hit with the form that DETAILADD shows."""
    hits = search_vehicles(customer, call.request.search)
    items = [
        _vehicle_view(
            customer,
            vehicle,
            catalogue_basket(customer, [(vehicle, "1")], call.cart_return, gettext),
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
