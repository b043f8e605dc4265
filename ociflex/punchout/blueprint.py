"""The punchout blueprint and what its views share: the customer a URL names, the transfer log,
the error and booking-form pages, the booking token, and the clean address bar."""

import logging

from flask import Blueprint, abort, current_app, g, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext

from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.oci.callup import Params, Punchout
from ociflex.oci.form_encoding import (
    LEGACY_CHARSET,
    UNKNOWN_CHARSET,
    FormEncodingError,
    UnreadableForm,
    decode_form,
)
from ociflex.punchout.forms import BookingForm, today
from ociflex.punchout.token import PunchoutTokens
from ociflex.text import N_
from ociflex.transfers import record_transfer
from ociflex.web import Unavailable

bp = Blueprint("punchout", __name__, url_prefix="/oci")
#: One logger for all punchout views, under the name their log lines have always carried.
log = logging.getLogger("ociflex.punchout.routes")


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
BROKEN_CUSTOMER = "the customer file has problems (see flask ociflex customers check)"


def _record(
    kind: str,
    outcome: str,
    status: int,
    customer_id: str,
    customer: Customer | None,
    parameters: Params | None = None,
    **fields: object,
) -> bool:
    """Write an entry of the transfer log in a transaction of its own (never failing); whether
    the database took it."""
    return record_transfer(
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


class CatalogueUnavailable(Unavailable):
    """The customer's file has problems: the punch-out waits for the fix, it is not gone."""

    message = N_(
        "This catalogue cannot be used at the moment: its configuration at Euromobil is being "
        "corrected. Nothing was stored. Please try again later."
    )


def _customer(customer_id: str, kind: str) -> Customer:
    """The served customer ``customer_id``; else 404 (or 503 while its file has problems),
    recorded in the transfer log as a rejected ``kind`` (``callup`` or ``booking``)."""
    registry = customers()
    customer = registry.get(customer_id)
    if customer is None and customer_id in registry.result.problems:
        log.error("call-up for customer %r, whose file has problems: not served", customer_id)
        _record(kind, "rejected", 503, customer_id, None, reason=BROKEN_CUSTOMER)
        raise CatalogueUnavailable()
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
    parameters named in ``exclude``; FormEncodingError when there are too many, UnreadableForm
    when the bytes are in neither charset (never guessed: the values would be garbled)."""
    query, query_charset = decode_form(request.query_string, legacy)
    body_charset = None
    if request.mimetype == "application/x-www-form-urlencoded":
        body, body_charset = decode_form(request.get_data(cache=True), legacy)
    else:
        body = list(request.form.items(multi=True))
    if UNKNOWN_CHARSET in (query_charset, body_charset):
        raise UnreadableForm(f"neither UTF-8 nor {legacy}")
    params = Params.merge(query, body)
    return Params(params.without(*exclude)) if exclude else params
