"""What an order line says that its request does not: the rules as data, one pure function.

A difference never stops an order (it is stored and matched all the same): operations see each
one on the request's page and resolve it with the customer. The texts are catalogue texts with
plain parameters, translated where they are shown.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ociflex.text import N_


class LineFacts(Protocol):
    """What is compared of an order line (a stored line, or one just received)."""

    quantity: Decimal
    supplier_part_id: str
    unit_price: Decimal | None
    currency: str | None


class RequestFacts(Protocol):
    """What is compared of a request."""

    days: int
    vehicle_code: str
    day_rate: Decimal
    currency: str
    status: str
    erp_po_number: str | None


@dataclass(frozen=True)
class Difference:
    """One thing to resolve: ``kind`` names it for code, ``message`` % ``params`` for people."""

    kind: str
    message: str
    params: dict[str, str]

    def text(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.message) % self.params


def _quantity(value: Decimal) -> str:
    """A quantity as people write it: ``3``, ``2.5``."""
    return format(value.normalize(), "f")


def _price(value: Decimal) -> str:
    """A price with two decimals, or more where it has them: ``64.00``, ``64.125``."""
    if value.normalize().as_tuple().exponent >= -2:  # type: ignore[operator]
        return format(value.quantize(Decimal("0.01")), "f")
    return format(value.normalize(), "f")


def _days(line: LineFacts, request: RequestFacts) -> dict[str, str] | None:
    if line.quantity == request.days:
        return None
    return {"ordered": _quantity(line.quantity), "requested": str(request.days)}


def _unit_price(line: LineFacts, request: RequestFacts) -> dict[str, str] | None:
    if line.unit_price is None or line.unit_price == request.day_rate:
        return None
    return {"ordered": _price(line.unit_price), "requested": _price(request.day_rate)}


def _currency(line: LineFacts, request: RequestFacts) -> dict[str, str] | None:
    if not line.currency or line.currency.upper() == request.currency.upper():
        return None
    return {"ordered": line.currency, "requested": request.currency}


def _vehicle(line: LineFacts, request: RequestFacts) -> dict[str, str] | None:
    ordered = line.supplier_part_id.strip()
    if not ordered or ordered.casefold() == request.vehicle_code.casefold():
        return None
    return {"ordered": ordered, "requested": request.vehicle_code}


def _status(status: str) -> Callable[[LineFacts, RequestFacts], dict[str, str] | None]:
    def check(_line: LineFacts, request: RequestFacts) -> dict[str, str] | None:
        return {} if request.status == status else None

    return check


#: kind -> (the check: the message's parameters when the line differs, else None; message).
RULES: dict[str, tuple[Callable[[LineFacts, RequestFacts], dict[str, str] | None], str]] = {
    "days": (_days, N_("Days: %(ordered)s ordered, %(requested)s requested.")),
    "unit_price": (_unit_price, N_("Day rate: %(ordered)s ordered, %(requested)s requested.")),
    "currency": (_currency, N_("Currency: %(ordered)s ordered, %(requested)s requested.")),
    "vehicle": (_vehicle, N_("Vehicle: %(ordered)s ordered, %(requested)s requested.")),
    "rejected": (_status("rejected"), N_("The request was rejected, yet it was ordered.")),
    "cancelled": (_status("cancelled"), N_("The request was cancelled, yet it was ordered.")),
}


def differences(line: LineFacts, request: RequestFacts) -> list[Difference]:
    """Every way ``line`` differs from ``request``, in the order of :data:`RULES`."""
    found = []
    for kind, (check, message) in RULES.items():
        params = check(line, request)
        if params is not None:
            found.append(Difference(kind, message, params))
    return found


def line_differences(order_id: str, line: LineFacts, request: RequestFacts) -> list[Difference]:
    """Every way ``line`` of the order ``order_id`` differs from ``request``, and the other
    purchase order the request had, if any."""
    found = differences(line, request)
    if (other := other_order(order_id, request)) is not None:
        found.append(other)
    return found


def other_order(order_id: str, request: RequestFacts) -> Difference | None:
    """The request already names another purchase order than ``order_id``."""
    if not request.erp_po_number or request.erp_po_number == order_id:
        return None
    return Difference(
        "other_order",
        N_("The request already had purchase order %(other)s."),
        {"other": request.erp_po_number},
    )
