"""Checking a cXML document against the element order and required attributes of the cXML DTD.

ociflex is strict in what it sends (PROTOCOL.md): every document it writes, and every document
its ERP simulator sends or receives, is checked against ``cxml-subset.dtd``, ociflex's own
transcription of the cXML 1.2.063 DTD for the transactions it takes part in. That checks which
elements appear where, in which order and how often, the attributes each requires, and the
values of enumerated attributes (``operation``, ``operationAllowed``, ``deploymentMode``...).
It does not check what text and attribute values say (dates, amounts and currency codes are
CDATA in the DTD too), nor the insides of the elements the subset only holds a place for, and
it reports the elements of any other transaction as undeclared.

Only the subset counts: the document's own DOCTYPE is never fetched or read (its internal
subset is ignored as well), and nothing a document says is resolved.
"""

import threading
from pathlib import Path

from lxml import etree

_SUBSET = etree.DTD(str(Path(__file__).with_name("cxml-subset.dtd")))

_HARDENED = {"resolve_entities": False, "no_network": True, "load_dtd": False}
_BYTES_PARSER = etree.XMLParser(**_HARDENED)
# A str has already been decoded: its XML declaration's encoding no longer applies.
_TEXT_PARSER = etree.XMLParser(encoding="utf-8", **_HARDENED)

# A DTD object keeps the error log of its latest validation, so validations take turns.
_validating = threading.Lock()


def dtd_problems(document: bytes | str | etree._Element) -> list[str]:
    """Every way ``document`` breaks the element order and required attributes of the cXML DTD
    (ociflex's subset, ociflex/cxml/cxml-subset.dtd); empty when it keeps them."""
    if isinstance(document, etree._Element):
        root = document
    else:
        try:
            root = _parsed(document)
        except etree.XMLSyntaxError as error:
            return [f"the document is not well-formed XML: {error}"]
    with _validating:
        _SUBSET.validate(root)
        errors = _SUBSET.error_log
    problems = [f"{_where(error.line, error.path)}: {error.message}" for error in errors]
    if root.tag != "cXML":
        # The subset declares no DOCTYPE name, so lxml accepts any declared element as root.
        where = _where(root.sourceline, f"/{root.tag}")
        problems.insert(0, f"{where}: the root element is {root.tag}, not cXML")
    return problems


def _parsed(document: bytes | str) -> etree._Element:
    if isinstance(document, str):
        return etree.fromstring(document.encode(), _TEXT_PARSER)
    return etree.fromstring(document, _BYTES_PARSER)


def _where(line: int | None, path: str) -> str:
    """``line N``, or the element's path for one built in memory (which has no line)."""
    return f"line {line}" if line else path
