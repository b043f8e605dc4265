"""The simulated buyer's server, for every document the cXML buyer sends (setup requests,
:mod:`ociflex.devtools.cxml_buyer`; purchase orders, :mod:`ociflex.devtools.cxml_orders`): who it
says it is, how it posts a document to ociflex's ``/cxml/<id>``, how it reads ociflex's answer,
and how the pages show both.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app, url_for
from lxml import etree

from ociflex.customers.model import Customer
from ociflex.cxml.documents import indented, parse, path, text_of
from ociflex.cxml.dtd import dtd_problems
from ociflex.cxml.redact import masked, text_without_secrets
from ociflex.cxml.status import CxmlRefusal
from ociflex.devtools.common import MASKED

CONTENT_TYPE = "text/xml; charset=UTF-8"
USER_AGENT = "FlexFleet ERP simulator"
#: The host in the simulated buyer's payloadIDs.
BUYER_HOST = "erp-simulator.invalid"

#: A party of the Header: (element, credential domain, identity).
Party = tuple[str, str, str]


def add_header(
    root: etree._Element, parties: Sequence[Party], shared_secret: str, user_agent: str
) -> None:
    """The Header of a buyer's document under ``root``: ``parties`` (From, To, Sender), the
    Sender's SharedSecret ("": none sent) and its UserAgent."""
    header = etree.SubElement(root, "Header")
    for party, domain, identity in parties:
        credential = etree.SubElement(etree.SubElement(header, party), "Credential", domain=domain)
        etree.SubElement(credential, "Identity").text = identity
    sender = header[-1]
    if shared_secret:
        etree.SubElement(sender[0], "SharedSecret").text = shared_secret
    etree.SubElement(sender, "UserAgent").text = user_agent


def shown_document(document: bytes, show_secret: bool) -> str:
    """``document`` for the page: indented, its secrets masked unless asked to show them (as
    received when it does not parse, each secret element's content removed)."""
    try:
        root = parse(document)
    except CxmlRefusal:
        return (
            document.decode("utf-8", "replace") if show_secret else text_without_secrets(document)
        )
    return indented(root if show_secret else masked(root, MASKED))


@dataclass(frozen=True)
class Answer:
    """ociflex's answer to the document sent, as the buyer's system reads it."""

    http_status: int
    #: The answer indented (as received when it does not parse).
    document: str
    #: The Status's ``code`` and ``text`` attributes (None, "": no Status) and its content.
    code: str | None
    text: str
    message: str
    #: How the answer breaks the cXML DTD (or why it does not parse).
    problems: list[str]
    start_page: str | None


def read_answer(http_status: int, body: bytes) -> Answer:
    """The answer ``body`` that came with ``http_status``."""
    try:
        root = parse(body)
    except CxmlRefusal as refusal:
        text = body.decode("utf-8", "replace")
        return Answer(http_status, text, None, "", "", [refusal.reason], None)
    status = path(root, "Response", "Status")
    start_page = text_of(path(root, "Response", "PunchOutSetupResponse", "StartPage", "URL"))
    return Answer(
        http_status=http_status,
        document=indented(root),
        code=None if status is None else status.get("code"),
        text="" if status is None else status.get("text", ""),
        message=text_of(status),
        problems=dtd_problems(root),
        start_page=start_page or None,
    )


def send(customer: Customer, document: bytes, origin: str) -> Answer:
    """Post ``document`` to ociflex's cXML endpoint of ``customer`` as a buyer's server does,
    with ociflex reached on ``origin`` (where its StartPage URL then points)."""
    endpoint = url_for("cxml.endpoint", customer_id=customer.id)
    # Not over HTTP: a single gunicorn worker, busy with this page, would never get to answer
    # a request to itself (a deadlock). ociflex answers in this process instead, in an app
    # context of its own, so that the request's g (language, database session) stays its own.
    with current_app.app_context():
        client = current_app.test_client(use_cookies=False)
        response = client.post(endpoint, data=document, content_type=CONTENT_TYPE, base_url=origin)
    return read_answer(response.status_code, response.get_data())
