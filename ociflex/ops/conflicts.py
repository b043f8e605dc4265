"""A licence plate planned twice: one vehicle cannot go out on two rentals at once.

A request is *planned* when it is scheduled or confirmed with a licence plate, a pickup and a
return. Two plans of one plate conflict when their periods overlap, whatever their customers:
each is picked up before the other is returned (a return at 10:00 and the next pickup at 10:00
do not overlap). Plates are compared without their hyphens, so "AB-123-C" and "AB123C" are one
vehicle (:data:`~ociflex.models.requests.licence_plate_key`, served by an index).

A check and the plan it lets through must not race another operator's: :func:`lock_plate`,
taken in the scheduling transaction before the check, makes two plans of one plate wait for
each other on PostgreSQL (an advisory lock that the transaction's end releases), so the second
sees the first; SQLite runs write transactions one at a time anyway.

Pages name a conflict by the other request's reference (a link to its page), its customer and
its period: :func:`shown_conflicts`.
"""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.orm import Session

from ociflex.customers.registry import customers
from ociflex.models import RentalRequest, format_reference
from ociflex.models.requests import licence_plate_key

#: The statuses in which a request's plan holds its vehicle.
PLANNED_STATUSES = ("scheduled", "confirmed")
#: The change in a scheduling event (its ``changes``) that records the other requests the
#: operator confirmed planning the plate next to: [None, their references].
CONFIRMED_CONFLICTS = "confirmed_conflicts"


def plate_key(plate: str) -> str:
    """The plate as plans are compared: without its hyphens."""
    return plate.replace("-", "")


@dataclass(frozen=True)
class Plan:
    """A planned request: which vehicle, from when until when."""

    request_id: int
    customer_id: str
    licence_plate: str
    pickup_at: datetime
    return_at: datetime

    @property
    def reference(self) -> str:
        return format_reference(self.request_id)

    def overlaps(self, other: "Plan") -> bool:
        return (
            self.request_id != other.request_id
            and plate_key(self.licence_plate) == plate_key(other.licence_plate)
            and self.pickup_at < other.return_at
            and other.pickup_at < self.return_at
        )


_PLAN_COLUMNS = (
    RentalRequest.id,
    RentalRequest.customer_id,
    RentalRequest.licence_plate,
    RentalRequest.pickup_at,
    RentalRequest.return_at,
)


def _planned(*conditions: ColumnElement[bool], dialect: str = "") -> Select[Any]:
    """The plans (:data:`_PLAN_COLUMNS`) of planned requests that meet ``conditions``.

    On SQLite the status is marked as one most requests have: without statistics SQLite would
    read every planned request through the (status, start) index rather than the few plans
    of some plates through the plate index."""
    status = RentalRequest.status.in_(PLANNED_STATUSES)
    if dialect == "sqlite":
        status = func.likelihood(status, literal_column("0.9"))
    return select(*_PLAN_COLUMNS).where(
        status,
        RentalRequest.return_at.is_not(None),
        *conditions,
    )


def conflicts_with(session: Session, plan: Plan) -> list[Plan]:
    """The other planned requests that ``plan`` would take the vehicle from, oldest first (in
    the caller's transaction: after :func:`lock_plate` when ``plan`` is about to be saved)."""
    rows = session.execute(
        _planned(
            licence_plate_key == plate_key(plan.licence_plate),
            RentalRequest.pickup_at < plan.return_at,
            RentalRequest.return_at > plan.pickup_at,
            RentalRequest.id != plan.request_id,
        ).order_by(RentalRequest.id)
    )
    return [Plan(*row) for row in rows]


def conflicts_among(session: Session, request_ids: Collection[int]) -> dict[int, list[Plan]]:
    """Of the requests ``request_ids`` (a page's), those whose plan conflicts with another's,
    with the plans it conflicts with (any request, shown or not), oldest first."""
    shown = [
        Plan(*row)
        for row in session.execute(
            _planned(
                RentalRequest.id.in_(request_ids),
                RentalRequest.licence_plate.is_not(None),
                RentalRequest.pickup_at.is_not(None),
            )
        )
    ]
    if not shown:
        return {}
    keys = {plate_key(plan.licence_plate) for plan in shown}
    candidates = [
        Plan(*row)
        for row in session.execute(
            _planned(
                licence_plate_key.in_(keys),
                RentalRequest.pickup_at < max(plan.return_at for plan in shown),
                RentalRequest.return_at > min(plan.pickup_at for plan in shown),
                dialect=session.get_bind().dialect.name,
            ).order_by(RentalRequest.id)
        )
    ]
    by_plate: dict[str, list[Plan]] = defaultdict(list)
    for other in candidates:
        by_plate[plate_key(other.licence_plate)].append(other)
    found: dict[int, list[Plan]] = defaultdict(list)
    for plan in shown:
        for other in by_plate[plate_key(plan.licence_plate)]:
            if plan.overlaps(other):
                found[plan.request_id].append(other)
    return dict(found)


def lock_plate(session: Session, plate: str) -> None:
    """Make the caller's transaction the only one checking and saving plans of ``plate`` until
    it ends (PostgreSQL; SQLite's write transactions are one at a time already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(plate_key(plate)))))


# --- As pages show them -------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownConflict:
    """Another request that holds the vehicle, as a page names it."""

    reference: str
    url: str
    customer: str
    pickup_at: datetime
    return_at: datetime


def shown_conflicts(plans: list[Plan]) -> list[ShownConflict]:
    """``plans`` as pages show them: each by its reference (a link), its customer's name (its
    id when ociflex no longer serves it) and its period."""
    registry = customers()
    shown = []
    for plan in plans:
        customer = registry.get(plan.customer_id)
        shown.append(
            ShownConflict(
                reference=plan.reference,
                url=url_for("ops.request_detail", request_id=plan.request_id),
                customer=customer.name if customer is not None else plan.customer_id,
                pickup_at=plan.pickup_at,
                return_at=plan.return_at,
            )
        )
    return shown
