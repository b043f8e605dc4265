"""Properties of the OCI protocol code, fuzzed with hypothesis on its own (no Flask, no database).

The example tests (``tests/test_oci_*.py``) pin the known cases; these look for the unknown ones:
a HOOK_URL that passes although a browser would post elsewhere, a call-up that is accepted with
a value no basket can carry, a booking whose basket the ERP could not read, form data that
decodes into something else than was sent. Examples are derandomized, so a run is repeatable.
"""

import string
import unicodedata
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import ada_url
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from ociflex.booking.details import Booking, plain_amount
from ociflex.booking.session import CartReturn
from ociflex.customers.loader import load_customer
from ociflex.customers.model import Customer, Localized, Vehicle
from ociflex.oci.basket import build_basket
from ociflex.oci.basket_rules import basket_problems
from ociflex.oci.callup import (
    ECHOED_MAX_LENGTH,
    KEYWORD_TARGETS,
    CallupError,
    Params,
    check_field_value,
    read_callup,
)
from ociflex.oci.config import oci_settings
from ociflex.oci.form_encoding import MAX_FIELDS, FormEncodingError, decode_form
from ociflex.oci.functions import Function, catalogue_basket, read_function_call
from ociflex.oci.hook_url import check_hook_url
from ociflex.protocols import CUSTOMER_SECTIONS
from ociflex.return_urls import ReturnUrlError
from tests.conftest import ACME_PASSWORD, DEMO_PASSWORD, ROOT, TEST_CUSTOMERS
from tests.support.callups import ACME_CALLUP, DEMO_CALLUP, callup_pairs, recased
from tests.support.html import Form
from tests.support.properties import form_line_breaks, has_line_break, line_break_variants

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

ENVIRON = {"OCIFLEX_ACME_PASSWORD": ACME_PASSWORD, "OCIFLEX_DEMO_PASSWORD": DEMO_PASSWORD}
ACME = load_customer(TEST_CUSTOMERS / "acme.yaml", CUSTOMER_SECTIONS, ENVIRON)
DEMO = load_customer(ROOT / "config" / "customers" / "demo.yaml", CUSTOMER_SECTIONS, ENVIRON)


def is_control(char: str) -> bool:
    """C0, DEL and C1: what no single-line OCI value may hold (independent of ociflex's regex)."""
    return unicodedata.category(char) == "Cc"


# --- HOOK_URL: the browser's reading of the URL is the oracle -----------------------------------

#: (scheme, host, port, path prefix) of each allowed entry, as written in a customer file.
ALLOWED = {
    "https://erp.example.com/sap/bc": ("https", "erp.example.com", 443, "/sap/bc"),
    "http://127.0.0.1:5000/dev/erp/": ("http", "127.0.0.1", 5000, "/dev/erp/"),
    "https://erp.example.com:8443/": ("https", "erp.example.com", 8443, "/"),
}


def browser_posts_under_an_allowed_entry(url: str) -> bool:
    """Whether a browser (the WHATWG URL parser, as in Chromium) would post a form whose action
    is ``url`` to a path under one of :data:`ALLOWED`, with no user info."""
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        return False
    scheme = parsed.protocol.removesuffix(":")
    default_port = {"http": 80, "https": 443}.get(scheme)
    port = int(parsed.port) if parsed.port else default_port
    for allowed_scheme, host, allowed_port, prefix in ALLOWED.values():
        under = parsed.pathname == prefix.rstrip("/") or parsed.pathname.startswith(
            prefix if prefix.endswith("/") else prefix + "/"
        )
        if (
            (scheme, parsed.hostname, port) == (allowed_scheme, host, allowed_port)
            and not parsed.username
            and not parsed.password
            and under
        ):
            return True
    return False


def hook_url_passes(url: str) -> bool:
    refusal = None
    try:
        check_hook_url(url, tuple(ALLOWED))
    except ReturnUrlError as error:
        refusal = error
    assert refusal is None or refusal.reason.startswith("HOOK_URL"), refusal
    return refusal is None


_SCHEMES = st.one_of(
    st.sampled_from(["https", "http"]).flatmap(recased),
    st.sampled_from(["javascript", "data", "file", "ftp", "blob", "ws", "https:", "h\ttps", ""]),
)
_SEPARATORS = st.sampled_from(
    ["://", "://", "://", ":/", ":///", ":\\\\", ":/\\", "://\\", ":", ": //", "://@"]
)
_USERINFO = st.sampled_from(
    ["", "", "", "user@", "erp.example.com@", "a:b@", "%40@", "erp.example.com%40", "@"]
)
#: Look-alikes of the allowed hosts: Cyrillic "е", fullwidth "ｅ", dotless "ı", a zero-width
#: joiner, IDNA dots, digits a browser reads as 127.0.0.1.
_HOSTS = st.one_of(
    st.sampled_from(["erp.example.com", "127.0.0.1"]).flatmap(recased),
    st.sampled_from(
        [
            "еrp.example.com",
            "ｅrp.example.com",
            "erp.examplе.com",
            "erp.example.com.",
            "erp.example.com.evil.example",
            "evil.example",
            "sub.erp.example.com",
            "erp.example.com%2e",
            "erp%2eexample.com",
            "erp.example.com\u200d",
            "erp。example。com",
            "erp.example.com\uff0e",
            "xn--rp-ulc.example.com",
            "127.1",
            "0x7f.0.0.1",
            "2130706433",
            "127.0.0.1.nip.io",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "localhost",
            "",
        ]
    ),
    st.text(alphabet=string.ascii_letters + string.digits + ".-_%@:[]\\", max_size=20),
    st.text(max_size=6),
)
_PORTS = st.sampled_from(
    ["", "", ":443", ":0443", ":5000", ":8443", ":80", ":", ":65979", ":+443", ":443.evil", ":0"]
)
_SEGMENTS = st.sampled_from(
    [
        "sap",
        "bc",
        "dev",
        "erp",
        "SAP",
        "hook",
        "..",
        ".",
        "%2e",
        "%2E%2e",
        "%252e%252e",
        "..;",
        ".%2e",
        "%2f",
        "bc%2f..",
        "",
        "\\..",
        " ",
        "\t",
        "@evil.example",
        "x#",
        "?",
        "ſ",
    ]
)
_PATHS = st.lists(_SEGMENTS, max_size=6).map(lambda segments: "/" + "/".join(segments))


@st.composite
def hook_url_variants(draw: st.DrawFn) -> str:
    """An allowed HOOK_URL taken apart and put together again with tricks in every part."""
    url = (
        draw(_SCHEMES)
        + draw(_SEPARATORS)
        + draw(_USERINFO)
        + draw(_HOSTS)
        + draw(_PORTS)
        + draw(_PATHS)
        + draw(st.sampled_from(["", "?sap-client=100", "?a=%2e%2e/..", "#x", "?x#y"]))
    )
    padding = draw(st.sampled_from(["", "", "", " ", "\t", "\n", "\x00", "\u3000", "\ufeff"]))
    return draw(st.sampled_from([url, padding + url, url + padding]))


@FUZZ
@given(hook_url_variants())
@example("https://erp.example.com/sap/bc/x")
@example("http://127.0.0.1:5000/dev/erp/hook?x=1")
@example("https://erp.example.com:8443/any")
def test_a_hook_url_passes_only_where_a_browser_posts_under_an_allowed_entry(url: str) -> None:
    if hook_url_passes(url):
        assert browser_posts_under_an_allowed_entry(url), url


@FUZZ
@given(st.text())
def test_arbitrary_text_passes_only_where_a_browser_posts_under_an_allowed_entry(
    url: str,
) -> None:
    if hook_url_passes(url):
        assert browser_posts_under_an_allowed_entry(url), url


#: What an ERP puts in its query string: anything but a fragment, white space, control or
#: format characters and backslashes (which make the whole HOOK_URL ambiguous).
_QUERY_TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=["Cc", "Cf", "Cs", "Zs", "Zl", "Zp"], exclude_characters="#\\"
    ).filter(lambda char: not char.isspace())
)
_PLAIN_SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "-_~", min_size=1)


@st.composite
def allowed_hook_urls(draw: st.DrawFn) -> str:
    """A HOOK_URL under an allowed entry, written as ERPs write them: any case in scheme and host,
    the default port given or not, any path below the entry, any query string."""
    scheme, host, port, prefix = draw(st.sampled_from(list(ALLOWED.values())))
    default = {"http": 80, "https": 443}[scheme]
    written_port = f":{port}" if port != default else draw(st.sampled_from(["", f":{default}"]))
    below = "/".join(draw(st.lists(_PLAIN_SEGMENT, max_size=4)))
    path = prefix if not below else prefix.rstrip("/") + "/" + below
    query = draw(st.one_of(st.just(""), _QUERY_TEXT.map(lambda text: "?" + text)))
    return f"{draw(recased(scheme))}://{draw(recased(host))}{written_port}{path}{query}"


@FUZZ
@given(allowed_hook_urls())
def test_every_hook_url_under_an_allowed_entry_passes_whatever_its_query_string(url: str) -> None:
    assert browser_posts_under_an_allowed_entry(url), url
    check_hook_url(url, tuple(ALLOWED))


# --- read_callup over arbitrary parameter lists -------------------------------------------------


def assert_accepted_callup_is_usable(customer: Customer, pairs: list, punchout) -> None:
    """What the booking form and the basket rely on in an accepted call-up."""
    cart_return = punchout.cart_return
    check_hook_url(cart_return.url, oci_settings(customer).hook_urls)
    sent_hook_urls = [v for k, v in pairs if k.casefold() == "hook_url"]
    assert set(sent_hook_urls) == {cart_return.url}
    assert cart_return.target in KEYWORD_TARGETS or (
        cart_return.target.isascii()
        and cart_return.target[:1].isalnum()
        and len(cart_return.target) <= 64
        and all(c.isalnum() or c in "_.:-" for c in cart_return.target)
    )
    "OCI".encode(cart_return.charset)  # a text encoding, not base64 or rot13
    for name, value in punchout.fields.items():
        field = customer.fields[name]
        assert value == value.strip()
        if field.editable:
            # Corrected in the booking form, by the same rules, before a basket carries it.
            continue
        assert len(value) <= field.max_length
        assert not any(is_control(c) for c in value), (name, value)
        assert value or not field.required
        assert field.pattern is None or not value or field.pattern.search(value)
    # ~OkCode and ~CALLER go back to the ERP in the basket, next to the items.
    for echoed in cart_return.echo.values():
        assert not any(is_control(c) for c in echoed), echoed
    password = oci_settings(customer).login.password_param.casefold()
    sent = punchout.inbound["parameters"]
    assert all(k.casefold() not in (password, "password") for k, _ in sent)


def assert_refused_with_a_4xx_or_usable(customer: Customer, pairs: list[tuple[str, str]]) -> None:
    """A call-up is either refused with a 4xx that tells the ERP administrator what to fix,
    or accepted with values a basket can carry."""
    refusal = None
    try:
        punchout = read_callup(customer, Params(tuple(pairs)))
    except CallupError as error:
        refusal = error
    if refusal is not None:
        event("refused")
        assert_a_clear_refusal(refusal)
        return
    event("accepted")
    assert_accepted_callup_is_usable(customer, pairs, punchout)


def assert_a_clear_refusal(refusal: CallupError) -> None:
    """A 4xx that tells the ERP administrator what to fix, on one line: a value sent is shown
    with its line breaks escaped (the page, the log line and the transfer log show it)."""
    assert 400 <= refusal.status < 500
    assert str(refusal).strip()
    assert not has_line_break(str(refusal)), str(refusal)
    assert (refusal.fix % refusal.params).startswith("Ask your ERP administrator")


def with_flaw(callup: dict[str, str], name: str, value: str) -> list[tuple[str, str]]:
    return list({**callup, name: value}.items())


@FUZZ
@given(callup_pairs(ACME_CALLUP))
@example(with_flaw(ACME_CALLUP, "~OkCode", "\x1f"))
@example(with_flaw(ACME_CALLUP, "HTTP_CONTENT_CHARSET", "base64"))
@example(with_flaw(ACME_CALLUP, "HTTP_CONTENT_CHARSET", "utf-16"))
@example(with_flaw(ACME_CALLUP, "HTTP_CONTENT_CHARSET", "utf-8\r\n"))
def test_acme_call_ups_are_usable_when_accepted_and_refused_with_a_4xx(pairs) -> None:
    assert_refused_with_a_4xx_or_usable(ACME, pairs)


@FUZZ
@given(callup_pairs(DEMO_CALLUP))
@example(with_flaw(DEMO_CALLUP, "~CALLER", "\x1f"))
def test_demo_call_ups_are_usable_when_accepted_and_refused_with_a_4xx(pairs) -> None:
    assert_refused_with_a_4xx_or_usable(DEMO, pairs)


# --- read_function_call: the basket of a FUNCTION call goes back as a call-up's does ----------


def function_call_pairs(callup: dict[str, str], function: str) -> st.SearchStrategy[list]:
    """``callup`` as a call of ``function`` for the first vehicle, then changed as a careless or
    hostile ERP would (:func:`callup_pairs`)."""
    return callup_pairs({**callup, "FUNCTION": function, "PRODUCTID": "ESTATE"})


@FUZZ
@given(st.sampled_from(list(Function)).flatmap(lambda f: function_call_pairs(ACME_CALLUP, f)))
@example(with_flaw({**ACME_CALLUP, "FUNCTION": "VALIDATE"}, "~OkCode", "ADDI\r\n"))
@example(with_flaw({**ACME_CALLUP, "FUNCTION": "SOURCING"}, "~CALLER", "\nCTLG"))
def test_a_function_call_is_refused_with_a_4xx_or_its_basket_goes_back_as_a_call_ups(
    pairs: list[tuple[str, str]],
) -> None:
    """~OkCode and ~CALLER go back in the answer's basket, after the lines: the same checks as
    for a call-up's (a FUNCTION call once echoed them unchecked, and the basket broke)."""
    try:
        call = read_function_call(ACME, Params(tuple(pairs)))
    except CallupError as refusal:
        assert_a_clear_refusal(refusal)
        return
    cart_return = call.cart_return
    for echoed in cart_return.echo.values():
        assert not any(is_control(c) for c in echoed), echoed
        assert len(echoed) <= ECHOED_MAX_LENGTH
    assert not has_line_break(cart_return.target), cart_return.target
    lines = [(ACME.vehicles[0], "1")]
    assert (
        basket_problems(
            catalogue_basket(ACME, lines, cart_return).fields,
            cart_return.charset,
            oci_settings(ACME).limit,
        )
        == []
    )


# --- build_basket: every booking within the documented limits gets a basket the ERP can read ----

#: One line of text as the call-up and the booking form accept it: no control characters.
_LINE_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cc", "Cs"]))
#: What a text area sends: lines separated by CR LF or LF, tabs, anything else printable.
_TEXTAREA = st.lists(st.one_of(_LINE_TEXT, st.sampled_from(["\r\n", "\n", "\t"])), max_size=6).map(
    "".join
)
#: Charsets an ERP asks for in HTTP_CONTENT_CHARSET.
_CHARSETS = st.sampled_from(["utf-8", "UTF-8", "iso-8859-1", "windows-1252", "iso-8859-15"])


@st.composite
def vehicles(draw: st.DrawFn) -> Vehicle:
    """A vehicle as the customer-file loader lets it through."""
    code = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}", fullmatch=True))
    cents = draw(st.integers(1, 99_999_999_999_99))
    description = draw(_LINE_TEXT.filter(str.strip).map(lambda text: text[:18]))
    name = draw(_LINE_TEXT.filter(str.strip))
    return Vehicle(code, Localized({"nl": name}), Decimal(cents) / 100, description)


@st.composite
def field_value(draw: st.DrawFn, customer: Customer, name: str) -> str:
    """A value of the customer's field ``name`` that the call-up accepts."""
    field = customer.fields[name]
    if name == "email":
        value = draw(st.emails())
    elif field.pattern is not None:
        value = draw(st.from_regex(field.pattern))
    else:
        value = draw(_LINE_TEXT.map(lambda text: text[: field.max_length]))
    value = value.strip()
    assume(check_field_value(field, oci_settings(customer).params[name], value) is None)
    return value


@st.composite
def bookings(draw: st.DrawFn, customer: Customer) -> Booking:
    start = draw(st.dates(date(2000, 1, 1), date(2099, 1, 1)))
    days = draw(st.integers(1, customer.max_days))
    return Booking(
        vehicle=draw(st.one_of(st.sampled_from(customer.vehicles), vehicles())),
        start=start,
        end=start + timedelta(days=days - 1),
        location=draw(st.sampled_from(customer.locations)) if customer.locations else None,
        fields={name: draw(field_value(customer, name)) for name in customer.fields},
        remarks=draw(_TEXTAREA.map(lambda text: text[:500].strip())),
    )


def posted_as_a_browser_does(fields: tuple[tuple[str, str], ...], charset: str) -> bytes:
    """The basket form as a browser posts it: line breaks as CR LF, encoded in ``charset``
    (strictly: a character the charset lacks would reach the ERP as ``&#321;``)."""
    normalized = [
        (name, value.replace("\r\n", "\n").replace("\n", "\r\n")) for name, value in fields
    ]
    return urlencode(normalized, encoding=charset, errors="strict").encode("ascii")


@FUZZ
@given(
    st.sampled_from([ACME, DEMO]).flatmap(
        lambda customer: st.tuples(st.just(customer), bookings(customer))
    ),
    _CHARSETS,
    st.from_regex(r"FF-[0-9]{6,9}", fullmatch=True),
    st.one_of(st.none(), _LINE_TEXT.map(lambda text: text[:30])),
)
def test_a_booking_within_the_limits_gets_a_basket_the_erp_reads_back(
    customer_and_booking: tuple[Customer, Booking], charset: str, reference: str, ok_code
) -> None:
    customer, booking = customer_and_booking
    hook_url = oci_settings(customer).hook_urls[0] + "/hook?sid=1"
    echo = {"~OkCode": ok_code, "~CALLER": "CTLG"} if ok_code is not None else {"~CALLER": "CTLG"}
    cart_return = CartReturn(url=hook_url, target="_top", charset=charset, echo=echo)
    basket = build_basket(customer, booking, reference=reference, cart_return=cart_return)
    assert (basket.action, basket.target, basket.charset) == (hook_url, "_top", charset)
    assert basket_problems(basket.fields, basket.charset, oci_settings(customer).limit) == []
    sent = dict(basket.fields)
    assert sent["NEW_ITEM-QUANTITY[1]"] == str(booking.days)
    assert sent["NEW_ITEM-PRICE[1]"] == plain_amount(booking.vehicle.day_rate)
    assert Decimal(sent["NEW_ITEM-PRICE[1]"]) == booking.vehicle.day_rate
    assert sent["NEW_ITEM-EXT_QUOTE_ID[1]"] == reference
    assert sent["NEW_ITEM-EXT_PRODUCT_ID[1]"] == booking.vehicle.code
    assert reference in sent["NEW_ITEM-LONGTEXT_1:132[]"]
    assert basket.fields[-1] == ("~CALLER", "CTLG")
    received, decoded_as = decode_form(posted_as_a_browser_does(basket.fields, charset), charset)
    assert [name for name, _ in received] == [name for name, _ in basket.fields]
    assert all("\ufffd" not in value for _, value in received) or decoded_as != "unknown"


# --- decode_form over arbitrary bytes -----------------------------------------------------------


@FUZZ
@given(
    st.binary(max_size=300)
    | st.lists(
        st.sampled_from([b"&", b"=", b"%", b"%E9", b"%C3%A9", b"+", b";", b"a", b"%81", b"%FF%FE"])
    ).map(b"".join)
)
def test_any_bytes_decode_or_are_refused_for_too_many_fields(data: bytes) -> None:
    try:
        pairs, charset = decode_form(data)
    except FormEncodingError:
        assert data.count(b"&") + 1 > MAX_FIELDS
        return
    assert charset in ("utf-8", "windows-1252", "unknown")
    if charset == "unknown":
        # Bytes neither charset can read are marked, never dropped without a trace.
        assert any("\ufffd" in name + value for name, value in pairs)


@FUZZ
@given(st.lists(st.tuples(st.text(), st.text()), max_size=8))
def test_utf8_form_data_decodes_to_exactly_what_was_sent(pairs: list[tuple[str, str]]) -> None:
    assume(all(pair != ("", "") for pair in pairs))  # an empty field is no field at all
    data = urlencode(pairs, encoding="utf-8").encode("ascii")
    assert decode_form(data) == (pairs, "utf-8")


_CP1252_TEXT = st.text(alphabet=st.characters(codec="cp1252"))


def _reread_as_utf8(text: str) -> str:
    return text.encode("cp1252").decode("utf-8")


@FUZZ
@given(st.lists(st.tuples(_CP1252_TEXT, _CP1252_TEXT), max_size=8))
def test_legacy_form_data_decodes_to_what_was_sent_unless_it_reads_as_utf8(
    pairs: list[tuple[str, str]],
) -> None:
    assume(all(pair != ("", "") for pair in pairs))
    decoded, charset = decode_form(urlencode(pairs, encoding="windows-1252").encode("ascii"))
    if charset == "windows-1252":
        assert decoded == pairs
    else:
        # Latin-1 text that happens to be valid UTF-8 ("Ã©" is "é"): the documented ambiguity.
        assert charset == "utf-8"
        assert decoded == [(_reread_as_utf8(n), _reread_as_utf8(v)) for n, v in pairs]


# --- The line-break checks of the HTTP property tests (tests/support/properties.py) -------------


def test_the_basket_check_sees_a_line_break_anywhere_but_between_long_text_lines() -> None:
    longtext = "NEW_ITEM-LONGTEXT_1:132[]"
    attrs = {"action": "https://erp.example.com/hook", "target": "_top", "accept-charset": "utf-8"}
    lines = [("NEW_ITEM-DESCRIPTION[1]", "Estate car"), (longtext, "a\r\nb")]
    assert form_line_breaks(Form(attrs, hidden=lines)) == []
    assert form_line_breaks(Form({**attrs, "target": "frame1\n"}, hidden=lines))
    for value in ("a\nb", "a\rb", "a\r\n"):
        assert form_line_breaks(Form(attrs, hidden=[*lines, ("~OkCode", value)]))
        assert form_line_breaks(Form(attrs, hidden=[(longtext, value.replace("\r\n", "\n"))]))


def test_every_value_is_tried_with_each_line_break_at_its_end_start_and_middle() -> None:
    assert [variant.value for variant in line_break_variants("frame1")] == [
        "frame1\r",
        "\rframe1",
        "fra\rme1",
        "frame1\n",
        "\nframe1",
        "fra\nme1",
        "frame1\r\n",
        "\r\nframe1",
        "fra\r\nme1",
    ]
