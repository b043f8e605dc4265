"""cXML documents as the tests' buyers send them, and what tests read out of ociflex's answers.

:func:`setup_request` writes a PunchOutSetupRequest and :func:`order_request` an OrderRequest
the way a real buyer's system does, every part changeable: a test says what differs from a
correct document of the test customer ``globex`` (tests/customers_cxml/globex.yaml) and
nothing else.
"""

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from lxml import etree
from werkzeug.test import TestResponse

from ociflex.customers import load_customer
from ociflex.protocols import CUSTOMER_SECTIONS

ROOT = Path(__file__).resolve().parent.parent.parent
CUSTOMERS = ROOT / "tests" / "customers_cxml"
GLOBEX_SECRET = "globex-secret"
GLOBEX_RETURN_URL = "https://buyer.globex.example/punchout/return?session=7f3a"
GLOBEX_FROM = ("NetworkID", "AN01000099999")
#: The cXML test customer and the shipped demo customer, loaded as ociflex loads them.
GLOBEX = load_customer(CUSTOMERS / "globex.yaml", CUSTOMER_SECTIONS, {})
DEMO_SECRET = "demo-secret"
DEMO = load_customer(
    ROOT / "config" / "customers" / "demo.yaml",
    CUSTOMER_SECTIONS,
    {"OCIFLEX_DEMO_PASSWORD": DEMO_SECRET},
)
DEMO_FROM = ("NetworkID", "AN-DEMO-INKOOP")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DOCTYPE = '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd">'


@dataclass
class Setup:
    """A PunchOutSetupRequest, correct for ``globex`` unless changed."""

    operation: str | None = "create"
    buyer_cookie: str | None = "1J3YVWU9QWMTB"
    browser_form_post: str | None = GLOBEX_RETURN_URL
    #: (name, value) of the request's own Extrinsics, in order.
    extrinsics: Sequence[tuple[str, str]] = (
        ("UserEmail", "jane.doe@globex.example"),
        ("FirstName", "Jane"),
        ("LastName", "Doe"),
        ("CostCenter", "CC-410"),
        ("Project", "Apollo"),
    )
    #: ``Contact role="endUser"``: (name, e-mail), or None for no Contact.
    contact: tuple[str, str] | None = ("Jane Doe", "jane.doe@globex.example")
    #: The SupplierPartAuxiliaryID of each ItemOut (edit, inspect).
    items: Sequence[str] = ()
    from_credentials: Sequence[tuple[str, str]] = (GLOBEX_FROM,)
    to_credentials: Sequence[tuple[str, str]] = (("DUNS", "987654321"),)
    sender: tuple[str, str] = GLOBEX_FROM
    #: The Sender's SharedSecret (None: none sent).
    shared_secret: str | None = GLOBEX_SECRET
    #: The SharedSecret in the From credential instead (some buyers put it there).
    from_secret: str | None = None
    #: Put Contact before BrowserFormPost, as Coupa does.
    coupa_order: bool = False
    payload_id: str = "1701234567890.4711@buyer.globex.example"
    timestamp: str = "2026-12-02T10:15:00+01:00"
    extra: dict[str, str] = field(default_factory=dict)


def _credential(
    parent: etree._Element, domain: str, identity: str, secret: str | None = None
) -> etree._Element:
    credential = etree.SubElement(parent, "Credential", domain=domain)
    etree.SubElement(credential, "Identity").text = identity
    if secret is not None:
        etree.SubElement(credential, "SharedSecret").text = secret
    return credential


def setup_request(setup: Setup | None = None) -> bytes:
    """The document of ``setup`` as bytes, with declaration and DOCTYPE."""
    setup = setup or Setup()
    root = etree.Element("cXML", payloadID=setup.payload_id, timestamp=setup.timestamp)
    root.set(XML_LANG, "en-US")
    header = etree.SubElement(root, "Header")
    sender_from = etree.SubElement(header, "From")
    for domain, identity in setup.from_credentials:
        _credential(sender_from, domain, identity, setup.from_secret)
    to = etree.SubElement(header, "To")
    for domain, identity in setup.to_credentials:
        _credential(to, domain, identity)
    sender = etree.SubElement(header, "Sender")
    _credential(sender, *setup.sender, setup.shared_secret)
    etree.SubElement(sender, "UserAgent").text = "Globex Procurement 9.1"
    request = etree.SubElement(root, "Request", deploymentMode="production")
    punchout = etree.SubElement(request, "PunchOutSetupRequest")
    if setup.operation is not None:
        punchout.set("operation", setup.operation)
    if setup.buyer_cookie is not None:
        etree.SubElement(punchout, "BuyerCookie").text = setup.buyer_cookie
    for name, value in setup.extrinsics:
        etree.SubElement(punchout, "Extrinsic", name=name).text = value
    parts = [_browser_form_post(setup), _contact(setup)]
    for part in reversed(parts) if setup.coupa_order else parts:
        if part is not None:
            punchout.append(part)
    etree.SubElement(
        etree.SubElement(punchout, "SupplierSetup"), "URL"
    ).text = "https://flexfleet.euromobil.example/cxml/globex"
    for reference in setup.items:
        item = etree.SubElement(punchout, "ItemOut", quantity="1")
        item_id = etree.SubElement(item, "ItemID")
        etree.SubElement(item_id, "SupplierPartID").text = "SEDAN"
        etree.SubElement(item_id, "SupplierPartAuxiliaryID").text = reference
    body = etree.tostring(root, encoding="UTF-8", doctype=DOCTYPE)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


@dataclass
class Line:
    """An ItemOut of an order: the booking ``reference`` for ``quantity`` days."""

    reference: str | None
    quantity: str = "3"
    vehicle: str = "SEDAN"
    unit_price: str | None = "64.00"
    currency: str = "USD"
    line_number: str | None = None


@dataclass
class Order:
    """An OrderRequest, correct for ``globex`` unless changed: what a buyer's ERP sends once
    the customer approved a cart."""

    lines: Sequence[Line] = ()
    order_id: str | None = "4500012345"
    #: new, update, delete (None: no type attribute, which means new).
    order_type: str | None = "new"
    #: The payloadID of the order an update or delete changes.
    changes: str | None = None
    payload_id: str = "1701234599999.5150@erp.globex.example"
    from_credentials: Sequence[tuple[str, str]] = (GLOBEX_FROM,)
    sender: tuple[str, str] = GLOBEX_FROM
    shared_secret: str | None = GLOBEX_SECRET
    total: str | None = None
    currency: str = "USD"


def order_request(order: Order) -> bytes:
    """The document of ``order`` as bytes, with declaration and DOCTYPE."""
    root = etree.Element("cXML", payloadID=order.payload_id, timestamp="2026-12-02T11:00:00+01:00")
    root.set(XML_LANG, "en-US")
    header = etree.SubElement(root, "Header")
    sender_from = etree.SubElement(header, "From")
    for domain, identity in order.from_credentials:
        _credential(sender_from, domain, identity)
    _credential(etree.SubElement(header, "To"), "DUNS", "987654321")
    sender = etree.SubElement(header, "Sender")
    _credential(sender, *order.sender, order.shared_secret)
    etree.SubElement(sender, "UserAgent").text = "Globex ERP 9.1"
    request = etree.SubElement(root, "Request", deploymentMode="production")
    body = etree.SubElement(request, "OrderRequest")
    head = etree.SubElement(body, "OrderRequestHeader", orderDate="2026-12-02T10:59:00+01:00")
    if order.order_id is not None:
        head.set("orderID", order.order_id)
    if order.order_type is not None:
        head.set("type", order.order_type)
    money = etree.SubElement(etree.SubElement(head, "Total"), "Money", currency=order.currency)
    money.text = order.total if order.total is not None else _total(order.lines)
    address = etree.SubElement(etree.SubElement(head, "BillTo"), "Address", addressID="GLOBEX-HQ")
    name = etree.SubElement(address, "Name")
    name.set(XML_LANG, "en")
    name.text = "Globex Corporation"
    etree.SubElement(head, "Comments").text = "Approved by the cost-centre manager"
    if order.changes is not None:
        etree.SubElement(head, "DocumentReference", payloadID=order.changes)
    for number, line in enumerate(order.lines, start=1):
        _item_out(body, line, number)
    document = etree.tostring(root, encoding="UTF-8", doctype=DOCTYPE)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + document


def _total(lines: Sequence[Line]) -> str:
    """The lines' days times their prices; 0.00 when a line's figures are no numbers."""
    try:
        amounts = [Decimal(line.quantity) * Decimal(line.unit_price or 0) for line in lines]
    except ArithmeticError:
        return "0.00"
    return format(sum(amounts, Decimal(0)), ".2f")


def _item_out(body: etree._Element, line: Line, number: int) -> None:
    item = etree.SubElement(
        body, "ItemOut", quantity=line.quantity, lineNumber=line.line_number or str(number)
    )
    item_id = etree.SubElement(item, "ItemID")
    etree.SubElement(item_id, "SupplierPartID").text = line.vehicle
    if line.reference is not None:
        etree.SubElement(item_id, "SupplierPartAuxiliaryID").text = line.reference
    detail = etree.SubElement(item, "ItemDetail")
    if line.unit_price is not None:
        price = etree.SubElement(etree.SubElement(detail, "UnitPrice"), "Money")
        price.set("currency", line.currency)
        price.text = line.unit_price
    description = etree.SubElement(detail, "Description")
    description.set(XML_LANG, "en")
    description.text = f"Rental {line.reference}"
    etree.SubElement(detail, "UnitOfMeasure").text = "DAY"


def _browser_form_post(setup: Setup) -> etree._Element | None:
    if setup.browser_form_post is None:
        return None
    element = etree.Element("BrowserFormPost")
    etree.SubElement(element, "URL").text = setup.browser_form_post
    return element


def _contact(setup: Setup) -> etree._Element | None:
    if setup.contact is None:
        return None
    contact = etree.Element("Contact", role="endUser")
    name = etree.SubElement(contact, "Name")
    name.set(XML_LANG, "en")
    name.text = setup.contact[0]
    etree.SubElement(contact, "Email").text = setup.contact[1]
    return contact


@dataclass(frozen=True)
class Answer:
    """ociflex's answer to a cXML request, read as the buyer's system reads it."""

    http_status: int
    root: etree._Element

    @property
    def code(self) -> int:
        return int(self.status.get("code", "0"))

    @property
    def status(self) -> etree._Element:
        status = self.root.find("Response/Status")
        assert status is not None, etree.tostring(self.root)
        return status

    @property
    def text(self) -> str:
        """The Status's text content: what the buyer's administrator reads."""
        return "".join(self.status.itertext()).strip()

    @property
    def start_page(self) -> str:
        url = self.root.findtext("Response/PunchOutSetupResponse/StartPage/URL")
        assert url, etree.tostring(self.root)
        return url


def answer_of(http_status: int, body: bytes) -> Answer:
    """Parse an answer; it must always be a cXML document."""
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == "cXML", body[:200]
    return Answer(http_status, root)


_CART_FIELD = re.compile(r'name="(cxml-base64|cxml-urlencoded)" value="([^"]*)"')


def cart_document(page: str) -> bytes:
    """The PunchOutOrderMessage that a cart page (HTML) posts, as the buyer decodes it."""
    match = _CART_FIELD.search(page)
    assert match, "the page has no cXML cart field"
    value = html.unescape(match[2])
    return base64.b64decode(value) if match[1] == "cxml-base64" else value.encode("utf-8")


_TOKEN = re.compile(r'name="punchout"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="punchout"')


def page_token(page: str) -> str:
    """The signed session token in a booking form or booking page (the hidden ``punchout``)."""
    match = _TOKEN.search(page)
    assert match, "the page carries no punch-out token"
    return html.unescape(match[1] or match[2])


def local_path(url: str) -> str:
    """A URL of ociflex as the test client asks for it: path and query string."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Buyer:
    """A buyer's system and its employee's browser, through a Flask test client without
    cookies (as a framed page in a browser that blocks them)."""

    client: FlaskClient
    customer_id: str = "globex"

    def post(self, document: bytes, content_type: str = "text/xml; charset=UTF-8") -> Answer:
        response = self.client.post(
            f"/cxml/{self.customer_id}", data=document, content_type=content_type
        )
        assert response.content_type.startswith("text/xml"), response.content_type
        return answer_of(response.status_code, response.get_data())

    def set_up(self, setup: Setup | None = None) -> Answer:
        return self.post(setup_request(setup))

    def open(self, answer: Answer) -> TestResponse:
        """The StartPage, as the employee's browser opens it."""
        return self.client.get(local_path(answer.start_page))

    def start(self, setup: Setup | None = None) -> str:
        """A punch-out up to the booking form: the form's token."""
        answer = self.set_up(setup)
        assert answer.code == 200, answer.text
        page = self.open(answer)
        assert page.status_code == 200, page.get_data(as_text=True)
        return page_token(page.get_data(as_text=True))

    def book(self, token: str, **form: str) -> TestResponse:
        values = {"vehicle": "SEDAN", "start": "", "end": "", "remarks": "", **form}
        return self.client.post(
            f"/cxml/{self.customer_id}/book", data={"punchout": token, **values}
        )

    def back(self, token: str) -> TestResponse:
        return self.client.post(f"/cxml/{self.customer_id}/back", data={"punchout": token})
