"""Purchase orders through cXML's endpoint, as a buyer's ERP sends them once the customer
approved a cart: stored before the answer, matched to the request they pay for (booked by cXML
or by OCI), repeated and concurrent copies stored once, updates and withdrawals, differences for
operations, unmatched orders kept, every refusal with its Status and nothing stored. Every test
runs on SQLite and on PostgreSQL."""

import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
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
    GLOBEX_SECRET,
    Answer,
    Buyer,
    Line,
    Order,
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


# --- Matched ---------------------------------------------------------------------------------------


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
