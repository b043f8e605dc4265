"""The cXML documents ociflex answers with (PROTOCOL.md sections 1 and 3).

Every answer is a ``<cXML><Response><Status/>...</Response></cXML>`` document, also a refusal:
a buyer's system reads the Status code to decide whether to send the same document again. The
documents are built with lxml (text is escaped, nothing is left unclosed) in the element order
of the cXML DTD, and are strict in what they send: ISO 8601 time stamps with ``+hh:mm``, a
payloadID unique per document, the DOCTYPE of the cXML version they follow.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from ociflex.cxml.status import STATUS_TEXTS
from ociflex.cxml.timestamps import payload_id, timestamp

#: The cXML version ociflex writes (and checks itself against: ociflex/cxml/cxml-subset.dtd).
VERSION = "1.2.063"
DOCTYPE = f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{VERSION}/cXML.dtd">'
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class Envelope:
    """What every document ociflex writes carries in its ``<cXML>``."""

    #: The host that names ociflex in payloadIDs (the public URL's, else the request's).
    host: str
    #: The language of its texts (``nl``, ``en``).
    language: str = "en"


def cxml_root(envelope: Envelope) -> etree._Element:
    """A new ``<cXML>`` with a fresh payloadID and the current time."""
    root = etree.Element("cXML")
    root.set("payloadID", payload_id(envelope.host))
    root.set("timestamp", timestamp())
    root.set(XML_LANG, envelope.language)
    return root


#: The XML declaration, with double quotes as every cXML sample writes it.
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def serialized(root: etree._Element) -> bytes:
    """``root`` as the bytes of a document: declaration, DOCTYPE, UTF-8, one element a line
    (a person reads them in the transfer log; mixed content such as a Description is left
    as it is)."""
    return DECLARATION + etree.tostring(root, encoding="UTF-8", doctype=DOCTYPE, pretty_print=True)


#: Characters no XML document can carry (C0 controls but tab and line breaks, U+FFFE/F).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def response(envelope: Envelope, code: int, message: str = "") -> etree._Element:
    """A ``<Response>`` document with Status ``code``; ``message`` (what to do about a
    refusal) is the Status's text content. A refusal may quote what the buyer sent: a
    character XML cannot carry is shown as ``?``."""
    root = cxml_root(envelope)
    body = etree.SubElement(root, "Response")
    status = etree.SubElement(body, "Status", code=str(code), text=STATUS_TEXTS[code])
    status.set(XML_LANG, envelope.language)
    if message:
        status.text = _NOT_IN_XML.sub("?", message)
    return root


def setup_response(envelope: Envelope, start_page: str) -> bytes:
    """The answer to a PunchOutSetupRequest: 200, and the StartPage URL the browser opens."""
    root = response(envelope, 200)
    answer = etree.SubElement(root[0], "PunchOutSetupResponse")
    etree.SubElement(etree.SubElement(answer, "StartPage"), "URL").text = start_page
    return serialized(root)


def profile_response(envelope: Envelope, transactions: Mapping[str, str]) -> bytes:
    """The answer to a ProfileRequest: the requests ociflex takes (name -> URL)."""
    root = response(envelope, 200)
    answer = etree.SubElement(root[0], "ProfileResponse", effectiveDate=root.get("timestamp"))
    for name, url in transactions.items():
        transaction = etree.SubElement(answer, "Transaction", requestName=name)
        etree.SubElement(transaction, "URL").text = url
    return serialized(root)


def status_response(envelope: Envelope, code: int, message: str = "") -> bytes:
    """An answer that is only a Status: a refusal, or an accepted document with nothing more
    to say."""
    return serialized(response(envelope, code, message))
