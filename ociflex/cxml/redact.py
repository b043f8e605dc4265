"""A cXML document as ociflex keeps it: without the secrets it carries.

A setup request or an order holds the buyer's SharedSecret (in the Sender's credential, or the
From's), and a hub's ``CredentialMac`` may stand in for one. The transfer log and the request
keep the document for diagnosis, so these are emptied before anything is stored, shown or
logged; the rest of the document stays as received.
"""

import codecs
import re
from copy import deepcopy

from lxml import etree

from ociflex.cxml.documents import local_name

#: Elements whose content is a secret.
SECRET_ELEMENTS = ("SharedSecret", "CredentialMac", "DigitalSignature")
#: What stands where a secret was.
REMOVED = "(removed)"
#: Secret elements by case-folded name: a buyer that gets the case wrong still sent a secret.
_SECRET_NAMES = frozenset(name.casefold() for name in SECRET_ELEMENTS)

#: The opening tag of a secret element in a document's text (any namespace prefix).
_SECRET_TAG = re.compile(
    r"<((?:[\w.-]+:)?(?:SharedSecret|CredentialMac|DigitalSignature))\b[^>]*>", re.IGNORECASE
)


def without_secrets(root: etree._Element, mark: str = REMOVED) -> str:
    """The document of ``root`` as text, its secrets replaced by ``mark`` (``root`` itself is
    not changed)."""
    return etree.tostring(masked(root, mark), encoding="unicode")


def masked(root: etree._Element, mark: str = REMOVED) -> etree._Element:
    """A copy of ``root`` whose secret elements hold ``mark`` and nothing else."""
    copy = deepcopy(root)
    # Found first, emptied after: emptying an element while iterating skips what follows it.
    secrets = [e for e in copy.iter() if local_name(e).casefold() in _SECRET_NAMES]
    for element in secrets:
        element[:] = []
        element.attrib.clear()
        element.text = mark
    return copy


def text_without_secrets(body: bytes) -> str:
    """The text of a document that could not be parsed, as far as it can be read, with the
    content of each secret element removed; everything after a secret that is never closed
    is dropped."""
    text = _readable(body)
    kept, position = [], 0
    while match := _SECRET_TAG.search(text, position):
        close = re.compile(rf"</{re.escape(match[1])}\s*>", re.IGNORECASE).search(text, match.end())
        kept.append(text[position : match.end()] + REMOVED)
        if close is None:
            return "".join(kept)
        position = close.start()
    return "".join(kept) + text[position:]


def _readable(body: bytes) -> str:
    """``body`` as text: by its byte order mark (UTF-16 too), else UTF-8, what cannot be read
    replaced."""
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    return body.decode("utf-8-sig", errors="replace")
