"""What operations must resolve about an order as it arrives: every difference between a line
and its request, a line that names no request, a withdrawal. Pure: computed before the order
changes anything, from the rows as they are."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ociflex.models import PurchaseOrder, PurchaseOrderLine, RentalRequest, parse_reference
from ociflex.orders.differences import Difference, line_differences
from ociflex.text import N_


@dataclass(frozen=True)
class Finding:
    """One thing to resolve, about a line (``line_number``) or the whole order (None)."""

    line_number: int | None
    reference: str
    difference: Difference

    def text(self, gettext: Callable[[str], str]) -> str:
        return self.difference.text(gettext)


def findings(
    order: PurchaseOrder,
    lines: Sequence[PurchaseOrderLine],
    requests: dict[int, RentalRequest],
    earlier: Sequence[PurchaseOrder],
) -> list[Finding]:
    """What ``order`` (its ``lines`` matched to ``requests``) leaves to resolve; ``earlier``
    are the orders of its orderID that it replaces or withdraws."""
    found: list[Finding] = []
    if order.order_type == "delete":
        withdrawn = Difference(
            "withdrawn",
            N_("The ERP withdrew purchase order %(order)s."),
            {"order": order.order_id},
        )
        found.append(Finding(None, "", withdrawn))
    for line in lines:
        found.extend(_line_findings(order, line, requests))
    if order.order_type == "update" and earlier:
        named = {line.request_id for line in lines}
        for request_id in sorted(set(requests) - named):
            reference = requests[request_id].reference
            dropped = Difference(
                "dropped",
                N_("The changed order no longer orders %(reference)s."),
                {"reference": reference},
            )
            found.append(Finding(None, reference, dropped))
    return found


def _line_findings(
    order: PurchaseOrder, line: PurchaseOrderLine, requests: dict[int, RentalRequest]
) -> list[Finding]:
    rental = requests.get(line.request_id) if line.request_id else None
    if rental is None:
        return [Finding(line.line_number, line.reference, unmatched(line))]
    if order.order_type == "delete":
        return []
    found = line_differences(order.order_id, line, rental)
    return [Finding(line.line_number, line.reference, difference) for difference in found]


def unmatched(line: PurchaseOrderLine) -> Difference:
    """Why ``line`` has no request: it names none, or none of this customer."""
    if not line.reference.strip():
        return Difference(
            "no_reference",
            N_("The line names no request: link it to one by hand, or dismiss the order."),
            {},
        )
    known = parse_reference(line.reference) is not None
    return Difference(
        "unknown_reference",
        N_(
            "This customer has no request %(reference)s: link the line to a request by hand, "
            "or dismiss the order."
        )
        if known
        else N_(
            "%(reference)s is no FlexFleet reference: link the line to a request by hand, or "
            "dismiss the order."
        ),
        {"reference": line.reference},
    )
