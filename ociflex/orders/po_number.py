"""A request's purchase-order number, as its orders set it and take it away, with the event in
its history that says which order did so, and who sent it."""

from sqlalchemy.orm import Session

from ociflex.history import record_event
from ociflex.models import PurchaseOrder, RentalRequest

#: The history's action for a request named by an order of each type.
ACTIONS = {"new": "po_received", "update": "po_changed", "delete": "po_withdrawn"}
#: The history's action for a request an update no longer names.
DROPPED = "po_withdrawn"
#: The history's action for a line an operator linked to the request by hand.
LINKED = "po_linked"


def apply_order(
    session: Session,
    order: PurchaseOrder,
    rental: RentalRequest,
    *,
    actor: str,
    named: bool = True,
    action: str | None = None,
    operator_id: int | None = None,
    client_address: str | None = None,
) -> None:
    """Give ``rental`` the orderID of ``order`` as its purchase-order number, or take it away
    when ``order`` withdraws it (a delete, or an update that no longer ``named`` the request);
    a number another order gave is left as it is. The event's action is ``action``, else the
    order type's."""
    old = rental.erp_po_number
    if named and order.order_type != "delete":
        new = order.order_id
    else:
        new = None if old == order.order_id else old
    changes: dict[str, list[str | None]] = {"purchase_order": [None, order.order_id]}
    if new != old:
        rental.erp_po_number = new
        changes["erp_po_number"] = [old, new]
    record_event(
        session,
        rental,
        actor=actor,
        action=action or (ACTIONS[order.order_type] if named else DROPPED),
        changes=changes,
        operator_id=operator_id,
        client_address=client_address,
    )
