"""The operations pages for cXML, from real cXML punch-outs through the test client: a request's
page shows its protocol, its setup request and its cart as readable XML, and the requester's
changes in an edit session in its history; the inbox marks cXML requests; the transfer log lists
each cXML document in and out with its protocol and kind, and shows it with ociflex's answer
and the other entries of its punch-out. On SQLite and PostgreSQL.

The operations pages are Dutch. Texts that are new with cXML are found as the catalogue
translates them (:func:`dutch`), so these tests hold before and after their translation.
"""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import format_currency, format_date, gettext
from lxml import etree, html
from sqlalchemy import select
from werkzeug.test import TestResponse

from ociflex.booking.form import today
from ociflex.db import session_for
from ociflex.models import RentalRequest, Transfer
from ociflex.ops.operators import add_operator
from tests.conftest import (
    CXML_CUSTOMERS,
    OPERATOR_NAME,
    OPERATOR_PASSWORD,
    OPERATOR_USERNAME,
    log_in,
)
from tests.support.cxml import (
    GLOBEX_RETURN_URL,
    GLOBEX_SECRET,
    Buyer,
    Setup,
    cart_document,
    page_token,
    setup_request,
)

GLOBEX_ORIGIN = "https://buyer.globex.example"


@pytest.fixture
def cxml_ops(cxml_app: Flask) -> FlaskClient:
    """An operator logged in on the app that serves the cXML customers (as ``ops_client`` is
    on ``app``), so that the pages know ``globex`` and its labels."""
    with session_for(cxml_app) as session:
        add_operator(session, OPERATOR_USERNAME, OPERATOR_PASSWORD, OPERATOR_NAME)
    client = cxml_app.test_client()
    assert log_in(client).status_code == 303
    return client


# --- Helpers ------------------------------------------------------------------------------------


def dutch(app: Flask, message: str) -> str:
    """``message`` as the (Dutch) operations pages show it."""
    with app.test_request_context():
        return gettext(message)


def in_dutch(app: Flask, write: Callable[..., str], *args: object) -> str:
    """What a Flask-Babel formatter ``write`` writes on the operations pages."""
    with app.test_request_context():
        return write(*args)


def day(offset: int) -> date:
    return today() + timedelta(days=offset)


class Page:
    """An operations page as the operator reads it."""

    def __init__(self, response: TestResponse) -> None:
        assert response.status_code == 200, response.get_data(as_text=True)
        self.source = response.get_data(as_text=True)
        self.root = html.fromstring(self.source)
        for line_break in self.root.iter("br"):  # a line of its own, as a browser shows it
            line_break.tail = "\n" + (line_break.tail or "")

    def has(self, element_id: str) -> bool:
        return bool(self.root.xpath("//*[@id=$id]", id=element_id))

    def text(self, element_id: str) -> str:
        """The text of an element, single-spaced."""
        return " ".join(self.exact(element_id).split())

    def exact(self, element_id: str) -> str:
        """The text of an element as the page holds it (a <pre> without its opening line
        break, as a browser shows it)."""
        [element] = self.root.xpath("//*[@id=$id]", id=element_id)
        return element.text_content().removeprefix("\n")

    def rows(self, table_id: str) -> list[list[str]]:
        """The body rows of a table, each cell single-spaced."""
        return [
            [" ".join(cell.text_content().split()) for cell in row.xpath("td|th")]
            for row in self.root.xpath("//table[@id=$id]/tbody/tr", id=table_id)
        ]

    def row_ids(self, table_id: str) -> list[int]:
        return [int(n) for n in self.root.xpath("//table[@id=$id]/tbody/tr/@data-id", id=table_id)]

    def items(self, xpath: str) -> list[str]:
        """The single-spaced texts of the elements at ``xpath``."""
        return [" ".join(element.text_content().split()) for element in self.root.xpath(xpath)]

    def href(self, element_id: str) -> str:
        [href] = self.root.xpath("//*[@id=$id]/@href", id=element_id)
        return str(href)

    def hrefs(self) -> list[str]:
        return [str(href) for href in self.root.xpath("//a/@href")]


def same_document(shown: str, stored: str | bytes) -> bool:
    """Whether two texts are the same XML document, whatever the blanks between elements."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    data = [text.encode() if isinstance(text, str) else text for text in (shown, stored)]
    trees = [etree.fromstring(text, parser) for text in data]
    return etree.tostring(trees[0], method="c14n") == etree.tostring(trees[1], method="c14n")


def requests(app: Flask) -> list[RentalRequest]:
    with session_for(app) as session:
        return list(session.scalars(select(RentalRequest).order_by(RentalRequest.id)))


def entries(app: Flask) -> list[Transfer]:
    with session_for(app) as session:
        return list(session.scalars(select(Transfer).order_by(Transfer.id)))


def book(buyer: Buyer, setup: Setup | None = None, **form: str) -> TestResponse:
    """A whole cXML punch-out: setup request, StartPage, the booking form sent."""
    values = {"start": day(3).isoformat(), "end": day(3).isoformat(), "project": "Apollo"}
    response = buyer.book(buyer.start(setup), **{**values, **form})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


# --- A request's page ---------------------------------------------------------------------------


def test_a_cxml_request_shows_its_setup_request_and_its_cart_as_readable_xml(
    cxml_app: Flask, cxml_client: FlaskClient, cxml_ops: FlaskClient
) -> None:
    booked = book(Buyer(cxml_client), remarks="Graag met trekhaak")
    [rental] = requests(cxml_app)
    setup_entry = entries(cxml_app)[0]
    page = Page(cxml_ops.get(f"/ops/requests/{rental.id}"))

    assert page.text("protocol") == "cXML"
    assert page.text("transfer-link") == dutch(cxml_app, "Setup request and cart of this punch-out")
    assert page.href("transfer-link") == f"/ops/transfers/{setup_entry.id}"

    # The setup request as received, one element a line, its SharedSecret removed.
    assert not page.has("callup")
    setup = page.exact("setup-document")
    assert same_document(setup, rental.inbound["document"])
    assert "      <BuyerCookie>1J3YVWU9QWMTB</BuyerCookie>" in setup.splitlines()
    assert "<SharedSecret>(removed)</SharedSecret>" in setup
    assert GLOBEX_SECRET not in page.source
    assert "<BuyerCookie>" not in page.source  # shown as text, never as markup

    # The cart as the browser posted it: where, into which frame, in which field, and the
    # PunchOutOrderMessage it carried, readable rather than base64.
    assert not page.has("basket")
    form = page.text("cart-form")
    assert GLOBEX_RETURN_URL in form
    assert "_top" in form
    assert page.text("cart-field") == "cxml-base64"
    posted = cart_document(booked.get_data(as_text=True))
    cart = page.exact("cart-document")
    assert same_document(cart, posted)
    assert "<SupplierPartAuxiliaryID>FF-000001</SupplierPartAuxiliaryID>" in cart
    assert rental.cart["fields"][0][1] not in page.source
    assert "Graag met trekhaak" in page.text("requester")


def test_a_change_by_the_requester_shows_in_the_history_as_the_page_writes_it(
    cxml_app: Flask, cxml_client: FlaskClient, cxml_ops: FlaskClient
) -> None:
    buyer = Buyer(cxml_client)
    book(buyer)
    [rental] = requests(cxml_app)
    first, last = day(5), day(7)
    book(
        buyer,
        Setup(operation="edit", items=[rental.reference], payload_id="edit-1@buyer"),
        vehicle="PICKUP",
        start=first.isoformat(),
        end=last.isoformat(),
        project="Zeus",
        remarks="Met trekhaak",
    )
    page = Page(cxml_ops.get(f"/ops/requests/{rental.id}"))

    registered, edited = page.rows("history")
    assert registered[1:3] == ["Aanvrager", "Geregistreerd via de punch-out"]
    assert edited[1:3] == ["Aanvrager 127.0.0.1", dutch(cxml_app, "Changed by the requester")]
    booked_day = in_dutch(cxml_app, format_date, day(3), "full")

    def usd(amount: str) -> str:
        return " ".join(in_dutch(cxml_app, format_currency, Decimal(amount), "USD").split())

    assert page.items("//table[@id='history']/tbody/tr[2]//li") == [
        "Voertuig: Sedan (Toyota Camry or similar) (SEDAN) → Pickup truck (Ford F-150) (PICKUP)",
        f"Eerste dag: {booked_day} → {in_dutch(cxml_app, format_date, first, 'full')}",
        f"Laatste dag: {booked_day} → {in_dutch(cxml_app, format_date, last, 'full')}",
        "Huurperiode: 1 dag → 3 dagen",
        "Opmerkingen: – → Met trekhaak",
        f"Dagprijs: {usd('64.00')} → {usd('89.50')}",
        "Project: Apollo → Zeus",
    ]
    # The page's own facts are the request as it stands now.
    assert "Pickup truck (Ford F-150) (PICKUP)" in page.text("rental")
    assert same_document(page.exact("cart-document"), requests(cxml_app)[0].cart["document"])


@pytest.fixture
def initech(customers_dir: Path) -> str:
    """A customer like ``globex`` with a field of its own named ``start_date``: a valid field
    name, and also the name an edit session's history gives the request's first day."""
    globex = (CXML_CUSTOMERS / "globex.yaml").read_text(encoding="utf-8")
    own_field = "  start_date: {editable: true, label: {en: Contract start, nl: Contractstart}}\n"
    text = globex.replace("basket:\n", own_field + "basket:\n", 1)
    (customers_dir / "initech.yaml").write_text(text, encoding="utf-8")
    return "initech"


def test_a_change_to_a_field_named_as_a_column_keeps_both_changes_in_the_history(
    initech: str, cxml_app: Flask, cxml_client: FlaskClient, cxml_ops: FlaskClient
) -> None:
    """Shows a bug in ociflex.booking.edit: an edit writes the changes of the request's
    columns and of the customer's fields into one mapping, so a field named as a column
    (``start_date``, ``end_date``, ``day_rate`` are allowed field names) replaces that
    column's change, and the history loses the new first day."""
    buyer = Buyer(cxml_client, customer_id=initech)
    book(buyer, start_date="1 March")
    [rental] = requests(cxml_app)
    edit = Setup(operation="edit", items=[rental.reference], payload_id="edit-2@buyer")
    new_day = day(6)
    book(buyer, edit, start=new_day.isoformat(), end=new_day.isoformat(), start_date="1 April")

    page = Page(cxml_ops.get(f"/ops/requests/{rental.id}"))
    changes = page.items("//table[@id='history']/tbody/tr[2]//li")
    assert "Contractstart: 1 March → 1 April" in changes
    first_day = in_dutch(cxml_app, format_date, new_day, "full")
    assert any(change.startswith("Eerste dag:") and first_day in change for change in changes)


# --- The inbox ----------------------------------------------------------------------------------


def test_the_inbox_marks_the_requests_that_came_by_cxml(
    cxml_app: Flask,
    cxml_client: FlaskClient,
    cxml_ops: FlaskClient,
    acme_callup: dict[str, str],
) -> None:
    book(Buyer(cxml_client))
    form = cxml_client.post("/oci/acme", data=acme_callup)
    oci = cxml_client.post(
        "/oci/acme/book",
        data={
            "punchout": page_token(form.get_data(as_text=True)),
            "vehicle": "ESTATE",
            "start": day(7).isoformat(),
            "end": day(9).isoformat(),
            "project": "P-123",
        },
    )
    assert oci.status_code == 200, oci.get_data(as_text=True)
    by_cxml, by_oci = requests(cxml_app)

    page = Page(cxml_ops.get("/ops/"))
    assert page.row_ids("requests") == [by_oci.id, by_cxml.id]
    references = page.items("//table[@id='requests']/tbody/tr/td[1]")
    assert references == [by_oci.reference, f"{by_cxml.reference} cXML"]
    assert page.items("//span[contains(@class, 'badge-protocol')]") == ["cXML"]


# --- The transfer log ---------------------------------------------------------------------------


def test_the_log_shows_every_cxml_document_in_and_out_with_its_kind_and_protocol(
    cxml_app: Flask, cxml_client: FlaskClient, cxml_ops: FlaskClient
) -> None:
    buyer = Buyer(cxml_client)
    booked = book(buyer)
    profile = buyer.post(setup_request().replace(b"PunchOutSetupRequest", b"ProfileRequest"))
    unreadable = buyer.post(b"<cXML><Header>not closed")
    assert (profile.code, unreadable.code) == (200, 406)
    setup, start, basket, profile_entry, unreadable_entry = entries(cxml_app)
    [rental] = requests(cxml_app)

    page = Page(cxml_ops.get("/ops/transfers"))
    ids = [unreadable_entry.id, profile_entry.id, basket.id, start.id, setup.id]
    assert page.row_ids("transfers") == ids
    rows = page.rows("transfers")
    assert [row[2] for row in rows] == [
        dutch(cxml_app, kind)
        for kind in (
            "cXML document",
            "Profile request",
            "Basket",
            "StartPage opened",
            "Setup request",
        )
    ]
    assert [row[7] for row in rows] == ["cXML"] * 5
    assert [row[6] for row in rows] == ["–", "–", GLOBEX_ORIGIN, GLOBEX_ORIGIN, GLOBEX_ORIGIN]
    offered = page.root.xpath("//select[@name='kind']/option/@value")
    assert {"setup", "profile", "request", "start"} <= set(offered)
    only_setups = Page(cxml_ops.get("/ops/transfers", query_string={"kind": "setup"}))
    assert only_setups.row_ids("transfers") == [setup.id]

    # The setup request as received and the answer with the StartPage, both readable.
    shown = Page(cxml_ops.get(f"/ops/transfers/{setup.id}"))
    assert shown.text("protocol") == "cXML"
    assert dutch(cxml_app, "BrowserFormPost origin") in shown.text("summary")
    assert shown.text("return-origin") == GLOBEX_ORIGIN
    assert same_document(shown.exact("document"), setup.document)
    assert "<SharedSecret>(removed)</SharedSecret>" in shown.exact("document")
    assert GLOBEX_SECRET not in shown.source
    assert same_document(shown.exact("answer"), setup.answer)
    assert "      <StartPage>" in shown.exact("answer").splitlines()
    assert not shown.has("parameters")
    # Its punch-out, in order: the setup request, the StartPage opened, the cart.
    assert shown.row_ids("story") == [setup.id, start.id, basket.id]
    assert {f"/ops/transfers/{start.id}", f"/ops/transfers/{basket.id}"} <= set(shown.hrefs())

    # The cart sent, readable, with its request.
    cart = Page(cxml_ops.get(f"/ops/transfers/{basket.id}"))
    assert same_document(cart.exact("cart-document"), cart_document(booked.get_data(as_text=True)))
    assert GLOBEX_RETURN_URL in cart.text("cart-form")
    assert f"/ops/requests/{rental.id}" in cart.hrefs()
    assert not cart.has("document")
    assert not cart.has("parameters")

    # A profile request and its answer; a document that did not parse, as it came.
    answered = Page(cxml_ops.get(f"/ops/transfers/{profile_entry.id}"))
    assert "    </ProfileResponse>" in answered.exact("answer").splitlines()
    refused = Page(cxml_ops.get(f"/ops/transfers/{unreadable_entry.id}"))
    assert refused.exact("document") == "<cXML><Header>not closed"
    assert 'code="406"' in refused.exact("answer")
    assert not refused.has("story")


def test_an_oci_entry_keeps_its_labels_beside_cxml_ones(
    cxml_app: Flask, cxml_client: FlaskClient, cxml_ops: FlaskClient, acme_callup: dict[str, str]
) -> None:
    assert cxml_client.post("/oci/acme", data=acme_callup).status_code == 200
    [callup] = entries(cxml_app)
    page = Page(cxml_ops.get(f"/ops/transfers/{callup.id}"))
    assert page.text("protocol") == "SAP OCI"
    assert "Herkomst van HOOK_URL" in page.text("summary")
    assert page.text("return-origin") == "https://erp.acme.example"
    assert not page.has("document")
    assert not page.has("answer")
    assert [row[1] for row in page.rows("parameters")][:2] == ["loginname", "HOOK_URL"]
    listed = Page(cxml_ops.get("/ops/transfers"))
    assert [row[2] for row in listed.rows("transfers")] == ["Call-up"]
    assert [row[7] for row in listed.rows("transfers")] == ["SAP OCI"]
