"""What the operations pages say of a purchase order: its type, state and handling in words,
and how its lines differ from the requests they pay for (:mod:`ociflex.orders.differences`).
Shared by the order pages (:mod:`ociflex.ops.orders`) and a request's page."""

from collections.abc import Mapping

from flask_babel import gettext

from ociflex.models import PurchaseOrder, PurchaseOrderLine, RentalRequest
from ociflex.orders.differences import line_differences
from ociflex.text import N_

TYPE_LABELS = {
    "new": N_("New order"),
    "update": N_("Changed order"),
    "delete": N_("Withdrawal"),
}
STATE_LABELS = {
    "current": N_("Current"),
    "replaced": N_("Replaced"),
    "withdrawn": N_("Withdrawn"),
}
HANDLING_LABELS = {
    "matched": N_("Matched"),
    "unmatched": N_("Needs an operator"),
    "dismissed": N_("Dismissed"),
}


def _label(labels: Mapping[str, str], value: str) -> str:
    return gettext(labels[value]) if value in labels else value


def type_label(order_type: str) -> str:
    return _label(TYPE_LABELS, order_type)


def state_label(state: str) -> str:
    return _label(STATE_LABELS, state)


def handling_label(handling: str) -> str:
    return _label(HANDLING_LABELS, handling)


def shown_differences(
    order: PurchaseOrder, line: PurchaseOrderLine, rental: RentalRequest
) -> list[str]:
    """What ``line`` of ``order`` says that ``rental``, the request it pays for, does not, in
    words; nothing for an order no longer current: a replaced or withdrawn order is no longer
    to be resolved with the customer."""
    if order.state != "current":
        return []
    return [d.text(gettext) for d in line_differences(order.order_id, line, rental)]
