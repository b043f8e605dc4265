"""cXML's server-to-server endpoint: ``POST /cxml/<customer_id>`` takes every request a buyer's
system sends, dispatches on its type, and always answers with a cXML document (PROTOCOL.md
sections 1 to 3).

=======================  ====================================================================
request                  answer
=======================  ====================================================================
PunchOutSetupRequest     200 and the StartPage URL of a new punch-out session
                         (create, or edit / inspect of an earlier booking of this customer)
OrderRequest             200 once the purchase order is stored and matched to its requests
                         (:mod:`ociflex.orders.intake`); 200 again for the same payloadID
ProfileRequest           200 and the transactions ociflex takes, with their URL
anything else            450 (not implemented), or 400 for a document that is no request
=======================  ====================================================================

A refusal is a cXML Status with a 4xx code and a text for the buyer's administrator (401 for
credentials, 406 for XML that does not parse, 412 for an edit of nothing ...), or a 5xx while
ociflex cannot store the session or the order (the buyer sends it again). Nothing is stored
for a refusal but its transfer-log entry; every document in and out is logged, without its
secrets.
"""

from dataclasses import dataclass

from flask import Response, current_app, g, request
from flask_babel import gettext
from lxml import etree
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from ociflex.booking.session import Operation, PunchoutSession
from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.cxml.config import CXML, cxml_settings
from ociflex.cxml.documents import MAX_BYTES, parse, request_name, too_large
from ociflex.cxml.header import Header, authenticate, read_header
from ociflex.cxml.order_request import read_order_request
from ociflex.cxml.redact import text_without_secrets, without_secrets
from ociflex.cxml.responses import Envelope, profile_response, setup_response, status_response
from ociflex.cxml.setup import (
    punchout_session,
    read_setup_request,
    reopened_reference,
)
from ociflex.cxml.status import CxmlRefusal
from ociflex.db import error_summary, get_session, write_transaction
from ociflex.models import RentalRequest, StartPage, parse_reference
from ociflex.orders.intake import take_order
from ociflex.punchout.common import (
    BROKEN_CUSTOMER,
    UNKNOWN_CUSTOMER,
    cxml_bp,
    external_url,
    log,
    public_host,
    record,
    start_page_tokens,
)
from ociflex.punchout.dev_server import served_here
from ociflex.return_urls import origin_of
from ociflex.text import N_

#: What the transfer log calls each request ociflex takes; anything else is a ``request``.
KINDS = {"PunchOutSetupRequest": "setup", "ProfileRequest": "profile", "OrderRequest": "order"}
#: The requests ociflex takes, as a ProfileResponse lists them.
TRANSACTIONS = ("PunchOutSetupRequest", "OrderRequest")


@dataclass
class Exchange:
    """One request and its answer, as the transfer log keeps them."""

    customer_id: str
    kind: str = "request"
    #: The document received, without its secrets.
    document: str | None = None
    punchout_id: str | None = None
    return_url: str | None = None
    #: What became of an accepted order, in English.
    outcome: str = ""
    request_id: int | None = None


@cxml_bp.post("/<customer_id>")
def endpoint(customer_id: str) -> Response:
    """Every cXML request of a buyer's system, for the customer ``customer_id``: answered with
    a cXML document, a refusal included (see the module doc)."""
    exchange = Exchange(customer_id)
    customer = _cxml_customer(customer_id)
    g.language = customer.language if customer else "en"
    try:
        return _answer(exchange, customer)
    except CxmlRefusal as refusal:
        return _refused(exchange, refusal)


def _cxml_customer(customer_id: str) -> Customer | None:
    customer = customers().get(customer_id)
    return served_here(customer) if customer is not None and customer.speaks(CXML) else None


def _answer(exchange: Exchange, customer: Customer | None) -> Response:
    root = _read(exchange)
    name = request_name(root)
    exchange.kind = KINDS.get(name, "request")
    if customer is None:
        raise _no_customer(exchange.customer_id)
    if not name:
        raise CxmlRefusal(400, N_("The document carries no Request: send a cXML request."))
    header = read_header(root)
    settings = cxml_settings(customer)
    secret_required = name != "OrderRequest" or not settings.orders_without_shared_secret
    authenticate(header, settings, secret_required)
    if name == "PunchOutSetupRequest":
        return _setup(exchange, customer, root, header)
    if name == "OrderRequest":
        return _order(exchange, customer, root, header)
    if name == "ProfileRequest":
        return _profile(exchange, customer)
    raise CxmlRefusal(
        450,
        N_("FlexFleet does not take %(request)s here; it takes %(offered)s."),
        request=name[:60],
        offered=", ".join(("ProfileRequest", *TRANSACTIONS)),
    )


def _read(exchange: Exchange) -> etree._Element:
    """The posted document, parsed; its text without secrets goes to the exchange either way."""
    request.max_content_length = MAX_BYTES
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise too_large() from None
    try:
        root = parse(body, request.mimetype_params.get("charset"))
    except CxmlRefusal:
        exchange.document = text_without_secrets(body)
        raise
    exchange.document = without_secrets(root)
    return root


def _no_customer(customer_id: str) -> CxmlRefusal:
    if customer_id in customers().result.problems:
        log.error("cXML request for customer %r, whose file has problems", customer_id[:64])
        return CxmlRefusal(
            560,
            N_(
                "This catalogue cannot be used at the moment: its configuration at Euromobil is "
                "being corrected. Please try again later."
            ),
            reason=BROKEN_CUSTOMER,
        )
    return CxmlRefusal(
        401,
        N_(
            "No cXML customer is served at this address. Use the URL Euromobil gave you for "
            "your organisation."
        ),
        reason=UNKNOWN_CUSTOMER,
    )


def _setup(
    exchange: Exchange, customer: Customer, root: etree._Element, header: Header
) -> Response:
    setup = read_setup_request(customer, root)
    exchange.return_url = setup.browser_form_post
    if setup.operation is Operation.CREATE:
        session = punchout_session(customer, setup, header, exchange.document or "")
    else:
        request_id, fields = _reopened(customer, reopened_reference(setup))
        session = punchout_session(
            customer, setup, header, exchange.document or "", request_id, fields
        )
    exchange.punchout_id = session.id
    _store_start_page(customer, session)
    start_page = external_url(
        "cxml.start", customer_id=customer.id, token=start_page_tokens().dumps(session.id)
    )
    log.info(
        "cXML setup accepted: customer=%s punchout=%s operation=%s return=%s",
        customer.id,
        session.id,
        session.operation.value,
        origin_of(setup.browser_form_post),
    )
    return _accepted(exchange, setup_response(_envelope(), start_page))


def _reopened(customer: Customer, reference: str) -> tuple[int, dict[str, str]]:
    """The id and the fields of the request of this customer that ``reference`` names; 412
    when there is none. The read ends before the StartPage is written (on SQLite a read
    cannot become a write transaction without risking "database is locked")."""
    request_id = parse_reference(reference)
    db = get_session()
    rental = db.get(RentalRequest, request_id) if request_id else None
    found = (rental.id, dict(rental.fields or {})) if rental is not None else None
    customer_id = rental.customer_id if rental is not None else None
    db.rollback()
    if found is None or customer_id != customer.id:
        raise CxmlRefusal(
            412,
            N_(
                "%(reference)s is not a booking of this catalogue, so it cannot be opened. "
                "Check the SupplierPartAuxiliaryID of the line."
            ),
            reference=reference[:40],
        )
    return found


def _store_start_page(customer: Customer, session: PunchoutSession) -> None:
    """Keep the session for its StartPage; a 560 (try again) while the database is away."""
    db = get_session()
    try:
        with write_transaction(db):
            db.add(StartPage(id=session.id, customer_id=customer.id, session=session.to_json()))
    except SQLAlchemyError as error:
        log.error("cXML setup not stored: customer=%s error=%s", customer.id, error_summary(error))
        raise CxmlRefusal(
            560,
            N_("FlexFleet cannot store the session at the moment. Please try again shortly."),
        ) from None


def _order(
    exchange: Exchange, customer: Customer, root: etree._Element, header: Header
) -> Response:
    """Store and match an order; the 200 only once it is committed, a 500 (the buyer sends it
    again) when it cannot be."""
    received = read_order_request(root, header)
    try:
        intake = take_order(
            get_session(), customer, received, current_app.config["OCIFLEX_OPS_EMAIL"]
        )
    except SQLAlchemyError as error:
        log.error(
            "cXML order not stored: customer=%s order=%s error=%s",
            customer.id,
            received.order_id[:40],
            error_summary(error),
        )
        raise CxmlRefusal(
            500,
            N_(
                "FlexFleet could not store the order at the moment, so it was not taken. "
                "Please send the same document again shortly."
            ),
            reason=f"order {received.order_id[:40]} not stored: {error_summary(error)}",
        ) from None
    exchange.outcome = intake.summary()
    if len(intake.matched) == 1:
        exchange.request_id = parse_reference(intake.matched[0])
    log.info(
        "cXML order accepted: customer=%s order=%s type=%s %s",
        customer.id,
        received.order_id[:40],
        received.order_type,
        exchange.outcome,
    )
    return _accepted(exchange, status_response(_envelope(), 200))


def _profile(exchange: Exchange, customer: Customer) -> Response:
    url = external_url("cxml.endpoint", customer_id=customer.id)
    answer = profile_response(_envelope(), dict.fromkeys(TRANSACTIONS, url))
    return _accepted(exchange, answer)


def _envelope() -> Envelope:
    return Envelope(host=public_host(), language=g.get("language", "en"))


def _accepted(exchange: Exchange, answer: bytes) -> Response:
    _record(exchange, "accepted", 200, answer, reason=exchange.outcome)
    return _cxml(answer, 200)


def _refused(exchange: Exchange, refusal: CxmlRefusal) -> Response:
    log.warning(
        "cXML %s refused: customer=%s code=%s reason=%s",
        exchange.kind,
        exchange.customer_id[:64],
        refusal.code,
        refusal.reason,
    )
    answer = status_response(_envelope(), refusal.code, refusal.text(gettext))
    _record(exchange, "rejected", refusal.code, answer, reason=refusal.reason)
    # The HTTP status is the cXML code itself (see ociflex.cxml.status).
    return _cxml(answer, refusal.code)


def _record(exchange: Exchange, outcome: str, code: int, answer: bytes, reason: str) -> None:
    record(
        exchange.kind,
        outcome,
        code,
        exchange.customer_id,
        CXML,
        reason=reason,
        punchout_id=exchange.punchout_id,
        request_id=exchange.request_id,
        return_origin=origin_of(exchange.return_url) if exchange.return_url else None,
        document=exchange.document,
        answer=answer.decode("utf-8"),
    )


def _cxml(document: bytes, status: int) -> Response:
    return Response(document, status=status, content_type="text/xml; charset=UTF-8")
