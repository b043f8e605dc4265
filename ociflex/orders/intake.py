"""Taking in a purchase order: stored whole, its lines matched to this customer's requests, in
one transaction with everything it changes; the caller answers the ERP only after the commit.

1. The same document (payloadID) again changes nothing: the order stored the first time is the
   answer. Two copies at the same moment on two workers: the unique (customer, payloadID) lets
   one in, and the other finds it.
2. An ``update`` replaces the customer's current order of its orderID, a ``delete`` withdraws
   it; neither changes a request's status.
3. Each line is matched by its reference to a request of this customer. A matched request takes
   the orderID as its purchase-order number (a withdrawal takes it away again), and its history
   says which order came from whom. A line that matches nothing leaves the order for
   operations to link by hand or dismiss (``/ops/orders``).
4. Operations are e-mailed what they must resolve (:func:`findings`): differences between a
   line and its request, a withdrawal, a line without a request.
"""

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ociflex.customers.model import Customer
from ociflex.db import begin_write
from ociflex.mail.compose import order_notice
from ociflex.mail.outbox import enqueue
from ociflex.models import PurchaseOrder, PurchaseOrderLine, RentalRequest, parse_reference
from ociflex.orders.findings import Finding, findings
from ociflex.orders.po_number import apply_order
from ociflex.orders.received import ReceivedOrder

log = logging.getLogger(__name__)

#: How often an intake is tried again when an operator changed one of its requests meanwhile.
ATTEMPTS = 3
#: Column lengths: what a buyer sends is cut to them, never refused for it.
SENDER_LENGTH = 255
LINE_TEXT_LENGTH = 100


@dataclass(frozen=True)
class Intake:
    """What became of an order document."""

    order_id: int
    #: False: the same document had been stored before, and nothing changed now.
    stored: bool
    #: The references of the requests its lines were matched to.
    matched: tuple[str, ...]
    #: How many of its lines match no request.
    unmatched: int
    #: What operations must resolve (e-mailed when the order was stored).
    findings: tuple[Finding, ...] = ()

    @classmethod
    def of(
        cls,
        order: PurchaseOrder,
        lines: list[PurchaseOrderLine],
        stored: bool,
        found: tuple[Finding, ...] = (),
    ) -> "Intake":
        """What became of ``order``, read from its ``lines``."""
        return cls(
            order.id,
            stored=stored,
            matched=tuple(dict.fromkeys(line.reference for line in lines if line.request_id)),
            unmatched=sum(1 for line in lines if line.request_id is None),
            findings=found,
        )

    def summary(self) -> str:
        """The outcome in a line of English, for the transfer log."""
        if not self.stored:
            return f"payloadID received before: order {self.order_id} unchanged"
        parts = [f"order {self.order_id} stored"]
        if self.matched:
            parts.append("matched " + ", ".join(self.matched))
        if self.unmatched:
            parts.append(f"{self.unmatched} line(s) without a request")
        if self.findings:
            parts.append(f"{len(self.findings)} thing(s) to resolve")
        return "; ".join(parts)


def take_order(
    session: Session, customer: Customer, received: ReceivedOrder, notify: str | None
) -> Intake:
    """Store ``received`` for ``customer`` and match it (see the module doc); ``notify`` is the
    operations address, if any. Database errors are raised: nothing is then stored."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _take(session, customer, received, notify)
        except StaleDataError:
            session.rollback()
            log.info(
                "order %s: a request changed meanwhile (attempt %s)", received.order_id, attempt
            )
        except IntegrityError:
            session.rollback()
            existing = _stored_before(session, customer, received)
            session.rollback()
            if existing is None:
                raise
            return existing
    raise StaleDataError(f"order {received.order_id}: its requests kept changing")


def _stored_before(session: Session, customer: Customer, received: ReceivedOrder) -> Intake | None:
    order = session.scalar(
        select(PurchaseOrder).where(
            PurchaseOrder.customer_id == customer.id,
            PurchaseOrder.payload_id == received.payload_id,
        )
    )
    if order is None:
        return None
    lines = session.scalars(
        select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order.id)
    ).all()
    return Intake.of(order, list(lines), stored=False)


def _take(
    session: Session, customer: Customer, received: ReceivedOrder, notify: str | None
) -> Intake:
    begin_write(session)
    existing = _stored_before(session, customer, received)
    if existing is not None:
        session.rollback()
        return existing
    earlier = _current_orders(session, customer, received.order_id)
    order = _stored_order(session, customer, received)
    lines = _stored_lines(session, order, received)
    requests = _requests(session, customer, lines, earlier)
    _match(lines, requests)
    order.handling = "matched" if all(line.request_id for line in lines) else "unmatched"
    found = findings(order, lines, requests, earlier)
    _retire(earlier, received.order_type)
    named = {line.request_id for line in lines}
    affected = _affected(lines, earlier, requests, received.order_type)
    for rental in affected:
        apply_order(session, order, rental, actor=_actor(received), named=rental.id in named)
    if notify and found:
        # Kept with the first request it concerns, so its page lists the e-mail too.
        first = affected[0] if affected else None
        enqueue(session, order_notice(notify, customer, order, found), first)
    session.commit()
    return Intake.of(order, lines, stored=True, found=tuple(found))


def _current_orders(session: Session, customer: Customer, order_id: str) -> list[PurchaseOrder]:
    return list(
        session.scalars(
            select(PurchaseOrder)
            .where(
                PurchaseOrder.customer_id == customer.id,
                PurchaseOrder.order_id == order_id,
                PurchaseOrder.state == "current",
            )
            .order_by(PurchaseOrder.id)
        )
    )


def _stored_order(session: Session, customer: Customer, received: ReceivedOrder) -> PurchaseOrder:
    sender = (
        f"{received.sender} ({received.user_agent})" if received.user_agent else received.sender
    )
    order = PurchaseOrder(
        customer_id=customer.id,
        payload_id=received.payload_id,
        order_id=received.order_id,
        order_type=received.order_type,
        order_date=received.order_date[:40],
        changes_payload_id=received.changes_payload_id,
        state="withdrawn" if received.order_type == "delete" else "current",
        handling="unmatched",
        total=received.total,
        currency=received.currency,
        sender=sender[:SENDER_LENGTH],
        document=received.document,
    )
    session.add(order)
    # The unique payloadID is checked here, before any request is touched.
    session.flush()
    return order


def _stored_lines(
    session: Session, order: PurchaseOrder, received: ReceivedOrder
) -> list[PurchaseOrderLine]:
    lines = [
        PurchaseOrderLine(
            purchase_order_id=order.id,
            line_number=line.line_number,
            quantity=line.quantity,
            supplier_part_id=line.supplier_part_id[:LINE_TEXT_LENGTH],
            reference=line.reference[:LINE_TEXT_LENGTH],
            unit_price=line.unit_price,
            currency=line.currency,
            description=line.description,
        )
        for line in received.lines
    ]
    session.add_all(lines)
    return lines


def _requests(
    session: Session,
    customer: Customer,
    lines: list[PurchaseOrderLine],
    earlier: list[PurchaseOrder],
) -> dict[int, RentalRequest]:
    """This customer's requests that the lines name, and those the earlier orders paid for."""
    ids = {request_id for line in lines if (request_id := parse_reference(line.reference))}
    if earlier:
        ids |= set(
            session.scalars(
                select(PurchaseOrderLine.request_id).where(
                    PurchaseOrderLine.purchase_order_id.in_([order.id for order in earlier]),
                    PurchaseOrderLine.request_id.is_not(None),
                )
            )
        )
    if not ids:
        return {}
    found = session.scalars(
        select(RentalRequest).where(
            RentalRequest.id.in_(ids), RentalRequest.customer_id == customer.id
        )
    )
    return {rental.id: rental for rental in found}


def _match(lines: list[PurchaseOrderLine], requests: dict[int, RentalRequest]) -> None:
    for line in lines:
        request_id = parse_reference(line.reference)
        if request_id in requests:
            line.request_id = request_id


def _retire(earlier: list[PurchaseOrder], order_type: str) -> None:
    """An update replaces the current order of its orderID, a delete withdraws it."""
    if order_type == "new":
        return
    for order in earlier:
        order.state = "withdrawn" if order_type == "delete" else "replaced"


def _affected(
    lines: list[PurchaseOrderLine],
    earlier: list[PurchaseOrder],
    requests: dict[int, RentalRequest],
    order_type: str,
) -> list[RentalRequest]:
    """The requests whose purchase order this document sets or takes away: those its lines
    name, and for an update or delete those the earlier order paid for."""
    named = [line.request_id for line in lines if line.request_id]
    before = sorted(set(requests) - set(named)) if order_type != "new" and earlier else []
    return [requests[request_id] for request_id in dict.fromkeys([*named, *before])]


def _actor(received: ReceivedOrder) -> str:
    return received.sender[:64] or "ERP"
