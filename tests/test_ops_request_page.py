"""A request's page (/ops/requests/<id>): everything the requester and the ERP sent, the basket
exactly as it was posted to HOOK_URL, the history and the e-mails; on SQLite and PostgreSQL.

Requests come from real punch-outs through the test client where what was sent matters, and
are seeded straight into the database where the test needs what no punch-out stores (a
password in the call-up, a customer no longer served, a hostile history).
"""

from datetime import UTC, datetime
from decimal import Decimal
from html import escape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ociflex.db import begin_write, session_for
from ociflex.history import record_event
from ociflex.models import RentalRequest
from tests.conftest import ACME_HOOK_URL, DEMO_HOOK_URL, DEMO_PASSWORD, csrf_token_in
from tests.support.cxml import Buyer
from tests.support.html import Html, text_of
from tests.support.inbox import HOSTILE, HOSTILE_ESCAPED, RAW_TAG, add_message, seed
from tests.support.orders import demo_line, demo_order, ordered, shown
from tests.support.punchout import (
    Page,
    acme_booking,
    book,
    call_up,
    days_from_today,
    demo_booking,
    stored,
)

OPS_EMAIL = "planning@euromobil.example"


@pytest.fixture
def environ(environ: dict[str, str]) -> dict[str, str]:
    """The app of these tests tells operations about each new request by e-mail."""
    return {**environ, "OCIFLEX_OPS_EMAIL": OPS_EMAIL}


def request_page(client: FlaskClient, request_id: int) -> Html:
    response = client.get(f"/ops/requests/{request_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return Html(response)


def cells(page: Html, table: str) -> list[list[str]]:
    """The body rows of a table, each cell single-spaced."""
    return [[" ".join(cell.split()) for cell in row] for row in page.tables.get(table, [])]


def pairs(page: Html, table: str) -> list[tuple[str, str]]:
    """(name, value) of a raw table (call-up, basket): the value exactly, as a browser reads
    the <pre> it stands in (without the line break that opens it)."""
    return [(row[1], row[2].removeprefix("\n")) for row in page.tables.get(table, [])]


# --- What was sent ------------------------------------------------------------------------------


def test_the_page_shows_what_the_requester_and_the_erp_sent(
    app: Flask, client: FlaskClient, ops_client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    token = call_up(client, "demo", demo_callup).token
    remarks = "Graag met trekhaak\nen winterbanden"
    booked = book(client, "demo", token, **demo_booking(remarks=remarks))
    assert booked.status_code == 200
    [rental] = stored(app)

    page = request_page(ops_client, rental.id)
    html = page.source
    assert DEMO_PASSWORD not in html
    assert page.text("status") == "Nieuw"
    summary = page.text("summary")
    assert "Demo Inkoop B.V." in summary
    assert "niet meer aangesloten" not in summary
    requester = page.text("requester")
    assert "Jan Jansen" in requester
    assert "jan.jansen@demo.example" in requester
    assert f">{remarks}</dd>" in html  # the line break kept, shown by white-space: pre-wrap
    assert "Compacte auto (VW Polo of gelijkwaardig) (COMPACT)" in page.text("rental")
    assert "1 dag" in page.text("rental")
    assert "Utrecht Papendorp" in page.text("rental")
    assert "planning" not in page.elements

    # The customer's fields, with the labels of its file, in its order.
    assert cells(page, "fields") == [
        ["E-mail", "email", "jan.jansen@demo.example"],
        ["Naam", "full_name", "Jan Jansen"],
        ["Kostenplaats", "cost_centre", "4100"],
        ["Inkoopnummer", "po_number", "PO-2026-01"],
    ]
    # The call-up as received, in order, without the password (it was never stored).
    assert pairs(page, "callup") == [tuple(pair) for pair in rental.inbound["parameters"]]
    sent = [(name, value) for name, value in demo_callup.items() if name != "PASSWORD"]
    assert sorted(pairs(page, "callup")) == sorted(sent)

    # The basket exactly as the browser posted it to HOOK_URL: every field, in order.
    posted = Page(booked).basket
    assert pairs(page, "basket") == posted.hidden
    assert [row[0] for row in page.tables["basket"]] == [
        str(n) for n in range(1, len(posted.hidden) + 1)
    ]
    assert any("\n" in value for _name, value in posted.hidden)  # the long text's lines
    basket_form = page.text("basket-form")
    assert DEMO_HOOK_URL in basket_form
    assert posted.attrs["accept-charset"] in basket_form

    # Its history: registered through the punch-out, by the requester.
    [registered] = cells(page, "history")
    assert registered[1:] == ["Aanvrager", "Geregistreerd via de punch-out", "Nieuw", ""]
    # The e-mail to operations about it.
    [message] = cells(page, "messages")
    assert message[:3] == ["Nieuwe aanvraag (aan operations)", OPS_EMAIL, message[2]]
    assert message[3].startswith("Wacht op verzending")
    assert "Opnieuw versturen" not in message[6]


def test_the_page_shows_the_total_the_basket_stated(
    app: Flask, client: FlaskClient, ops_client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    token = call_up(client, "demo", demo_callup).token
    form = demo_booking(start=days_from_today(7), end=days_from_today(9))
    basket = dict(Page(book(client, "demo", token, **form)).basket.hidden)
    assert (basket["NEW_ITEM-QUANTITY[1]"], basket["NEW_ITEM-PRICE[1]"]) == ("3", "39.50")
    [rental] = stored(app)

    page = request_page(ops_client, rental.id)
    assert page.texts["day-rate"] == "€\N{NO-BREAK SPACE}39,50"
    assert page.texts["total"] == "€\N{NO-BREAK SPACE}118,50"


def test_the_total_is_written_with_the_requests_currency_and_thousands(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(
        app, {"customer_id": "acme", "currency": "GBP", "day_rate": Decimal("411.50"), "days": 3}
    )
    page = request_page(ops_client, request_id)
    assert page.texts["total"] == "£\N{NO-BREAK SPACE}1.234,50"


def test_the_basket_of_a_latin_1_customer_is_shown_as_it_was_posted(
    app: Flask, client: FlaskClient, ops_client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    booked = book(client, "acme", token, **acme_booking())
    [rental] = stored(app)
    page = request_page(ops_client, rental.id)
    posted = Page(booked).basket
    assert pairs(page, "basket") == posted.hidden
    assert ACME_HOOK_URL.replace("&", "&amp;") in page.source
    assert "iso-8859-1" in page.text("basket-form")
    assert cells(page, "fields")[-1] == ["Project", "project", "P-123"]
    # acme's password parameter is "pwd": not stored, not shown.
    assert "pwd" not in [name for name, _value in pairs(page, "callup")]
    assert "acme-secret" not in page.source


def test_a_password_in_a_stored_call_up_is_never_shown(app: Flask, ops_client: FlaskClient) -> None:
    demo, acme, gone = seed(
        app,
        {
            "customer_id": "demo",
            "inbound": {
                "parameters": [
                    ["USERNAME", "demo-erp"],
                    ["PASSWORD", "s3cret-1"],
                    ["password", "s3cret-2"],
                ]
            },
        },
        {
            "customer_id": "acme",
            "inbound": {"parameters": [["loginname", "acme-sap"], ["PWD", "s3cret-3"]]},
        },
        {
            "customer_id": "gone",
            "inbound": {"parameters": [["pwd", "unknown-to-us"], ["PassWord", "s3cret-4"]]},
        },
    )
    shown = {}
    for request_id in (demo, acme, gone):
        page = request_page(ops_client, request_id)
        assert "s3cret" not in page.source
        shown[request_id] = [(row[1], " ".join(row[2].split())) for row in page.tables["callup"]]
    assert shown[demo] == [
        ("USERNAME", "demo-erp"),
        ("PASSWORD", "(verborgen)"),
        ("password", "(verborgen)"),
    ]
    assert shown[acme] == [("loginname", "acme-sap"), ("PWD", "(verborgen)")]
    # A customer no longer served: its password parameter is unknown, "password" still hidden.
    assert shown[gone] == [("pwd", "unknown-to-us"), ("PassWord", "(verborgen)")]


def test_a_customer_no_longer_served_shows_the_fields_by_their_own_names(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(
        app,
        {"customer_id": "gone", "fields": {"email": "a@b.example", "kostenplaats": "4100"}},
    )
    page = request_page(ops_client, request_id)
    assert "gone (niet meer aangesloten)" in page.text("summary")
    assert cells(page, "fields") == [
        ["email", "email", "a@b.example"],
        ["kostenplaats", "kostenplaats", "4100"],
    ]


def test_fields_the_customer_file_no_longer_names_follow_the_others(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(
        app,
        {"fields": {"old_field": "x", "cost_centre": "4100", "email": "a@b.example"}},
    )
    assert cells(request_page(ops_client, request_id), "fields") == [
        ["E-mail", "email", "a@b.example"],
        ["Kostenplaats", "cost_centre", "4100"],
        ["old_field", "old_field", "x"],
    ]


def test_the_planning_is_shown_once_there_is_one(app: Flask, ops_client: FlaskClient) -> None:
    [request_id] = seed(
        app,
        {
            "status": "scheduled",
            "planned_vehicle": "VW Polo 1.0 TSI",
            "licence_plate": "AB-123-C",
            "pickup_at": datetime(2026, 12, 1, 7, 30, tzinfo=UTC),
            "return_at": datetime(2026, 12, 3, 16, 0, tzinfo=UTC),
            "pickup_location": "Utrecht Papendorp",
            "ops_notes": "Sleutel bij de balie\nna 17:00 bij de beveiliging",
            "erp_po_number": "4500012345",
        },
    )
    page = request_page(ops_client, request_id)
    planning = page.text("planning")
    assert "VW Polo 1.0 TSI" in planning
    assert "AB-123-C" in planning
    # In Amsterdam's time: UTC+1 in December.
    assert "dinsdag 1 december 2026 om 08:30" in planning
    assert "donderdag 3 december 2026 om 17:00" in planning
    assert "Utrecht Papendorp" in planning
    assert "4500012345" in planning
    assert "Sleutel bij de balie\nna 17:00" in page.texts["planning"]


def test_a_request_planned_on_a_plate_another_holds_is_marked_with_the_others(
    app: Flask, ops_client: FlaskClient
) -> None:
    monday = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    plan = {"status": "scheduled", "licence_plate": "AB-123-C", "pickup_at": monday}
    first, second, later = seed(
        app,
        {**plan, "return_at": monday.replace(day=9)},
        {**plan, "licence_plate": "AB123C", "customer_id": "acme", "status": "confirmed"}
        | {"pickup_at": monday.replace(day=8), "return_at": monday.replace(day=10, hour=16)},
        {**plan, "pickup_at": monday.replace(day=9), "return_at": monday.replace(day=11)},
    )

    page = request_page(ops_client, first)

    assert page.href("conflict-mark") == "#conflicts"
    # The other customer's request, by a link, its customer's name and its period (Dutch time).
    assert page.text("conflicts").endswith(
        "FF-000002, ACME Procurement Ltd, 08-12-2026, 09:00 – 10-12-2026, 17:00"
    )
    assert ({"href": f"/ops/requests/{second}"}, "FF-000002") in page.links
    # Returned when the first is picked up: no conflict with it, but one with the second.
    marked = request_page(ops_client, later)
    assert [link for link in marked.links if link[1].startswith("FF-")] == [
        ({"href": f"/ops/requests/{second}"}, "FF-000002")
    ]
    unplanned = request_page(ops_client, seed(app, {"status": "in_progress"})[0])
    assert "conflicts" not in unplanned.elements
    assert "conflict-mark" not in unplanned.elements


# --- History ------------------------------------------------------------------------------------


def test_the_history_lists_every_event_oldest_first(app: Flask, ops_client: FlaskClient) -> None:
    [request_id] = seed(app, {})
    with session_for(app) as session:
        begin_write(session)
        rental = session.get(RentalRequest, request_id)
        record_event(session, rental, actor="employee", action="registered", to_status="new")
        record_event(
            session,
            rental,
            actor="olga",
            action="start",
            from_status="new",
            to_status="in_progress",
            client_address="127.0.0.1",
        )
        record_event(
            session,
            rental,
            actor="olga",
            action="schedule",
            from_status="in_progress",
            to_status="scheduled",
            changes={
                "planned_vehicle": [None, "VW Polo"],
                "pickup_at": [None, "2026-12-01T07:30:00+00:00"],
                "cost_centre": ["4100", "4200"],
            },
        )
        record_event(session, rental, actor="olga", action="note", changes={"x": "y"})
        session.commit()
    history = cells(request_page(ops_client, request_id), "history")
    assert [row[1:4] for row in history] == [
        ["Aanvrager", "Geregistreerd via de punch-out", "Nieuw"],
        ["olga 127.0.0.1", "In behandeling genomen", "Nieuw → In behandeling"],
        ["olga", "Planning opgeslagen", "In behandeling → Ingepland"],
        ["olga", "note", ""],
    ]
    assert history[2][4] == (
        "Gepland voertuig: – → VW Polo Ophalen: – → 01-12-2026, 08:30 Kostenplaats: 4100 → 4200"
    )
    assert history[3][4] == "x: – → y"


def test_the_history_links_the_requests_a_plan_was_confirmed_next_to(
    app: Flask, ops_client: FlaskClient
) -> None:
    planned, other = seed(app, {"status": "scheduled"}, {})
    with session_for(app) as session:
        begin_write(session)
        rental = session.get(RentalRequest, planned)
        record_event(
            session,
            rental,
            actor="olga",
            action="schedule",
            from_status="in_progress",
            to_status="scheduled",
            changes={
                "licence_plate": [None, "AB-123-C"],
                "confirmed_conflicts": [None, ["FF-000002"]],
            },
        )
        session.commit()

    page = request_page(ops_client, planned)

    [row] = page.root.xpath('//table[@id="history"]/tbody/tr')
    [plate] = row.xpath(".//li[not(@class)]")
    assert " ".join(text_of(plate).split()) == "Kenteken: – → AB-123-C"
    [confirmed] = row.xpath('.//li[@class="confirmed-conflicts"]')
    assert [(a.get("href"), a.text) for a in confirmed.iter("a")] == [
        (f"/ops/requests/{other}", "FF-000002")
    ]


# --- E-mails ------------------------------------------------------------------------------------


def test_the_e_mails_of_the_request_can_be_sent_again_from_its_page(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(app, {})
    sent = add_message(app, request_id=request_id, status="sent", attempts=1, last_error="")
    failed = add_message(app, request_id=request_id, kind="rejection")
    page = request_page(ops_client, request_id)
    rows = cells(page, "messages")
    assert [row[0] for row in rows] == ["Bevestiging", "Afwijzing"]
    assert rows[0][3].startswith("Verstuurd")
    assert rows[1][3] == "Mislukt, geen nieuwe pogingen meer"
    assert rows[1][5] == "SMTPRecipientsRefused: 550 no such user"
    assert f"/ops/outbox/{failed}/retry" in page.source
    assert f"/ops/outbox/{sent}/retry" not in page.source

    response = ops_client.post(
        f"/ops/outbox/{failed}/retry",
        data={"csrf_token": csrf_token_in(page.source), "next": f"/ops/requests/{request_id}"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/ops/requests/{request_id}"
    after = request_page(ops_client, request_id)
    assert "wordt zo opnieuw verstuurd" in after.source
    assert cells(after, "messages")[1][3].startswith("Wacht op verzending")


# --- Not found, and hostile content -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ops/requests/999", "/ops/requests/99999999999"])
def test_an_unknown_request_is_a_404_page(ops_client: FlaskClient, path: str) -> None:
    response = ops_client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Aanvraag niet gevonden" in html
    assert 'href="/ops/"' in html


def test_the_request_page_escapes_hostile_names_and_values(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(
        app,
        {
            "customer_id": HOSTILE,
            "requester_name": HOSTILE,
            "requester_email": HOSTILE + "@evil.example",
            "vehicle_code": HOSTILE,
            "vehicle_name": HOSTILE,
            "location": HOSTILE,
            "remarks": HOSTILE,
            "cost_centre": HOSTILE,
            "po_number": HOSTILE,
            "fields": {HOSTILE: HOSTILE, "email": HOSTILE},
            "inbound": {"parameters": [[HOSTILE, HOSTILE], ["password", HOSTILE]]},
            "cart": {
                "action": HOSTILE,
                "target": HOSTILE,
                "charset": HOSTILE,
                "fields": [[HOSTILE, HOSTILE]],
            },
            "planned_vehicle": HOSTILE,
            "pickup_location": HOSTILE,
            "ops_notes": HOSTILE,
            "erp_po_number": HOSTILE,
            "reason": HOSTILE,
        },
    )
    with session_for(app) as session:
        begin_write(session)
        rental = session.get(RentalRequest, request_id)
        record_event(
            session,
            rental,
            actor=HOSTILE,
            action=HOSTILE[:30],
            changes={HOSTILE: [HOSTILE, HOSTILE], "pickup_at": [HOSTILE, None]},
            client_address=HOSTILE,
        )
        session.commit()
    add_message(
        app,
        request_id=request_id,
        recipient=HOSTILE,
        subject=HOSTILE,
        last_error=HOSTILE,
        kind=HOSTILE[:30],
    )
    response = ops_client.get(f"/ops/requests/{request_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert RAW_TAG not in html
    assert HOSTILE_ESCAPED in html
    assert html.count(HOSTILE_ESCAPED) >= 20
    assert 'href="mailto:%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22quotes%27@evil.example"' in html


@pytest.mark.parametrize(
    ("address", "href"),
    [
        ("a?bcc=attacker@example.com", "mailto:a%3Fbcc%3Dattacker@example.com"),
        (
            "a&bcc=x@example.com?cc=y@example.com",
            "mailto:a%26bcc%3Dx@example.com%3Fcc%3Dy@example.com",
        ),
        ("a%3Fbcc=x@example.com", "mailto:a%253Fbcc%3Dx@example.com"),
        ("a#body=hi@example.com", "mailto:a%23body%3Dhi@example.com"),
        ("jörg.müller@example.de", "mailto:j%C3%B6rg.m%C3%BCller@example.de"),
    ],
)
def test_the_requesters_mail_link_sends_to_the_address_and_adds_no_header(
    app: Flask, ops_client: FlaskClient, address: str, href: str
) -> None:
    [request_id] = seed(app, {"requester_email": address})
    page = request_page(ops_client, request_id)
    assert [attrs.get("href") for attrs, text in page.links if text == address] == [href]


# --- Protocols ----------------------------------------------------------------------------------

#: A setup request as a cXML request keeps it: its SharedSecret already removed.
SETUP_DOCUMENT = (
    '<cXML payloadID="1@buyer" timestamp="2026-12-02T10:15:00+01:00"><Header><Sender>'
    '<Credential domain="NetworkID"><Identity>AN01</Identity>'
    "<SharedSecret>(removed)</SharedSecret></Credential></Sender></Header><Request>"
    '<PunchOutSetupRequest operation="create"><BuyerCookie>C-1</BuyerCookie>'
    "</PunchOutSetupRequest></Request></cXML>"
)


def test_an_oci_request_names_its_protocol_and_shows_its_call_up(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(app, {"inbound": {"parameters": [["USERNAME", "demo-erp"]]}})
    page = request_page(ops_client, request_id)
    assert page.text("protocol") == "SAP OCI"
    assert pairs(page, "callup") == [("USERNAME", "demo-erp")]
    assert "setup-document" not in page.elements
    assert "basket-form" in page.elements
    assert "cart-document" not in page.elements


def test_a_cxml_request_shows_its_setup_request_one_element_a_line(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(app, {"protocol": "cxml", "inbound": {"document": SETUP_DOCUMENT}})
    page = request_page(ops_client, request_id)
    assert page.text("protocol") == "cXML"
    assert "callup" not in page.elements
    assert page.texts["setup-document"].removeprefix("\n").splitlines() == [
        '<cXML payloadID="1@buyer" timestamp="2026-12-02T10:15:00+01:00">',
        "  <Header>",
        "    <Sender>",
        '      <Credential domain="NetworkID">',
        "        <Identity>AN01</Identity>",
        "        <SharedSecret>(removed)</SharedSecret>",
        "      </Credential>",
        "    </Sender>",
        "  </Header>",
        "  <Request>",
        '    <PunchOutSetupRequest operation="create">',
        "      <BuyerCookie>C-1</BuyerCookie>",
        "    </PunchOutSetupRequest>",
        "  </Request>",
        "</cXML>",
    ]


def test_a_hostile_cxml_request_is_shown_as_text_and_never_expanded(
    app: Flask, ops_client: FlaskClient
) -> None:
    """Markup in a document or around it stays text; a document that declares entities (a
    "billion laughs") is shown as stored, its entities never expanded."""
    laughs = (
        '<!DOCTYPE cXML [<!ENTITY a "hahahahaha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><cXML>&c;</cXML>'
    )
    inside = f"<cXML><Header><From>{escape(HOSTILE, quote=False)}</From></Header></cXML>"
    hostile, inside_text, expanding = seed(
        app,
        {
            "protocol": "cxml",
            "inbound": {"document": HOSTILE},
            "cart": {
                "action": HOSTILE,
                "target": HOSTILE,
                "charset": HOSTILE,
                "fields": [[HOSTILE, HOSTILE]],
                "document": HOSTILE,
            },
        },
        {"protocol": "cxml", "inbound": {"document": inside}},
        {"protocol": "cxml", "inbound": {"document": laughs}},
    )
    page = request_page(ops_client, hostile)
    assert RAW_TAG not in page.source
    assert page.source.count(HOSTILE_ESCAPED) >= 6
    assert page.texts["setup-document"].removeprefix("\n") == HOSTILE
    assert page.texts["cart-document"].removeprefix("\n") == HOSTILE
    assert page.text("cart-field") == HOSTILE

    # Laid out anew, the document still reads as it was written: its markup is text.
    shown = request_page(ops_client, inside_text)
    assert RAW_TAG not in shown.source
    assert (
        f"    <From>{escape(HOSTILE, quote=False)}</From>"
        in shown.texts["setup-document"].splitlines()
    )

    expanded = request_page(ops_client, expanding)
    assert expanded.texts["setup-document"].removeprefix("\n") == laughs
    assert "hahahahaha" * 2 not in expanded.source


def test_a_change_by_the_requester_is_labelled_and_written_as_the_page_writes_it(
    app: Flask, ops_client: FlaskClient
) -> None:
    """An edit session's history names the request's columns as the page does and writes
    days, money and vehicles as it does; anything unreadable as it was stored."""
    [request_id] = seed(app, {"cost_centre": "4100", "fields": {"cost_centre": "4100"}})
    changes = {
        "vehicle_code": ["COMPACT", "RETIRED"],
        "start_date": ["2026-12-01", "2026-12-02"],
        "end_date": ["2026-12-03", "someday"],
        "days": [3, 1],
        "location": [None, "Utrecht Papendorp"],
        "remarks": ["", "Met trekhaak"],
        "day_rate": ["39.50", "45.00"],
        "cost_centre": ["4100", "4200"],
        "reason": [None, "own field"],
    }
    with session_for(app) as session:
        begin_write(session)
        rental = session.get(RentalRequest, request_id)
        record_event(session, rental, actor="employee", action="edited", changes=changes)
        session.commit()
    page = request_page(ops_client, request_id)
    [edited] = page.tables["history"]
    assert " ".join(edited[1].split()) == "Aanvrager"
    changed = [" ".join(line.split()) for line in edited[4].split("\n") if line.strip()]
    assert changed == [
        "Voertuig: Compacte auto (VW Polo of gelijkwaardig) (COMPACT) → RETIRED",
        "Eerste dag: dinsdag 1 december 2026 → woensdag 2 december 2026",
        "Laatste dag: donderdag 3 december 2026 → someday",
        "Huurperiode: 3 dagen → 1 dag",
        "Locatie: – → Utrecht Papendorp",
        "Opmerkingen: – → Met trekhaak",
        "Dagprijs: € 39,50 → € 45,00",
        "Kostenplaats: 4100 → 4200",
        # A field of the customer's own, not the rejection reason of operations.
        "reason: – → own field",
    ]


# --- Purchase orders ----------------------------------------------------------------------------


def history_actions(page: Html) -> list[str]:
    return [" ".join(row[2].split()) for row in page.tables["history"]]


def test_the_page_shows_the_purchase_orders_and_what_they_leave_to_resolve(
    app: Flask, client: FlaskClient, ops_client: FlaskClient
) -> None:
    """The demo customer's ERP orders a request (COMPACT, 3 days, 39.50 EUR) for 4 days,
    corrects it, and withdraws it; the page follows each step."""
    [request_id] = seed(app, {})
    page = request_page(ops_client, request_id)
    assert "po-received" not in page.elements
    assert "no-orders" in page.elements
    erp = Buyer(client, "demo")
    reference = f"FF-{request_id:06d}"

    first = ordered(erp, demo_order(demo_line(reference, quantity="4"), payload_id="p-1"))

    page = request_page(ops_client, request_id)
    assert page.text("po-received") == shown(app, "PO %(number)s received", number="4500012345")
    [row] = cells(page, "orders")
    assert row[:3] == ["4500012345", shown(app, "New order"), shown(app, "Current")]
    assert "AN-DEMO-INKOOP" in row[4]
    days = "Days: %(ordered)s ordered, %(requested)s requested."
    assert row[5] == shown(app, days, ordered="4", requested="3")
    assert f'<a href="/ops/orders/{first}">4500012345</a>' in page.source
    assert history_actions(page)[-1] == shown(app, "Purchase order received")
    changes = page.tables["history"][-1][4]
    assert f"{shown(app, 'Purchase order')}: – → 4500012345" in " ".join(changes.split())

    # The ERP corrects the days: the first order is replaced, and leaves nothing to resolve.
    second = ordered(
        erp, demo_order(demo_line(reference), order_type="update", payload_id="p-2", changes="p-1")
    )
    page = request_page(ops_client, request_id)
    assert [(row[2], row[5]) for row in cells(page, "orders")] == [
        (shown(app, "Replaced"), "–"),
        (shown(app, "Current"), "–"),
    ]
    assert f'href="/ops/orders/{second}"' in page.source
    assert history_actions(page)[-1] == shown(app, "Purchase order changed")

    # It withdraws the order: the request awaits a purchase order again.
    ordered(
        erp, demo_order(demo_line(reference), order_type="delete", payload_id="p-3", changes="p-2")
    )
    page = request_page(ops_client, request_id)
    assert "po-received" not in page.elements
    assert len(cells(page, "orders")) == 3
    assert history_actions(page)[-1] == shown(app, "Purchase order withdrawn")
