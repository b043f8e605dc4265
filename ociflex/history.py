"""What happens to a request is written down twice, in the same transaction as the change:
as an event in its history, and in the per-status counts the inbox shows."""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ociflex.models import RentalRequest, RequestEvent, StatusCount


def record_event(
    session: Session,
    request: RentalRequest,
    *,
    actor: str,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    changes: dict[str, Any] | None = None,
    operator_id: int | None = None,
    client_address: str | None = None,
) -> RequestEvent:
    event = RequestEvent(
        request_id=request.id,
        actor=actor,
        operator_id=operator_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        changes=changes or {},
        client_address=client_address,
    )
    session.add(event)
    return event


def move_count(
    session: Session, customer_id: str, from_status: str | None, to_status: str | None
) -> None:
    """One request of ``customer_id`` leaves ``from_status`` and enters ``to_status``."""
    for status, step in ((from_status, -1), (to_status, 1)):
        if status is not None:
            _add(session, customer_id, status, step)


def _add(session: Session, customer_id: str, status: str, step: int) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(StatusCount).values(customer_id=customer_id, status=status, count=step)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[StatusCount.customer_id, StatusCount.status],
            set_={"count": StatusCount.count + step},
        )
    )
