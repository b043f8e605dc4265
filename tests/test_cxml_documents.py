"""Reading the document a buyer's system posts (ociflex/cxml/documents.py): what real buyers send
is read, whatever is hostile or broken is a 406 (413 when too large) with a text the buyer's
administrator can act on, and nothing the document names is ever fetched or read."""

import codecs
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from ociflex.cxml import documents
from ociflex.cxml.documents import MAX_BYTES, parse, request_name
from ociflex.cxml.status import CxmlRefusal
from tests.support.cxml import Setup, setup_request

CXML_DTD_URL = "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def refusal_of(body: bytes, charset: str | None = None) -> CxmlRefusal:
    with pytest.raises(CxmlRefusal) as raised:
        parse(body, charset)
    return raised.value


def status_text(refusal: CxmlRefusal) -> str:
    """The Status text the buyer's administrator reads (English)."""
    return refusal.text(lambda text: text)


def cookie_of(root: etree._Element) -> str:
    """The BuyerCookie as ociflex reads it: all the text inside the element."""
    return documents.text_of(documents.path(root, "Request", "PunchOutSetupRequest", "BuyerCookie"))


def small_document(content: str, declaration: str = '<?xml version="1.0"?>') -> str:
    """A cXML document (no DOCTYPE) with ``content`` in an Extrinsic of its setup request."""
    return (
        f'{declaration}<cXML payloadID="1@buyer.example"><Header/><Request>'
        f'<PunchOutSetupRequest><BuyerCookie>c1</BuyerCookie><Extrinsic name="Name">{content}'
        "</Extrinsic></PunchOutSetupRequest></Request></cXML>"
    )


def extrinsic_of(root: etree._Element) -> str | None:
    return root.findtext("Request/PunchOutSetupRequest/Extrinsic")


class Listener:
    """A port on this machine that nobody should connect to: a fetch of any URL naming it would
    show up as a pending connection (the kernel accepts it even if this test never does)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.setblocking(False)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def was_contacted(self) -> bool:
        try:
            connection, _ = self.server.accept()
        except BlockingIOError:
            return False
        connection.close()
        return True


@pytest.fixture
def listener() -> Iterator[Listener]:
    listening = Listener()
    yield listening
    listening.server.close()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection made from Python fails the test."""

    def connect(*args: object) -> None:
        pytest.fail(f"the parser tried to connect to {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", connect)


# --- documents as real buyers send them ---------------------------------------------------------


def test_a_correct_setup_request_parses_into_its_cxml_root() -> None:
    root = parse(setup_request())

    assert root.tag == "cXML"
    assert root.get("payloadID") == "1701234567890.4711@buyer.globex.example"
    assert cookie_of(root) == "1J3YVWU9QWMTB"


def test_a_utf8_byte_order_mark_is_read_past() -> None:
    root = parse(codecs.BOM_UTF8 + setup_request())

    assert cookie_of(root) == "1J3YVWU9QWMTB"


@pytest.mark.parametrize("before", [b"\n", b"\r\n", b"   ", b"\t\n  ", codecs.BOM_UTF8 + b"\n "])
def test_a_newline_or_blanks_before_the_xml_declaration_are_tolerated(before: bytes) -> None:
    root = parse(before + setup_request())

    assert cookie_of(root) == "1J3YVWU9QWMTB"


def test_the_content_type_charset_reads_a_body_whose_declaration_names_no_encoding() -> None:
    body = small_document("Zoë Müller").encode("iso-8859-1")

    root = parse(body, "ISO-8859-1")

    assert extrinsic_of(root) == "Zoë Müller"


def test_the_same_latin1_body_without_a_charset_is_a_406_not_mojibake() -> None:
    refusal = refusal_of(small_document("Zoë Müller").encode("iso-8859-1"))

    assert refusal.code == 406
    assert status_text(refusal).startswith("The document is not well-formed XML: ")


def test_an_encoding_the_declaration_names_wins_over_no_charset() -> None:
    declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>'
    body = small_document("Zoë", declaration).encode("iso-8859-1")

    assert extrinsic_of(parse(body)) == "Zoë"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(codec: str) -> None:
    declaration = '<?xml version="1.0" encoding="UTF-16"?>'
    body = ("\ufeff" + small_document("Škoda für Zoë", declaration)).encode(codec)

    assert extrinsic_of(parse(body)) == "Škoda für Zoë"


def test_an_unknown_charset_is_a_406_that_names_it() -> None:
    body = small_document("Zoë").encode("iso-8859-1")

    refusal = refusal_of(body, "x-klingon")

    assert refusal.code == 406
    assert status_text(refusal) == "The document's character set x-klingon is unknown."


@pytest.mark.parametrize("charset", ["base64", "rot13", "zlib", "hex"])
def test_a_codec_that_is_no_character_set_is_a_406(charset: str) -> None:
    refusal = refusal_of(small_document("Zoë").encode("iso-8859-1"), charset)

    assert refusal.code == 406


def test_a_charset_with_a_null_character_is_a_406_not_an_exception() -> None:
    # Werkzeug decodes RFC 2231 parameters: Content-Type: text/xml; charset*=utf-8''utf-8%00
    # reaches parse() as "utf-8\x00". Anything but a 4xx makes the buyer's system retry.
    refusal = refusal_of(small_document("Zoë").encode("iso-8859-1"), "utf-8\x00")

    assert refusal.code == 406


def test_an_unknown_charset_is_named_in_a_text_a_status_element_can_carry() -> None:
    # charset*=utf-8''x%01 reaches parse() as "x\x01"; XML 1.0 has no character U+0001, so a
    # Status text holding it cannot be written, and the buyer would get no cXML answer at all.
    refusal = refusal_of(small_document("Zoë").encode("iso-8859-1"), "x\x01")

    assert refusal.code == 406
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", status_text(refusal))


def test_a_body_that_is_not_in_the_charset_it_names_is_a_406() -> None:
    refusal = refusal_of(small_document("Zoë").encode("iso-8859-1"), "ascii")

    assert refusal.code == 406
    assert status_text(refusal) == "The document is not in the character set it names."


def test_elements_in_a_namespace_are_matched_by_their_local_names() -> None:
    body = (
        b'<cXML xmlns="urn:example:cxml" payloadID="1@buyer.example"><Header/>'
        b"<Request><PunchOutSetupRequest><BuyerCookie>c1</BuyerCookie></PunchOutSetupRequest>"
        b"</Request></cXML>"
    )
    prefixed = body.replace(b"<", b"<c:").replace(b"<c:/", b"</c:").replace(b"xmlns=", b"xmlns:c=")

    for document in (body, prefixed):
        root = parse(document)
        assert documents.local_name(root) == "cXML"
        assert request_name(root) == "PunchOutSetupRequest"
        setup = documents.path(root, "Request", "PunchOutSetupRequest", "BuyerCookie")
        assert documents.text_of(setup) == "c1"


def test_the_name_of_the_request_a_document_carries_is_read() -> None:
    profile = b'<cXML payloadID="1@b"><Header/><Request><ProfileRequest/></Request></cXML>'
    message = b'<cXML payloadID="1@b"><Header/><Message><PunchOutOrderMessage/></Message></cXML>'

    assert request_name(parse(setup_request())) == "PunchOutSetupRequest"
    assert request_name(parse(profile)) == "ProfileRequest"
    assert request_name(parse(message)) == ""
    assert request_name(parse(b"<cXML><Request><!-- none --></Request></cXML>")) == ""


# --- what is not cXML ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"", "The document is not well-formed XML: Document is empty"),
        (b"   \n", "The document is not well-formed XML: Document is empty"),
        (b"USERNAME=demo&PASSWORD=x", "The document is not well-formed XML: Start tag expected"),
        (b"<cXML><Header></cXML>", "The document is not well-formed XML: "),
        (b"<cXML>\x00</cXML>", "The document is not well-formed XML: "),
        (b"<cXML>\xff\xfe</cXML>", "The document is not well-formed XML: "),
    ],
)
def test_a_body_that_is_not_xml_is_a_406_with_the_parsers_description(
    body: bytes, text: str
) -> None:
    refusal = refusal_of(body)

    assert refusal.code == 406
    assert status_text(refusal).startswith(text)
    assert "Traceback" not in status_text(refusal)


def test_a_document_with_another_root_is_a_406_naming_that_root() -> None:
    refusal = refusal_of(DECLARATION + b'<Response><Status code="200" text="OK"/></Response>')

    assert refusal.code == 406
    assert status_text(refusal) == (
        "The document is not cXML: its root element is Response, not cXML."
    )


def test_a_very_long_root_name_is_cut_short_in_the_text() -> None:
    name = "R" * 5000

    refusal = refusal_of(f"<{name}/>".encode())

    assert refusal.code == 406
    assert len(status_text(refusal)) < 200


def test_a_document_larger_than_the_limit_is_a_413_without_being_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def parse_nothing(*args: object, **kwargs: object) -> None:
        pytest.fail("a document over the limit was parsed")

    monkeypatch.setattr(etree, "fromstring", parse_nothing)

    refusal = refusal_of(b" " * (MAX_BYTES + 1))  # parsed, it would be a 406: empty

    assert refusal.code == 413
    assert status_text(refusal) == "The document is larger than 1024 KB, so it was not read."


def test_a_document_of_exactly_the_limit_is_read() -> None:
    document = setup_request()
    body = document + b" " * (MAX_BYTES - len(document))

    assert len(body) == MAX_BYTES
    assert cookie_of(parse(body)) == "1J3YVWU9QWMTB"


def test_a_document_nested_deeper_than_any_cxml_is_a_406_at_once() -> None:
    depth = 100_000
    started = time.monotonic()

    refusal = refusal_of(b"<cXML>" + b"<a>" * depth + b"</a>" * depth + b"</cXML>")

    assert refusal.code == 406
    assert time.monotonic() - started < 1


# --- hostile XML --------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE cXML [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<cXML><Header/><Request><PunchOutSetupRequest><BuyerCookie>&lol9;</BuyerCookie>
</PunchOutSetupRequest></Request></cXML>"""

ENTITIES_REFUSED = "The document declares entities in its DOCTYPE, which cXML does not allow."


def test_the_billion_laughs_are_refused_at_once() -> None:
    started = time.monotonic()

    refusal = refusal_of(BILLION_LAUGHS)

    assert refusal.code == 406
    # Refused by ociflex's own check or, before it, by libxml2's amplification limit.
    assert "entit" in status_text(refusal)
    assert time.monotonic() - started < 1


def test_an_unused_internal_entity_declaration_is_refused_as_well() -> None:
    body = setup_request().replace(
        f'"{CXML_DTD_URL}">'.encode(), f'"{CXML_DTD_URL}" [<!ENTITY x "y">]>'.encode()
    )

    refusal = refusal_of(body)

    assert refusal.code == 406
    assert status_text(refusal) == ENTITIES_REFUSED


def test_an_external_entity_on_a_local_file_is_refused_and_the_file_stays_unread(
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "passwd"
    secret_file.write_text("root:x:0:0:CANARY-4711:/root:/bin/bash\n")

    for target in ("file:///etc/passwd", secret_file.as_uri()):
        body = (
            f'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY x SYSTEM "{target}">]>'
            "<cXML><Header/><Request><PunchOutSetupRequest><BuyerCookie>&x;</BuyerCookie>"
            "</PunchOutSetupRequest></Request></cXML>"
        ).encode()

        refusal = refusal_of(body)

        assert refusal.code == 406
        assert status_text(refusal) == ENTITIES_REFUSED
        assert "CANARY" not in status_text(refusal)
        assert "root:" not in status_text(refusal)


def test_an_external_parameter_entity_on_a_file_is_never_loaded(tmp_path: Path) -> None:
    # A parser that loaded the file would fail on its broken syntax: a different 406.
    broken = tmp_path / "evil.dtd"
    broken.write_text("<!ENTITY % (((not a declaration")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY % x SYSTEM "{broken.as_uri()}"> %x;]>'
        "<cXML/>"
    ).encode()

    refusal = refusal_of(body)

    assert refusal.code == 406
    assert status_text(refusal) == ENTITIES_REFUSED


@pytest.mark.usefixtures("no_network")
def test_an_external_entity_on_a_url_is_refused_without_any_connection(
    listener: Listener,
) -> None:
    for declaration in (
        f'<!ENTITY x SYSTEM "{listener.url}/x.xml">',
        f'<!ENTITY % x SYSTEM "{listener.url}/x.dtd"> %x;',
    ):
        body = (
            f'<?xml version="1.0"?><!DOCTYPE cXML [{declaration}]>'
            "<cXML><Header/><Request><PunchOutSetupRequest><BuyerCookie>c1</BuyerCookie>"
            "</PunchOutSetupRequest></Request></cXML>"
        ).encode()

        refusal = refusal_of(body)

        assert refusal.code == 406
        assert status_text(refusal) == ENTITIES_REFUSED
    assert not listener.was_contacted()


@pytest.mark.usefixtures("no_network")
def test_the_cxml_dtd_the_doctype_names_is_never_fetched(listener: Listener) -> None:
    for url in (CXML_DTD_URL, f"{listener.url}/schemas/cXML/1.2.063/cXML.dtd"):
        body = setup_request().replace(CXML_DTD_URL.encode(), url.encode())

        assert cookie_of(parse(body)) == "1J3YVWU9QWMTB"
    assert not listener.was_contacted()


def test_a_doctype_on_a_broken_local_dtd_is_not_loaded(tmp_path: Path) -> None:
    broken = tmp_path / "cXML.dtd"
    broken.write_text("<!ELEMENT cXML (((no end")
    body = setup_request().replace(CXML_DTD_URL.encode(), broken.as_uri().encode())

    assert cookie_of(parse(body)) == "1J3YVWU9QWMTB"


@pytest.mark.usefixtures("no_network")
def test_an_entity_only_the_external_dtd_could_declare_is_left_as_written_not_fetched(
    listener: Listener,
) -> None:
    body = setup_request(Setup(buyer_cookie="COOKIE")).replace(b"COOKIE", b"a&cookie;b")

    root = parse(body.replace(CXML_DTD_URL.encode(), f"{listener.url}/cXML.dtd".encode()))

    assert cookie_of(root) == "a&cookie;b"
    assert not listener.was_contacted()


def test_comments_and_processing_instructions_are_not_part_of_what_is_read() -> None:
    body = setup_request(Setup(buyer_cookie="COOKIE")).replace(
        b"COOKIE", b"abc<!-- hidden --><?pi data?>def"
    )

    assert cookie_of(parse(body)) == "abcdef"
