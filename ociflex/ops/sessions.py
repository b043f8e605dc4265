"""Server-side operator sessions, without Flask.

The browser's (signed) session cookie holds a random token; the database holds only its SHA-256
in ``operator_sessions``. A session is valid while its row is not ended, its operator is
active, it was used within the idle timeout and it is younger than the absolute maximum age, so
logging out, disabling the operator or resetting its password end it at once, for every worker.
Sessions that can no longer be resumed are deleted by :func:`prune_sessions` (run daily).
"""

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ociflex.db import write_transaction
from ociflex.models import Operator, OperatorSession
from ociflex.models.base import utcnow

#: last_seen_at is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)
_STORED_ADDRESS_LENGTH = 64


class SessionLimits(NamedTuple):
    """How long a session lasts: unused, and at most."""

    idle_timeout: timedelta
    max_age: timedelta

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> "SessionLimits":
        """The limits an app's settings give (``OCIFLEX_OPS_IDLE_MINUTES``, and the lifetime
        of its session cookie)."""
        return cls(
            idle_timeout=timedelta(minutes=config["OCIFLEX_OPS_IDLE_MINUTES"]),
            max_age=config["PERMANENT_SESSION_LIFETIME"],
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, operator: Operator, client_address: str) -> str:
    """Store a new session of ``operator``; the token for the cookie (shown nowhere else)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with write_transaction(session):
        session.add(
            OperatorSession(
                token_hash=token_hash(token),
                operator_id=operator.id,
                created_at=now,
                last_seen_at=now,
                client_address=client_address[:_STORED_ADDRESS_LENGTH],
            )
        )
    return token


def resume_session(session: Session, token: str, limits: SessionLimits) -> Operator | None:
    """The operator of a valid session ``token``, or None; notes the use at most once a minute.

    Leaves ``session`` without an open transaction (so a view may :func:`begin_write` next),
    with the operator loaded.
    """
    now = utcnow()
    row = session.execute(
        select(OperatorSession, Operator)
        .join(Operator, Operator.id == OperatorSession.operator_id)
        .where(OperatorSession.token_hash == token_hash(token))
    ).first()
    session.commit()
    if row is None:
        return None
    record, operator = row
    if (
        record.ended_at is not None
        or not operator.active
        or now - record.last_seen_at > limits.idle_timeout
        or now - record.created_at > limits.max_age
    ):
        return None
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        with write_transaction(session):
            session.execute(
                update(OperatorSession)
                .where(
                    OperatorSession.token_hash == record.token_hash,
                    OperatorSession.ended_at.is_(None),
                )
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
    return operator


def end_session(session: Session, token: str) -> None:
    """End the session of ``token`` (logout); nothing happens for an unknown or ended one."""
    with write_transaction(session):
        session.execute(
            update(OperatorSession)
            .where(
                OperatorSession.token_hash == token_hash(token),
                OperatorSession.ended_at.is_(None),
            )
            .values(ended_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def end_operator_sessions(session: Session, operator_id: int, now: datetime | None = None) -> int:
    """End every open session of the operator, in the caller's transaction; how many."""
    result = session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator_id, OperatorSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def prune_sessions(session: Session, limits: SessionLimits, now: datetime | None = None) -> int:
    """Delete the sessions :func:`resume_session` would refuse whatever happens next: ended,
    unused for longer than the idle timeout, or older than the maximum age; how many. They
    hold client addresses, and nothing reads them any more."""
    now = now or utcnow()
    with write_transaction(session):
        result = session.execute(
            delete(OperatorSession).where(
                or_(
                    OperatorSession.ended_at.is_not(None),
                    OperatorSession.last_seen_at < now - limits.idle_timeout,
                    OperatorSession.created_at < now - limits.max_age,
                )
            )
        )
    return result.rowcount or 0  # type: ignore[attr-defined]
