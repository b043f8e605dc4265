"""The outbox: e-mail is written to a table in the same transaction as the change it reports,
and sent after the commit by a worker (``flask --app app ociflex outbox run``, see
:mod:`ociflex.mail.delivery`).

Nothing is lost when the mail server is down: a message stays ``pending`` and is tried again
with a growing pause (:func:`backoff`); one that keeps failing, or that the server refuses for
good (5xx), ends ``failed`` and is shown to operations (:func:`failing_messages`,
:func:`retry_now`).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ociflex.mail.compose import KINDS, Composed
from ociflex.models import OutboxMessage, RentalRequest, utcnow

#: After this many attempts a message is ``failed`` and waits for operations.
MAX_ATTEMPTS = 8
#: Pause after the first failed attempt; it doubles with every further one, up to MAX_RETRY.
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
#: Pending messages with this many failed attempts are shown to operations already.
WARN_AFTER_ATTEMPTS = 3
MESSAGE_ID_DOMAIN = "flexfleet.euromobil"
ERROR_MAX_LENGTH = 1000


# --- Writing to the outbox ----------------------------------------------------------------------


def new_message_id() -> str:
    """A Message-ID made once, when the message is queued, and sent with every attempt."""
    return f"<outbox-{uuid.uuid4()}@{MESSAGE_ID_DOMAIN}>"


class BadHeader(ValueError):
    """A recipient, subject or attachment header with a line break: it could add headers."""


def single_line(what: str, value: str) -> str:
    """``value``, unless it holds a line break (or NUL); checked when a message is queued and
    again when it is sent (a row may have been written some other way). The value is not
    quoted: it may hold personal data, and the error is logged."""
    if any(char in value for char in "\r\n\0"):
        raise BadHeader(f"the {what} of an e-mail may not contain line breaks")
    return value


def check_address(address: str) -> str:
    """``address`` if it is one plain e-mail address (syntax only, no DNS) that a message can
    be sent to without SMTPUTF8 (ASCII before the ``@``); else ValueError."""
    single_line("recipient", address)
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address: {address!r} ({error})") from None
    return address


def _check_attachment(attachment: dict[str, str]) -> dict[str, str]:
    filename, content_type = attachment["filename"], attachment["content_type"]
    single_line("attachment name", filename)
    maintype, _, subtype = single_line("attachment type", content_type).partition("/")
    if not (maintype.isalpha() and subtype.replace("-", "").replace(".", "").isalnum()):
        raise ValueError(f"an attachment type is type/subtype, not {content_type!r}")
    if not isinstance(attachment["data"], str):
        raise ValueError("attachment data is stored as text")
    return {"filename": filename, "content_type": content_type, "data": attachment["data"]}


def enqueue(
    session: Session, composed: Composed, request: RentalRequest | None = None
) -> OutboxMessage:
    """Add ``composed`` to the outbox in ``session``'s current transaction (no commit: the
    message is stored together with the change it reports, or not at all).

    Raises ValueError for a recipient, subject or attachment that could change the headers.
    """
    if composed.kind not in KINDS:
        raise ValueError(f"unknown kind of e-mail: {composed.kind!r}")
    check_address(composed.recipient)
    single_line("subject", composed.subject)
    attachments = [_check_attachment(a) for a in composed.attachments]
    if request is not None and request.id is None:
        session.flush()
    now = utcnow()
    message = OutboxMessage(
        message_id=new_message_id(),
        request_id=request.id if request is not None else None,
        kind=composed.kind,
        recipient=composed.recipient,
        subject=composed.subject,
        body_text=composed.text,
        body_html=composed.html,
        attachments=attachments,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
    )
    session.add(message)
    return message


# --- For operations -----------------------------------------------------------------------------


def failing_messages(session: Session, *, limit: int = 100) -> list[OutboxMessage]:
    """Messages operations should know about, newest first: given up on (``failed``), or still
    pending after WARN_AFTER_ATTEMPTS failed attempts."""
    stuck = (OutboxMessage.status == "pending") & (OutboxMessage.attempts >= WARN_AFTER_ATTEMPTS)
    statement = (
        select(OutboxMessage)
        .where(or_(OutboxMessage.status == "failed", stuck))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def retry_now(
    session: Session, message_id: int | str, *, now: datetime | None = None
) -> OutboxMessage | None:
    """Put a failed (or waiting) message back in line, due at once, with a fresh round of
    attempts. ``message_id`` is the outbox row's id, or its Message-ID header text.

    Changes ``session``'s current transaction only: the caller begins it with
    :func:`~ociflex.db.begin_write` and commits. Returns None for an unknown or sent message.
    """
    if isinstance(message_id, str):
        condition = OutboxMessage.message_id == message_id
    else:
        condition = OutboxMessage.id == message_id
    message = session.scalar(select(OutboxMessage).where(condition))
    if message is None or message.status == "sent":
        return None
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = now or utcnow()
    # A claim still running is left alone: that worker records its own outcome.
    return message


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]
    oldest_pending: datetime | None
    next_attempt: datetime | None
    failing: int


def outbox_status(session: Session) -> OutboxStatus:
    """How many messages are in each status, and how long the oldest has been waiting."""
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    pending = OutboxMessage.status == "pending"
    oldest, next_attempt = session.execute(
        select(func.min(OutboxMessage.created_at), func.min(OutboxMessage.next_attempt_at)).where(
            pending
        )
    ).one()
    stuck = pending & (OutboxMessage.attempts >= WARN_AFTER_ATTEMPTS)
    failing = session.scalar(
        select(func.count()).where(or_(OutboxMessage.status == "failed", stuck))
    )
    counts = dict.fromkeys(("pending", "sent", "failed"), 0)
    counts.update((status, count) for status, count in rows)
    return OutboxStatus(counts, oldest, next_attempt, int(failing or 0))


# --- Retries ------------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The pause after the ``attempts``-th failed attempt: 1, 2, 4, ... minutes, at most 1 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


def describe_error(error: BaseException) -> str:
    """What went wrong, for the outbox row and the log: class and message, never the
    SMTP password, at most ERROR_MAX_LENGTH characters."""
    text = f"{type(error).__name__}: {error}"
    password = current_app.config.get("MAIL_PASSWORD") if current_app else None
    if password:
        text = text.replace(password, "***")
    return text[:ERROR_MAX_LENGTH]
