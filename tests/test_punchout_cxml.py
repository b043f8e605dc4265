"""A cXML punch-out through the web layer, as a buyer's system and its employee's browser go
through it: the setup request (server to server), the StartPage, the booking form, the cart
back to the BrowserFormPost URL; edit and inspect of an earlier booking; every refusal with its
Status code and nothing stored. Every test runs on SQLite and on PostgreSQL."""

import base64
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select, text, update

from ociflex import create_app
from ociflex.booking.form import today
from ociflex.cxml.dtd import dtd_problems
from ociflex.db import session_for
from ociflex.models import RentalRequest, RequestEvent, StartPage, Transfer
from tests.conftest import SigningClock, make_environ
from tests.support.cxml import (
    CUSTOMERS,
    GLOBEX_RETURN_URL,
    GLOBEX_SECRET,
    Answer,
    Buyer,
    Setup,
    cart_document,
    local_path,
    page_token,
    setup_request,
)
from tests.support.punchout import Page

FIRST_DAY = today() + timedelta(days=14)
LAST_DAY = FIRST_DAY + timedelta(days=2)
BOOKING = {"start": FIRST_DAY.isoformat(), "end": LAST_DAY.isoformat(), "project": "Apollo"}


@pytest.fixture
def buyer(cxml_client: FlaskClient) -> Buyer:
    return Buyer(cxml_client)


def requests_of(app: Flask) -> list[RentalRequest]:
    with session_for(app) as session:
        return list(session.scalars(select(RentalRequest).order_by(RentalRequest.id)))


def entries_of(app: Flask) -> list[Transfer]:
    with session_for(app) as session:
        return list(session.scalars(select(Transfer).order_by(Transfer.id)))


def start_pages_of(app: Flask) -> int:
    with session_for(app) as session:
        return session.scalar(select(func.count()).select_from(StartPage)) or 0


def events_of(app: Flask, request_id: int) -> list[RequestEvent]:
    with session_for(app) as session:
        statement = select(RequestEvent).where(RequestEvent.request_id == request_id)
        return list(session.scalars(statement.order_by(RequestEvent.id)))


def set_status(app: Flask, request_id: int, status: str) -> None:
    """Operations take the request further (what matters here is only its new status)."""
    with session_for(app) as session:
        session.execute(
            update(RentalRequest).where(RentalRequest.id == request_id).values(status=status)
        )
        session.commit()


def cart_of(page: str) -> etree._Element:
    """The PunchOutOrderMessage a cart page posts, parsed, after checking it against the DTD."""
    document = cart_document(page)
    assert dtd_problems(document) == []
    return etree.fromstring(document)


def form_action(page: str, form_id: str) -> str:
    match = re.search(rf'<form id="{form_id}"[^>]*action="([^"]+)"', page)
    assert match, f"no form {form_id}"
    return match[1].replace("&amp;", "&")


def book_globex(buyer: Buyer, setup: Setup | None = None, **form: str) -> str:
    """A whole create punch-out; the cart page."""
    response = buyer.book(buyer.start(setup), **{**BOOKING, **form})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --- The setup request ---------------------------------------------------------------------------


def test_a_setup_request_is_answered_with_a_start_page(buyer: Buyer, cxml_app: Flask) -> None:
    answer = buyer.set_up()

    assert (answer.http_status, answer.code, answer.status.get("text")) == (200, 200, "OK")
    assert dtd_problems(answer.root) == []
    parts = urlsplit(answer.start_page)
    assert parts.scheme == "http"
    assert parts.path.startswith("/cxml/globex/start/")
    assert start_pages_of(cxml_app) == 1
    assert requests_of(cxml_app) == []


def test_every_setup_gets_a_start_page_of_its_own(buyer: Buyer) -> None:
    assert buyer.set_up().start_page != buyer.set_up().start_page


def test_the_start_page_names_the_session_without_carrying_its_data(buyer: Buyer) -> None:
    url = buyer.set_up().start_page

    token = url.rsplit("/", 1)[1]
    padded = token.split(".")[0] + "=" * (-len(token.split(".")[0]) % 4)
    carried = base64.urlsafe_b64decode(padded).decode("utf-8", "replace")
    for private in ("jane", "Doe", "CC-410", "1J3YVWU9QWMTB", "globex.example"):
        assert private not in url
        assert private not in carried


def test_the_setup_and_its_answer_are_logged_without_the_secret(
    buyer: Buyer, cxml_app: Flask
) -> None:
    buyer.set_up()

    [entry] = entries_of(cxml_app)
    assert (entry.protocol, entry.kind, entry.outcome, entry.status) == (
        "cxml",
        "setup",
        "accepted",
        200,
    )
    assert "<BuyerCookie>1J3YVWU9QWMTB</BuyerCookie>" in entry.document
    assert GLOBEX_SECRET not in entry.document
    assert "<StartPage>" in entry.answer
    assert entry.return_origin == "https://buyer.globex.example"
    assert entry.punchout_id


@pytest.mark.parametrize(
    "content_type",
    [
        "text/xml",
        "text/xml; charset=UTF-8",
        'text/xml; charset="utf-8"',
        "application/xml",
        "application/xml; charset=utf-8",
        "application/octet-stream",
    ],
)
def test_the_setup_is_read_whatever_the_content_type_says(buyer: Buyer, content_type: str) -> None:
    assert buyer.post(setup_request(), content_type).code == 200


@pytest.mark.parametrize(
    "prefix",
    [b"\xef\xbb\xbf", b"\n", b"\r\n  ", b"\xef\xbb\xbf\n"],
    ids=["bom", "newline", "blanks", "bom-and-newline"],
)
def test_a_byte_order_mark_or_a_stray_newline_before_the_declaration_is_accepted(
    buyer: Buyer, prefix: bytes
) -> None:
    assert buyer.post(prefix + setup_request()).code == 200


def test_coupa_s_order_of_the_setup_s_parts_is_accepted(buyer: Buyer) -> None:
    assert buyer.set_up(Setup(coupa_order=True)).code == 200


def test_the_shared_secret_in_the_from_credential_is_accepted(buyer: Buyer) -> None:
    assert buyer.set_up(Setup(shared_secret=None, from_secret=GLOBEX_SECRET)).code == 200


def test_a_profile_request_lists_the_setup_and_order_requests_and_their_url(
    buyer: Buyer,
) -> None:
    document = setup_request().replace(
        re.search(rb"<PunchOutSetupRequest.*</PunchOutSetupRequest>", setup_request(), re.S)[0],
        b"<ProfileRequest/>",
    )
    answer = buyer.post(document)

    assert answer.code == 200
    assert dtd_problems(answer.root) == []
    transactions = answer.root.findall("Response/ProfileResponse/Transaction")
    assert [t.get("requestName") for t in transactions] == ["PunchOutSetupRequest", "OrderRequest"]
    assert {urlsplit(t.findtext("URL")).path for t in transactions} == {"/cxml/globex"}


# --- Refusals: a Status code the buyer acts on, and nothing stored -----------------------------

REFUSED = [
    pytest.param(Setup(shared_secret="wrong"), 401, "credentials are not recognised", id="secret"),
    pytest.param(Setup(shared_secret=None), 401, "credentials are not recognised", id="no-secret"),
    pytest.param(
        Setup(from_credentials=[("NetworkID", "AN0000")]),
        401,
        "credentials are not recognised",
        id="unknown-from",
    ),
    pytest.param(Setup(buyer_cookie=None), 400, "no BuyerCookie", id="no-cookie"),
    pytest.param(Setup(buyer_cookie="  "), 400, "no BuyerCookie", id="blank-cookie"),
    pytest.param(Setup(browser_form_post=None), 400, "no BrowserFormPost", id="no-form-post"),
    pytest.param(
        Setup(browser_form_post="https://evil.example/punchout/return"),
        400,
        "BrowserFormPost URL https://evil.example/punchout/return is not in the list allowed",
        id="form-post-elsewhere",
    ),
    pytest.param(
        Setup(browser_form_post="javascript:alert(1)//https://buyer.globex.example/punchout/"),
        400,
        "BrowserFormPost URL is not an absolute http(s) URL",
        id="form-post-javascript",
    ),
    pytest.param(Setup(operation="source"), 450, "source is not offered", id="source"),
    pytest.param(Setup(operation="transfer"), 400, "operation transfer is unknown", id="op"),
    pytest.param(
        Setup(extrinsics=[("UserEmail", "jane.doe@globex.example"), ("FirstName", "Jane")]),
        400,
        "no value for Extrinsic CostCenter",
        id="required-extrinsic",
    ),
    pytest.param(
        Setup(
            extrinsics=[
                ("UserEmail", "jane.doe@globex.example"),
                ("FirstName", "Jane"),
                ("CostCenter", "410"),
            ]
        ),
        400,
        "value of Extrinsic CostCenter does not have the agreed format",
        id="pattern",
    ),
    pytest.param(
        Setup(
            extrinsics=[
                ("UserEmail", "jane.doe@initech.example"),
                ("FirstName", "Jane"),
                ("CostCenter", "CC-410"),
            ]
        ),
        403,
        "not in a domain this catalogue accepts",
        id="email-domain",
    ),
    pytest.param(Setup(operation="edit"), 412, "no booking to edit", id="edit-nothing"),
    pytest.param(
        Setup(operation="inspect", items=["FF-009999"]),
        412,
        "FF-009999 is not a booking of this catalogue",
        id="inspect-unknown",
    ),
]


@pytest.mark.parametrize(("setup", "code", "says"), REFUSED)
def test_a_refused_setup_gets_its_status_and_stores_nothing(
    buyer: Buyer, cxml_app: Flask, setup: Setup, code: int, says: str
) -> None:
    answer = buyer.set_up(setup)

    assert answer.code == code
    assert answer.http_status == code
    assert says in answer.text
    assert dtd_problems(answer.root) == []
    assert start_pages_of(cxml_app) == 0
    [entry] = entries_of(cxml_app)
    assert (entry.kind, entry.outcome, entry.status) == ("setup", "rejected", code)
    assert GLOBEX_SECRET not in (entry.document or "") + entry.answer + entry.reason


def test_the_log_says_which_credential_failed_but_the_buyer_is_not_told(
    buyer: Buyer, cxml_app: Flask
) -> None:
    answer = buyer.set_up(Setup(shared_secret="wrong"))

    [entry] = entries_of(cxml_app)
    assert "SharedSecret is not correct" in entry.reason
    assert "SharedSecret is not correct" not in answer.text
    assert "wrong" not in entry.reason


@pytest.mark.parametrize(
    ("document", "code", "says"),
    [
        pytest.param(b"this is not xml", 406, "not well-formed XML", id="not-xml"),
        pytest.param(b"", 406, "not well-formed XML", id="empty"),
        pytest.param(b"<Order/>", 406, "root element is Order", id="not-cxml"),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><cXML>&b;</cXML>',
            406,
            "declares entities",
            id="billion-laughs",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<cXML>&x;</cXML>",
            406,
            "declares entities",
            id="xxe",
        ),
        pytest.param(
            b'<cXML payloadID="1" timestamp="2026-12-02T10:00:00Z"><Message/></cXML>',
            400,
            "carries no Request",
            id="no-request",
        ),
        pytest.param(
            setup_request().replace(b"PunchOutSetupRequest", b"InvoiceDetailRequest"),
            450,
            "does not take InvoiceDetailRequest here",
            id="invoice-request",
        ),
        pytest.param(b"<cXML>" + b" " * (1024 * 1024) + b"</cXML>", 413, "larger than", id="big"),
    ],
)
def test_a_malformed_or_unknown_document_gets_a_4xx_status(
    buyer: Buyer, cxml_app: Flask, document: bytes, code: int, says: str
) -> None:
    answer = buyer.post(document)

    assert answer.code == code
    assert answer.http_status == code
    assert says in answer.text
    assert dtd_problems(answer.root) == []
    assert start_pages_of(cxml_app) == 0
    assert [(entry.outcome, entry.status) for entry in entries_of(cxml_app)] == [("rejected", code)]


def test_a_customer_that_does_not_speak_cxml_is_not_served(cxml_client: FlaskClient) -> None:
    for customer_id in ("acme", "nobody"):
        answer = Buyer(cxml_client, customer_id).set_up()

        assert answer.code == 401
        assert "No cXML customer is served at this address" in answer.text


def test_a_customer_whose_file_has_problems_asks_the_buyer_to_try_again(
    tmp_path: Path, database_url: str, customers_dir: Path
) -> None:
    (customers_dir / "broken.yaml").write_text("name: Broken\ncxml: {credentials: []}\n")
    app = create_app(make_environ(tmp_path, database_url, customers_dir))
    try:
        answer = Buyer(app.test_client(), "broken").set_up()
    finally:
        app.extensions["ociflex.engine"].dispose()

    assert (answer.code, answer.http_status) == (560, 560)
    assert "try again later" in answer.text


def test_a_refusal_is_worded_in_the_customer_s_language(app: Flask) -> None:
    answer = Buyer(app.test_client(), "demo").set_up(Setup(shared_secret="wrong"))

    assert answer.code == 401
    assert answer.status.get("{http://www.w3.org/XML/1998/namespace}lang") == "nl"


# --- The StartPage -------------------------------------------------------------------------------


def test_the_start_page_opens_the_booking_form_without_cookies(buyer: Buyer) -> None:
    page = buyer.open(buyer.set_up())

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Jane Doe" in html
    assert "jane.doe@globex.example" in html
    assert "CC-410" in html  # the cost centre, shown, not editable
    assert re.search(r'name="project"[^>]*value="Apollo"', html)
    assert "frame-ancestors https://buyer.globex.example" in page.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in page.headers


def test_opening_the_start_page_is_logged(buyer: Buyer, cxml_app: Flask) -> None:
    buyer.open(buyer.set_up())

    setup, start = entries_of(cxml_app)
    assert (start.kind, start.outcome, start.punchout_id) == (
        "start",
        "accepted",
        setup.punchout_id,
    )


def test_a_start_page_opened_too_late_is_refused(
    buyer: Buyer, cxml_app: Flask, signing_clock: SigningClock
) -> None:
    answer = buyer.set_up()
    signing_clock.advance(cxml_app.config["OCIFLEX_START_PAGE_MAX_AGE"] + 1)

    page = buyer.open(answer)

    assert page.status_code == 410
    assert "expired" in page.get_data(as_text=True)
    assert entries_of(cxml_app)[-1].reason == "expired StartPage"


def test_an_altered_start_page_is_refused(buyer: Buyer) -> None:
    url = local_path(buyer.set_up().start_page)
    altered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")

    assert buyer.client.get(altered).status_code == 400


def test_a_start_page_of_one_customer_does_not_open_another_s(
    buyer: Buyer, cxml_client: FlaskClient
) -> None:
    url = local_path(buyer.set_up().start_page).replace("/globex/", "/demo/")

    assert cxml_client.get(url).status_code == 410


# --- Booking: the cart back to the BrowserFormPost URL --------------------------------------------


def test_a_booking_is_stored_and_its_cart_posted_to_the_browser_form_post(
    buyer: Buyer, cxml_app: Flask
) -> None:
    page = book_globex(buyer)

    assert form_action(page, "cxml-basket") == GLOBEX_RETURN_URL
    assert 'target="_top"' in page
    [rental] = requests_of(cxml_app)
    assert (rental.protocol, rental.customer_id, rental.vehicle_code, rental.days) == (
        "cxml",
        "globex",
        "SEDAN",
        3,
    )
    assert (rental.requester_email, rental.requester_name) == (
        "jane.doe@globex.example",
        "Jane Doe",
    )
    assert rental.fields["cost_centre"] == "CC-410"
    assert "<BuyerCookie>1J3YVWU9QWMTB</BuyerCookie>" in rental.inbound["document"]
    assert GLOBEX_SECRET not in rental.inbound["document"]
    assert rental.cart["action"] == GLOBEX_RETURN_URL
    assert rental.cart["document"] == cart_document(page).decode("utf-8")


def test_the_cart_carries_the_booking_as_the_buyer_reads_it(buyer: Buyer, cxml_app: Flask) -> None:
    cart = cart_of(book_globex(buyer))

    [rental] = requests_of(cxml_app)
    assert cart.findtext("Message/PunchOutOrderMessage/BuyerCookie") == "1J3YVWU9QWMTB"
    header = cart.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader")
    assert header.get("operationAllowed") == "edit"
    assert header.find("Total/Money").text == "192.00"
    [item] = cart.findall("Message/PunchOutOrderMessage/ItemIn")
    assert item.get("quantity") == "3"
    assert item.findtext("ItemID/SupplierPartID") == "SEDAN"
    assert item.findtext("ItemID/SupplierPartAuxiliaryID") == rental.reference
    assert item.find("ItemDetail/UnitPrice/Money").get("currency") == "USD"
    extrinsics = {e.get("name"): e.text for e in item.findall("ItemDetail/Extrinsic")}
    assert extrinsics == {"CostCenter": "CC-410", "Project": "Apollo", "Supplier": "Euromobil"}
    assert b"SharedSecret" not in etree.tostring(cart)


def test_the_cart_page_may_post_to_the_browser_form_post_s_origin_only(buyer: Buyer) -> None:
    response = buyer.book(buyer.start(), **BOOKING)

    policy = response.headers["Content-Security-Policy"]
    assert "form-action 'self' https://buyer.globex.example;" in policy


def test_the_cart_is_logged_with_its_request(buyer: Buyer, cxml_app: Flask) -> None:
    book_globex(buyer)

    [rental] = requests_of(cxml_app)
    setup, _start, basket = entries_of(cxml_app)
    assert (basket.kind, basket.outcome, basket.protocol) == ("basket", "sent", "cxml")
    assert basket.request_id == rental.id
    assert basket.punchout_id == setup.punchout_id == rental.punchout_id
    assert basket.cart == rental.cart


def test_a_double_submit_stores_one_request_and_sends_the_same_cart(
    buyer: Buyer, cxml_app: Flask
) -> None:
    token = buyer.start()
    first = buyer.book(token, **BOOKING).get_data(as_text=True)
    second = buyer.book(token, **BOOKING).get_data(as_text=True)

    assert len(requests_of(cxml_app)) == 1
    assert cart_document(first) == cart_document(second)


def test_a_form_with_mistakes_comes_back_with_the_way_back(buyer: Buyer) -> None:
    response = buyer.book(buyer.start(), start="", end="")

    assert response.status_code == 422
    assert 'id="back"' in response.get_data(as_text=True)


def test_cancelling_sends_an_empty_cart_and_stores_nothing(buyer: Buyer, cxml_app: Flask) -> None:
    response = buyer.back(buyer.start())

    assert response.status_code == 200
    cart = cart_of(response.get_data(as_text=True))
    assert cart.findall("Message/PunchOutOrderMessage/ItemIn") == []
    header = cart.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader")
    assert header.get("operationAllowed") == "create"
    assert requests_of(cxml_app) == []
    assert entries_of(cxml_app)[-1].kind == "basket"


def test_a_session_of_one_protocol_is_refused_by_the_other(
    buyer: Buyer, cxml_client: FlaskClient
) -> None:
    token = buyer.start()

    response = cxml_client.post("/oci/demo/book", data={"punchout": token, **BOOKING})

    assert response.status_code == 400


# --- An editable field received wrong, corrected in the form (issue 18, item 6) -----------------


def with_project(value: str) -> Setup:
    """The setup request with ``value`` in the Extrinsic of the editable project."""
    others = [(name, sent) for name, sent in Setup().extrinsics if name != "Project"]
    return Setup(extrinsics=[*others, ("Project", value)])


def test_a_malformed_editable_extrinsic_is_set_up_and_marked_in_the_form(
    buyer: Buyer, cxml_app: Flask
) -> None:
    answer = buyer.set_up(with_project("Apollo\nMoon"))
    assert answer.code == 200

    page = Page(buyer.open(answer))

    assert page.alert == "Please correct the fields marked below."
    assert page.errors == {
        "project": "Your purchasing system sent “Apollo Moon” with line breaks or control "
        "characters. Please correct it to one line of text."
    }
    assert page.invalid == {"project"}
    assert page.booking_form is not None
    assert page.booking_form.values["project"] == "Apollo Moon"
    assert requests_of(cxml_app) == []


def test_an_uncorrected_extrinsic_cannot_be_booked(buyer: Buyer, cxml_app: Flask) -> None:
    token = buyer.start(with_project("A" * 256))

    response = buyer.book(token, **{**BOOKING, "project": "A" * 256})

    assert response.status_code == 422
    assert list(Page(response).errors) == ["project"]
    assert requests_of(cxml_app) == []


def test_the_corrected_extrinsic_is_stored_and_in_the_cart_while_the_setup_keeps_what_was_sent(
    buyer: Buyer, cxml_app: Flask
) -> None:
    token = buyer.start(with_project("Apollo\nMoon"))

    response = buyer.book(token, **{**BOOKING, "project": "Apollo Moon"})

    assert response.status_code == 200, response.get_data(as_text=True)
    cart = cart_of(response.get_data(as_text=True))

    [item] = cart.findall("Message/PunchOutOrderMessage/ItemIn")
    extrinsics = {e.get("name"): e.text for e in item.findall("ItemDetail/Extrinsic")}
    assert extrinsics["Project"] == "Apollo Moon"
    assert cart.findtext("Message/PunchOutOrderMessage/BuyerCookie") == "1J3YVWU9QWMTB"
    [rental] = requests_of(cxml_app)
    assert rental.fields["project"] == "Apollo Moon"
    assert '<Extrinsic name="Project">Apollo\nMoon</Extrinsic>' in rental.inbound["document"]


@pytest.fixture
def filling_in_buyer(tmp_path: Path, database_url: str, customers_dir: Path) -> Iterator[Buyer]:
    """``globex`` with a required project that no Extrinsic carries: the employee fills it in."""
    globex = (CUSTOMERS / "globex.yaml").read_text(encoding="utf-8")
    mapped = "project: {extrinsic: Project, editable: true,"
    assert mapped in globex
    (customers_dir / "globex.yaml").write_text(
        globex.replace(mapped, "project: {required: true, editable: true,"), encoding="utf-8"
    )
    app = create_app(make_environ(tmp_path, database_url, customers_dir))
    yield Buyer(app.test_client(use_cookies=False))
    app.extensions["ociflex.engine"].dispose()


def test_a_required_field_the_setup_does_not_carry_opens_unmarked_for_the_employee(
    filling_in_buyer: Buyer,
) -> None:
    page = Page(filling_in_buyer.open(filling_in_buyer.set_up()))

    assert (page.alerts, page.errors, page.invalid) == ([], {}, set())
    assert page.booking_form is not None
    assert page.booking_form.values["project"] == ""


# --- Edit and inspect of an earlier booking ------------------------------------------------------


def reopen(buyer: Buyer, operation: str, reference: str) -> str:
    """The StartPage of an edit or inspect session of ``reference``."""
    answer = buyer.set_up(Setup(operation=operation, items=[reference], buyer_cookie="COOKIE-2"))
    assert answer.code == 200, answer.text
    page = buyer.open(answer)
    assert page.status_code == 200, page.get_data(as_text=True)
    return page.get_data(as_text=True)


def test_an_edit_opens_the_booking_filled_in(buyer: Buyer, cxml_app: Flask) -> None:
    book_globex(buyer, remarks="Child seat please")
    [rental] = requests_of(cxml_app)

    page = reopen(buyer, "edit", rental.reference)

    assert f"Change request {rental.reference}" in page
    assert re.search(rf'name="start"[^>]*value="{FIRST_DAY.isoformat()}"', page)
    assert re.search(r'<option value="SEDAN" selected>', page)
    assert "Child seat please" in page


def test_an_edit_changes_the_same_request_and_its_history_says_what_changed(
    buyer: Buyer, cxml_app: Flask
) -> None:
    book_globex(buyer)
    [rental] = requests_of(cxml_app)
    later = LAST_DAY + timedelta(days=1)

    token = page_token(reopen(buyer, "edit", rental.reference))
    response = buyer.book(token, **{**BOOKING, "vehicle": "PICKUP", "end": later.isoformat()})

    assert response.status_code == 200
    assert f"Request {rental.reference} changed" in response.get_data(as_text=True)
    [changed] = requests_of(cxml_app)
    assert (changed.id, changed.vehicle_code, changed.end_date, changed.days) == (
        rental.id,
        "PICKUP",
        later,
        4,
    )
    event = events_of(cxml_app, rental.id)[-1]
    assert (event.actor, event.action) == ("employee", "edited")
    assert event.changes["vehicle_code"] == ["SEDAN", "PICKUP"]
    assert event.changes["end_date"] == [LAST_DAY.isoformat(), later.isoformat()]
    assert event.changes["day_rate"] == ["64.00", "89.50"]
    cart = cart_of(response.get_data(as_text=True))
    assert cart.findtext("Message/PunchOutOrderMessage/BuyerCookie") == "COOKIE-2"
    [item] = cart.findall("Message/PunchOutOrderMessage/ItemIn")
    assert (item.get("quantity"), item.findtext("ItemID/SupplierPartID")) == ("4", "PICKUP")
    assert item.findtext("ItemID/SupplierPartAuxiliaryID") == rental.reference


def test_an_edit_without_changes_writes_no_history(buyer: Buyer, cxml_app: Flask) -> None:
    book_globex(buyer)
    [rental] = requests_of(cxml_app)

    buyer.book(page_token(reopen(buyer, "edit", rental.reference)), **BOOKING)

    assert [event.action for event in events_of(cxml_app, rental.id)] == ["registered"]


def test_an_edit_after_operations_started_shows_the_booking_and_returns_it_unchanged(
    buyer: Buyer, cxml_app: Flask
) -> None:
    book_globex(buyer)
    [rental] = requests_of(cxml_app)
    set_status(cxml_app, rental.id, "in_progress")

    page = reopen(buyer, "edit", rental.reference)

    assert 'id="not-editable"' in page
    assert 'name="vehicle"' not in page
    back = buyer.back(page_token(page))
    cart = cart_of(back.get_data(as_text=True))
    header = cart.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader")
    assert header.get("operationAllowed") == "inspect"
    [item] = cart.findall("Message/PunchOutOrderMessage/ItemIn")
    assert item.findtext("ItemID/SupplierPartAuxiliaryID") == rental.reference
    [after] = requests_of(cxml_app)
    assert (after.vehicle_code, after.version, after.cart) == ("SEDAN", rental.version, rental.cart)


def test_an_edit_sent_after_operations_started_changes_nothing(
    buyer: Buyer, cxml_app: Flask
) -> None:
    book_globex(buyer)
    [rental] = requests_of(cxml_app)
    token = page_token(reopen(buyer, "edit", rental.reference))
    set_status(cxml_app, rental.id, "scheduled")

    response = buyer.book(token, **{**BOOKING, "vehicle": "PICKUP"})

    assert response.status_code == 409
    assert 'id="not-editable"' in response.get_data(as_text=True)
    assert requests_of(cxml_app)[0].vehicle_code == "SEDAN"


def test_inspect_shows_the_booking_and_returns_no_lines(buyer: Buyer, cxml_app: Flask) -> None:
    book_globex(buyer)
    [rental] = requests_of(cxml_app)

    page = reopen(buyer, "inspect", rental.reference)

    assert 'name="vehicle"' not in page
    assert "Sedan (Toyota Camry or similar)" in page
    cart = cart_of(buyer.back(page_token(page)).get_data(as_text=True))
    assert cart.findall("Message/PunchOutOrderMessage/ItemIn") == []
    header = cart.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader")
    assert header.get("operationAllowed") == "edit"  # still open to change


def test_an_inspect_session_cannot_book(buyer: Buyer, cxml_app: Flask) -> None:
    book_globex(buyer)
    [rental] = requests_of(cxml_app)
    token = page_token(reopen(buyer, "inspect", rental.reference))

    assert buyer.book(token, **{**BOOKING, "vehicle": "PICKUP"}).status_code == 400
    assert requests_of(cxml_app)[0].vehicle_code == "SEDAN"


def test_the_booking_of_another_customer_cannot_be_opened(
    buyer: Buyer, cxml_app: Flask, demo_callup: dict[str, str]
) -> None:
    client = cxml_app.test_client(use_cookies=False)
    form = client.post("/oci/demo", data=demo_callup).get_data(as_text=True)
    client.post(
        "/oci/demo/book",
        data={"punchout": page_token(form), "vehicle": "VAN", "location": "Utrecht Papendorp"}
        | {"start": FIRST_DAY.isoformat(), "end": LAST_DAY.isoformat(), "cost_centre": "4100"},
    )
    [demo_request] = requests_of(cxml_app)

    answer = buyer.set_up(Setup(operation="edit", items=[demo_request.reference]))

    assert answer.code == 412
    assert start_pages_of(cxml_app) == 0


def test_a_reference_is_read_whatever_its_case(buyer: Buyer, cxml_app: Flask) -> None:
    book_globex(buyer)
    [rental] = requests_of(cxml_app)

    answer = buyer.set_up(Setup(operation="inspect", items=[rental.reference.lower()]))

    assert answer.code == 200


def test_nothing_secret_is_ever_stored(buyer: Buyer, cxml_app: Flask) -> None:
    book_globex(buyer)
    buyer.set_up(Setup(shared_secret="wrong"))

    with session_for(cxml_app) as session:
        for table in ("rental_requests", "transfers", "start_pages"):
            rows = session.execute(text(f"SELECT * FROM {table}")).all()
            assert GLOBEX_SECRET not in repr(rows), table
            assert "wrong" not in repr(rows).replace("wrong_", ""), table


def test_the_answer_is_a_cxml_document_even_for_a_body_werkzeug_refuses(buyer: Buyer) -> None:
    answer = buyer.post(b"<cXML>" + b"x" * (2 * 1024 * 1024) + b"</cXML>")

    assert answer.code == 413


def test_the_setup_of_a_customer_with_both_protocols_leaves_oci_as_it_was(
    app: Flask, demo_callup: dict[str, str]
) -> None:
    client = app.test_client(use_cookies=False)
    demo = Buyer(client, "demo")
    setup = Setup(
        from_credentials=[("NetworkID", "AN-DEMO-INKOOP")],
        sender=("NetworkID", "AN-DEMO-INKOOP"),
        shared_secret="demo-secret",
        browser_form_post="http://127.0.0.1:5000/dev/cxml/cart",
        extrinsics=[("CostCenter", "4100")],
        contact=("Jan Jansen", "jan.jansen@demo.example"),
    )

    answer = demo.set_up(setup)

    assert answer.code == 200, answer.text
    page = demo.open(answer).get_data(as_text=True)
    assert "Jan Jansen" in page
    assert 'value="4100"' in page
    assert client.post("/oci/demo", data=demo_callup).status_code == 200


def test_an_oci_and_a_cxml_customer_book_side_by_side_as_the_same_kind_of_request(
    buyer: Buyer, cxml_app: Flask, acme_callup: dict[str, str]
) -> None:
    client = buyer.client
    oci_form = client.post("/oci/acme", data=acme_callup)
    assert oci_form.status_code == 200, oci_form.get_data(as_text=True)
    oci_token = page_token(oci_form.get_data(as_text=True))
    cxml_token = buyer.start()

    # Both forms are open at once; the cXML employee finishes first.
    cxml_cart = buyer.book(cxml_token, **BOOKING)
    oci_basket = client.post(
        "/oci/acme/book",
        data={"punchout": oci_token, "vehicle": "ESTATE", **BOOKING, "project": "P-123"},
    )

    assert cxml_cart.status_code == 200, cxml_cart.get_data(as_text=True)
    assert oci_basket.status_code == 200, oci_basket.get_data(as_text=True)
    assert "cxml-base64" in cxml_cart.get_data(as_text=True)
    assert 'name="NEW_ITEM-VENDORMAT[1]" value="ESTATE"' in oci_basket.get_data(as_text=True)
    stored = sorted(requests_of(cxml_app), key=lambda rental: rental.id)
    assert [(r.reference, r.customer_id, r.protocol) for r in stored] == [
        ("FF-000001", "globex", "cxml"),
        ("FF-000002", "acme", "oci"),
    ]
    assert [(r.start_date, r.end_date, r.days, r.status) for r in stored] == [
        (FIRST_DAY, LAST_DAY, 3, "new")
    ] * 2
    assert [r.fields["email"] for r in stored] == [
        "jane.doe@globex.example",
        "jane.smith@acme.example",
    ]


def test_the_start_page_of_a_booking_that_is_gone_is_not_found(
    buyer: Buyer, cxml_app: Flask
) -> None:
    book_globex(buyer)
    [rental] = requests_of(cxml_app)
    answer = buyer.set_up(replace(Setup(), operation="inspect", items=[rental.reference]))
    with session_for(cxml_app) as session:
        session.execute(text("DELETE FROM transfers"))
        session.execute(text("DELETE FROM request_events"))
        session.execute(text("DELETE FROM outbox"))
        session.execute(text("DELETE FROM rental_requests"))
        session.commit()

    assert buyer.open(answer).status_code == 404


def test_every_document_ociflex_answered_keeps_the_cxml_element_order(
    buyer: Buyer, cxml_app: Flask
) -> None:
    book_globex(buyer)
    buyer.set_up(Setup(operation="source"))

    answers = [entry.answer for entry in entries_of(cxml_app) if entry.answer]
    carts = [entry.cart["document"] for entry in entries_of(cxml_app) if entry.cart]
    assert len(answers) == 2
    assert len(carts) == 1
    for document in answers + carts:
        assert dtd_problems(document.encode("utf-8")) == []


def test_an_answer_s_status_text_is_what_the_buyer_s_administrator_reads(buyer: Buyer) -> None:
    answer: Answer = buyer.set_up(Setup(browser_form_post="https://buyer.globex.example/other"))

    assert answer.code == 400
    assert "Euromobil registers the addresses your system may use" in answer.text


def test_the_daily_prune_deletes_the_start_pages_that_can_no_longer_be_opened(
    buyer: Buyer, cxml_app: Flask
) -> None:
    old, fresh = buyer.set_up(), buyer.set_up()
    old_id = entries_of(cxml_app)[0].punchout_id
    with session_for(cxml_app) as session:
        moment = datetime.now(UTC) - timedelta(minutes=11)
        session.execute(update(StartPage).where(StartPage.id == old_id).values(created_at=moment))
        session.commit()

    result = cxml_app.test_cli_runner().invoke(args=["ociflex", "transfers", "prune"])

    assert "deleted 1 cXML StartPages that can no longer be opened" in result.output
    assert start_pages_of(cxml_app) == 1
    assert buyer.open(fresh).status_code == 200
    assert buyer.open(old).status_code == 410
