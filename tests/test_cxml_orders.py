"""Purchase orders through cXML's endpoint, as a buyer's ERP sends them once the customer
approved a cart: stored before the answer, matched to the request they pay for (booked by cXML
or by OCI), repeated and concurrent copies stored once, updates and withdrawals, differences for
operations, unmatched orders kept, every refusal with its Status and nothing stored. Every test
runs on SQLite and on PostgreSQL."""

import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from ociflex import create_app
from ociflex.booking.form import today
from ociflex.db import session_for
from ociflex.models import (
    OutboxMessage,
    PurchaseOrder,
    PurchaseOrderLine,
    RentalRequest,
    RequestEvent,
    Transfer,
)
from tests.conftest import CXML_CUSTOMERS, DEMO_PASSWORD, make_environ
from tests.support.cxml import (
    DEMO_FROM,
    GLOBEX_SECRET,
    Answer,
    Buyer,
    Line,
    Order,
    Setup,
    order_request,
    page_token,
)
from tests.support.tcp_proxy import TcpProxy

FIRST_DAY = today() + timedelta(days=14)
LAST_DAY = FIRST_DAY + timedelta(days=2)
BOOKING = {"start": FIRST_DAY.isoformat(), "end": LAST_DAY.isoformat(), "project": "Apollo"}
OPS_EMAIL = "planning@euromobil.example"


@pytest.fixture
def order_app(tmp_path: Path, database_url: str, customers_dir: Path) -> Iterator[Flask]:
    """The app with the cXML test customers and an operations address."""
    for file in CXML_CUSTOMERS.glob("*.yaml"):
        shutil.copy(file, customers_dir / file.name)
    environ = make_environ(tmp_path, database_url, customers_dir)
    app = create_app({**environ, "OCIFLEX_OPS_EMAIL": OPS_EMAIL})
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def buyer(order_app: Flask) -> Buyer:
    return Buyer(order_app.test_client(use_cookies=False))


def booked(buyer: Buyer, **form: str) -> str:
    """A cXML booking of globex; its reference."""
    response = buyer.book(buyer.start(), **{**BOOKING, **form})
    assert response.status_code == 200, response.get_data(as_text=True)
    with session_for(buyer.client.application) as session:
        return (
            session.scalars(select(RentalRequest).order_by(RentalRequest.id.desc()))
            .first()
            .reference
        )


def changing(first: Order, order_type: str, lines: list[Line]) -> Order:
    """An update or delete of ``first``, as a document of its own."""
    return replace(
        first,
        lines=lines,
        order_type=order_type,
        changes=first.payload_id,
        payload_id=f"{order_type}.{first.payload_id}",
    )


def send(buyer: Buyer, order: Order) -> Answer:
    return buyer.post(order_request(order))


def request_of(app: Flask, reference: str) -> RentalRequest:
    with session_for(app) as session:
        return session.get(RentalRequest, int(reference.removeprefix("FF-")))


def orders_of(app: Flask) -> list[PurchaseOrder]:
    with session_for(app) as session:
        return list(session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id)))


def lines_of(app: Flask) -> list[PurchaseOrderLine]:
    with session_for(app) as session:
        return list(session.scalars(select(PurchaseOrderLine).order_by(PurchaseOrderLine.id)))


def actions_of(app: Flask, reference: str) -> list[tuple[str, str]]:
    with session_for(app) as session:
        events = session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == int(reference.removeprefix("FF-")))
            .order_by(RequestEvent.id)
        )
        return [(event.action, event.actor) for event in events]


def notices_of(app: Flask) -> list[OutboxMessage]:
    with session_for(app) as session:
        statement = select(OutboxMessage).where(OutboxMessage.kind == "order_notice")
        return list(session.scalars(statement.order_by(OutboxMessage.id)))


# --- Matched -------------------------------------------------------------------------------------


def test_an_order_for_a_cxml_booking_is_stored_and_gives_the_request_its_po_number(
    buyer: Buyer, order_app: Flask
) -> None:
    reference = booked(buyer)

    answer = send(buyer, Order([Line(reference)]))

    assert (answer.http_status, answer.code) == (200, 200)
    rental = request_of(order_app, reference)
    assert rental.erp_po_number == "4500012345"
    assert rental.status == "new"
    assert actions_of(order_app, reference)[-1] == ("po_received", "NetworkID:AN01000099999")
    [order] = orders_of(order_app)
    assert (order.order_id, order.order_type, order.state, order.handling) == (
        "4500012345",
        "new",
        "current",
        "matched",
    )
    assert "Approved by the cost-centre manager" in order.document
    assert GLOBEX_SECRET not in order.document
    [line] = lines_of(order_app)
    assert (line.request_id, line.quantity, line.reference) == (rental.id, 3, reference)
    assert notices_of(order_app) == []  # nothing to resolve


def test_an_order_is_logged_with_its_outcome(buyer: Buyer, order_app: Flask) -> None:
    reference = booked(buyer)
    send(buyer, Order([Line(reference)]))

    with session_for(order_app) as session:
        entry = session.scalars(select(Transfer).where(Transfer.kind == "order")).one()
    assert (entry.outcome, entry.status, entry.protocol) == ("accepted", 200, "cxml")
    assert entry.request_id == request_of(order_app, reference).id
    assert f"matched {reference}" in entry.reason
    assert GLOBEX_SECRET not in entry.document
    assert 'code="200"' in entry.answer


def test_an_order_for_an_oci_booking_is_matched_by_its_ext_quote_id(
    order_app: Flask, demo_callup: dict[str, str]
) -> None:
    client = order_app.test_client(use_cookies=False)
    form = client.post("/oci/demo", data=demo_callup).get_data(as_text=True)
    basket = client.post(
        "/oci/demo/book",
        data={
            "punchout": page_token(form),
            "vehicle": "VAN",
            "location": "Amsterdam Sloterdijk",
            "cost_centre": "4100",
            **BOOKING,
        },
    ).get_data(as_text=True)
    match = re.search(r'name="NEW_ITEM-EXT_QUOTE_ID\[1\]" value="([^"]+)"', basket)
    assert match, basket
    reference = match[1]
    order = Order(
        [Line(reference, vehicle="VAN", unit_price="79.00", currency="EUR")],
        from_credentials=[DEMO_FROM],
        sender=DEMO_FROM,
        shared_secret=DEMO_PASSWORD,
        currency="EUR",
    )

    answer = Buyer(client, "demo").post(order_request(order))

    assert answer.code == 200, answer.text
    rental = request_of(order_app, reference)
    assert (rental.protocol, rental.erp_po_number) == ("oci", "4500012345")
    [line] = lines_of(order_app)
    assert line.request_id == rental.id
    assert notices_of(order_app) == []


# --- Sent again ------------------------------------------------------------------------------


def test_the_same_payload_id_again_is_answered_ok_and_changes_nothing(
    buyer: Buyer, order_app: Flask
) -> None:
    reference = booked(buyer)
    order = Order([Line(reference)])
    send(buyer, order)

    again = send(buyer, replace(order, lines=[Line(reference, quantity="9")]))

    assert (again.http_status, again.code) == (200, 200)
    assert len(orders_of(order_app)) == 1
    assert [line.quantity for line in lines_of(order_app)] == [3]
    assert [a for a, _ in actions_of(order_app, reference)].count("po_received") == 1
    with session_for(order_app) as session:
        entries = session.scalars(
            select(Transfer).where(Transfer.kind == "order").order_by(Transfer.id)
        ).all()
    assert "received before" in entries[-1].reason


def test_two_copies_at_the_same_moment_are_stored_once(order_app: Flask) -> None:
    clients = [Buyer(order_app.test_client(use_cookies=False)) for _ in range(2)]
    reference = booked(clients[0])
    document = order_request(Order([Line(reference)]))
    start = threading.Barrier(2)
    answers: list[Answer] = []

    def post(buyer: Buyer) -> None:
        start.wait()
        answers.append(buyer.post(document))

    threads = [threading.Thread(target=post, args=(buyer,)) for buyer in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(answer.code for answer in answers) == [200, 200]
    assert len(orders_of(order_app)) == 1
    assert len(lines_of(order_app)) == 1
    assert [a for a, _ in actions_of(order_app, reference)].count("po_received") == 1


# --- Changed and withdrawn -------------------------------------------------------------------


def test_an_update_replaces_the_order_and_the_history_shows_both(
    buyer: Buyer, order_app: Flask
) -> None:
    reference = booked(buyer)
    first = Order([Line(reference)])
    send(buyer, first)

    answer = send(
        buyer,
        changing(first, "update", [Line(reference, quantity="5")]),
    )

    assert answer.code == 200, answer.text
    earlier, later = orders_of(order_app)
    assert (earlier.state, later.state) == ("replaced", "current")
    assert later.changes_payload_id == first.payload_id
    assert [a for a, _ in actions_of(order_app, reference)][-2:] == ["po_received", "po_changed"]
    assert request_of(order_app, reference).status == "new"
    [notice] = notices_of(order_app)
    assert notice.recipient == OPS_EMAIL
    assert reference in notice.body_text
    assert "5" in notice.body_text
    assert "3" in notice.body_text


def test_a_delete_withdraws_the_order_and_tells_operations(buyer: Buyer, order_app: Flask) -> None:
    reference = booked(buyer)
    first = Order([Line(reference)])
    send(buyer, first)

    answer = send(
        buyer,
        changing(first, "delete", [Line(reference)]),
    )

    assert answer.code == 200, answer.text
    assert [order.state for order in orders_of(order_app)] == ["withdrawn", "withdrawn"]
    rental = request_of(order_app, reference)
    assert (rental.erp_po_number, rental.status) == (None, "new")
    assert actions_of(order_app, reference)[-1][0] == "po_withdrawn"
    [notice] = notices_of(order_app)
    assert "4500012345" in notice.subject
    assert "4500012345" in notice.body_text


def test_a_changed_order_that_drops_a_booking_takes_its_po_number_away(
    buyer: Buyer, order_app: Flask
) -> None:
    kept, dropped = booked(buyer), booked(buyer)
    first = Order([Line(kept), Line(dropped)])
    send(buyer, first)

    send(
        buyer,
        changing(first, "update", [Line(kept)]),
    )

    assert request_of(order_app, kept).erp_po_number == "4500012345"
    assert request_of(order_app, dropped).erp_po_number is None
    assert actions_of(order_app, dropped)[-1][0] == "po_withdrawn"
    [notice] = notices_of(order_app)
    assert dropped in notice.body_text


# --- Differences -----------------------------------------------------------------------------


def test_an_order_for_other_days_is_matched_and_operations_are_told(
    buyer: Buyer, order_app: Flask
) -> None:
    reference = booked(buyer)

    answer = send(buyer, Order([Line(reference, quantity="4", unit_price="60.00")]))

    assert answer.code == 200
    assert request_of(order_app, reference).erp_po_number == "4500012345"
    [notice] = notices_of(order_app)
    assert notice.kind == "order_notice"
    assert notice.request_id == request_of(order_app, reference).id  # listed on its page
    assert "4500012345" in notice.subject
    # In Dutch, as every e-mail to operations: days 4 against 3, day rate 60.00 against 64.00.
    for figure in ("4", "60.00", "64.00"):
        assert figure in notice.body_text


def test_an_order_for_a_cancelled_request_is_still_stored_and_matched(
    buyer: Buyer, order_app: Flask
) -> None:
    reference = booked(buyer)
    with session_for(order_app) as session:
        session.get(RentalRequest, request_of(order_app, reference).id).status = "cancelled"
        session.commit()

    answer = send(buyer, Order([Line(reference)]))

    assert answer.code == 200
    [line] = lines_of(order_app)
    assert line.request_id is not None
    assert request_of(order_app, reference).status == "cancelled"
    assert len(notices_of(order_app)) == 1


# --- Unmatched -------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", [None, "FF-999999", "PO-LINE-7"])
def test_an_order_without_a_known_reference_is_kept_for_operations(
    buyer: Buyer, order_app: Flask, reference: str | None
) -> None:
    answer = send(buyer, Order([Line(reference)]))

    assert (answer.http_status, answer.code) == (200, 200)
    [order] = orders_of(order_app)
    assert order.handling == "unmatched"
    [line] = lines_of(order_app)
    assert line.request_id is None
    assert len(notices_of(order_app)) == 1


def test_a_reference_of_another_customer_is_not_matched(
    order_app: Flask, buyer: Buyer, demo_callup: dict[str, str]
) -> None:
    client = order_app.test_client(use_cookies=False)
    form = client.post("/oci/demo", data=demo_callup).get_data(as_text=True)
    client.post(
        "/oci/demo/book",
        data={
            "punchout": page_token(form),
            "vehicle": "VAN",
            "location": "Amsterdam Sloterdijk",
            "cost_centre": "4100",
            **BOOKING,
        },
    )

    send(buyer, Order([Line("FF-000001")]))  # demo's request, ordered by globex

    [line] = lines_of(order_app)
    assert line.request_id is None
    assert request_of(order_app, "FF-000001").erp_po_number is None


# --- Refused ---------------------------------------------------------------------------------


def stored_nothing(app: Flask) -> bool:
    with session_for(app) as session:
        orders = session.scalar(select(func.count()).select_from(PurchaseOrder))
        lines = session.scalar(select(func.count()).select_from(PurchaseOrderLine))
        events = session.scalar(
            select(func.count())
            .select_from(RequestEvent)
            .where(RequestEvent.action != "registered")
        )
    return orders == lines == events == 0


#: A correct order for globex's first booking, for the refusals to change.
FIRST = Order([Line("FF-000001")])
REFUSALS = {
    "wrong secret": (replace(FIRST, shared_secret="guess"), 401, "credentials"),
    "no secret": (replace(FIRST, shared_secret=None), 401, "credentials"),
    "unknown buyer": (
        replace(FIRST, from_credentials=[("NetworkID", "AN0")], sender=("NetworkID", "AN0")),
        401,
        "credentials",
    ),
    "no orderID": (replace(FIRST, order_id=None), 400, "orderID"),
    "empty orderID": (replace(FIRST, order_id="  "), 400, "orderID"),
    "no lines": (replace(FIRST, lines=[]), 400, "ItemOut"),
    "unknown type": (replace(FIRST, order_type="cancel"), 400, "new, update or delete"),
    "days no number": (replace(FIRST, lines=[Line("FF-000001", quantity="three")]), 400, "three"),
    "negative days": (replace(FIRST, lines=[Line("FF-000001", quantity="-1")]), 400, "quantity"),
    "price no number": (
        replace(FIRST, lines=[Line("FF-000001", unit_price="64,00")]),
        400,
        "64,00",
    ),
    "no currency": (replace(FIRST, lines=[Line("FF-000001", currency="")]), 400, "ISO 4217"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_order_gets_its_status_and_stores_nothing(
    buyer: Buyer, order_app: Flask, case: str
) -> None:
    booked(buyer)
    order, code, words = REFUSALS[case]

    answer = send(buyer, order)

    assert (answer.http_status, answer.code) == (code, code)
    assert words in answer.text
    assert stored_nothing(order_app)
    assert request_of(order_app, "FF-000001").erp_po_number is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<cXML><Request><OrderRequest>", 406),
        (b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY x "y">]><cXML>&x;</cXML>', 406),
    ],
)
def test_a_document_that_does_not_parse_is_refused_and_nothing_stored(
    buyer: Buyer, order_app: Flask, body: bytes, code: int
) -> None:
    answer = buyer.post(body)

    assert answer.code == code
    assert stored_nothing(order_app)


def test_a_payload_id_is_needed_to_recognise_a_repeated_order(
    buyer: Buyer, order_app: Flask
) -> None:
    document = order_request(Order([Line("FF-000001")]))
    answer = buyer.post(re.sub(rb' payloadID="[^"]*"', b"", document, count=1))

    assert answer.code == 400
    assert "payloadID" in answer.text
    assert stored_nothing(order_app)


def test_a_network_that_authenticates_itself_may_send_orders_without_a_secret(
    tmp_path: Path, database_url: str, customers_dir: Path
) -> None:
    file = customers_dir / "globex.yaml"
    shutil.copy(CXML_CUSTOMERS / "globex.yaml", file)
    text = file.read_text(encoding="utf-8").replace(
        "  item_extrinsics:", "  orders_without_shared_secret: true\n  item_extrinsics:"
    )
    file.write_text(text, encoding="utf-8")
    app = create_app(make_environ(tmp_path, database_url, customers_dir))
    buyer = Buyer(app.test_client(use_cookies=False))
    try:
        without = send(buyer, Order([Line("FF-000042")], shared_secret=None))
        wrong = send(buyer, Order([Line("FF-000042")], shared_secret="guess", payload_id="p2"))
        other = order_request(Order([Line("FF-000042")], shared_secret=None, payload_id="p3"))
        setup = buyer.post(other.replace(b"OrderRequest", b"X"))
    finally:
        app.extensions["ociflex.engine"].dispose()

    assert without.code == 200, without.text
    assert wrong.code == 401
    assert setup.code == 401  # the setting is for orders: other requests still need the secret
    assert len(orders_of(app)) == 1


# --- The database gone -----------------------------------------------------------------------


@pytest.fixture
def linked_order_app(customers_dir: Path, request: pytest.FixtureRequest) -> Flask:
    for file in CXML_CUSTOMERS.glob("*.yaml"):
        shutil.copy(file, customers_dir / file.name)
    return request.getfixturevalue("linked_app")


def test_an_order_sent_while_the_database_is_gone_is_a_5xx_and_stored_once_when_sent_again(
    linked_order_app: Flask, database_link: TcpProxy
) -> None:
    buyer = Buyer(linked_order_app.test_client(use_cookies=False))
    reference = booked(buyer)
    document = order_request(Order([Line(reference)]))

    database_link.stop()
    gone = buyer.post(document)
    database_link.start()
    retried = buyer.post(document)
    again = buyer.post(document)

    assert gone.code == gone.http_status == 500
    assert "send the same document again" in gone.text
    assert (retried.code, again.code) == (200, 200)
    assert len(orders_of(linked_order_app)) == 1
    assert request_of(linked_order_app, reference).erp_po_number == "4500012345"


def test_an_oci_customer_that_sends_only_orders_by_cxml_cannot_punch_out_by_it(
    tmp_path: Path, database_url: str, customers_dir: Path
) -> None:
    file = customers_dir / "demo.yaml"
    text = file.read_text(encoding="utf-8")
    orders_only = re.sub(r"  browser_form_posts:.*\n(    - .*\n)+", "", text)
    assert "browser_form_posts" not in orders_only
    file.write_text(orders_only, encoding="utf-8")
    app = create_app(make_environ(tmp_path, database_url, customers_dir))
    demo = Buyer(app.test_client(use_cookies=False), "demo")
    order = Order(
        [Line("FF-000042", vehicle="VAN", currency="EUR")],
        from_credentials=[DEMO_FROM],
        sender=DEMO_FROM,
        shared_secret=DEMO_PASSWORD,
        currency="EUR",
    )
    try:
        setup = demo.set_up(
            Setup(
                from_credentials=[DEMO_FROM],
                sender=DEMO_FROM,
                shared_secret=DEMO_PASSWORD,
                browser_form_post="http://127.0.0.1:5000/dev/cxml/cart",
                extrinsics=[("CostCenter", "4100")],
                contact=("Jan Jansen", "jan.jansen@demo.example"),
            )
        )
        ordered = demo.post(order_request(order))
    finally:
        app.extensions["ociflex.engine"].dispose()

    assert setup.code == 403
    assert "BrowserFormPost" in setup.text  # in the customer's language: Dutch
    assert ordered.code == 200, ordered.text
