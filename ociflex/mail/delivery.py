"""Delivering the outbox: :func:`send_due` claims a batch of due messages, sends them and
records each outcome; :func:`run_worker` does so until stopped
(``flask --app app ociflex outbox run``).
"""

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from ociflex.mail.claims import (
    Claimed,
    claim,
    default_worker_id,
    lease_for,
    record_failure,
    record_success,
    release,
)
from ociflex.mail.outbox import describe_error
from ociflex.mail.transport import ConnectFailed, Sender, classify
from ociflex.models import utcnow

log = logging.getLogger(__name__)

#: How many socket timeouts one message may take at worst (connect, EHLO, MAIL, RCPT, DATA,
#: the message, QUIT): no message is started unless its lease outlasts that.
TIMEOUTS_PER_MESSAGE = 8


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
    claimed = claim(app, batch, claimed_at, token)
    report = SendReport()
    if not claimed:
        return report
    log.info("outbox: %s claimed %d message(s)", worker_id, len(claimed))
    timeout = app.config["MAIL_TIMEOUT"]
    # Start no message whose send might outlast the lease: another worker could take it over.
    last_start = time.monotonic() + lease.total_seconds() - TIMEOUTS_PER_MESSAGE * timeout
    with app.app_context():
        sender = Sender(app)
        try:
            for index, message in enumerate(claimed):
                if (stop is not None and stop.is_set()) or time.monotonic() > last_start:
                    report.released += release(app, claimed[index:], token)
                    break
                try:
                    sender.send(message)
                except ConnectFailed as error:
                    # The server is down or unreachable: this try failed for every message left.
                    for rest in claimed[index:]:
                        outcome = record_failure(app, rest, error.cause, False, clock(), token)
                        setattr(report, outcome, getattr(report, outcome) + 1)
                    left = len(claimed) - index
                    _log_failure(worker_id, claimed[index], error.cause, "retried", left)
                    break
                except Exception as error:
                    permanent, broken = classify(error)
                    outcome = record_failure(app, message, error, permanent, clock(), token)
                    setattr(report, outcome, getattr(report, outcome) + 1)
                    _log_failure(worker_id, message, error, outcome, 1)
                    if broken:
                        sender.close()
                    continue
                record_success(app, message, clock())
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
    worker_id: str, message: Claimed, error: BaseException, outcome: str, count: int
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
