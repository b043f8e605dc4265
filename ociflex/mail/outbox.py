"""The outbox: e-mail is written to a table in the same transaction as the change it reports,
and sent after the commit by a worker (``flask --app app ociflex outbox run``).

Nothing is lost when the mail server is down: a message stays ``pending`` and is tried again
with a growing pause; one that keeps failing, or that the server refuses for good (5xx), ends
``failed`` and is shown to operations (:func:`failing_messages`, :func:`retry_now`).

Several workers may run at once. Each claims a batch of due messages in one short transaction,
setting ``claimed_until`` (a lease) so no other worker takes them: on PostgreSQL the rows are
selected ``FOR UPDATE SKIP LOCKED``, so concurrent claimers pass each other by; on SQLite the
claim runs in a ``BEGIN IMMEDIATE`` transaction, which lets one claimer in at a time. The
lease's exact value is the claim's token: a worker records a message's outcome only while the
message still carries it. A worker that dies mid-batch leaves its messages to be claimed again
when the lease has run out; such a message may then reach the recipient twice, recognisable by
its stable Message-ID.
"""

import logging
import os
import signal
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from typing import Any

import flask_mail
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ociflex.db import begin_write, session_for
from ociflex.mail.compose import KINDS, Composed
from ociflex.models import OutboxMessage, RentalRequest, utcnow

log = logging.getLogger(__name__)

#: After this many attempts a message is ``failed`` and waits for operations.
MAX_ATTEMPTS = 8
#: Pause after the first failed attempt; it doubles with every further one, up to MAX_RETRY.
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
#: Shortest time a worker holds the messages it claimed (longer with a long MAIL_TIMEOUT).
MIN_LEASE = timedelta(minutes=2)
#: Pending messages with this many failed attempts are shown to operations already.
WARN_AFTER_ATTEMPTS = 3
MESSAGE_ID_DOMAIN = "flexfleet.euromobil"
ERROR_MAX_LENGTH = 1000
#: How many socket timeouts one message may take at worst (connect, EHLO, MAIL, RCPT, DATA,
#: the message, QUIT): no message is started unless its lease outlasts that.
TIMEOUTS_PER_MESSAGE = 8


# --- Writing to the outbox ----------------------------------------------------------------------


def new_message_id() -> str:
    """A Message-ID made once, when the message is queued, and sent with every attempt."""
    return f"<outbox-{uuid.uuid4()}@{MESSAGE_ID_DOMAIN}>"


def _single_line(what: str, value: str) -> str:
    if any(char in value for char in "\r\n\0"):
        raise ValueError(f"the {what} of an e-mail may not contain line breaks: {value!r}")
    return value


def check_address(address: str) -> str:
    """``address`` if it is one plain e-mail address (syntax only, no DNS); else ValueError."""
    _single_line("recipient", address)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address: {address!r} ({error})") from None
    return address


def _check_attachment(attachment: dict[str, str]) -> dict[str, str]:
    filename, content_type = attachment["filename"], attachment["content_type"]
    _single_line("attachment name", filename)
    maintype, _, subtype = _single_line("attachment type", content_type).partition("/")
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
    _single_line("subject", composed.subject)
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


# --- Sending ------------------------------------------------------------------------------------


@dataclass
class SendReport:
    """What one :func:`send_due` (or a whole worker run) did."""

    sent: int = 0
    #: Given up: refused for good, or out of attempts.
    failed: int = 0
    #: Failed for now; tried again later.
    retried: int = 0
    #: Claimed but handed back unsent (the worker was asked to stop, or its lease ran short).
    released: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.failed + self.retried + self.released

    def __add__(self, other: "SendReport") -> "SendReport":
        return SendReport(
            self.sent + other.sent,
            self.failed + other.failed,
            self.retried + other.retried,
            self.released + other.released,
        )


@dataclass(frozen=True)
class _Claimed:
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
    def of(cls, row: OutboxMessage) -> "_Claimed":
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


class _ConnectFailed(Exception):
    """The mail server could not be reached or would not talk: no message of the batch can go."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def lease_for(app: Flask) -> timedelta:
    return max(MIN_LEASE, timedelta(seconds=12 * app.config["MAIL_TIMEOUT"]))


def backoff(attempts: int) -> timedelta:
    """The pause after the ``attempts``-th failed attempt: 1, 2, 4, ... minutes, at most 1 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


def send_due(
    app: Flask,
    *,
    batch: int = 50,
    now: datetime | None = None,
    worker_id: str | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Claim up to ``batch`` due messages, send them, and record each outcome.

    ``now`` fixes the clock (tests); by default each step reads the real one.
    """
    worker_id = worker_id or default_worker_id()
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    lease = lease_for(app)
    claimed_at = clock()
    token = claimed_at + lease
    claimed = _claim(app, batch, claimed_at, token)
    report = SendReport()
    if not claimed:
        return report
    log.info("outbox: %s claimed %d message(s)", worker_id, len(claimed))
    timeout = app.config["MAIL_TIMEOUT"]
    # Start no message whose send might outlast the lease: another worker could take it over.
    last_start = time.monotonic() + lease.total_seconds() - TIMEOUTS_PER_MESSAGE * timeout
    with app.app_context():
        sender = _Sender(app)
        try:
            for index, message in enumerate(claimed):
                if (stop is not None and stop.is_set()) or time.monotonic() > last_start:
                    report.released += _release(app, claimed[index:], token)
                    break
                try:
                    sender.send(message)
                except _ConnectFailed as error:
                    # The server is down or unreachable: this try failed for every message left.
                    for rest in claimed[index:]:
                        outcome = _record_failure(app, rest, error.cause, False, clock(), token)
                        setattr(report, outcome, getattr(report, outcome) + 1)
                    left = len(claimed) - index
                    _log_failure(worker_id, claimed[index], error.cause, "retried", left)
                    break
                except Exception as error:
                    permanent, broken = classify(error)
                    outcome = _record_failure(app, message, error, permanent, clock(), token)
                    setattr(report, outcome, getattr(report, outcome) + 1)
                    _log_failure(worker_id, message, error, outcome, 1)
                    if broken:
                        sender.close()
                    continue
                _record_success(app, message, clock())
                report.sent += 1
                log.info(
                    "outbox: sent id=%s kind=%s request_id=%s message_id=%s worker=%s",
                    message.id,
                    message.kind,
                    message.request_id,
                    message.message_id,
                    worker_id,
                )
        finally:
            sender.close()
    return report


def _log_failure(
    worker_id: str, message: _Claimed, error: BaseException, outcome: str, count: int
) -> None:
    log.warning(
        "outbox: %s id=%s kind=%s request_id=%s messages=%d worker=%s error=%s",
        "gave up on" if outcome == "failed" else "will retry",
        message.id,
        message.kind,
        message.request_id,
        count,
        worker_id,
        describe_error(error),
    )


def _claim(app: Flask, batch: int, now: datetime, token: datetime) -> list[_Claimed]:
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
        claimed = [_Claimed.of(row) for row in rows]
        session.commit()
    return claimed


def _update(app: Flask, message_id: int, *conditions: Any, **values: Any) -> int:
    with session_for(app) as session:
        begin_write(session)
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return result.rowcount  # type: ignore[attr-defined]


def _record_success(app: Flask, message: _Claimed, now: datetime) -> None:
    # Not tied to the claim: the message was delivered, whoever holds it now.
    _update(
        app,
        message.id,
        OutboxMessage.status == "pending",
        status="sent",
        sent_at=now,
        attempts=message.attempts + 1,
        claimed_until=None,
    )


def _record_failure(
    app: Flask,
    message: _Claimed,
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
    _update(app, message.id, OutboxMessage.claimed_until == token, **values)
    return "failed" if final else "retried"


def _release(app: Flask, messages: Sequence[_Claimed], token: datetime) -> int:
    with session_for(app) as session:
        begin_write(session)
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_([m.id for m in messages]),
                OutboxMessage.claimed_until == token,
            )
            .values(claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return len(messages)


def describe_error(error: BaseException) -> str:
    """What went wrong, for the outbox row and the log: class and message, never the
    SMTP password, at most ERROR_MAX_LENGTH characters."""
    text = f"{type(error).__name__}: {error}"
    password = current_app.config.get("MAIL_PASSWORD") if current_app else None
    if password:
        text = text.replace(password, "***")
    return text[:ERROR_MAX_LENGTH]


def classify(error: BaseException) -> tuple[bool, bool]:
    """``(permanent, connection_broken)`` for an error while sending one message.

    Permanent: the server refused this message for good (a 5xx reply), so trying again
    cannot help. A broken connection is opened anew for the next message.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes), False
    if isinstance(error, smtplib.SMTPHeloError):
        return False, True
    if isinstance(error, smtplib.SMTPResponseException):
        if error.smtp_code == 421:  # the server is closing the connection: try again later
            return False, True
        return 500 <= error.smtp_code < 600, False
    if isinstance(error, flask_mail.BadHeaderError):
        return True, False
    return False, True


# --- Flask-Mail with a socket timeout, verified TLS and quoted-printable bodies -----------------


class _TimedConnection(flask_mail.Connection):
    """Flask-Mail's connection, opened with MAIL_TIMEOUT on every socket operation (Flask-Mail
    passes none: a server that accepts and never answers would hang the worker) and with
    certificate checks for STARTTLS and SMTPS (smtplib's default context checks nothing)."""

    def configure_host(self) -> smtplib.SMTP:
        mail = self.mail
        timeout = current_app.config["MAIL_TIMEOUT"]
        context = ssl.create_default_context()
        host: smtplib.SMTP
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=timeout, context=context)
        else:
            host = smtplib.SMTP(mail.server, mail.port, timeout=timeout)
        try:
            host.ehlo_or_helo_if_needed()
            if mail.use_tls:
                host.starttls(context=context)
                host.ehlo()
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def close(self) -> None:
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        self.host = None


class _Message(flask_mail.Message):
    """Flask-Mail's message with text parts in quoted-printable (ASCII lines of at most 76
    characters on the wire, so a long line, an operator's reason, never breaks SMTP's limit of
    998) and the subject written by the email package's current header code, which folds a
    long subject properly (the legacy code Flask-Mail uses starts it on a line of its own)
    and refuses line breaks in it."""

    def _mimetext(self, text: str | None, subtype: str = "plain") -> MIMEText:
        charset = Charset("utf-8")
        charset.body_encoding = QP
        return MIMEText(text or "", _subtype=subtype, _charset=charset)  # type: ignore[arg-type]

    def _message(self) -> MIMEBase:
        message = super()._message()  # its policy is now email.policy.SMTP
        if self.subject:
            message.replace_header("Subject", self.subject)
        return message


def build_message(message: _Claimed) -> flask_mail.Message:
    """The e-mail of an outbox row, with its stored Message-ID."""
    config = current_app.config
    reply_to = None if message.kind == "new_request" else config["OCIFLEX_CONTACT_EMAIL"]
    mail = _Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.body_text,
        html=message.body_html or None,
        reply_to=reply_to,
        # RFC 3834: no out-of-office replies to a notification.
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    # Flask-Mail writes msgId as the Message-ID header (extra_headers would add a second one).
    mail.msgId = message.message_id
    for attachment in message.attachments:
        mail.attach(
            filename=attachment["filename"],
            content_type=attachment["content_type"],
            data=attachment["data"].encode("utf-8"),
        )
    return mail


class _Sender:
    """One SMTP connection for a batch, opened on first use and again after a break."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.connection: _TimedConnection | None = None

    def send(self, message: _Claimed) -> None:
        mail = build_message(message)
        if self.connection is None:
            connection = _TimedConnection(self.app.extensions["mail"])
            try:
                connection.__enter__()
            except Exception as error:
                raise _ConnectFailed(error) from error
            self.connection = connection
        self.connection.send(mail)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# --- The worker ---------------------------------------------------------------------------------


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (the platform stopping the worker) and SIGINT (Ctrl-C) finish the message being
    sent, hand the rest of the batch back, and end the worker."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _handler(signum: int, _frame: object) -> None:
        log.info("outbox worker: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_worker(
    app: Flask,
    *,
    once: bool = False,
    interval: float = 5,
    batch: int = 50,
    worker_id: str | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Send due messages until stopped; with ``once``, until nothing is due any more.

    A full batch is followed by the next at once; otherwise the worker waits ``interval``
    seconds. An error of the database is logged and waited out (with ``once`` it is raised).
    """
    stop = stop or threading.Event()
    worker_id = worker_id or default_worker_id()
    total = SendReport()
    log.info("outbox worker %s started (interval %ss, batch %d)", worker_id, interval, batch)
    with _stop_on_signals(stop):
        while not stop.is_set():
            try:
                report = send_due(app, batch=batch, worker_id=worker_id, stop=stop)
            except Exception:
                if once:
                    raise
                log.exception("outbox worker %s: round failed; trying again", worker_id)
                stop.wait(interval)
                continue
            total += report
            if report.claimed >= batch and report.released == 0:
                continue
            if once:
                break
            stop.wait(interval)
    log.info(
        "outbox worker %s stopped: %d sent, %d retried later, %d failed",
        worker_id,
        total.sent,
        total.retried,
        total.failed,
    )
    return total
