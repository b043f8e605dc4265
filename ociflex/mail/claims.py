"""Claiming due outbox messages for one worker, and recording what became of them.

Several workers may run at once. Each claims a batch of due messages in one short transaction,
setting ``claimed_until`` (a lease) so no other worker takes them: on PostgreSQL the rows are
selected ``FOR UPDATE SKIP LOCKED``, so concurrent claimers pass each other by; on SQLite the
claim runs in a ``BEGIN IMMEDIATE`` transaction, which lets one claimer in at a time. The
lease's exact value is the claim's token: a worker records a message's outcome only while the
message still carries it.

Delivery is at least once. A worker that dies mid-batch leaves the messages it has not recorded
to be claimed again when the lease has run out. Of those, only the one being sent may have
reached the server (it accepted the message, the worker died before committing that): that one
reaches the recipient twice, recognisable by its stable Message-ID. This is why each success
is committed on its own before the next message goes out: recording a batch's successes
together would make a crash re-send every message sent since the last commit.
"""

import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Executable, bindparam, or_, select, update

from ociflex.db import begin_write, session_for, write_connection
from ociflex.mail.outbox import MAX_ATTEMPTS, backoff, describe_error
from ociflex.models import OutboxMessage

#: Shortest time a worker holds the messages it claimed (longer with a long MAIL_TIMEOUT).
MIN_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Claimed:
    """A claimed message, detached from the session that claimed it."""

    id: int
    message_id: str
    request_id: int | None
    kind: str
    recipient: str
    subject: str
    body_text: str
    body_html: str
    attachments: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0

    @classmethod
    def of(cls, row: OutboxMessage) -> "Claimed":
        return cls(
            row.id,
            row.message_id,
            row.request_id,
            row.kind,
            row.recipient,
            row.subject,
            row.body_text,
            row.body_html,
            list(row.attachments or []),
            row.attempts,
        )


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def lease_for(app: Flask) -> timedelta:
    return max(MIN_LEASE, timedelta(seconds=12 * app.config["MAIL_TIMEOUT"]))


def claim(app: Flask, batch: int, now: datetime, token: datetime) -> list[Claimed]:
    with session_for(app) as session:
        begin_write(session)
        statement = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch)
            # PostgreSQL: rows another worker is claiming right now are passed by, not waited
            # for. SQLite ignores it: BEGIN IMMEDIATE already lets one claimer in at a time.
            .with_for_update(skip_locked=True)
        )
        rows = list(session.scalars(statement))
        for row in rows:
            row.claimed_until = token
        claimed = [Claimed.of(row) for row in rows]
        session.commit()
    return claimed


def _write(app: Flask, statement: Executable, parameters: dict[str, Any] | None = None) -> None:
    """Run ``statement`` in a write transaction of its own, committed when this returns. Core on
    a pooled connection: the worker records an outcome after every message, and an ORM session
    around one UPDATE is only overhead."""
    with write_connection(app.extensions["ociflex.engine"]) as connection:
        connection.execute(statement, parameters or {})


#: Not tied to the claim: the message was delivered, whoever holds it now. Built once (it
#: runs once a message).
_MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("outbox_id"), OutboxMessage.status == "pending")
    .values(
        status="sent",
        sent_at=bindparam("accepted_at"),
        attempts=bindparam("attempt_count"),
        claimed_until=None,
    )
)


def record_success(app: Flask, message: Claimed, now: datetime) -> None:
    """Record that the server accepted ``message``, committed before the next one is sent: a
    worker that dies after the server accepted a message and before this commit leaves that
    one message to be sent again once its lease has run out (at least once, never lost)."""
    parameters = {
        "outbox_id": message.id,
        "accepted_at": now,
        "attempt_count": message.attempts + 1,
    }
    _write(app, _MARK_SENT, parameters)


def record_failure(
    app: Flask,
    message: Claimed,
    error: BaseException,
    permanent: bool,
    now: datetime,
    token: datetime,
) -> str:
    """Count the attempt; ``"failed"`` when this was the last one, else ``"retried"``."""
    attempts = message.attempts + 1
    final = permanent or attempts >= MAX_ATTEMPTS
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_error": describe_error(error),
        "claimed_until": None,
    }
    if final:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = now + backoff(attempts)
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claimed_until == token)
        .values(**values)
    )
    _write(app, statement)
    return "failed" if final else "retried"


def release(app: Flask, messages: Sequence[Claimed], token: datetime) -> int:
    _write(
        app,
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([m.id for m in messages]),
            OutboxMessage.claimed_until == token,
        )
        .values(claimed_until=None),
    )
    return len(messages)
