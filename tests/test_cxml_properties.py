"""Properties of the cXML package, fuzzed with hypothesis on its own (no Flask, no database).

The example tests (``tests/test_cxml_*.py``) pin the known cases; these look for the unknown
ones: a body from the internet that makes ociflex answer anything but a cXML 4xx (a 5xx makes
the buyer's system send it again, for hours), a setup request that is accepted although its
cart would go elsewhere or echo another BuyerCookie, a booking whose cart the buyer's system
cannot read. Examples are derandomized, so a run is repeatable.
"""

import base64
import codecs
import copy
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from ociflex.booking.details import Booking, plain_amount
from ociflex.booking.fields import CONTROL_CHARACTERS, field_problem, refusing_problem
from ociflex.booking.session import CartReturn, Operation, PunchoutSession
from ociflex.customers import Customer, Localized, Vehicle
from ociflex.cxml.config import cxml_settings
from ociflex.cxml.documents import MAX_BYTES, parse, request_name
from ociflex.cxml.dtd import dtd_problems
from ociflex.cxml.header import authenticate, read_header
from ociflex.cxml.order_message import CartLine, build_cart
from ociflex.cxml.redact import text_without_secrets, without_secrets
from ociflex.cxml.responses import Envelope, status_response
from ociflex.cxml.setup import punchout_session, read_setup_request, reopened_reference
from ociflex.cxml.status import CxmlRefusal
from ociflex.return_urls import check_return_url
from tests.support.cxml import (
    DEMO,
    DEMO_SECRET,
    DOCTYPE,
    GLOBEX,
    GLOBEX_SECRET,
    Setup,
    setup_request,
)
from tests.support.properties import CXML_SETUPS, has_line_break

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

DEMO_SETUP = CXML_SETUPS["demo"]
ENVELOPE = Envelope("flexfleet.euromobil.example", "en")


def english(text: str) -> str:
    return text


@dataclass(frozen=True)
class Outcome:
    """What ociflex made of a body: a session, a refusal, or another request than a setup."""

    session: PunchoutSession | None = None
    refusal: CxmlRefusal | None = None


def punch_out(customer: Customer, body: bytes, charset: str | None = None) -> Outcome:
    """What the cXML endpoint does with ``body`` up to the session (without its database:
    an edit or inspect opens request 1 with the fields the setup sent)."""
    try:
        root = parse(body, charset)
        if request_name(root) != "PunchOutSetupRequest":
            return Outcome()  # answered as a profile request, a 450 or a 400 by the endpoint
        header = read_header(root)
        authenticate(header, cxml_settings(customer))
        setup = read_setup_request(customer, root)
        request_id = None
        if setup.operation is not Operation.CREATE:
            reopened_reference(setup)
            request_id = 1
        session = punchout_session(customer, setup, header, without_secrets(root), request_id)
    except CxmlRefusal as refusal:
        text_without_secrets(body)  # what the transfer log keeps of a refused document
        return Outcome(refusal=refusal)
    return Outcome(session=session)


def assert_refused_with_a_4xx_or_accepted(outcome: Outcome) -> None:
    if outcome.refusal is not None:
        event(f"refused {outcome.refusal.code}")
        assert 400 <= outcome.refusal.code < 500, outcome.refusal.reason
        assert outcome.refusal.text(english).strip()
        # What the buyer sent is shown with its line breaks escaped: the Status text and the
        # log's reason stay one line each.
        assert not has_line_break(outcome.refusal.text(english)), outcome.refusal.text(english)
        assert not has_line_break(outcome.refusal.reason), outcome.refusal.reason
        # ... and the buyer gets it as a cXML answer: its text fits in a Status.
        answer = status_response(ENVELOPE, outcome.refusal.code, outcome.refusal.text(english))
        assert dtd_problems(answer) == []
    elif outcome.session is not None:
        event("accepted")
    else:
        event("another request")


# --- arbitrary bytes ----------------------------------------------------------------------------

#: Charsets buyers' Content-Types name, and labels that are no character set at all.
_CHARSETS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "utf-8",
            "UTF-8",
            "utf8",
            "iso-8859-1",
            "windows-1252",
            "utf-16",
            "utf-16le",
            "ascii",
            "x-klingon",
            "base64",
            "rot13",
            "zlib",
            "unicode_escape",
            "utf-7",
            "idna",
            "punycode",
            "cp500",
            "",
        ]
    ),
)
#: Fragments that make the parser go further than random bytes do.
_XML_BITS = st.sampled_from(
    [
        b"<cXML>",
        b"</cXML>",
        b"<Request>",
        b"<PunchOutSetupRequest>",
        b'<?xml version="1.0" encoding="UTF-16"?>',
        b"<!DOCTYPE cXML [",
        b'<!ENTITY a "b">',
        b"]>",
        b"&a;",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"\x00",
        b"<![CDATA[",
        b"a",
    ]
)


@st.composite
def edited_bytes(draw: st.DrawFn, body: bytes) -> bytes:
    """``body`` with up to four bytes or XML fragments inserted, replaced or deleted."""
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        change = draw(st.sampled_from(["insert", "replace", "delete"]))
        insert = draw(st.one_of(st.binary(min_size=1, max_size=4), _XML_BITS))
        if change == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        elif change == "replace":
            data[position : position + len(insert)] = insert
        else:
            data[position:position] = insert
    return bytes(data)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=500),
        st.lists(_XML_BITS, max_size=12).map(b"".join),
        edited_bytes(setup_request()),
        edited_bytes(setup_request(DEMO_SETUP)),
    ),
    _CHARSETS,
    st.sampled_from([GLOBEX, DEMO]),
)
@example(b"", None, GLOBEX)
@example(b"\xff\xfe<\x00", "utf-16", GLOBEX)
def test_arbitrary_bytes_are_refused_with_a_4xx_or_read(
    body: bytes, charset: str | None, customer: Customer
) -> None:
    assert_refused_with_a_4xx_or_accepted(punch_out(customer, body, charset))


@FUZZ
@given(st.text(max_size=16), st.binary(min_size=1, max_size=40))
@example("utf-8\x00", b"x")  # Content-Type: text/xml; charset*=utf-8''utf-8%00
@example("x\x01", b"x")  # charset*=utf-8''x%01: unknown, and no XML character either
def test_any_content_type_charset_is_taken_or_refused_with_a_4xx(
    charset: str, content: bytes
) -> None:
    # A body that is no UTF-8 makes parse() turn to the Content-Type's charset, whatever the
    # buyer (or werkzeug's RFC 2231 decoding of charset*=) made of it.
    body = b'<?xml version="1.0"?><cXML><x>' + content + b"\xe9</x></cXML>"

    assert_refused_with_a_4xx_or_accepted(punch_out(GLOBEX, body, charset))


# --- mutated setup requests ---------------------------------------------------------------------

#: Text an XML document can carry: no surrogates, no C0 controls but tab and line breaks, none
#: of U+FFFE / U+FFFF; C1 controls and every plane included.
_XML_CHARACTERS = st.characters(
    exclude_categories=["Cs"],
    exclude_characters=[*(chr(c) for c in range(32) if c not in (9, 10, 13)), "\ufffe", "\uffff"],
)
_XML_TEXT = st.one_of(
    st.text(_XML_CHARACTERS, max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\n",
            "edit",
            "INSPECT",
            "source",
            "endUser",
            "ff-000123",
            "FF-000124",
            "CC-410",
            "4100",
            "jane.doe@globex.example",
            "jane@evil.example",
            "javascript:alert(1)",
            "https://buyer.globex.example/punchout/return/../x",
            "https://buyer.globex.example/punchout/return/deeper?x=1",
            "https://buyer.globex.example@evil.example/punchout/return",
            "http://127.0.0.1:5000/dev/cxml/",
            "http://127.0.0.1:5000.evil.example/dev/cxml/",
            "AN01000099999",
            "Apollo\x85Moon",
            "Zoë 東京 \U0001f697",
        ]
    ),
    st.integers(2_049, 6_000).map(lambda n: "x" * n),
)
_ATTRIBUTES = ("operation", "role", "domain", "name", "payloadID")
#: Element names of cXML, and a buyer's own.
_CXML_NAMES = ("Extrinsic", "Contact", "URL", "BuyerCookie", "ItemOut", "Name", "X")
#: ... and names a buyer may also use: a secret in another case, a name in another script.
_ANY_NAMES = (*_CXML_NAMES, "sharedsecret", "SHAREDSECRET", "Größe", "Ν")


@st.composite
def mutated(draw: st.DrawFn, setup: Setup, names: tuple[str, ...] = _CXML_NAMES) -> bytes:
    """The correct request of ``setup`` with up to five changes to its elements: dropped,
    duplicated, moved, renamed, children reordered, text or an attribute changed; serialized in
    one of the encodings buyers use (UTF-16 with its byte order mark), UTF-8 now and then with
    a byte order mark or blanks first."""
    root = etree.fromstring(setup_request(setup))
    for _ in range(draw(st.integers(0, 5))):
        elements = list(root.iter())
        element = draw(st.sampled_from(elements))
        change = draw(
            st.sampled_from(
                ["drop", "twice", "move", "reorder", "text", "text", "attribute", "rename"]
            )
        )
        parent = element.getparent()
        if change == "drop" and parent is not None:
            parent.remove(element)
        elif change == "twice" and parent is not None:
            parent.insert(draw(st.integers(0, len(parent))), copy.deepcopy(element))
        elif change == "move" and parent is not None:
            # Anywhere but into itself.
            targets = [e for e in elements if e is not element and element not in e.iterancestors()]
            target = draw(st.sampled_from(targets))
            target.insert(draw(st.integers(0, len(target))), element)
        elif change == "reorder" and len(element):
            children = draw(st.permutations(list(element)))
            for child in children:
                element.append(child)
        elif change == "text":
            element.text = draw(_XML_TEXT)
        elif change == "rename":
            element.tag = draw(st.sampled_from(names))
        elif change == "attribute":
            name = draw(st.sampled_from(_ATTRIBUTES))
            value = draw(st.one_of(st.none(), _XML_TEXT))
            if value is None:
                element.attrib.pop(name, None)
            else:
                element.set(name, value)
    if draw(st.integers(0, 30)) == 17:
        root.text = "x" * (MAX_BYTES + 1)  # more than ociflex reads
    encoding = draw(st.sampled_from(["UTF-8", "UTF-8", "UTF-16", "ISO-8859-1"]))
    body = etree.tostring(root, encoding=encoding, xml_declaration=True, doctype=DOCTYPE)
    if encoding == "UTF-8":
        body = draw(st.sampled_from([b"", b"", codecs.BOM_UTF8, b"\n  "])) + body
    return body


def sent(body: bytes, path: str) -> str | None:
    """The text of the first element at ``path`` in the buyer's document, as XML reads it."""
    root = etree.fromstring(body.lstrip(), etree.XMLParser(resolve_entities=False))
    element = root.find(path)
    return None if element is None else "".join(element.itertext())


def sent_cookie(body: bytes) -> str | None:
    """The BuyerCookie the buyer sent (the first one of its setup request)."""
    return sent(body, "Request/PunchOutSetupRequest/BuyerCookie")


def sent_browser_form_post(body: bytes) -> str | None:
    url = sent(body, "Request/PunchOutSetupRequest/BrowserFormPost/URL")
    return None if url is None else url.strip()


def assert_accepted_setup_is_safe(
    customer: Customer, body: bytes, session: PunchoutSession
) -> None:
    """What the cart relies on in an accepted setup request."""
    cart_return = session.cart_return
    check_return_url(cart_return.url, cxml_settings(customer).browser_form_posts, "URL")
    assert cart_return.url == sent_browser_form_post(body)
    assert cart_return.echo["buyer_cookie"] == sent_cookie(body)
    # The secrets are not among the texts a mutation writes: only a SharedSecret holds them.
    assert GLOBEX_SECRET not in session.inbound["document"]
    assert DEMO_SECRET not in session.inbound["document"]
    for name, value in session.fields.items():
        assert refusing_problem(customer.fields[name], value) is None, (name, value)
    assert customer.accepts_email(session.fields["email"])
    # The cart of a booking with these values (an editable field's corrected in the booking
    # form, by the same rules) reaches the buyer with the cookie it sent.
    fields = customer.fields
    booked = {
        name: value if field_problem(fields[name], value) is None else fields[name].example
        for name, value in session.fields.items()
    }
    booking = Booking(customer.vehicles[0], date(2026, 12, 7), date(2026, 12, 9), None, booked)
    cart = build_cart(
        customer, cart_return, [CartLine(booking, "FF-000001")], "edit", ENVELOPE, english
    )
    [(_, value)] = cart.fields
    document = base64.b64decode(value)
    assert dtd_problems(document) == []
    posted = parse(document)
    assert not [element for element in posted.iter() if element.tag == "SharedSecret"]
    assert posted.findtext("Message/PunchOutOrderMessage/BuyerCookie") == sent_cookie(body)


def mutated_setups(
    names: tuple[str, ...] = _CXML_NAMES,
) -> st.SearchStrategy[tuple[Customer, bytes]]:
    """A correct setup request of either test customer, mutated (see :func:`mutated`)."""
    return st.sampled_from([(GLOBEX, Setup()), (DEMO, DEMO_SETUP)]).flatmap(
        lambda pair: st.tuples(st.just(pair[0]), mutated(pair[1], names))
    )


def assert_refused_with_a_4xx_or_safe(customer: Customer, body: bytes) -> None:
    outcome = punch_out(customer, body)

    assert_refused_with_a_4xx_or_accepted(outcome)
    if outcome.session is not None:
        assert_accepted_setup_is_safe(customer, body, outcome.session)


@FUZZ
@given(mutated_setups())
@example((GLOBEX, setup_request(Setup(buyer_cookie="  <&> \r\n x "))))
@example((GLOBEX, setup_request(Setup(operation="cre\r\nate"))))
@example((GLOBEX, setup_request(Setup(from_credentials=(("NetworkID", "AN01\n0"),)))))
@example((GLOBEX, setup_request(Setup(operation="edit", items=("ff-000123",)))))
def test_a_mutated_setup_request_is_refused_with_a_4xx_or_safe_to_punch_out(
    customer_and_body: tuple[Customer, bytes],
) -> None:
    assert_refused_with_a_4xx_or_safe(*customer_and_body)


@FUZZ
@given(mutated_setups(_ANY_NAMES))
@example((GLOBEX, setup_request().replace(b"SupplierSetup", "Größe".encode())))
def test_a_setup_request_with_a_buyers_own_element_names_is_refused_with_a_4xx_or_safe(
    customer_and_body: tuple[Customer, bytes],
) -> None:
    # XML names may be in any script and any case; ociflex keeps the document (without its
    # secrets) for the transfer log before it looks at any name.
    assert_refused_with_a_4xx_or_safe(*customer_and_body)


# --- order messages of any booking within the customer's limits ---------------------------------

#: One line of text as the booking form accepts it: no control characters.
_LINE_TEXT = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=40).filter(
    lambda text: CONTROL_CHARACTERS.search(text) is None  # what the booking form takes
)
#: ... and as a setup request can carry it: no U+FFFE / U+FFFF either (XML has neither).
_SETUP_TEXT = st.text(
    st.characters(exclude_categories=["Cc", "Cs"], exclude_characters="\ufffe\uffff"),
    max_size=40,
)
_WORDS = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_EMAILS = st.builds("{}.{}@{}.example".format, _WORDS, _WORDS, _WORDS)
_VEHICLE_CODES = st.builds(
    str.__add__,
    st.sampled_from("ABCXYZ019"),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789_.-", max_size=39),
)


@st.composite
def vehicles(draw: st.DrawFn) -> Vehicle:
    """A vehicle as the customer-file loader lets it through (YAML holds no U+FFFE / U+FFFF)."""
    code = draw(_VEHICLE_CODES)
    cents = draw(st.integers(1, 99_999_999_999_99))
    description = draw(_SETUP_TEXT.filter(str.strip).map(lambda value: value[:18]))
    name = draw(_SETUP_TEXT.filter(str.strip))
    return Vehicle(code, Localized({"en": name, "nl": name}), Decimal(cents) / 100, description)


@st.composite
def field_values(
    draw: st.DrawFn, customer: Customer, text: st.SearchStrategy[str]
) -> dict[str, str]:
    """A value of each of the customer's fields that its check accepts."""
    values = {}
    for name, field in customer.fields.items():
        if name == "email":
            value = draw(_EMAILS)
        elif field.pattern is not None:
            value = draw(st.from_regex(field.pattern))
        else:
            value = draw(text.filter(str.strip) if field.required else text)
        value = value.strip()[: field.max_length].strip()
        assume(field_problem(field, value) is None)
        values[name] = value
    return values


@st.composite
def bookings(draw: st.DrawFn, customer: Customer, text: st.SearchStrategy[str]) -> Booking:
    """A booking within the customer's limits, its fields' values drawn from ``text``."""
    start = draw(st.dates(date(2000, 1, 1), date(2099, 1, 1)))
    days = draw(st.integers(1, customer.max_days))
    return Booking(
        vehicle=draw(st.one_of(st.sampled_from(customer.vehicles), vehicles())),
        start=start,
        end=start + timedelta(days=days - 1),
        location=draw(st.sampled_from(customer.locations)) if customer.locations else None,
        fields=draw(field_values(customer, text)),
    )


_CREDENTIALS = st.lists(
    st.tuples(st.text(_XML_CHARACTERS, max_size=20), st.text(_XML_CHARACTERS, max_size=40)),
    max_size=3,
)


@st.composite
def cart_returns(draw: st.DrawFn, customer: Customer) -> CartReturn:
    """Where a session's cart goes, as an accepted setup request makes it."""
    cookie = draw(st.text(_XML_CHARACTERS, max_size=60).filter(str.strip))
    echo = {
        "buyer_cookie": cookie,
        "from": draw(_CREDENTIALS.filter(bool)),
        "to": draw(_CREDENTIALS),
    }
    url = cxml_settings(customer).browser_form_posts[0] + "/cart?s=1"
    return CartReturn(url=url, target="_top", charset="utf-8", echo=echo)


def assert_the_cart_is_valid_and_adds_up(
    customer: Customer, cart_return: CartReturn, booking: Booking, reference: str
) -> None:
    cart = build_cart(
        customer, cart_return, [CartLine(booking, reference)], "edit", ENVELOPE, english
    )
    document = cart.document.encode("utf-8")
    assert dtd_problems(document) == []
    root = parse(document)
    item = root.find("Message/PunchOutOrderMessage/ItemIn")
    quantity = int(item.get("quantity"))
    unit_price = Decimal(item.findtext("ItemDetail/UnitPrice/Money"))
    total = root.findtext("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader/Total/Money")
    assert quantity == booking.days
    assert unit_price == booking.vehicle.day_rate
    assert total == plain_amount(quantity * unit_price)
    assert item.findtext("ItemID/SupplierPartAuxiliaryID") == reference
    assert item.findtext("ItemID/SupplierPartID") == booking.vehicle.code
    assert (
        root.findtext("Message/PunchOutOrderMessage/BuyerCookie")
        == (cart_return.echo["buyer_cookie"])
    )


@settings(FUZZ, max_examples=100)  # a booking and its cart take ~10 ms to draw and check
@given(
    st.sampled_from([GLOBEX, DEMO]).flatmap(
        lambda customer: st.tuples(
            st.just(customer), bookings(customer, _SETUP_TEXT), cart_returns(customer)
        )
    ),
    st.from_regex(r"FF-[0-9]{6,9}", fullmatch=True),
)
def test_a_booking_with_values_a_setup_request_carries_gets_a_valid_cart_that_adds_up(
    customer_booking_return: tuple[Customer, Booking, CartReturn], reference: str
) -> None:
    customer, booking, cart_return = customer_booking_return
    assert_the_cart_is_valid_and_adds_up(customer, cart_return, booking, reference)


@FUZZ
@given(
    st.sampled_from([GLOBEX, DEMO]).flatmap(
        lambda customer: st.tuples(
            st.just(customer), bookings(customer, _LINE_TEXT), cart_returns(customer)
        )
    ),
)
@example(
    (
        GLOBEX,
        Booking(
            GLOBEX.vehicles[0],
            date(2026, 12, 7),
            date(2026, 12, 9),
            None,
            {
                "email": "jane.doe@globex.example",
                "full_name": "Jane Doe",
                "cost_centre": "CC-410",
                "project": "Apollo \u2028 \u2603",
            },
        ),
        CartReturn(
            "https://buyer.globex.example/punchout/return",
            "_top",
            "utf-8",
            {
                "buyer_cookie": "c",
                "from": [["NetworkID", "AN01000099999"]],
                "to": [],
            },
        ),
    )
)
def test_a_booking_with_values_the_booking_form_accepts_gets_a_valid_cart(
    customer_booking_return: tuple[Customer, Booking, CartReturn],
) -> None:
    # Editable fields come from the booking form, which refuses control characters only.
    customer, booking, cart_return = customer_booking_return
    assert_the_cart_is_valid_and_adds_up(customer, cart_return, booking, "FF-000001")
