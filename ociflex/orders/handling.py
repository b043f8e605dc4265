"""What operations do with an order that did not find its requests by itself (``/ops/orders``):
link a line to a request by hand, or dismiss the order with a reason. Each runs in the caller's
write transaction; the caller commits."""

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from ociflex.models import PurchaseOrder, PurchaseOrderLine, RentalRequest, utcnow
from ociflex.orders.po_number import LINKED, apply_order
from ociflex.text import N_


@dataclass(frozen=True)
class Operator:
    """Who acts, as the history records it."""

    username: str
    id: int | None = None
    client_address: str | None = None


class HandlingError(Exception):
    """An action the order's state does not allow: ``message`` (a catalogue text) says why."""

    def __init__(self, message: str, **params: str) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params)


def lines_of(session: Session, order: PurchaseOrder) -> list[PurchaseOrderLine]:
    return list(
        session.scalars(
            select(PurchaseOrderLine)
            .where(PurchaseOrderLine.purchase_order_id == order.id)
            .order_by(PurchaseOrderLine.line_number, PurchaseOrderLine.id)
        )
    )


def waiting_count(session: Session) -> int:
    """How many orders need an operator: a line of theirs names no request."""
    statement = select(func.count()).where(PurchaseOrder.handling == "unmatched")
    return int(session.scalar(statement) or 0)


def link_line(
    session: Session,
    order: PurchaseOrder,
    line: PurchaseOrderLine,
    rental: RentalRequest,
    operator: Operator,
) -> None:
    """Make ``line`` pay for ``rental`` (a request of the order's customer): the request takes
    the order's number while the order is current, and the order counts as matched once no
    line is left without a request."""
    if rental.customer_id != order.customer_id:
        raise HandlingError(
            N_(
                "%(reference)s is a request of another customer: link the line to one of "
                "%(customer)s."
            ),
            reference=rental.reference,
            customer=order.customer_id,
        )
    if order.handling == "dismissed":
        raise HandlingError(N_("This order was dismissed: its lines are no longer linked."))
    # Only while the line is still without a request: of two operators linking it at the same
    # moment, the second finds it linked.
    linked = session.execute(
        update(PurchaseOrderLine)
        .where(PurchaseOrderLine.id == line.id, PurchaseOrderLine.request_id.is_(None))
        .values(request_id=rental.id, linked_by=operator.username[:64])
        .execution_options(synchronize_session=False)
    )
    if linked.rowcount != 1:  # type: ignore[attr-defined]
        raise HandlingError(N_("This line is linked to a request already."))
    session.refresh(line)
    if order.state == "current":
        apply_order(
            session,
            order,
            rental,
            actor=operator.username,
            action=LINKED,
            operator_id=operator.id,
            client_address=operator.client_address,
        )
    if all(other.request_id is not None for other in lines_of(session, order)):
        order.handling = "matched"
    # The order's version moves with every link, also one that leaves other lines waiting: an
    # operator acting from a page of the order as it was is told, and a dismissal cannot be
    # committed beside a link it did not see.
    flag_modified(order, "handling")


def dismiss(session: Session, order: PurchaseOrder, reason: str, operator: Operator) -> None:
    """Put an order that needs nothing more aside, with the operator's ``reason``."""
    if order.handling != "unmatched":
        raise HandlingError(N_("Only an order with lines without a request can be dismissed."))
    order.handling = "dismissed"
    order.dismissed_reason = reason
    order.dismissed_by = operator.username[:64]
    order.dismissed_at = utcnow()
