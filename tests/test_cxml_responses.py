"""The documents ociflex answers a buyer's system with (ociflex/cxml/responses.py, and the codes
of ociflex/cxml/status.py): each one valid against the cXML DTD, with the code and text a buyer
reads to decide whether to send again, in the customer's language, with a unique payloadID."""

import re

import pytest
from lxml import etree

from ociflex.cxml.dtd import dtd_problems
from ociflex.cxml.responses import (
    DOCTYPE,
    Envelope,
    profile_response,
    setup_response,
    status_response,
)
from ociflex.cxml.status import STATUS_TEXTS, CxmlRefusal
from tests.support.cxml import XML_LANG

ENVELOPE = Envelope(host="flexfleet.euromobil.example", language="en")
START_PAGE = "https://flexfleet.euromobil.example/cxml/globex/start/eyJzIjoiYWJjIn0.Zx?a=1&b=2"
SETUP_URL = "https://flexfleet.euromobil.example/cxml/globex"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def read(document: bytes) -> etree._Element:
    """The answer as a buyer's system parses it (nothing resolved, nothing fetched)."""
    return etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))


def status_of(document: bytes) -> etree._Element:
    status = read(document).find("Response/Status")
    assert status is not None
    return status


def all_answers() -> list[bytes]:
    return [
        setup_response(ENVELOPE, START_PAGE),
        profile_response(ENVELOPE, {"PunchOutSetupRequest": SETUP_URL}),
        *(status_response(ENVELOPE, code, "What to fix.") for code in STATUS_TEXTS),
        status_response(ENVELOPE, 200),
    ]


def test_every_answer_keeps_the_cxml_dtd() -> None:
    for answer in all_answers():
        assert dtd_problems(answer) == [], answer.decode()


def test_every_answer_starts_with_the_declaration_and_the_doctype_of_its_version() -> None:
    for answer in all_answers():
        declaration, doctype, *_ = answer.decode("utf-8").splitlines()
        assert declaration == '<?xml version="1.0" encoding="UTF-8"?>'
        assert doctype == DOCTYPE
        assert doctype.startswith('<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.')


def test_every_answer_has_a_response_and_no_header() -> None:
    for answer in all_answers():
        root = read(answer)
        assert root.find("Header") is None
        assert [child.tag for child in root] == ["Response"]


def test_a_setup_response_is_200_ok_with_the_start_page_exactly() -> None:
    root = read(setup_response(ENVELOPE, START_PAGE))

    status = root.find("Response/Status")
    assert (status.get("code"), status.get("text")) == ("200", "OK")
    assert root.findtext("Response/PunchOutSetupResponse/StartPage/URL") == START_PAGE


def test_a_profile_response_lists_each_transaction_with_its_url() -> None:
    transactions = {"PunchOutSetupRequest": SETUP_URL, "OrderRequest": SETUP_URL + "/order"}

    root = read(profile_response(ENVELOPE, transactions))

    profile = root.find("Response/ProfileResponse")
    assert root.find("Response/Status").get("code") == "200"
    assert {t.get("requestName"): t.findtext("URL") for t in profile} == transactions
    assert TIMESTAMP.match(profile.get("effectiveDate"))


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (200, "OK"),
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (406, "Not Acceptable"),
        (412, "Precondition Failed"),
        (413, "Request Entity Too Large"),
        (450, "Not Implemented"),
        (560, "Temporary server error"),
    ],
)
def test_a_status_response_carries_the_code_and_its_name(code: int, text: str) -> None:
    status = status_of(status_response(ENVELOPE, code, "What to fix."))

    assert (status.get("code"), status.get("text")) == (str(code), text)
    assert status.text == "What to fix."


def test_a_status_without_a_message_has_no_content() -> None:
    status = status_of(status_response(ENVELOPE, 200))

    assert status.text is None
    assert len(status) == 0


def test_a_message_that_needs_escaping_reaches_the_buyer_as_written() -> None:
    message = "BrowserFormPost URL https://x.example/?a=1&b=<2> is not \"allowed\" 'here' ]]>"

    answer = status_response(ENVELOPE, 400, message)

    assert status_of(answer).text == message
    assert dtd_problems(answer) == []
    assert b"&b=<2>" not in answer


def test_the_language_is_the_customers_on_the_document_and_on_its_status() -> None:
    answer = status_response(Envelope("flexfleet.euromobil.example", "nl"), 401, "Onbekend.")

    root = read(answer)
    assert root.get(XML_LANG) == "nl"
    assert root.find("Response/Status").get(XML_LANG) == "nl"


def test_each_answer_has_a_payload_id_of_its_own_naming_the_host() -> None:
    payload_ids = [read(answer).get("payloadID") for _ in range(20) for answer in all_answers()]

    assert len(set(payload_ids)) == len(payload_ids)
    assert all(payload_id.endswith("@flexfleet.euromobil.example") for payload_id in payload_ids)


def test_each_answer_is_dated_in_iso_8601_with_a_colon_in_the_offset() -> None:
    for answer in all_answers():
        assert TIMESTAMP.match(read(answer).get("timestamp"))


def test_non_ascii_text_is_sent_as_utf8() -> None:
    answer = status_response(ENVELOPE, 400, "Zoë’s Škoda – 東京")

    assert "Zoë’s Škoda – 東京".encode() in answer
    assert status_of(answer).text == "Zoë’s Škoda – 東京"


# --- refusal texts --------------------------------------------------------------------------------


def test_a_refusal_text_joins_its_message_and_its_fix_translated() -> None:
    refusal = CxmlRefusal(400, "%(thing)s is wrong.", fix="Send %(thing)s again.", thing="X")
    dutch = {
        "%(thing)s is wrong.": "%(thing)s is fout.",
        "Send %(thing)s again.": "Stuur %(thing)s.",
    }

    assert refusal.text(lambda text: text) == "X is wrong. Send X again."
    assert refusal.text(dutch.__getitem__) == "X is fout. Stuur X."
    assert refusal.reason == "X is wrong. Send X again."
