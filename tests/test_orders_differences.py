"""What an order line says that its request does not (ociflex/orders/differences.py): each
difference an operator must resolve, worded with both figures, and none for a line that orders
exactly what was requested."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from ociflex.orders.differences import differences, other_order


@dataclass
class LineFacts:
    quantity: Decimal = Decimal(3)
    supplier_part_id: str = "SEDAN"
    unit_price: Decimal | None = Decimal("64.00")
    currency: str | None = "USD"


@dataclass
class RequestFacts:
    days: int = 3
    vehicle_code: str = "SEDAN"
    day_rate: Decimal = Decimal("64.00")
    currency: str = "USD"
    status: str = "confirmed"
    erp_po_number: str | None = None


def texts(line: LineFacts, request: RequestFacts) -> list[str]:
    return [difference.text(lambda text: text) for difference in differences(line, request)]


def test_a_line_that_orders_what_was_requested_has_no_difference() -> None:
    assert differences(LineFacts(), RequestFacts()) == []


def test_the_same_figures_written_otherwise_are_no_difference() -> None:
    line = LineFacts(Decimal("3.000"), "sedan", Decimal("64"), "usd")

    assert differences(line, RequestFacts()) == []


def test_a_line_without_price_or_vehicle_is_compared_on_its_days_only() -> None:
    line = LineFacts(supplier_part_id="", unit_price=None, currency=None)

    assert differences(line, RequestFacts()) == []


@pytest.mark.parametrize(
    ("line", "request_facts", "text"),
    [
        (LineFacts(quantity=Decimal("4")), RequestFacts(), "Days: 4 ordered, 3 requested."),
        (LineFacts(quantity=Decimal("2.5")), RequestFacts(), "Days: 2.5 ordered, 3 requested."),
        (
            LineFacts(unit_price=Decimal("60")),
            RequestFacts(),
            "Day rate: 60.00 ordered, 64.00 requested.",
        ),
        (
            LineFacts(unit_price=Decimal("64.125")),
            RequestFacts(),
            "Day rate: 64.125 ordered, 64.00 requested.",
        ),
        (LineFacts(currency="EUR"), RequestFacts(), "Currency: EUR ordered, USD requested."),
        (
            LineFacts(supplier_part_id="PICKUP"),
            RequestFacts(),
            "Vehicle: PICKUP ordered, SEDAN requested.",
        ),
        (
            LineFacts(),
            RequestFacts(status="rejected"),
            "The request was rejected, yet it was ordered.",
        ),
        (
            LineFacts(),
            RequestFacts(status="cancelled"),
            "The request was cancelled, yet it was ordered.",
        ),
    ],
)
def test_each_difference_is_worded_with_both_figures(
    line: LineFacts, request_facts: RequestFacts, text: str
) -> None:
    assert texts(line, request_facts) == [text]


def test_every_difference_of_a_line_is_listed() -> None:
    line = LineFacts(Decimal(5), "PICKUP", Decimal("89.50"), "EUR")

    kinds = [d.kind for d in differences(line, RequestFacts(status="cancelled"))]

    assert kinds == ["days", "unit_price", "currency", "vehicle", "cancelled"]


def test_a_request_that_had_another_purchase_order_is_called_out() -> None:
    other = other_order("4500012346", RequestFacts(erp_po_number="4500012345"))

    assert other is not None
    assert other.text(lambda text: text) == "The request already had purchase order 4500012345."
    assert other_order("4500012345", RequestFacts(erp_po_number="4500012345")) is None
    assert other_order("4500012345", RequestFacts()) is None
