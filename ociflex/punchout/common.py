"""What the punch-out views of both protocols share: their blueprints, the customer a URL names,
the session token, the transfer log, and the error and booking-form pages."""

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import gettext

from ociflex.booking.correction import mark_for_correction
from ociflex.booking.form import BookingForm, booking_form_class, today
from ociflex.booking.session import Operation, PunchoutSession
from ociflex.booking.token import PunchoutTokens
from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.cxml.config import CXML
from ociflex.cxml.start_page import StartPageTokens
from ociflex.models import format_reference
from ociflex.punchout.dev_server import served_here
from ociflex.text import N_
from ociflex.transfer_writer import record_transfer
from ociflex.web import Unavailable

#: SAP OCI: the call-up, its FUNCTION calls, the booking form posted back (``/oci/<id>``).
oci_bp = Blueprint("oci", __name__, url_prefix="/oci")
#: cXML: the buyer's server-to-server requests, the StartPage, the booking form posted back.
cxml_bp = Blueprint("cxml", __name__, url_prefix="/cxml")

#: One logger for all punch-out views, under the name their log lines have always carried.
log = logging.getLogger("ociflex.punchout.routes")

#: What a form post of the punch-out may be sent as: a browser's ordinary form post, or no
#: body at all (an ERP that puts the whole call-up in the query string).
FORM_MIMETYPES = frozenset({"", "application/x-www-form-urlencoded"})
#: The punch-out's POST endpoints that take a document, not a form (cXML's server-to-server).
DOCUMENT_ENDPOINTS = frozenset({"cxml.endpoint"})

#: The reason the transfer log gives for a customer id that no customer file serves.
UNKNOWN_CUSTOMER = "unknown customer: no customer file with this id is served"
BROKEN_CUSTOMER = "the customer file has problems (see flask ociflex customers check)"


def tokens() -> PunchoutTokens:
    """The app's signer of punch-out sessions (made by :func:`ociflex.punchout.routes.init_app`)."""
    return current_app.extensions["ociflex.tokens"]


def start_page_tokens() -> StartPageTokens:
    """The app's signer of cXML StartPage links (made by ociflex.punchout.routes.init_app)."""
    return current_app.extensions["ociflex.start_page_tokens"]


def public_host() -> str:
    """The host name the world knows ociflex by: ``OCIFLEX_PUBLIC_URL``'s, else the request's
    (for the payloadIDs of cXML documents)."""
    public_url = current_app.config.get("OCIFLEX_PUBLIC_URL")
    return (urlsplit(public_url).hostname or "") if public_url else request.host.split(":")[0]


def external_url(endpoint: str, **values: object) -> str:
    """The absolute URL of ``endpoint``, for a buyer's system: on ``OCIFLEX_PUBLIC_URL`` when
    it is set (the address the world knows, whatever proxy the request came through), else on
    the request's own host."""
    public_url = current_app.config.get("OCIFLEX_PUBLIC_URL")
    if public_url:
        return public_url + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def record(
    kind: str,
    outcome: str,
    status: int,
    customer_id: str,
    protocol: str,
    parameters: Iterable[tuple[str, str]] = (),
    password_params: Collection[str] | None = None,
    **fields: object,
) -> None:
    """Record an entry of the transfer log (never failing, see :mod:`ociflex.transfer_writer`)."""
    record_transfer(
        kind=kind,
        outcome=outcome,
        status=status,
        customer_id=customer_id,
        protocol=protocol,
        parameters=parameters,
        password_params=password_params,
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


def served_customer(
    customer_id: str,
    protocol: str,
    kind: str,
    received: Callable[[], Mapping[str, Any]] = dict,
) -> Customer:
    """The served customer ``customer_id`` that punches out with ``protocol``, for a page; else
    404 (or 503 while its file has problems), recorded in the transfer log as a rejected
    ``kind``, with what ``received`` says was received (the entry's ``parameters``,
    ``return_origin``, ...)."""
    registry = customers()
    customer = registry.get(customer_id)
    if customer is None and customer_id in registry.result.problems:
        log.error("%s for customer %r, whose file has problems: not served", kind, customer_id)
        record(kind, "rejected", 503, customer_id, protocol, reason=BROKEN_CUSTOMER)
        raise CatalogueUnavailable()
    if customer is None or not customer.speaks(protocol):
        log.warning("%s for unknown or unserved customer %r", kind, customer_id[:64])
        record(kind, "rejected", 404, customer_id, protocol, reason=UNKNOWN_CUSTOMER, **received())
        abort(404)
    customer = served_here(customer)
    show_as(customer)
    return customer


def show_as(customer: Customer) -> None:
    """Pages of this request speak the customer's language and may be framed by its system."""
    g.language = customer.language
    g.frame_ancestors = customer.frame_ancestors


def form_posts_only() -> tuple[str, int] | None:
    """Refuse (415) a POST to the punch-out's form addresses that is not form-urlencoded.

    OCI call-ups and the booking forms are url-encoded forms; their checks (the charset, the
    number of fields) read that encoding. A ``multipart/form-data`` or other body would pass
    around them, so it is refused before any view reads it, and nothing is stored or logged
    (an entry per junk post would let anyone fill the transfer log)."""
    if request.method != "POST" or request.endpoint in DOCUMENT_ENDPOINTS:
        return None
    if request.mimetype in FORM_MIMETYPES:
        return None
    customer = customers().get(str((request.view_args or {}).get("customer_id", "")))
    if customer is not None:
        show_as(customer)
    log.warning(
        "form post refused: path=%s status=415 content_type=%.80r", request.path, request.mimetype
    )
    return error_page(
        415,
        N_(
            "This address accepts only ordinary form posts "
            "(application/x-www-form-urlencoded), not %(content_type)s."
        ),
        N_(
            "Nothing was stored. Ask your ERP administrator to send the call-up as an ordinary "
            "form post (application/x-www-form-urlencoded), not as multipart/form-data."
        ),
        content_type=request.mimetype[:80],
    )


oci_bp.before_request(form_posts_only)
cxml_bp.before_request(form_posts_only)


def error_page(status: int, message: str, fix: str, **params: object) -> tuple[str, int]:
    """The page of a refused punch-out: ``message`` and ``fix`` are catalogue texts."""
    return render_template(
        "punchout/error.html",
        message=gettext(message, **params),
        fix=gettext(fix, **params),
    ), status


#: Protocol -> the endpoint that takes an employee back to the buyer's system without a
#: booking (cXML sends an empty cart; OCI has no way to say "nothing").
BACK_WITHOUT_BOOKING = {CXML: "cxml.back"}


def opening_form_page(
    customer: Customer,
    session: PunchoutSession,
    values: Mapping[str, object],
    sent: Collection[str] = (),
) -> tuple[str, int]:
    """The booking form as a punch-out opens it, filled in with ``values``: an editable field
    that the buyer's system was to send (``sent``: field names) with a value that breaks its
    rules is marked for the employee to correct (:mod:`ociflex.booking.correction`)."""
    form = booking_form_class(customer)(
        formdata=None, data={"punchout": tokens().dumps(session), **values}
    )
    mark_for_correction(form, sent)
    return form_page(customer, session, form)


def form_page(
    customer: Customer, session: PunchoutSession, form: BookingForm, status: int = 200
) -> tuple[str, int]:
    """The booking form of ``session``: a new request, or the one an edit session changes."""
    back = BACK_WITHOUT_BOOKING.get(session.protocol)
    editing = session.operation is Operation.EDIT and session.request_id is not None
    return render_template(
        "punchout/form.html",
        customer=customer,
        punchout=session,
        form=form,
        today=today(),
        reference=format_reference(session.request_id) if editing else None,
        back_action=url_for(back, customer_id=customer.id) if back else None,
    ), status
