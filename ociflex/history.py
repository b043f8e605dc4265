"""What happens to a request is written down twice, in the same transaction as the change:
as an event in its history, and in the per-status counts the inbox shows."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam
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


def _upsert(insert: Callable[[type[StatusCount]], Any]) -> Any:
    """Add ``step`` to the count of (``customer_id``, ``status``), making the row if need be."""
    statement = insert(StatusCount).values(
        customer_id=bindparam("customer_id"), status=bindparam("status"), count=bindparam("step")
    )
    return statement.on_conflict_do_update(
        index_elements=[StatusCount.customer_id, StatusCount.status],
        set_={"count": StatusCount.count + statement.excluded.count},
    )


#: Built once per dialect and run on the session's connection: every booking and every
#: operator action runs it, and building it anew and going through the ORM each time would be
#: most of its work.
_UPSERTS = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def _add(session: Session, customer_id: str, status: str, step: int) -> None:
    connection = session.connection()
    connection.execute(
        _UPSERTS[connection.dialect.name],
        {"customer_id": customer_id, "status": status, "step": step},
    )
