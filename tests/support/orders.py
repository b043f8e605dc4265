"""Purchase orders as the operations tests make them, and their pages as an operator reads them.

Requests of the cXML test customer ``globex`` are booked through its real punch-out
(:func:`booked`); orders come through the real cXML endpoint (:func:`ordered`), from ``globex``
or from the demo customer (:func:`demo_order`), so that they are stored and matched exactly as
a buyer's ERP has them stored and matched.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import lxml.html
from flask import Flask
from flask_babel import gettext
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ociflex.booking.form import today
from ociflex.db import session_for
from ociflex.models import PurchaseOrder, RentalRequest
from tests.support.cxml import DEMO_FROM, DEMO_SECRET, Buyer, Line, Order, order_request

FIRST_DAY = today() + timedelta(days=14)
#: A booking of ``globex``: a SEDAN for three days (64.00 USD a day).
BOOKING = {
    "start": FIRST_DAY.isoformat(),
    "end": (FIRST_DAY + timedelta(days=2)).isoformat(),
    "project": "Apollo",
}


def booked(buyer: Buyer, **form: str) -> int:
    """A booking of ``globex`` through its punch-out; the id of the request stored."""
    response = buyer.book(buyer.start(), **{**BOOKING, **form})
    assert response.status_code == 200, response.get_data(as_text=True)
    with session_for(buyer.client.application) as session:
        newest = session.scalar(select(func.max(RentalRequest.id)))
        assert newest is not None
        return newest


def ordered(buyer: Buyer, order: Order) -> int:
    """``order`` sent by ``buyer``'s ERP and accepted; the id of the order stored."""
    answer = buyer.post(order_request(order))
    assert (answer.http_status, answer.code) == (200, 200), answer.text
    with session_for(buyer.client.application) as session:
        newest = session.scalar(select(func.max(PurchaseOrder.id)))
        assert newest is not None
        return newest


def demo_line(reference: str, **changes: Any) -> Line:
    """A line of the demo customer: a COMPACT at its day rate, in euros."""
    return Line(
        reference, **{"vehicle": "COMPACT", "unit_price": "39.50", "currency": "EUR"} | changes
    )


def demo_order(*lines: Line, **changes: Any) -> Order:
    """An OrderRequest of the demo customer's ERP (send it with ``Buyer(client, "demo")``)."""
    credentials = {"from_credentials": (DEMO_FROM,), "sender": DEMO_FROM}
    return Order(lines, **credentials, shared_secret=DEMO_SECRET, currency="EUR", **changes)


def shown(app: Flask, message: str, **params: Any) -> str:
    """``message`` as the operations pages write it: in Dutch, once it is translated."""
    with app.test_request_context("/ops/"):
        return gettext(message, **params)


def stored_order(app: Flask, order_id: int) -> PurchaseOrder:
    with session_for(app) as session:
        order = session.get(PurchaseOrder, order_id)
        assert order is not None
        return order


# --- Reading a page -----------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    #: What the browser would send as the page has it filled in, the CSRF token included.
    values: dict[str, str]


class Screen:
    """An operations page as an operator reads it: texts by id, table rows, forms, the errors
    next to fields, the alert and the messages of the last action."""

    def __init__(self, response: TestResponse) -> None:
        self.status = response.status_code
        self.source = response.get_data(as_text=True)
        self.root = lxml.html.document_fromstring(self.source)

    def has(self, element_id: str) -> bool:
        return bool(self.root.xpath("//*[@id=$id]", id=element_id))

    def text(self, element_id: str) -> str:
        """The text of an element, single-spaced."""
        return " ".join(self.root.get_element_by_id(element_id).text_content().split())

    def rows(self, table_id: str) -> list[list[str]]:
        """The body rows of a table, each cell single-spaced."""
        table = self.root.get_element_by_id(table_id)
        return [
            [" ".join(cell.text_content().split()) for cell in row.xpath("./td|./th")]
            for row in table.xpath("./tbody/tr")
        ]

    def row_ids(self, table_id: str) -> list[int]:
        table = self.root.get_element_by_id(table_id)
        return [int(row.get("data-id")) for row in table.xpath("./tbody/tr")]

    def links(self, element_id: str) -> list[tuple[str, str]]:
        """(text, href) of the links in an element."""
        element = self.root.get_element_by_id(element_id)
        return [(" ".join(a.text_content().split()), a.get("href")) for a in element.iter("a")]

    def form(self, form_id: str) -> Form:
        form = self.root.get_element_by_id(form_id)
        values = dict(form.form_values())
        for textarea in form.iter("textarea"):
            # As browsers do: the line break that opens a textarea is not part of its value.
            values[textarea.name] = textarea.value.replace("\r\n", "\n").removeprefix("\n")
        return Form(form.get("action"), values)

    @property
    def errors(self) -> dict[str, str]:
        """Field id -> the error shown next to it."""
        return {
            p.get("id").removesuffix("-error"): " ".join(p.text_content().split())
            for p in self.root.xpath("//p[contains(concat(' ', @class, ' '), ' error ')]")
        }

    @property
    def alert(self) -> str:
        [alert] = self.root.xpath("//*[@role='alert']")
        return " ".join(alert.text_content().split())

    @property
    def notices(self) -> list[str]:
        return [" ".join(p.text_content().split()) for p in self.root.xpath("//p[@role='status']")]
