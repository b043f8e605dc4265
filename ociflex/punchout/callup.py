"""The call-up: /oci/<customer_id>, the employee's booking form, or the answer to a FUNCTION
call sent to the same URL (see :mod:`ociflex.punchout.functions`)."""

from flask import abort, make_response, request

from ociflex.customers.model import Customer
from ociflex.db import DatabaseUnavailable, reachable
from ociflex.oci.callup import CallupError, Params, read_callup, requested_function
from ociflex.oci.form_encoding import (
    LEGACY_CHARSET,
    MAX_FIELDS,
    FormEncodingError,
    UnreadableForm,
)
from ociflex.oci.hook_url import origin_of
from ociflex.punchout.blueprint import (
    _customer,
    _error_page,
    _form_page,
    _received_params,
    _record,
    _tokens,
    bp,
    log,
)
from ociflex.punchout.forms import booking_form_class
from ociflex.punchout.functions import _function_call
from ociflex.text import N_


def _callup_params(customer: Customer) -> Params:
    """Query string and body, each decoded in the charset the ERP's page used."""
    charset = customer.default_charset
    legacy = LEGACY_CHARSET if "utf" in charset.lower() else charset
    try:
        return _received_params(legacy)
    except UnreadableForm:
        reason = f"the call-up is neither UTF-8 nor {legacy}"
        message = N_("The call-up contains bytes that are neither UTF-8 nor %(charset)s.")
        fix = N_("Ask your ERP administrator to send the call-up in UTF-8 or in %(charset)s.")
    except FormEncodingError:
        reason = f"the call-up has more than {MAX_FIELDS} parameters"
        message = N_("The call-up has more than %(max)s parameters.")
        fix = N_("Ask your ERP administrator to send only the parameters of this catalogue.")
    log.warning("call-up rejected: customer=%s status=400 reason=%s", customer.id, reason)
    _record("callup", "rejected", 400, customer.id, customer, reason=reason)
    abort(make_response(_error_page(400, message, fix, charset=legacy, max=MAX_FIELDS)))


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
    recorded = _record(
        "callup",
        "accepted",
        200,
        customer.id,
        customer,
        params,
        punchout_id=punchout.id,
        hook_url=punchout.hook_url,
    )
    if not recorded and not reachable():
        # A database that cannot be reached will not take the booking either: say so now,
        # before the employee fills in the form.
        raise DatabaseUnavailable()
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
