"""Reading an OrderRequest (ociflex/cxml/order_request.py) as buyers' ERPs send it, without a
request context: the order's ids and type, who sent it, each line's days, vehicle, reference
and price, the document without its secret; and each refusal a Status text that says what to
fix."""

from dataclasses import replace
from decimal import Decimal

import pytest

from ociflex.cxml.documents import parse
from ociflex.cxml.header import read_header
from ociflex.cxml.order_request import read_order_request
from ociflex.cxml.status import CxmlRefusal
from ociflex.orders.received import OrderedLine, ReceivedOrder
from tests.support.cxml import GLOBEX_SECRET, Line, Order, order_request

ORDER = Order([Line("FF-000123"), Line("FF-000124", quantity="5", vehicle="PICKUP")])


def read(document: bytes) -> ReceivedOrder:
    root = parse(document)
    return read_order_request(root, read_header(root))


def refusal(document: bytes) -> CxmlRefusal:
    with pytest.raises(CxmlRefusal) as raised:
        read(document)
    return raised.value


def test_an_order_is_read_with_its_ids_sender_and_lines() -> None:
    order = read(order_request(ORDER))

    assert (order.payload_id, order.order_id, order.order_type) == (
        ORDER.payload_id,
        "4500012345",
        "new",
    )
    assert order.order_date == "2026-12-02T10:59:00+01:00"
    assert (order.total, order.currency) == (Decimal("512.00"), "USD")
    assert (order.sender, order.user_agent) == ("NetworkID:AN01000099999", "Globex ERP 9.1")
    assert order.lines == (
        OrderedLine(
            1, Decimal(3), "SEDAN", "FF-000123", Decimal("64.00"), "USD", "Rental FF-000123"
        ),
        OrderedLine(
            2, Decimal(5), "PICKUP", "FF-000124", Decimal("64.00"), "USD", "Rental FF-000124"
        ),
    )


def test_the_stored_document_keeps_everything_but_the_secret() -> None:
    order = read(order_request(ORDER))

    assert GLOBEX_SECRET not in order.document
    assert "<SharedSecret>(removed)</SharedSecret>" in order.document
    assert "Approved by the cost-centre manager" in order.document


def test_an_order_without_a_type_is_new_and_an_update_names_the_order_it_changes() -> None:
    assert read(order_request(replace(ORDER, order_type=None))).order_type == "new"

    update = read(order_request(replace(ORDER, order_type="Update", changes="p-1@erp")))

    assert (update.order_type, update.changes_payload_id) == ("update", "p-1@erp")


def test_lines_without_a_number_are_numbered_by_their_place_and_a_missing_reference_is_empty() -> (
    None
):
    order = read(
        order_request(Order([Line(None, line_number="x"), Line("FF-1", line_number="10")]))
    )

    assert [(line.line_number, line.reference) for line in order.lines] == [(1, ""), (10, "FF-1")]


def test_a_line_without_a_price_is_read_without_one() -> None:
    [line] = read(order_request(Order([Line("FF-000123", unit_price=None)]))).lines

    assert (line.unit_price, line.currency) == (None, None)


@pytest.mark.parametrize(
    ("order", "words"),
    [
        (replace(ORDER, order_id=None), "has no orderID"),
        (replace(ORDER, order_id="4" * 101), "longer than 100"),
        (replace(ORDER, lines=[]), "has no lines"),
        (replace(ORDER, order_type="cancel"), "use new, update or delete"),
        (replace(ORDER, lines=[Line("FF-1", quantity="1e3")]), "'1e3'"),
        (replace(ORDER, lines=[Line("FF-1", quantity="٣")]), "quantity of ItemOut 1"),
        (replace(ORDER, lines=[Line("FF-1", quantity="1000000000")]), "quantity of ItemOut 1"),
        (replace(ORDER, lines=[Line("FF-1", unit_price="NaN")]), "'NaN'"),
        (replace(ORDER, lines=[Line("FF-1", currency="EURO")]), "ISO 4217"),
        (replace(ORDER, total="lots"), "in Total"),
    ],
)
def test_an_order_that_cannot_be_taken_is_refused_with_what_to_fix(
    order: Order, words: str
) -> None:
    refused = refusal(order_request(order))

    assert refused.code == 400
    assert words in refused.text(lambda text: text)


def test_a_document_without_a_payload_id_is_refused() -> None:
    document = order_request(ORDER).replace(f'payloadID="{ORDER.payload_id}"'.encode(), b"", 1)

    refused = refusal(document)

    assert refused.code == 400
    assert "payloadID" in refused.text(lambda text: text)
