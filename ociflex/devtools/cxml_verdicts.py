"""The cXML cart page's checks: a PunchOutOrderMessage as the buyer's system reads it.

The simulator's buyer stands in for a procurement system (SAP Ariba, Coupa ...), which takes
the cart that the employee's browser posts to its BrowserFormPost URL (PROTOCOL.md section 4)
and has no way to answer back. So every check is as strict as ociflex must be in what it sends:
the cXML DTD's element order (:func:`ociflex.cxml.dtd.dtd_problems`), the BuyerCookie echoed
exactly, an ``operationAllowed`` that fits the session, amounts written ``123.45`` that add up,
ISO 4217 currencies, the UN/CEFACT units ociflex knows (:data:`ociflex.units.UNIT_CODES`), a
UNSPSC classification, and no secret in a document that passes through a browser. The document
is read with ociflex's hardened parser (:func:`ociflex.cxml.documents.parse`).

The checks are tables of (subject, check): each check returns the value it found (None: not in
the document) and its problems, in English, as the DTD's and the OCI hook page's are.
"""

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import list_currencies
from lxml import etree

from ociflex.cxml.config import CART_FIELDS
from ociflex.cxml.documents import (
    MAX_BYTES,
    child,
    children,
    indented,
    local_name,
    parse,
    path,
    text_of,
)
from ociflex.cxml.dtd import dtd_problems
from ociflex.cxml.responses import XML_LANG
from ociflex.cxml.status import CxmlRefusal
from ociflex.units import UNIT_CODES

#: The operations a cart may allow the buyer later (the DTD's ``operationAllowed``).
OPERATIONS_ALLOWED = ("create", "inspect", "edit")
#: The operation of the setup request -> the ``operationAllowed`` its cart may say. A session
#: that opened a booking again (edit, inspect) found it at ociflex: its cart must let the buyer
#: open it again, at least to look.
ALLOWED_AFTER = {
    "create": ("create", "inspect", "edit"),
    "edit": ("edit", "inspect"),
    "inspect": ("edit", "inspect"),
}
#: Elements that hold a credential's secret: never in a cart, which travels through a browser.
SECRET_ELEMENTS = ("SharedSecret", "CredentialMac")
CURRENCIES = frozenset(list_currencies())

_AMOUNT = re.compile(r"[0-9]+\.[0-9]{2}")
_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}"
)
_UNSPSC = re.compile(r"[0-9]+")
#: The longest base64 value that can hold a document of :data:`MAX_BYTES`.
_MAX_BASE64 = (MAX_BYTES // 3 + 1) * 4


@dataclass
class Verdict:
    """One thing checked: what (an element or attribute), the value found, and its problems."""

    subject: str
    #: What the document says, as shown; None: it is not in the document.
    value: str | None
    problems: list[str] = field(default_factory=list)


@dataclass
class Line:
    """One ``ItemIn``, numbered from 1 in document order, with a verdict on each value."""

    number: int
    verdicts: list[Verdict]
    #: The ItemIn itself: what the simulated ERP orders (:mod:`ociflex.devtools.cxml_orders`).
    item: etree._Element

    @property
    def problem_count(self) -> int:
        return sum(len(verdict.problems) for verdict in self.verdicts)


@dataclass
class CartReport:
    #: The checks of the whole post and document, in the order they are shown.
    verdicts: list[Verdict]
    lines: list[Line]
    #: The document indented for people (as received when it does not parse); "" for none.
    document: str
    #: Whether a PunchOutOrderMessage was read (only then do its lines count).
    read: bool

    @property
    def problem_count(self) -> int:
        return sum(len(v.problems) for v in self.verdicts) + sum(
            line.problem_count for line in self.lines
        )

    @property
    def empty(self) -> bool:
        """A cart without lines: the employee cancelled, or the session only looked."""
        return self.read and not self.lines


@dataclass(frozen=True)
class Expected:
    """What the buyer's setup request sent, which the cart must fit (None: not known)."""

    buyer_cookie: str | None = None
    operation: str | None = None


@dataclass(frozen=True)
class _Received:
    root: etree._Element
    #: The PunchOutOrderMessage, when the document is one.
    message: etree._Element | None
    expected: Expected


#: What a check finds: the value shown (None: not in the document) and the problems.
Finding = tuple[str | None, list[str]]


def check_cart_post(pairs: Iterable[tuple[str, str]], expected: Expected) -> CartReport:
    """The verdicts on a cart as the browser posted it: the form field it came in (its name
    matched ignoring case), then the document it holds (:func:`check_cart`)."""
    pairs = list(pairs)
    posted = [(name, value) for name, value in pairs if name.lower() in CART_FIELDS]
    if not posted:
        names = ", ".join(name for name, _value in pairs) or "none"
        problem = f"the post has no field {' or '.join(CART_FIELDS)} (its fields: {names})"
        return CartReport([Verdict("form field", None, [problem])], [], "", read=False)
    name, value = posted[0]
    verdict = Verdict("form field", name)
    if len(posted) > 1:
        verdict.problems.append(
            f"the post has {len(posted)} cart fields; send the cart in one of them"
        )
    document, problem = _decoded(name, value)
    if problem:
        verdict.problems.append(problem)
        return CartReport([verdict], [], value, read=False)
    report = check_cart(document, expected)
    report.verdicts.insert(0, verdict)
    return report


def _decoded(name: str, value: str) -> tuple[bytes, str | None]:
    """The document a cart field holds; a problem when it cannot be had."""
    if name.lower() == "cxml-urlencoded":
        return value.encode("utf-8"), None
    text = "".join(value.split())
    if len(text) > _MAX_BASE64:
        return (
            b"",
            f"{name} is larger than a document of {MAX_BYTES // 1024} KB, so it was not read",
        )
    try:
        return base64.b64decode(text, validate=True), None
    except binascii.Error:
        return b"", f"{name} is not valid base64 (of the UTF-8 document)"


def check_cart(document: bytes, expected: Expected) -> CartReport:
    """The verdicts on a PunchOutOrderMessage document (see the module doc)."""
    try:
        root = parse(document)
    except CxmlRefusal as refusal:
        verdict = Verdict("XML", None, [refusal.reason])
        return CartReport([verdict], [], document.decode("utf-8", "replace"), read=False)
    message = path(root, "Message", "PunchOutOrderMessage")
    received = _Received(root, message, expected)
    checks = DOCUMENT_CHECKS + (MESSAGE_CHECKS if message is not None else ())
    verdicts = [Verdict(subject, *check(received)) for subject, check in checks]
    lines = [
        Line(number, _line_verdicts(item), item)
        for number, item in enumerate(children(message, "ItemIn"), start=1)
    ]
    return CartReport(verdicts, lines, indented(root), read=message is not None)


# --- The document --------------------------------------------------------------------------------


def _dtd(received: _Received) -> Finding:
    return received.root.getroottree().docinfo.system_url, dtd_problems(received.root)


def _message(received: _Received) -> Finding:
    if received.message is not None:
        return "Message/PunchOutOrderMessage", []
    found = "/".join(local_name(element) for element in received.root if local_name(element))
    return found or None, [
        "the document is no cart: a cart is a Message with a PunchOutOrderMessage "
        f"(found: {found or 'nothing'})"
    ]


def _payload_id(received: _Received) -> Finding:
    payload_id = received.root.get("payloadID", "").strip()
    if not payload_id:
        return None, ["the cXML element has no payloadID: every document needs a unique one"]
    return payload_id, []


def _timestamp(received: _Received) -> Finding:
    stamp = received.root.get("timestamp")
    if stamp is None:
        return None, ["the cXML element has no timestamp"]
    if not _TIMESTAMP.fullmatch(stamp) or not _is_datetime(stamp):
        return stamp, [
            f"timestamp {stamp!r} is not ISO 8601 with an offset: write "
            "YYYY-MM-DDThh:mm:ss+hh:mm, as every buyer reads it"
        ]
    return stamp, []


def _is_datetime(stamp: str) -> bool:
    try:
        datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return True


def _party(name: str) -> Callable[[_Received], Finding]:
    def check(received: _Received) -> Finding:
        party = path(received.root, "Header", name)
        if party is None:
            return None, [f"the Header has no {name}: a cart names From, To and Sender"]
        credentials = [
            (credential.get("domain", "").strip(), text_of(child(credential, "Identity")))
            for credential in children(party, "Credential")
        ]
        value = ", ".join(f"{domain} {identity}".strip() for domain, identity in credentials)
        if not credentials or not all(domain and identity for domain, identity in credentials):
            return value or None, [f"{name} needs a Credential with a domain and an Identity"]
        return value, []

    return check


def _no_secrets(received: _Received) -> Finding:
    found = [
        local_name(element)
        for element in received.root.iter()
        if local_name(element) in SECRET_ELEMENTS
    ]
    problems = [
        f"the cart holds a {name}: it travels through the employee's browser, so it must "
        "carry no secret"
        for name in dict.fromkeys(found)
    ]
    return ", ".join(found) or "none", problems


DOCUMENT_CHECKS: tuple[tuple[str, Callable[[_Received], Finding]], ...] = (
    ("cXML DTD", _dtd),
    ("Message", _message),
    ("payloadID", _payload_id),
    ("timestamp", _timestamp),
    ("From", _party("From")),
    ("To", _party("To")),
    ("Sender", _party("Sender")),
    ("SharedSecret / CredentialMac", _no_secrets),
)


# --- The PunchOutOrderMessage --------------------------------------------------------------------


def _buyer_cookie(received: _Received) -> Finding:
    element = child(received.message, "BuyerCookie")
    if element is None:
        return None, ["no BuyerCookie: the buyer cannot tell which session the cart is for"]
    cookie = "".join(element.itertext())
    sent = received.expected.buyer_cookie
    if sent is not None and cookie != sent:
        return cookie, [f"the BuyerCookie sent was {sent!r}: it must come back exactly"]
    return cookie, []


def _operation_allowed(received: _Received) -> Finding:
    header = child(received.message, "PunchOutOrderMessageHeader")
    allowed = None if header is None else header.get("operationAllowed")
    if allowed is None:
        return None, ["PunchOutOrderMessageHeader has no operationAllowed"]
    if allowed not in OPERATIONS_ALLOWED:
        return allowed, [f"operationAllowed must be one of {', '.join(OPERATIONS_ALLOWED)}"]
    asked = received.expected.operation
    if asked in ALLOWED_AFTER and allowed not in ALLOWED_AFTER[asked]:
        return allowed, [
            f"after {asked}, the booking exists: operationAllowed must be "
            f"{' or '.join(ALLOWED_AFTER[asked])}"
        ]
    return allowed, []


def _total(received: _Received) -> Finding:
    money = path(received.message, "PunchOutOrderMessageHeader", "Total", "Money")
    if money is None:
        return None, ["PunchOutOrderMessageHeader has no Total/Money"]
    value, problems = _money("Total", money)
    amount, currency = _amount(money), money.get("currency")
    items = children(received.message, "ItemIn")
    prices = [path(item, "ItemDetail", "UnitPrice", "Money") for item in items]
    for number, price in enumerate(prices, start=1):
        if price is not None and price.get("currency") != currency:
            problems.append(
                f"line {number}'s UnitPrice is in {price.get('currency')}, the Total in "
                f"{currency}: a cart has one currency"
            )
    quantities = [_quantity_of(item) for item in items]
    amounts = [_amount(price) for price in prices]
    if amount is not None and None not in quantities and None not in amounts:
        lines = sum((q * a for q, a in zip(quantities, amounts, strict=True)), Decimal(0))
        expected = lines.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if amount != expected:
            problems.append(
                f"Total is {money.text}, but the lines add up to {expected} (quantity × UnitPrice)"
            )
    return value, problems


def _lines(received: _Received) -> Finding:
    count = len(children(received.message, "ItemIn"))
    value = str(count)
    if count and received.expected.operation == "inspect":
        return value, ["after inspect the cart carries no lines: the buyer only looked"]
    return value, []


MESSAGE_CHECKS: tuple[tuple[str, Callable[[_Received], Finding]], ...] = (
    ("BuyerCookie", _buyer_cookie),
    ("operationAllowed", _operation_allowed),
    ("Total", _total),
    ("ItemIn", _lines),
)


# --- One line ------------------------------------------------------------------------------------


def _quantity(item: etree._Element) -> Finding:
    quantity = item.get("quantity")
    if quantity is None:
        return None, ["ItemIn has no quantity"]
    if _quantity_of(item) is None:
        return quantity, [f"quantity is {quantity!r}; it must be a positive number, e.g. 3"]
    return quantity, []


def _quantity_of(item: etree._Element) -> Decimal | None:
    quantity = item.get("quantity", "")
    if not _QUANTITY.fullmatch(quantity) or Decimal(quantity) <= 0:
        return None
    return Decimal(quantity)


def _required_text(*names: str) -> Callable[[etree._Element], Finding]:
    def check(item: etree._Element) -> Finding:
        element = path(item, *names)
        if element is None or not text_of(element):
            return None, [f"{'/'.join(names)} is missing"]
        return text_of(element), []

    return check


def _unit_price(item: etree._Element) -> Finding:
    money = path(item, "ItemDetail", "UnitPrice", "Money")
    if money is None:
        return None, ["ItemDetail has no UnitPrice/Money"]
    return _money("UnitPrice", money)


def _description(item: etree._Element) -> Finding:
    description = path(item, "ItemDetail", "Description")
    if description is None:
        return None, ["ItemDetail has no Description"]
    own = own_text(description)
    problems = []
    language = description.get(XML_LANG)
    if not language:
        problems.append("Description has no xml:lang: the buyer cannot tell its language")
    if not own:
        problems.append("Description has no text")
    value = f"[{language}] {own}" if language else own
    if short := text_of(child(description, "ShortName")):
        value += f" (ShortName: {short})"
    return value, problems


def own_text(description: etree._Element) -> str:
    """A Description's own text: a ShortName inside it is the short form, not the text."""
    return "".join([description.text or "", *(inner.tail or "" for inner in description)]).strip()


def _unit(item: etree._Element) -> Finding:
    unit = text_of(path(item, "ItemDetail", "UnitOfMeasure"))
    if not unit:
        return None, ["ItemDetail has no UnitOfMeasure"]
    if unit not in UNIT_CODES:
        return unit, [f"UnitOfMeasure {unit!r} is not a UN/CEFACT unit code ociflex knows"]
    return unit, []


def _classification(item: etree._Element) -> Finding:
    found = children(child(item, "ItemDetail"), "Classification")
    # cXML 1.2.02x+ may carry the code in an attribute, the text then being its description.
    codes = [
        element.get("code") or text_of(element)
        for element in found
        if element.get("domain", "").strip().upper() == "UNSPSC"
    ]
    value = ", ".join(f"{element.get('domain')} {text_of(element)}" for element in found)
    if not codes:
        return value or None, ['ItemDetail has no Classification domain="UNSPSC"']
    return value, [
        f"the UNSPSC code {code!r} is not a number" for code in codes if not _UNSPSC.fullmatch(code)
    ]


ITEM_CHECKS: tuple[tuple[str, Callable[[etree._Element], Finding]], ...] = (
    ("quantity", _quantity),
    ("SupplierPartID", _required_text("ItemID", "SupplierPartID")),
    ("SupplierPartAuxiliaryID", _required_text("ItemID", "SupplierPartAuxiliaryID")),
    ("UnitPrice", _unit_price),
    ("Description", _description),
    ("UnitOfMeasure", _unit),
    ("Classification", _classification),
)


def _line_verdicts(item: etree._Element) -> list[Verdict]:
    verdicts = [Verdict(subject, *check(item)) for subject, check in ITEM_CHECKS]
    extrinsics = [*children(child(item, "ItemDetail"), "Extrinsic"), *children(item, "Extrinsic")]
    for extrinsic in extrinsics:
        name = extrinsic.get("name", "").strip()
        problems = [] if name else ["an Extrinsic needs a name"]
        verdicts.append(Verdict(f"Extrinsic {name}".strip(), text_of(extrinsic), problems))
    return verdicts


# --- Amounts -------------------------------------------------------------------------------------


def _money(subject: str, money: etree._Element) -> Finding:
    """A Money element's value (``39.50 EUR``) and what is wrong with its amount or currency."""
    amount, currency = (money.text or "").strip(), money.get("currency", "")
    problems = []
    if currency not in CURRENCIES:
        problems.append(f"{subject}'s currency {currency!r} is not an ISO 4217 code")
    if not _AMOUNT.fullmatch(amount):
        problems.append(
            f"{subject} is {amount!r}; write amounts with a decimal point and two decimals, "
            "e.g. 123.45"
        )
    return f"{amount} {currency}".strip(), problems


def _amount(money: etree._Element | None) -> Decimal | None:
    """A Money element's amount, when it is written as it must be."""
    amount = "" if money is None else (money.text or "").strip()
    return Decimal(amount) if _AMOUNT.fullmatch(amount) else None
