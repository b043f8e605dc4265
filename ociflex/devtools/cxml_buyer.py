"""The ERP simulator's cXML buyer: a procurement system (SAP Ariba, Coupa ...) that punches out
to ociflex with a PunchOutSetupRequest, and the BrowserFormPost URL its cart comes back to.

``/dev/cxml``: choose a customer whose file has a ``cxml`` section, edit every value of its
setup request (prefilled from the customer file) or paste a whole document, see it with the cXML
DTD's verdict, and send it to ociflex's ``/cxml/<id>`` as the buyer's server does. The page shows
ociflex's answer and its Status, and opens the StartPage in a frame of the page, a new window or
this window, from the other loopback name too. ``/dev/cxml/cart``: the cart the employee's
browser posts back, each check with its verdict (:mod:`ociflex.devtools.cxml_verdicts`), and the
purchase order the customer's ERP would send for its bookings
(:mod:`ociflex.devtools.cxml_orders`). The BuyerCookie and the operation that the setup request
sent, and the customer, travel in the cart page's query string, which the BrowserFormPost URL
keeps.

The views are on the simulator's blueprint, so its rules hold (:mod:`ociflex.devtools.common`):
``/dev/`` in development and testing, ``/ops/dev/`` behind the operator login in production.
"""

import secrets
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from lxml import etree
from werkzeug.datastructures import MultiDict

from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.cxml.config import CXML, cxml_settings
from ociflex.cxml.customer_section import FROM_CONTACT
from ociflex.cxml.dtd import dtd_problems
from ociflex.cxml.order_message import OWN_CREDENTIAL
from ociflex.cxml.responses import XML_LANG, serialized
from ociflex.cxml.timestamps import payload_id, timestamp
from ociflex.devtools.common import EXTRA_ROWS, bp, choose_customer, other_loopback_origin
from ociflex.devtools.cxml_exchange import (
    BUYER_HOST,
    USER_AGENT,
    add_header,
    send,
    shown_document,
)
from ociflex.devtools.cxml_orders import (
    cart_lines,
    first_order,
    order_customer,
    order_form_values,
)
from ociflex.devtools.cxml_verdicts import Expected, check_cart_post

OPERATIONS = ("create", "edit", "inspect")
DEPLOYMENT_MODES = ("test", "production")
#: The line an edit or inspect opens: the first reference of a fresh database.
FIRST_REFERENCE = "FF-000001"


@dataclass(frozen=True)
class BuyerSetup:
    """Every value of the simulated buyer's PunchOutSetupRequest; the edit form's inputs carry
    the same names."""

    payload_id: str
    timestamp: str
    language: str
    from_domain: str
    from_identity: str
    to_domain: str
    to_identity: str
    sender_domain: str
    sender_identity: str
    #: The Sender's SharedSecret ("": none sent).
    shared_secret: str
    user_agent: str
    deployment_mode: str
    operation: str
    buyer_cookie: str
    browser_form_post: str
    #: ``Contact role="endUser"`` (both "": no Contact).
    contact_name: str
    contact_email: str
    #: The ItemOut of the line an edit or inspect opens again.
    part_id: str
    reference: str
    #: (name, value) of the request's own Extrinsics, in order.
    extrinsics: tuple[tuple[str, str], ...] = ()


TEXT_FIELDS = tuple(field.name for field in fields(BuyerSetup) if field.name != "extrinsics")


def buyer_setup(customer: Customer, cart_url: str) -> BuyerSetup:
    """A setup request of ``customer`` as its buyer's system sends it: a fresh BuyerCookie and
    payloadID, the file's first From credential and its SharedSecret (when the file names an
    environment variable; a hash cannot be turned back), each mapped field's example."""
    settings = cxml_settings(customer)
    buyer = settings.credentials[0]
    supplier_domain, supplier_identity = OWN_CREDENTIAL
    contact = {
        name: "" if name in settings.extrinsics else customer.example_of(customer.fields[name])
        for name in FROM_CONTACT
    }
    return BuyerSetup(
        payload_id=payload_id(BUYER_HOST),
        timestamp=timestamp(),
        language=customer.language,
        from_domain=buyer.domain,
        from_identity=buyer.identity,
        to_domain=supplier_domain,
        to_identity=supplier_identity,
        sender_domain=buyer.domain,
        sender_identity=buyer.identity,
        shared_secret=settings.shared_secret.value or "",
        user_agent=USER_AGENT,
        deployment_mode=DEPLOYMENT_MODES[0],
        operation=OPERATIONS[0],
        buyer_cookie=secrets.token_hex(8),
        browser_form_post=cart_url,
        contact_name=contact["full_name"],
        contact_email=contact["email"],
        part_id=customer.vehicles[0].code if customer.vehicles else "",
        reference=FIRST_REFERENCE,
        extrinsics=example_extrinsics(customer),
    )


def example_extrinsics(customer: Customer) -> tuple[tuple[str, str], ...]:
    """Each mapped field's Extrinsics with the field's example; a field that several carry
    (``FirstName`` + ``LastName``) has its example's words spread over them."""
    rows: list[tuple[str, str]] = []
    for name, extrinsics in cxml_settings(customer).extrinsics.items():
        words = customer.example_of(customer.fields[name]).split(maxsplit=len(extrinsics) - 1)
        rows += zip(extrinsics, words + [""] * (len(extrinsics) - len(words)), strict=True)
    return tuple(rows)


def edited_setup(form: MultiDict[str, str]) -> BuyerSetup:
    """The setup request of the edit form: its values, and the Extrinsic rows that have a name
    and are not marked for removal."""
    values = {name: form.get(name, "") for name in TEXT_FIELDS}
    if values["operation"] not in OPERATIONS:
        values["operation"] = OPERATIONS[0]
    if values["deployment_mode"] not in DEPLOYMENT_MODES:
        values["deployment_mode"] = DEPLOYMENT_MODES[0]
    removed = set(form.getlist("remove"))
    rows = zip(form.getlist("extrinsic_name"), form.getlist("extrinsic_value"), strict=False)
    extrinsics = tuple(
        (name.strip(), value)
        for position, (name, value) in enumerate(rows)
        if name.strip() and str(position) not in removed
    )
    return BuyerSetup(**values, extrinsics=extrinsics)


def setup_document(setup: BuyerSetup) -> bytes:
    """The PunchOutSetupRequest of ``setup``, its elements in the cXML DTD's order."""
    root = etree.Element("cXML", payloadID=setup.payload_id, timestamp=setup.timestamp)
    root.set(XML_LANG, setup.language)
    parties = (
        ("From", setup.from_domain, setup.from_identity),
        ("To", setup.to_domain, setup.to_identity),
        ("Sender", setup.sender_domain, setup.sender_identity),
    )
    add_header(root, parties, setup.shared_secret, setup.user_agent)
    request_element = etree.SubElement(root, "Request", deploymentMode=setup.deployment_mode)
    punchout = etree.SubElement(request_element, "PunchOutSetupRequest", operation=setup.operation)
    etree.SubElement(punchout, "BuyerCookie").text = setup.buyer_cookie
    for name, value in setup.extrinsics:
        etree.SubElement(punchout, "Extrinsic", name=name).text = value
    form_post = etree.SubElement(punchout, "BrowserFormPost")
    etree.SubElement(form_post, "URL").text = setup.browser_form_post
    if setup.contact_name or setup.contact_email:
        contact = etree.SubElement(punchout, "Contact", role="endUser")
        name = etree.SubElement(contact, "Name")
        name.set(XML_LANG, setup.language)
        name.text = setup.contact_name
        if setup.contact_email:
            etree.SubElement(contact, "Email").text = setup.contact_email
    if setup.operation != "create" and setup.reference:
        item_id = etree.SubElement(etree.SubElement(punchout, "ItemOut", quantity="1"), "ItemID")
        etree.SubElement(item_id, "SupplierPartID").text = setup.part_id
        etree.SubElement(item_id, "SupplierPartAuxiliaryID").text = setup.reference
    return serialized(root)


def with_expectations(setup: BuyerSetup, customer_id: str) -> BuyerSetup:
    """``setup`` whose BrowserFormPost URL, when it is the simulator's cart page, tells that
    page the BuyerCookie and operation to expect (they follow the fields as they are edited)
    and the customer, whose ERP orders the cart's bookings."""
    parts = urlsplit(setup.browser_form_post)
    if parts.path != url_for("devtools.cxml_cart"):
        return setup
    query = urlencode(
        {"cookie": setup.buyer_cookie, "operation": setup.operation, "customer": customer_id}
    )
    return replace(setup, browser_form_post=urlunsplit(parts._replace(query=query)))


def xml_box(setup: BuyerSetup, form: MultiDict[str, str], action: str | None) -> str:
    """What the XML box holds: the fields' document when asked to put it there, else what was
    typed or pasted into it ("" when nothing but blanks)."""
    if action == "edit_xml":
        return setup_document(setup).decode("utf-8")
    typed = form.get("document", "")
    return typed if typed.strip() else ""


@bp.route("/cxml", methods=["GET", "POST"])
def cxml() -> ResponseReturnValue:
    """GET: the setup request of a cXML customer as its buyer's system sends it
    (``?customer=``); POST: the edit form shown again (``action=apply``), its document copied
    into the XML box (``edit_xml``), or sent to ociflex with ociflex's answer (``send``)."""
    served, chosen = choose_customer(CXML)
    source = request.form if request.method == "POST" else request.args
    page = {"customers": served, "problems": customers().result.problems, "customer": chosen}
    if chosen is None:
        return render_template("devtools/cxml.html", **page)
    edited = request.method == "POST" and source.get("customer") == chosen.id
    if edited:
        setup = with_expectations(edited_setup(request.form), chosen.id)
        action = request.form.get("action")
    else:
        setup = with_expectations(
            buyer_setup(chosen, url_for("devtools.cxml_cart", _external=True)), chosen.id
        )
        action = None
    try:
        pasted = xml_box(setup, request.form, action) if edited else ""
        document = pasted.encode("utf-8") if pasted else setup_document(setup)
    except ValueError:
        # lxml refuses text XML cannot hold (a control character typed into a field).
        values = _form_values(chosen, setup, request.form.get("document", ""), source)
        page |= {"shown": "", "document_problems": [UNWRITABLE], "answer": None}
        return render_template("devtools/cxml.html", **page, **values), 422
    values = _form_values(chosen, setup, pasted, source)
    answer = None
    if action == "send":
        origin = other_loopback_origin() if values["launch_other"] else request.host_url
        answer = send(chosen, document, origin)
    return render_template(
        "devtools/cxml.html",
        **page,
        **values,
        shown=shown_document(document, bool(values["show_secret"])),
        document_problems=dtd_problems(document),
        answer=answer,
    )


#: What the page says when a field holds a character that no XML document can carry.
UNWRITABLE = (
    "a value holds a character that XML cannot carry (a control character): remove it, then "
    "show or send the document again"
)


def _form_values(
    customer: Customer, setup: BuyerSetup, pasted: str, source: MultiDict[str, str]
) -> dict[str, object]:
    """What the edit form shows of ``setup``, whatever happens to its document."""
    other_origin = other_loopback_origin()
    return {
        "setup": setup,
        "pasted": pasted,
        "secret_hashed": cxml_settings(customer).shared_secret.hash is not None,
        "show_secret": source.get("show_secret") == "1",
        "other_origin": other_origin,
        "launch_other": other_origin is not None and source.get("origin") == "other",
        "operations": OPERATIONS,
        "deployment_modes": DEPLOYMENT_MODES,
        "extra_rows": EXTRA_ROWS,
    }


@bp.route("/cxml/cart", methods=["GET", "POST"])
def cxml_cart() -> str:
    """The simulated buyer's BrowserFormPost URL: the cart the employee's browser posts, with
    a verdict per check, and the form of the order for its bookings; what the setup request
    sent comes in the query string (``cookie``, ``operation``, ``customer``)."""
    expected = Expected(
        buyer_cookie=request.args.get("cookie"), operation=request.args.get("operation")
    )
    report = None
    if request.method == "POST":
        report = check_cart_post(request.form.items(multi=True), expected)
    customer = order_customer(request.args.get("customer", ""))
    page = {"report": report, "expected": expected, "order_customer": customer, "order": None}
    if report is not None and report.lines and customer is not None:
        lines = cart_lines(report.lines, customer.language)
        page |= order_form_values(customer, first_order(customer, lines), False)
    return render_template("devtools/cxml_cart.html", **page)
