"""The trail of changes to operator accounts (``operator_events``): who changed what of whom,
when and from where. Recorded in the transaction of the change itself, so a change is never
without its entry nor an entry without its change; never edited or pruned."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ociflex.models import Operator, OperatorEvent
from ociflex.models.base import utcnow


@dataclass(frozen=True)
class Actor:
    """Who changes an operator account."""

    #: The admin who made the change in the browser; None on the command line.
    operator_id: int | None = None
    #: The admin's client address; None on the command line.
    client_address: str | None = None


#: Changes made with ``flask --app app ociflex operator ...`` on the server.
COMMAND_LINE = Actor()


@dataclass(frozen=True)
class TrailEntry:
    at: datetime
    #: The admin's user name; None for the command line.
    actor: str | None
    #: As :attr:`ociflex.models.OperatorEvent.action` names it.
    action: str
    operator: str
    client_address: str | None


def record(session: Session, by: Actor, operator: Operator, action: str) -> None:
    """Add the change to the trail, in the caller's transaction (``operator`` has its id)."""
    session.add(
        OperatorEvent(
            at=utcnow(),
            actor_id=by.operator_id,
            operator_id=operator.id,
            action=action,
            client_address=by.client_address,
        )
    )


def recent_entries(session: Session, limit: int) -> list[TrailEntry]:
    """The newest ``limit`` entries, newest first."""
    actor, subject = aliased(Operator), aliased(Operator)
    rows = session.execute(
        select(
            OperatorEvent.at,
            actor.username,
            OperatorEvent.action,
            subject.username,
            OperatorEvent.client_address,
        )
        .join(subject, subject.id == OperatorEvent.operator_id)
        .outerjoin(actor, actor.id == OperatorEvent.actor_id)
        .order_by(OperatorEvent.id.desc())
        .limit(limit)
    ).all()
    session.commit()  # end the read
    return [TrailEntry(*row) for row in rows]
