"""The ERP simulator's cXML buyer punches out to ociflex as a procurement system does, and checks
the cart that comes back."""

import base64
import html
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ociflex import create_app
from ociflex.db import session_for
from ociflex.models import PurchaseOrder, RentalRequest, Transfer
from tests.conftest import DEMO_PASSWORD
from tests.support.cxml import (
    CUSTOMERS,
    GLOBEX_RETURN_URL,
    GLOBEX_SECRET,
    Buyer,
    Setup,
    cart_document,
    setup_request,
)
from tests.support.html import Html, single_spaced
from tests.support.html import text_of as element_text
from tests.support.punchout import days_from_today

#: Where the demo customer's browser_form_posts expect the development server.
DEV_SERVER = "http://127.0.0.1:5000"
#: The same service under the other loopback name: another site to the browser.
OTHER_SERVER = "http://localhost:5000"
MASK = "********"


@pytest.fixture
def environ(environ: dict[str, str]) -> dict[str, str]:
    """The test environment with the developer tools on, as in development."""
    return {**environ, "OCIFLEX_DEV_TOOLS": "1"}


@pytest.fixture
def cxml_app(environ: dict[str, str], customers_dir: Path) -> Iterator[Flask]:
    """The app with the cXML test customer ``globex`` too, and the developer tools on (the
    conftest's ``cxml_app`` leaves them off)."""
    for file in CUSTOMERS.glob("*.yaml"):
        shutil.copy(file, customers_dir / file.name)
    app = create_app(environ)
    yield app
    app.extensions["ociflex.engine"].dispose()


# --- Reading the pages ---------------------------------------------------------------------------


def form_of(page: str, form_id: str) -> MultiDict[str, str]:
    """The fields of the form ``form_id`` as a browser submits them."""
    return MultiDict(Html(page).forms[form_id].pairs)


def changed(form: MultiDict[str, str], changes: dict[str, str]) -> MultiDict[str, str]:
    """``form`` with the value of each field in ``changes`` replaced (or added)."""
    for name, value in changes.items():
        form[name] = value
    return form


def extrinsic_rows(form: MultiDict[str, str]) -> list[tuple[str, str]]:
    """The (name, value) rows of the setup form's Extrinsic table."""
    return list(zip(form.getlist("extrinsic_name"), form.getlist("extrinsic_value"), strict=True))


def action_of(page: str, form_id: str) -> str:
    return Html(page).forms[form_id].action


def text_of(page: str, element_id: str) -> str | None:
    """The text of the element whose id is ``element_id``, single-spaced (None when there is
    none)."""
    text = Html(page).texts.get(element_id)
    return None if text is None else single_spaced(text)


def document_of(page: str, element_id: str = "document") -> str:
    """A document the page shows, as its text (blanks kept)."""
    text = Html(page).texts.get(element_id)
    assert text is not None, f"the page shows no #{element_id}"
    return text


def verdicts_of(page: str) -> dict[tuple[int | None, str], tuple[str | None, str]]:
    """The cart page's rows: (line or None, subject) -> (value or None, verdict)."""
    rows: dict[tuple[int | None, str], tuple[str | None, str]] = {}
    for row in Html(page).root.iter("tr"):
        if "data-subject" not in row.attrib:
            continue
        table = next(row.iterancestors("table"), None)
        in_lines = table is not None and "data-line" in table.attrib
        line = int(table.get("data-line")) if in_lines else None
        cells = [cell for cell in row if cell.tag in ("th", "td")]
        value_cell = cells[1] if len(cells) > 1 else None
        missing = value_cell is not None and value_cell.tag == "td"
        missing = missing and "muted" in value_cell.get("class", "")
        _subject, value, verdict = (single_spaced(element_text(cell)) for cell in cells)
        rows[(line, row.get("data-subject"))] = (None if missing else value, verdict)
    return rows


# --- The buyer's steps ---------------------------------------------------------------------------


def simulator(client: FlaskClient, query: str = "customer=demo", base_url: str = DEV_SERVER) -> str:
    response = client.get(f"/dev/cxml?{query}", base_url=base_url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def submit(
    client: FlaskClient,
    page: str,
    action: str,
    changes: dict[str, str] | None = None,
    base_url: str = DEV_SERVER,
) -> str:
    """Press the setup form's button ``action`` with the fields in ``changes`` changed."""
    form = changed(form_of(page, "setup"), {**(changes or {}), "action": action})
    response = client.post(action_of(page, "setup"), data=form, base_url=base_url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def start_page_of(page: str) -> str:
    url = text_of(page, "start-page")
    assert url, text_of(page, "answer")
    return html.unescape(url)


BOOKING = {
    "vehicle": "COMPACT",
    # Within the booking window (about 18 months ahead), three days.
    "start": days_from_today(30),
    "end": days_from_today(32),
    "location": "Amsterdam Sloterdijk",
    "cost_centre": "4100",
}


def book(client: FlaskClient, start_page: str, changes: dict[str, str] | None = None) -> str:
    """Open the StartPage and send its booking form (the values of the form as it is, with
    :data:`BOOKING` or ``changes`` over them): the page that posts the cart."""
    opened = client.get(start_page)
    assert opened.status_code == 200
    form = changed(form_of(opened.get_data(as_text=True), "booking"), changes or BOOKING)
    response = client.post("/cxml/demo/book", data=form, base_url=DEV_SERVER)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def go_back(client: FlaskClient, start_page: str) -> str:
    """Open the StartPage and go back to the buyer without booking."""
    opened = client.get(start_page).get_data(as_text=True)
    response = client.post("/cxml/demo/back", data=form_of(opened, "back"), base_url=DEV_SERVER)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_cart(client: FlaskClient, page: str) -> str:
    """Post the cart as the employee's browser does: ociflex's cart form, to its action."""
    action = html.unescape(action_of(page, "cxml-basket"))
    response = client.post(action, data=form_of(page, "cxml-basket"))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sent_and_started(client: FlaskClient, changes: dict[str, str] | None = None) -> str:
    """Send the demo customer's setup request (changed as in ``changes``): the StartPage."""
    answer = submit(client, simulator(client), "send", changes)
    return start_page_of(answer)


def all_clear(cart_page: str) -> None:
    rows = verdicts_of(cart_page)
    assert {verdict for _value, verdict in rows.values()} == {"OK"}, rows
    assert text_of(cart_page, "verdict") == "Alle controles geslaagd."
    assert 'class="problem' not in cart_page


# --- The setup request ---------------------------------------------------------------------------


def test_the_form_is_prefilled_from_the_customer_file(client: FlaskClient) -> None:
    page = simulator(client)

    form = form_of(page, "setup")
    cookie = form["buyer_cookie"]
    assert len(cookie) >= 16
    assert form["operation"] == "create"
    assert (form["from_domain"], form["from_identity"]) == ("NetworkID", "AN-DEMO-INKOOP")
    assert (form["sender_domain"], form["sender_identity"]) == ("NetworkID", "AN-DEMO-INKOOP")
    assert form["shared_secret"] == DEMO_PASSWORD
    assert form["browser_form_post"] == (
        f"{DEV_SERVER}/dev/cxml/cart?cookie={cookie}&operation=create&customer=demo"
    )
    assert form["deployment_mode"] == "test"
    assert form["reference"] == "FF-000001"
    assert extrinsic_rows(form) == [
        ("CostCenter", "4100"),
        ("PONumber", "4500012345"),
        *[("", "")] * 3,
    ]
    # email and full_name have no Extrinsic in the demo file: they go in Contact role="endUser".
    assert (form["contact_name"], form["contact_email"]) == ("Jan Jansen", "jan.jansen@example.nl")
    assert text_of(page, "secret-note") is None
    # The document to send, with the DTD's verdict; the secret masked.
    document = document_of(page)
    assert '<PunchOutSetupRequest operation="create">' in document
    assert f"<BuyerCookie>{cookie}</BuyerCookie>" in document
    assert f"<SharedSecret>{MASK}</SharedSecret>" in document
    assert DEMO_PASSWORD not in document
    assert '<Contact role="endUser">' in document
    assert "<ItemOut" not in document
    assert text_of(page, "document-dtd") == (
        "Het document volgt de elementvolgorde en de verplichte attributen van de cXML-DTD."
    )


def test_each_load_has_a_fresh_buyer_cookie(client: FlaskClient) -> None:
    cookies = {form_of(simulator(client), "setup")["buyer_cookie"] for _ in range(3)}

    assert len(cookies) == 3


def test_a_customer_with_a_hashed_secret_asks_for_it_to_be_typed(
    cxml_client: FlaskClient,
) -> None:
    page = simulator(cxml_client, "customer=globex")

    form = form_of(page, "setup")
    assert form["shared_secret"] == ""
    assert "typ het geheim" in (text_of(page, "secret-note") or "")
    assert (form["from_domain"], form["from_identity"]) == ("NetworkID", "AN01000099999")
    # Every field has an Extrinsic of its own; the name's example is split over two.
    assert extrinsic_rows(form)[:5] == [
        ("UserEmail", "jan.jansen@globex.example"),
        ("FirstName", "Jan"),
        ("LastName", "Jansen"),
        ("CostCenter", ""),
        ("Project", ""),
    ]
    assert (form["contact_name"], form["contact_email"]) == ("", "")
    assert "<Contact" not in document_of(page)
    assert "<SharedSecret>" not in document_of(page)

    refused = submit(cxml_client, page, "send")
    assert text_of(refused, "answer-status") == "401 Unauthorized"

    values = form.getlist("extrinsic_value")
    values[3] = "CC-410"
    form.setlist("extrinsic_value", values)
    changes = {"shared_secret": GLOBEX_SECRET, "browser_form_post": GLOBEX_RETURN_URL}
    form = changed(form, {**changes, "action": "send"})
    accepted = cxml_client.post("/dev/cxml", data=form).get_data(as_text=True)
    assert text_of(accepted, "answer-status") == "200 OK"
    assert start_page_of(accepted).startswith("http://localhost/cxml/globex/start/")


def test_sending_leaves_the_page_in_its_own_language(cxml_client: FlaskClient) -> None:
    page = simulator(cxml_client, "customer=globex")
    assert '<html lang="nl">' in page

    answered = submit(cxml_client, page, "send", {"shared_secret": "wrong"})

    # ociflex answers the English customer in English; the simulator stays as it was.
    assert text_of(answered, "answer-message") == (
        "The credentials are not recognised. Check the From credential (domain and identity) "
        "and the SharedSecret agreed with Euromobil for this address."
    )
    assert '<html lang="nl">' in answered


def test_sending_gives_a_start_page_that_opens_the_booking_form(client: FlaskClient) -> None:
    page = submit(client, simulator(client), "send")

    assert text_of(page, "answer-http") == "200"
    assert text_of(page, "answer-status") == "200 OK"
    assert text_of(page, "answer-dtd") == (
        "Het document volgt de elementvolgorde en de verplichte attributen van de cXML-DTD."
    )
    assert "<PunchOutSetupResponse>" in document_of(page, "answer-document")
    start_page = start_page_of(page)
    assert start_page.startswith(f"{DEV_SERVER}/cxml/demo/start/")
    # Launched with plain links: into the page's frame, a new window, this window.
    escaped = html.escape(start_page)
    for target in ("catalogue", "_blank", "_top"):
        assert f'<a href="{escaped}" target="{target}"' in page
    assert '<iframe class="catalogue" name="catalogue"' in page
    booking = client.get(start_page)
    assert booking.status_code == 200
    assert form_of(booking.get_data(as_text=True), "booking")["cost_centre"] == "4100"


def test_edited_fields_change_the_document(client: FlaskClient) -> None:
    page = simulator(client)
    form = form_of(page, "setup")
    names, values = form.getlist("extrinsic_name"), form.getlist("extrinsic_value")
    names[-3], values[-3] = "Department", "Sales & Marketing"
    form.setlist("extrinsic_name", names)
    form.setlist("extrinsic_value", values)
    form.setlist("remove", [str(names.index("PONumber"))])
    changes = {"operation": "edit", "buyer_cookie": "a&b <c>", "reference": "FF-000007"}
    form = changed(form, {**changes, "contact_name": "", "contact_email": "", "action": "apply"})

    edited = client.post("/dev/cxml", data=form, base_url=DEV_SERVER).get_data(as_text=True)

    document = document_of(edited)
    assert '<PunchOutSetupRequest operation="edit">' in document
    assert "<BuyerCookie>a&amp;b &lt;c&gt;</BuyerCookie>" in document
    assert '<Extrinsic name="Department">Sales &amp; Marketing</Extrinsic>' in document
    assert "PONumber" not in document
    assert "<Contact" not in document
    assert "<SupplierPartAuxiliaryID>FF-000007</SupplierPartAuxiliaryID>" in document
    # The cart page is told what to expect: the BuyerCookie and operation follow the fields.
    assert form_of(edited, "setup")["browser_form_post"] == (
        f"{DEV_SERVER}/dev/cxml/cart?cookie=a%26b+%3Cc%3E&operation=edit&customer=demo"
    )
    assert extrinsic_rows(form_of(edited, "setup"))[:2] == [
        ("CostCenter", "4100"),
        ("Department", "Sales & Marketing"),
    ]


def test_the_secret_is_shown_only_when_asked(client: FlaskClient) -> None:
    page = submit(client, simulator(client), "apply", {"show_secret": "1"})

    assert f"<SharedSecret>{DEMO_PASSWORD}</SharedSecret>" in document_of(page)
    assert form_of(page, "setup")["show_secret"] == "1"


def demo_setup(browser_form_post: str, **changes: object) -> Setup:
    """A setup request of the demo customer as tests/support/cxml.py writes one."""
    demo = Setup(
        from_credentials=(("NetworkID", "AN-DEMO-INKOOP"),),
        sender=("NetworkID", "AN-DEMO-INKOOP"),
        shared_secret=DEMO_PASSWORD,
        browser_form_post=browser_form_post,
        extrinsics=(("CostCenter", "4100"),),
        contact=("Jan Jansen", "jan.jansen@demo.example"),
    )
    return replace(demo, **changes)


def test_a_pasted_document_is_sent_as_it_is(app: Flask, client: FlaskClient) -> None:
    page = simulator(client)
    cart_url = form_of(page, "setup")["browser_form_post"]
    # Coupa's order (Contact before BrowserFormPost) breaks the DTD; ociflex takes it.
    pasted = setup_request(
        demo_setup(cart_url, coupa_order=True, payload_id="pasted-4711@coupa.example")
    ).decode("utf-8")

    answered = submit(client, page, "send", {"document": pasted})

    assert form_of(answered, "setup")["document"] == pasted
    assert "PunchOutSetupRequest content does not follow the DTD" in (
        text_of(answered, "document-dtd") or ""
    )
    assert 'payloadID="pasted-4711@coupa.example"' in document_of(answered)
    assert text_of(answered, "answer-status") == "200 OK"
    assert client.get(start_page_of(answered)).status_code == 200
    with session_for(app) as session:
        received = session.scalars(select(Transfer.document).where(Transfer.kind == "setup")).all()
    assert len(received) == 1
    assert 'payloadID="pasted-4711@coupa.example"' in received[0]
    assert received[0].index("<Contact") < received[0].index("<BrowserFormPost>")


def test_the_fields_document_can_be_edited_as_xml_and_sent(client: FlaskClient) -> None:
    page = simulator(client)
    cookie = form_of(page, "setup")["buyer_cookie"]

    boxed = submit(client, page, "edit_xml")
    pasted = form_of(boxed, "setup")["document"]
    assert f"<BuyerCookie>{cookie}</BuyerCookie>" in pasted
    assert f"<SharedSecret>{DEMO_PASSWORD}</SharedSecret>" in pasted, "sent as it is, so real"
    assert DEMO_PASSWORD not in document_of(boxed), "what the page shows stays masked"

    sent = submit(client, boxed, "send", {"document": pasted.replace("4100", "4200")})
    assert text_of(sent, "answer-status") == "200 OK"
    booking = client.get(start_page_of(sent)).get_data(as_text=True)
    assert form_of(booking, "booking")["cost_centre"] == "4200"


@pytest.mark.parametrize(
    ("changes", "http_status", "status", "message"),
    [
        pytest.param(
            {"shared_secret": "wrong"},
            401,
            "401 Unauthorized",
            "De credentials worden niet herkend.",
            id="wrong-secret",
        ),
        pytest.param(
            {"operation": "edit", "reference": "FF-000099"},
            412,
            "412 Precondition Failed",
            "FF-000099 is geen boeking van deze catalogus en kan dus niet worden geopend.",
            id="edit-of-an-unknown-booking",
        ),
        pytest.param(
            {
                "document": setup_request(
                    demo_setup(f"{DEV_SERVER}/dev/cxml/cart", operation="source")
                ).decode()
            },
            450,
            "450 Not Implemented",
            "Deze catalogus biedt de operation source niet aan",
            id="pasted-source-operation",
        ),
        pytest.param(
            {"document": "<cXML><Request>"},
            406,
            "406 Not Acceptable",
            "Het document is geen goedgevormde XML",
            id="pasted-broken-xml",
        ),
    ],
)
def test_a_refused_document_shows_ociflex_status(
    client: FlaskClient, changes: dict[str, str], http_status: int, status: str, message: str
) -> None:
    page = submit(client, simulator(client), "send", changes)

    assert text_of(page, "answer-http") == str(http_status)
    assert text_of(page, "answer-status") == status
    assert message in (text_of(page, "answer-message") or "")
    assert text_of(page, "start-page") is None
    assert "<iframe" not in page


@pytest.mark.parametrize(
    ("simulator_origin", "catalogue_origin"),
    [(DEV_SERVER, OTHER_SERVER), (OTHER_SERVER, DEV_SERVER)],
)
def test_the_start_page_can_come_from_the_other_loopback_origin(
    client: FlaskClient, simulator_origin: str, catalogue_origin: str
) -> None:
    page = simulator(client, base_url=simulator_origin)

    answered = submit(client, page, "send", {"origin": "other"}, base_url=simulator_origin)

    assert start_page_of(answered).startswith(f"{catalogue_origin}/cxml/demo/start/")
    # The cart still comes back to the simulator's own origin: cross-site, as from a buyer.
    assert f"<URL>{simulator_origin}/dev/cxml/cart?" in document_of(answered)
    assert form_of(answered, "setup")["origin"] == "other"


def test_the_other_origin_is_only_offered_on_a_loopback_name(client: FlaskClient) -> None:
    page = simulator(client, "customer=demo&origin=other", base_url="https://ociflex.example")

    assert 'name="origin"' not in page
    assert "alleen als deze pagina op 127.0.0.1 of localhost staat" in page


def test_the_frame_may_show_a_start_page_of_the_other_origin(client: FlaskClient) -> None:
    form = changed(form_of(simulator(client), "setup"), {"origin": "other", "action": "send"})

    response = client.post("/dev/cxml", data=form, base_url=DEV_SERVER)

    assert start_page_of(response.get_data(as_text=True)).startswith(OTHER_SERVER)
    policy = response.headers["Content-Security-Policy"]
    directives = {
        name: sources.split()
        for name, _blank, sources in (d.strip().partition(" ") for d in policy.split(";"))
    }
    framing = directives.get("frame-src", directives.get("child-src", directives["default-src"]))
    assert OTHER_SERVER in framing


# --- The cart ------------------------------------------------------------------------------------


def test_a_booked_cart_gets_the_all_clear(client: FlaskClient) -> None:
    # A cookie as opaque as a buyer's may be: it must come back exactly.
    cookie = "Ariba:1J3Y&<ë> 'x'"
    start_page = sent_and_started(client, {"buyer_cookie": cookie})

    cart_page = post_cart(client, book(client, start_page))

    all_clear(cart_page)
    rows = verdicts_of(cart_page)
    assert rows[(None, "form field")] == ("cxml-base64", "OK")
    assert rows[(None, "BuyerCookie")] == (cookie, "OK")
    assert rows[(None, "operationAllowed")] == ("edit", "OK")
    assert rows[(None, "Total")] == ("118.50 EUR", "OK")
    assert rows[(1, "quantity")] == ("3", "OK")
    assert rows[(1, "SupplierPartID")] == ("COMPACT", "OK")
    assert rows[(1, "SupplierPartAuxiliaryID")] == ("FF-000001", "OK")
    assert rows[(1, "Extrinsic CostCenter")] == ("4100", "OK")
    assert text_of(cart_page, "empty") is None
    assert "&lt;PunchOutOrderMessage&gt;" in cart_page, "the raw document, in a <details>"


def test_a_cancelled_cart_is_empty_and_fine(client: FlaskClient) -> None:
    cart_page = post_cart(client, go_back(client, sent_and_started(client)))

    all_clear(cart_page)
    assert verdicts_of(cart_page)[(None, "ItemIn")] == ("0", "OK")
    assert verdicts_of(cart_page)[(None, "operationAllowed")] == ("create", "OK")
    assert "de medewerker heeft geannuleerd" in (text_of(cart_page, "empty") or "")


def test_edit_and_inspect_of_a_booking_get_the_all_clear(client: FlaskClient) -> None:
    post_cart(client, book(client, sent_and_started(client)))

    edit = sent_and_started(client, {"operation": "edit", "reference": "FF-000001"})
    edited = post_cart(client, book(client, edit, {"end": days_from_today(33)}))
    all_clear(edited)
    assert verdicts_of(edited)[(1, "SupplierPartAuxiliaryID")] == ("FF-000001", "OK")
    assert verdicts_of(edited)[(1, "quantity")] == ("4", "OK")

    inspect = sent_and_started(client, {"operation": "inspect", "reference": "FF-000001"})
    looked = post_cart(client, go_back(client, inspect))
    all_clear(looked)
    assert verdicts_of(looked)[(None, "ItemIn")] == ("0", "OK")
    assert text_of(looked, "empty")


def test_the_cart_page_catches_a_broken_cart(client: FlaskClient) -> None:
    page = simulator(client)
    cart_url = form_of(page, "setup")["browser_form_post"]
    basket = book(client, start_page_of(submit(client, page, "send")))
    document = cart_document(basket).decode("utf-8")
    broken = document.replace(">118.50<", ">118,50<").replace(
        "<UnitOfMeasure>DAY", "<UnitOfMeasure>DAG"
    )

    response = client.post(
        cart_url.replace("cookie=", "cookie=x"), data={"CXML-URLENCODED": broken}
    )

    cart_page = response.get_data(as_text=True)
    rows = verdicts_of(cart_page)
    assert rows[(None, "form field")] == ("CXML-URLENCODED", "OK")
    assert "it must come back exactly" in rows[(None, "BuyerCookie")][1]
    assert "write amounts with a decimal point and two decimals" in rows[(None, "Total")][1]
    assert "not a UN/CEFACT unit code" in rows[(1, "UnitOfMeasure")][1]
    assert rows[(1, "quantity")] == ("3", "OK")
    assert text_of(cart_page, "verdict") == (
        "3 problemen: het systeem van een inkoper zou wat hieronder gemarkeerd is kunnen weigeren "
        "of verkeerd lezen."
    )


def test_the_cart_page_names_a_post_without_a_cart(client: FlaskClient) -> None:
    response = client.post("/dev/cxml/cart?cookie=c1&operation=create", data={"~OkCode": "ADDI"})

    rows = verdicts_of(response.get_data(as_text=True))
    assert rows == {
        (None, "form field"): (
            None,
            "the post has no field cxml-base64 or cxml-urlencoded (its fields: ~OkCode)",
        )
    }


def test_the_cart_page_without_a_cart_says_nothing_was_received(client: FlaskClient) -> None:
    response = client.get("/dev/cxml/cart?cookie=c1&operation=create")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dit is de BrowserFormPost-URL van de cXML-inkoper" in page
    assert text_of(page, "verdict") is None
    assert verdicts_of(page) == {}


def test_the_simulators_link_to_each_other(client: FlaskClient) -> None:
    assert 'href="/dev/erp"' in simulator(client)
    assert 'href="/dev/cxml"' in client.get("/dev/erp").get_data(as_text=True)


def test_the_buyer_is_off_when_dev_tools_are_off(environ: dict[str, str]) -> None:
    testing = create_app({**environ, "OCIFLEX_DEV_TOOLS": "0"})

    assert testing.test_client().get("/dev/cxml").status_code == 404
    assert testing.test_client().post("/dev/cxml/cart", data={"a": "b"}).status_code == 404
    assert testing.test_client().post("/dev/cxml/order", data={"a": "b"}).status_code == 404


# --- The purchase order ------------------------------------------------------------------------


def verdict_of(page: str) -> tuple[str, bool]:
    """The order page's verdict: what it says became of the order, and whether it is marked
    as a problem."""
    found = Html(page).elements.get("order-verdict")
    assert found is not None, text_of(page, "unwritable")
    return found["data-verdict"], "problem" in found.get("class", "")


def booked_cart(client: FlaskClient) -> str:
    """Punch out to the demo customer, book and post the cart: the cart page, which offers
    the order."""
    return post_cart(client, book(client, sent_and_started(client)))


def send_order(
    client: FlaskClient, page: str, action: str, changes: dict[str, str] | None = None
) -> str:
    """Press the order form's button ``action`` with the fields in ``changes`` changed."""
    form = changed(form_of(page, "order"), {**(changes or {}), "action": action})
    response = client.post(action_of(page, "order"), data=form, base_url=DEV_SERVER)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def first_request(app: Flask) -> RentalRequest:
    with session_for(app) as session:
        return session.get(RentalRequest, 1)


def orders_of(app: Flask) -> list[PurchaseOrder]:
    with session_for(app) as session:
        return list(session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id)))


def payload_id_of(page: str) -> str:
    match = re.search(r'<cXML payloadID="([^"]+)"', document_of(page))
    assert match, document_of(page)
    return html.unescape(match[1])


def test_a_booked_cart_offers_the_order_for_its_bookings(client: FlaskClient) -> None:
    cart_page = booked_cart(client)

    form = form_of(cart_page, "order")
    assert re.fullmatch(r"45000[0-9]{5}", form["order_id"])
    assert form["order_type"] == "new"
    assert (form["reference"], form["quantity"], form["part_id"]) == ("FF-000001", "3", "COMPACT")
    assert (form["unit_price"], form["currency"], form["unit"]) == ("39.50", "EUR", "DAY")
    assert form["shared_secret"] == DEMO_PASSWORD
    assert (form["customer"], form["sent"], form["previous"]) == ("demo", "", "")
    assert action_of(cart_page, "order") == "/dev/cxml/order"
    assert text_of(cart_page, "no-order") is None


def test_an_order_sent_from_the_cart_gives_the_request_its_po_number(
    app: Flask, client: FlaskClient
) -> None:
    cart_page = booked_cart(client)

    page = send_order(client, cart_page, "send", {"order_id": "4500099001"})

    assert text_of(page, "answer-http") == "200"
    assert text_of(page, "answer-status") == "200 OK"
    assert verdict_of(page) == ("new", False)
    assert first_request(app).erp_po_number == "4500099001"
    [order] = orders_of(app)
    assert (order.order_id, order.order_type, order.state, order.handling) == (
        "4500099001",
        "new",
        "current",
        "matched",
    )
    # The document sent, as the buyer's ERP writes it: the DTD kept, the secret masked.
    document = document_of(page)
    assert '<OrderRequestHeader orderID="4500099001"' in document
    assert '<ItemOut quantity="3" lineNumber="1">' in document
    assert "<SupplierPartAuxiliaryID>FF-000001</SupplierPartAuxiliaryID>" in document
    assert '<Money currency="EUR">118.50</Money>' in document
    assert f"<SharedSecret>{MASK}</SharedSecret>" in document
    assert DEMO_PASSWORD not in document
    assert text_of(page, "document-dtd") == (
        "Het document volgt de elementvolgorde en de verplichte attributen van de cXML-DTD."
    )
    assert DEMO_PASSWORD not in order.document


def test_the_same_order_sent_again_is_answered_200_and_stored_once(
    app: Flask, client: FlaskClient
) -> None:
    sent = send_order(client, booked_cart(client), "send")

    again = send_order(client, sent, "repeat")

    assert text_of(again, "answer-status") == "200 OK"
    assert verdict_of(again) == ("repeated", False)
    assert payload_id_of(again) == payload_id_of(sent)
    assert len(orders_of(app)) == 1
    assert form_of(again, "order")["previous"] == payload_id_of(sent)


def test_a_changed_order_replaces_the_order_sent_before(app: Flask, client: FlaskClient) -> None:
    sent = send_order(client, booked_cart(client), "send")

    changed_order = send_order(client, sent, "change", {"quantity": "4"})

    assert text_of(changed_order, "answer-status") == "200 OK"
    assert verdict_of(changed_order) == ("update", False)
    document = document_of(changed_order)
    assert 'type="update"' in document
    assert f'<DocumentReference payloadID="{payload_id_of(sent)}"/>' in document
    assert '<ItemOut quantity="4" lineNumber="1">' in document
    assert form_of(changed_order, "order")["order_type"] == "update"
    first, second = orders_of(app)
    assert (first.state, second.state, second.order_type) == ("replaced", "current", "update")
    assert second.changes_payload_id == payload_id_of(sent)


def test_a_deleted_order_takes_the_po_number_away(app: Flask, client: FlaskClient) -> None:
    sent = send_order(client, booked_cart(client), "send")
    assert first_request(app).erp_po_number == form_of(sent, "order")["order_id"]

    withdrawn = send_order(client, sent, "send", {"order_type": "delete"})

    assert verdict_of(withdrawn) == ("delete", False)
    assert f'<DocumentReference payloadID="{payload_id_of(sent)}"/>' in document_of(withdrawn)
    assert first_request(app).erp_po_number is None


def test_an_order_with_the_wrong_secret_is_refused_and_stores_nothing(
    app: Flask, client: FlaskClient
) -> None:
    page = send_order(client, booked_cart(client), "send", {"shared_secret": "wrong"})

    assert text_of(page, "answer-status") == "401 Unauthorized"
    assert verdict_of(page) == ("refused", True)
    assert orders_of(app) == []
    # Nothing was taken: a changed order would have nothing to refer to.
    assert form_of(page, "order")["previous"] == ""
    assert 'value="change"' not in page


def test_orders_may_come_without_a_secret_when_the_file_says_so(
    environ: dict[str, str], customers_dir: Path
) -> None:
    demo = customers_dir / "demo.yaml"
    text = demo.read_text(encoding="utf-8")
    demo.write_text(
        text.replace(
            "  item_extrinsics:", "  orders_without_shared_secret: true\n  item_extrinsics:"
        )
    )
    app = create_app(environ)
    try:
        client = app.test_client(use_cookies=False)
        cart_page = booked_cart(client)
        assert text_of(cart_page, "orders-without-secret")

        page = send_order(client, cart_page, "send", {"shared_secret": ""})

        assert "<SharedSecret>" not in document_of(page)
        assert verdict_of(page) == ("new", False)
        assert len(orders_of(app)) == 1
    finally:
        app.extensions["ociflex.engine"].dispose()


def test_a_customer_with_a_hashed_secret_types_it_for_the_order(
    cxml_app: Flask, cxml_client: FlaskClient
) -> None:
    buyer = Buyer(cxml_client)
    booked = buyer.book(
        buyer.start(), start=days_from_today(30), end=days_from_today(32), project="Apollo"
    )
    cart = base64.b64encode(cart_document(booked.get_data(as_text=True))).decode()
    cart_page = cxml_client.post(
        "/dev/cxml/cart?customer=globex", data={"cxml-base64": cart}
    ).get_data(as_text=True)
    assert form_of(cart_page, "order")["shared_secret"] == ""
    assert text_of(cart_page, "order-secret-note")

    refused = send_order(cxml_client, cart_page, "send")
    assert verdict_of(refused) == ("refused", True)
    taken = send_order(cxml_client, refused, "send", {"shared_secret": GLOBEX_SECRET})

    assert verdict_of(taken) == ("new", False)
    assert '<Money currency="USD">192.00</Money>' in document_of(taken)
    assert first_request(cxml_app).erp_po_number == form_of(taken, "order")["order_id"]


def test_a_cart_address_without_a_customer_offers_no_order(client: FlaskClient) -> None:
    page = submit(client, simulator(client), "send")
    basket = book(client, start_page_of(page))
    document = cart_document(basket).decode("utf-8")

    response = client.post("/dev/cxml/cart?cookie=x", data={"cxml-urlencoded": document})

    cart_page = response.get_data(as_text=True)
    assert text_of(cart_page, "no-order")
    assert 'id="order"' not in cart_page


def test_an_order_for_a_customer_that_is_not_served_is_not_found(client: FlaskClient) -> None:
    response = client.post("/dev/cxml/order", data={"customer": "nobody", "action": "send"})

    assert response.status_code == 404


def test_a_control_character_in_the_order_is_named_not_a_server_error(
    app: Flask, client: FlaskClient
) -> None:
    form = changed(form_of(booked_cart(client), "order"), {"order_id": "45\x01", "action": "send"})

    response = client.post("/dev/cxml/order", data=form)

    assert response.status_code == 422
    assert text_of(response.get_data(as_text=True), "unwritable")
    assert orders_of(app) == []


# --- In production: behind the operator login ----------------------------------------------------


class TestInProduction:
    """With ``OCIFLEX_DEV_TOOLS=1`` in production, the buyer needs an operator's login."""

    @pytest.fixture
    def app(self, environ: dict[str, str]) -> Iterator[Flask]:
        app = create_app({**environ, "OCIFLEX_ENV": "production"})
        yield app
        app.extensions["ociflex.engine"].dispose()

    def test_anonymous_visitor_is_sent_to_the_login(self, app: Flask) -> None:
        client = app.test_client()

        response = client.get("/dev/cxml?customer=demo", follow_redirects=True)

        assert response.request.path == "/ops/login"
        assert response.request.args["next"] == "/ops/dev/cxml?customer=demo"
        assert client.post("/ops/dev/cxml", data={"customer": "demo"}).status_code == 401
        assert client.post("/ops/dev/cxml/cart", data={"cxml-base64": ""}).status_code == 401
        assert client.post("/ops/dev/cxml/order", data={"customer": "demo"}).status_code == 401

    def test_operator_sends_and_checks_a_cart(self, ops_client: FlaskClient) -> None:
        page = ops_client.get("/dev/cxml?customer=demo", follow_redirects=True)

        assert page.request.path == "/ops/dev/cxml"
        form = form_of(page.get_data(as_text=True), "setup")
        assert form["browser_form_post"].startswith("http://localhost/ops/dev/cxml/cart?cookie=")
        form["action"] = "send"
        answered = ops_client.post("/ops/dev/cxml", data=form).get_data(as_text=True)
        # The demo file lists the development addresses only, as its hook_urls do.
        assert text_of(answered, "answer-status") == "400 Bad Request"
        assert "BrowserFormPost URL" in (text_of(answered, "answer-message") or "")
        cart = ops_client.post("/ops/dev/cxml/cart", data={"cxml-base64": "bm90IGEgY2FydA=="})
        assert cart.status_code == 200
        assert "not well-formed XML" in verdicts_of(cart.get_data(as_text=True))[(None, "XML")][1]


def test_a_control_character_typed_into_a_field_is_named_not_a_server_error(
    client: FlaskClient,
) -> None:
    form = changed(form_of(simulator(client), "setup"), {"buyer_cookie": "a\x01b"})

    response = client.post("/dev/cxml", data={**form, "action": "send"})

    assert response.status_code == 422
    assert "a character that XML cannot carry" in response.get_data(as_text=True)
