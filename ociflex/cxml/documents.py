"""Reading a cXML document that a buyer's system posts, safely (PROTOCOL.md section 6).

The body comes from the internet, so it is read as hostile:

- its size is limited before anything is parsed (:data:`MAX_BYTES`);
- nothing is resolved or fetched: no external DTD (the DOCTYPE's ``cXML.dtd`` URL is never
  opened), no network, no ``file:``; a document whose internal DOCTYPE subset declares entities
  (XXE, "billion laughs") is refused outright;
- whatever does not parse is a 406 with lxml's own description, never a traceback.

And leniently, as real buyers send it: a UTF-8 byte order mark, a stray newline or blanks before
``<?xml``, a ``charset`` in the Content-Type that the XML declaration leaves out, element names
in a namespace (matched by local name), and any order of a parent's children.
"""

import codecs
from copy import deepcopy

from lxml import etree

from ociflex.cxml.status import CxmlRefusal
from ociflex.text import N_

#: The largest document read, in bytes: a setup request is a few KB, a large order some 100 KB.
MAX_BYTES = 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def parse(body: bytes, charset: str | None = None) -> etree._Element:
    """The root ``<cXML>`` element of ``body``; ``charset`` is the Content-Type's, if it named
    one. :class:`CxmlRefusal` (406, or 413 when too large) when it is no readable cXML."""
    if len(body) > MAX_BYTES:
        raise too_large()
    root = _parse_xml(body, charset)
    _refuse_entity_declarations(root)
    if local_name(root) != "cXML":
        raise CxmlRefusal(
            406,
            N_("The document is not cXML: its root element is %(element)s, not cXML."),
            element=local_name(root)[:40],
        )
    return root


def too_large() -> CxmlRefusal:
    """The refusal of a document larger than :data:`MAX_BYTES`."""
    return CxmlRefusal(
        413,
        N_("The document is larger than %(limit)s KB, so it was not read."),
        limit=MAX_BYTES // 1024,
    )


def _parse_xml(body: bytes, charset: str | None) -> etree._Element:
    text, encoding = _decoded(body)
    if encoding is None and charset:
        # The XML declaration may name no encoding: the Content-Type's charset then tells.
        try:
            return _from_bytes(text.lstrip(b" \t\r\n"), None)
        except CxmlRefusal:
            encoding = charset
    try:
        return _from_bytes(text.lstrip(b" \t\r\n"), encoding)
    except (LookupError, ValueError):
        # ValueError: a label Python cannot even look up (a NUL in it).
        raise CxmlRefusal(
            406,
            N_("The document's character set %(charset)s is unknown."),
            charset=ascii(encoding or "")[1:-1][:40],
        ) from None


def _decoded(body: bytes) -> tuple[bytes, str | None]:
    """``body`` without a byte order mark, in UTF-8 when it had a UTF-16 one; the encoding it
    is known to be in (None: as its XML declaration says, UTF-8 by default)."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            if encoding == "utf-8":
                return body[len(bom) :], "utf-8"
            try:
                return body.decode(encoding).encode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                break
    return body, None


def _from_bytes(data: bytes, encoding: str | None) -> etree._Element:
    """Parse ``data``; with ``encoding`` it overrides what the XML declaration says."""
    try:
        if encoding is not None and encoding.lower().replace("-", "") != "utf8":
            data = data.decode(encoding, errors="strict").encode("utf-8")
        root = etree.fromstring(data, _parser("utf-8" if encoding else None))
    except etree.XMLSyntaxError as error:
        raise CxmlRefusal(
            406,
            N_("The document is not well-formed XML: %(error)s"),
            error=str(error)[:200],
        ) from None
    except UnicodeError:
        raise CxmlRefusal(406, N_("The document is not in the character set it names.")) from None
    if root is None:
        raise CxmlRefusal(406, N_("The document is empty."))
    return root


def _parser(encoding: str | None) -> etree.XMLParser:
    """A parser that resolves and fetches nothing (one per document: lxml's parsers are not to
    be shared between threads)."""
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _refuse_entity_declarations(root: etree._Element) -> None:
    """cXML needs no entities of its own: declaring one is an attack (or a mistake that would
    make ociflex read something other than what the buyer meant)."""
    internal = root.getroottree().docinfo.internalDTD
    if internal is not None and any(True for _ in internal.iterentities()):
        raise CxmlRefusal(
            406,
            N_("The document declares entities in its DOCTYPE, which cXML does not allow."),
        )


def local_name(element: etree._Element) -> str:
    """An element's name without a namespace (some buyers declare one)."""
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(element: etree._Element | None, name: str) -> list[etree._Element]:
    """The child elements called ``name``, in document order."""
    if element is None:
        return []
    return [child for child in element if local_name(child) == name]


def child(element: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element called ``name``, if any."""
    found = children(element, name)
    return found[0] if found else None


def path(element: etree._Element | None, *names: str) -> etree._Element | None:
    """The first element down the chain of child ``names``, if any."""
    for name in names:
        element = child(element, name)
    return element


def text_of(element: etree._Element | None) -> str:
    """All text inside ``element``, without surrounding blanks ("" when there is none)."""
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def indented(root: etree._Element) -> str:
    """``root``'s document as people read it: its DOCTYPE, then one element a line, indented as
    ociflex writes its own. Mixed content, such as a Description's text with its ShortName, stays
    as it is; ``root`` itself is not changed."""
    copy = deepcopy(root)
    _drop_indentation(copy)
    doctype = root.getroottree().docinfo.doctype
    text = etree.tostring(copy, encoding="unicode", pretty_print=True)
    return f"{doctype}\n{text}" if doctype else text


def _drop_indentation(root: etree._Element) -> None:
    """Remove the blanks between elements, where they only lay the document out, so that it is
    laid out anew; blanks next to text are part of it and stay."""
    for element in root.iter():
        children = list(element)
        blanks = (element.text, *(child.tail for child in children))
        if children and all(blank is None or not blank.strip() for blank in blanks):
            element.text = None
            for child in children:
                child.tail = None


def request_name(root: etree._Element) -> str:
    """The name of the request ``root`` carries (``PunchOutSetupRequest``, ``ProfileRequest``,
    ...), or "" when it carries none (a Message, a Response)."""
    request = child(root, "Request")
    inner = (
        [element for element in request if isinstance(element.tag, str)]
        if request is not None
        else []
    )
    return local_name(inner[0]) if inner else ""
