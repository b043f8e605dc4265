"""Reading a PunchOutSetupRequest (PROTOCOL.md section 3) into a punch-out session.

Plain functions over a parsed document (:mod:`ociflex.cxml.documents`): the web layer
authenticates the request (:mod:`ociflex.cxml.header`), hands it in, and gets back what the
buyer asked for, or a :class:`~ociflex.cxml.status.CxmlRefusal` whose Status text tells the
buyer's administrator what to fix.

Who the employee is, is not standardised: each customer file maps its fields to the setup
request's ``Extrinsic`` elements by name (compared ignoring case; several names join their
values with one space), and without a mapping ``email`` and ``full_name`` come from
``Contact role="endUser"``. Real buyers put the children in any order (Coupa sends Contact
before BrowserFormPost): nothing here depends on it.
"""

from dataclasses import dataclass
from typing import Any

from lxml import etree

from ociflex.booking.fields import FieldProblem, refusing_problem
from ociflex.booking.session import CartReturn, Operation, PunchoutSession
from ociflex.customers.model import Customer, Field
from ociflex.cxml.config import CXML, cxml_settings
from ociflex.cxml.customer_section import FROM_CONTACT
from ociflex.cxml.documents import child, children, path, text_of
from ociflex.cxml.header import Header
from ociflex.cxml.status import CxmlRefusal
from ociflex.return_urls import ReturnUrlError, check_return_url
from ociflex.text import N_

#: The operations ociflex offers; ``source`` (sourcing events) it does not.
OPERATIONS = {"create": Operation.CREATE, "edit": Operation.EDIT, "inspect": Operation.INSPECT}
#: A BuyerCookie goes back in the cart: an opaque session key, never this long in practice.
MAX_COOKIE_LENGTH = 2048
#: How the setup request's BrowserFormPost URL is called in messages.
BROWSER_FORM_POST = "BrowserFormPost URL"
#: The frame the cart is posted into: the buyer's whole window, framed or not.
CART_TARGET = "_top"

_FIELD_PROBLEMS = {
    FieldProblem.MISSING: N_(
        "The setup request has no value for %(source)s, which this catalogue requires. "
        "Send it as agreed with Euromobil."
    ),
    FieldProblem.CONTROL_CHARACTERS: N_(
        "%(source)s contains control characters or line breaks. Send it as one line of text."
    ),
    FieldProblem.TOO_LONG: N_(
        "%(source)s is longer than %(max)s characters. Send a shorter value."
    ),
    FieldProblem.PATTERN: N_(
        "The value of %(source)s does not have the agreed format. Check what is sent in it."
    ),
    FieldProblem.NOT_AN_EMAIL: N_(
        "%(source)s is not a valid e-mail address. Send the requester's e-mail address in it."
    ),
}


@dataclass(frozen=True)
class SetupRequest:
    """What a setup request asks for, checked."""

    operation: Operation
    buyer_cookie: str
    browser_form_post: str
    #: ociflex field name -> value ("" where the request does not carry the field).
    fields: dict[str, str]
    #: The SupplierPartAuxiliaryID of each ItemOut: the references of carts sent before.
    references: tuple[str, ...]


def setup_request_of(root: etree._Element) -> etree._Element | None:
    return path(root, "Request", "PunchOutSetupRequest")


def read_setup_request(customer: Customer, root: etree._Element) -> SetupRequest:
    """Check the PunchOutSetupRequest in ``root`` for ``customer`` (already authenticated):
    operation, BuyerCookie, BrowserFormPost URL, then the requester's fields."""
    setup = setup_request_of(root)
    if setup is None:
        raise ValueError("no PunchOutSetupRequest: dispatch on the request's type first")
    operation = _operation(setup)
    return SetupRequest(
        operation=operation,
        buyer_cookie=_buyer_cookie(setup),
        browser_form_post=_browser_form_post(customer, setup),
        fields=_fields(customer, setup),
        references=tuple(
            reference
            for item in children(setup, "ItemOut")
            if (reference := text_of(path(item, "ItemID", "SupplierPartAuxiliaryID")))
        ),
    )


def _operation(setup: etree._Element) -> Operation:
    sent = setup.get("operation", "create").strip()
    if sent.lower() in OPERATIONS:
        return OPERATIONS[sent.lower()]
    if sent.lower() == "source":
        raise CxmlRefusal(
            450,
            N_("The operation source is not offered by this catalogue; it offers %(offered)s."),
            offered=", ".join(OPERATIONS),
        )
    raise CxmlRefusal(
        400,
        N_("The operation %(operation)s is unknown; use create, edit or inspect."),
        operation=sent[:40],
    )


def _buyer_cookie(setup: etree._Element) -> str:
    element = child(setup, "BuyerCookie")
    cookie = "" if element is None else "".join(element.itertext())
    if not cookie.strip():
        raise CxmlRefusal(
            400,
            N_("The setup request has no BuyerCookie. Send the BuyerCookie of this session."),
        )
    if len(cookie) > MAX_COOKIE_LENGTH:
        raise CxmlRefusal(
            400,
            N_("The BuyerCookie is longer than %(max)s characters."),
            max=MAX_COOKIE_LENGTH,
        )
    return cookie


def _browser_form_post(customer: Customer, setup: etree._Element) -> str:
    if not cxml_settings(customer).browser_form_posts:
        raise CxmlRefusal(
            403,
            N_(
                "Your organisation sends FlexFleet its purchase orders by cXML, but punches out "
                "another way: Euromobil has registered no BrowserFormPost URL for a cXML "
                "punch-out. Ask Euromobil to register yours."
            ),
        )
    url = text_of(path(setup, "BrowserFormPost", "URL"))
    if not url:
        raise CxmlRefusal(
            400,
            N_(
                "The setup request has no BrowserFormPost URL, so the cart could not be "
                "returned. Send BrowserFormPost with the URL the cart goes back to."
            ),
        )
    try:
        check_return_url(url, cxml_settings(customer).browser_form_posts, BROWSER_FORM_POST)
    except ReturnUrlError as error:
        fix = N_(
            "Euromobil registers the addresses your system may use: send one of those, or ask "
            "Euromobil to add this one."
        )
        raise CxmlRefusal(400, error.message, fix=fix, **error.params) from None
    return url


def fields_carried(customer: Customer) -> frozenset[str]:
    """The fields a setup request carries: those with an Extrinsic, and the end user's
    Contact; the employee fills in the others in the booking form."""
    return frozenset(cxml_settings(customer).extrinsics) | frozenset(FROM_CONTACT)


def _fields(customer: Customer, setup: etree._Element) -> dict[str, str]:
    """Each field's value from its Extrinsics (or the end user's Contact), checked; a field
    the request does not carry is left for the booking form ("")."""
    extrinsics = _extrinsics(setup)
    contact = _end_user(setup)
    mapped = cxml_settings(customer).extrinsics
    carried = fields_carried(customer)
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name, field in customer.fields.items():
        if name not in carried:
            values[name] = ""
            continue
        if name in mapped:
            sent = [extrinsics.get(extrinsic.casefold(), "") for extrinsic in mapped[name]]
            value = " ".join(part for part in sent if part)
            sources[name] = "Extrinsic " + " + ".join(mapped[name])
        else:
            element = FROM_CONTACT[name]
            value = text_of(child(contact, element))
            sources[name] = f'Contact role="endUser" {element}'
        if name == "full_name":
            value = " ".join(value.split())  # a name from parts: no double or trailing blanks
        _check(field, value, sources[name])
        values[name] = value
    _check_domain(customer, values["email"], sources["email"])
    return values


def _extrinsics(setup: etree._Element) -> dict[str, str]:
    """The request's own Extrinsics by case-folded name (the first of a name wins)."""
    found: dict[str, str] = {}
    for element in children(setup, "Extrinsic"):
        found.setdefault(element.get("name", "").strip().casefold(), text_of(element))
    return found


def _end_user(setup: etree._Element) -> etree._Element | None:
    """The ``Contact`` of the employee: ``role="endUser"``, else one without a role."""
    contacts = children(setup, "Contact")
    by_role = [c for c in contacts if c.get("role", "").casefold() == "enduser"]
    without = [c for c in contacts if not c.get("role")]
    return next(iter(by_role or without), None)


def _check(field: Field, value: str, source: str) -> None:
    """Refuse the setup when ``value`` breaks the rules of ``field``; an editable field's
    value is corrected in the booking form instead."""
    problem = refusing_problem(field, value)
    if problem is not None:
        raise CxmlRefusal(400, _FIELD_PROBLEMS[problem], source=source, max=field.max_length)


def _check_domain(customer: Customer, email: str, source: str) -> None:
    if email and not customer.accepts_email(email):
        raise CxmlRefusal(
            403,
            N_(
                "The e-mail address %(email)s in %(source)s is not in a domain this catalogue "
                "accepts (%(domains)s). Send the requester's company e-mail address."
            ),
            email=email[:254],
            source=source,
            domains=", ".join(customer.email_domains),
        )


def reopened_reference(setup: SetupRequest) -> str:
    """The reference of the cart an edit or inspect session opens again: 412 when it names
    none, 400 when it names several (ociflex opens one booking at a time)."""
    references = list(dict.fromkeys(reference.strip().upper() for reference in setup.references))
    if not references:
        raise CxmlRefusal(
            412,
            N_(
                "There is no booking to %(operation)s: the setup request has no ItemOut with the "
                "SupplierPartAuxiliaryID of an earlier cart."
            ),
            operation=setup.operation.value,
        )
    if len(references) > 1:
        raise CxmlRefusal(
            400,
            N_(
                "The setup request names %(count)s bookings (%(references)s); FlexFleet opens "
                "one booking per session: %(operation)s each line on its own."
            ),
            count=len(references),
            references=", ".join(references)[:200],
            operation=setup.operation.value,
        )
    return references[0]


def punchout_session(
    customer: Customer,
    setup: SetupRequest,
    header: Header,
    inbound_document: str,
    request_id: int | None = None,
    fields: dict[str, str] | None = None,
) -> PunchoutSession:
    """The session of ``setup``: an edit or inspect session opens ``request_id`` with its
    stored ``fields``. ``inbound_document`` is the request without its secrets."""
    echo: dict[str, Any] = {
        "buyer_cookie": setup.buyer_cookie,
        "from": [[c.domain, c.identity] for c in header.from_],
        "to": [[c.domain, c.identity] for c in header.to],
    }
    return PunchoutSession(
        customer_id=customer.id,
        protocol=CXML,
        fields=fields if fields is not None else setup.fields,
        cart_return=CartReturn(
            url=setup.browser_form_post, target=CART_TARGET, charset="utf-8", echo=echo
        ),
        inbound={"document": inbound_document},
        operation=setup.operation,
        request_id=request_id,
    )
