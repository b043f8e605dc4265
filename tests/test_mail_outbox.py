"""The outbox against a real SMTP server on 127.0.0.1 (aiosmtpd), on SQLite and PostgreSQL:
queued in the transaction of the change, delivered once after the commit with its stored
Message-ID, kept and retried while the server is down or silent, given up on when refused, and
drained by two workers at once without a message sent twice."""

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update

from ociflex import create_app
from ociflex.db import begin_write, session_for
from ociflex.mail import compose, queue_status_mail
from ociflex.mail.delivery import run_worker, send_due
from ociflex.mail.outbox import (
    MAX_ATTEMPTS,
    backoff,
    check_address,
    enqueue,
    failing_messages,
    retry_now,
)
from ociflex.models import OutboxMessage, RentalRequest, utcnow
from ociflex.settings import SettingsError, from_environment
from tests.conftest import PRODUCTION_SECRET_KEY
from tests.support.mail import outbox, queue, store_request
from tests.support.punchout import book, book_demo, call_up, count_stored, demo_booking
from tests.support.smtp import SmtpSink

OPS = "operations@euromobil.example"

# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


def make_app(environ: dict[str, str], port: int, **extra: str) -> Flask:
    return create_app(
        {
            **environ,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(port),
            "MAIL_TIMEOUT": "2",
            "MAIL_DEFAULT_SENDER": "Euromobil FlexFleet <noreply@flexfleet.example>",
            **extra,
        }
    )


@pytest.fixture
def mail_app(environ: dict[str, str], sink: SmtpSink) -> Iterator[Flask]:
    app = make_app(environ, sink.port, OCIFLEX_OPS_EMAIL=OPS)
    yield app
    app.extensions["ociflex.engine"].dispose()


def ops_notification(request: RentalRequest) -> compose.Composed:
    return compose.new_request_notification(request, OPS)


def only(app: Flask) -> OutboxMessage:
    [message] = outbox(app)
    return message


def later(message: OutboxMessage) -> datetime:
    """A moment just after the message is due again."""
    return message.next_attempt_at + timedelta(seconds=1)


def content(part: EmailMessage) -> str:
    """A text part's content with its line breaks as Python writes them (CRLF on the wire)."""
    return part.get_content().replace("\r\n", "\n")


def parts(message: EmailMessage) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for part in message.walk():
        found.setdefault(part.get_content_type(), []).append(part)  # type: ignore[arg-type]
    return found


# --- Settings -----------------------------------------------------------------------------------


def test_mail_settings_have_safe_defaults(tmp_path: Path) -> None:
    config = from_environment({"SECRET_KEY": PRODUCTION_SECRET_KEY}, tmp_path)
    assert config["MAIL_SERVER"] == "localhost"
    assert config["MAIL_PORT"] == 25
    assert (config["MAIL_USE_TLS"], config["MAIL_USE_SSL"]) == (False, False)
    assert (config["MAIL_USERNAME"], config["MAIL_PASSWORD"]) == (None, None)
    assert config["MAIL_TIMEOUT"] == 10
    assert config["MAIL_SUPPRESS_SEND"] is False
    assert config["OCIFLEX_OPS_EMAIL"] is None
    assert config["OCIFLEX_CONTACT_PHONE"] == "+31 20 000 0000"
    assert config["OCIFLEX_CONTACT_EMAIL"] == "operations@euromobil.example"
    assert config["MAIL_DEFAULT_SENDER"] == "Euromobil FlexFleet <operations@euromobil.example>"
    assert config["OCIFLEX_PUBLIC_URL"] is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("0", False), ("false", False), ("", False)],
)
def test_mail_booleans_read_1_true_yes(tmp_path: Path, raw: str, expected: bool) -> None:
    config = from_environment({"SECRET_KEY": PRODUCTION_SECRET_KEY, "MAIL_USE_TLS": raw}, tmp_path)
    assert config["MAIL_USE_TLS"] is expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MAIL_USE_TLS": "sometimes"}, "MAIL_USE_TLS must be"),
        ({"MAIL_USE_TLS": "1", "MAIL_USE_SSL": "1"}, "exclude each other"),
        ({"MAIL_PORT": "smtp"}, "MAIL_PORT must be a whole number"),
        ({"MAIL_TIMEOUT": "0"}, "MAIL_TIMEOUT must be"),
        ({"OCIFLEX_OPS_EMAIL": "operations"}, "OCIFLEX_OPS_EMAIL is not a valid"),
        ({"MAIL_DEFAULT_SENDER": "a@b.example\r\nBcc: x@evil.example"}, "single line"),
        ({"OCIFLEX_PUBLIC_URL": "flex.example"}, "OCIFLEX_PUBLIC_URL must start"),
    ],
)
def test_wrong_mail_settings_are_refused(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        from_environment({"SECRET_KEY": PRODUCTION_SECRET_KEY, **environ}, tmp_path)


# --- Queueing -----------------------------------------------------------------------------------


def test_enqueue_joins_the_current_transaction_and_does_not_commit(mail_app: Flask) -> None:
    row = store_request(mail_app, status="confirmed")
    with mail_app.app_context(), session_for(mail_app) as session:
        begin_write(session)
        enqueue(session, compose.confirmation(row), row)
        session.rollback()
    assert outbox(mail_app) == []

    message = queue(mail_app, row)
    stored = only(mail_app)
    assert stored.message_id == message.message_id
    assert stored.message_id.startswith("<outbox-")
    assert stored.message_id.endswith("@flexfleet.euromobil>")
    assert (stored.status, stored.attempts, stored.request_id) == ("pending", 0, row.id)
    assert stored.kind == "confirmation"
    assert stored.attachments[0]["filename"] == "FF-000001.ics"


@pytest.mark.parametrize(
    "change",
    [
        {"recipient": "jan@demo.example\r\nBcc: victim@evil.example"},
        {"recipient": "jan@demo.example\nBcc: victim@evil.example"},
        {"recipient": "Jan <jan@demo.example>"},
        {"recipient": "not an address"},
        {"subject": "Bevestigd\r\nBcc: victim@evil.example"},
        {"subject": "Bevestigd\nX-Injected: 1"},
        {"kind": "newsletter"},
    ],
)
def test_enqueue_refuses_what_could_change_the_headers(
    mail_app: Flask, change: dict[str, str]
) -> None:
    row = store_request(mail_app)
    with mail_app.app_context(), session_for(mail_app) as session:
        begin_write(session)
        bad = replace(compose.confirmation(row), **change)
        with pytest.raises(ValueError):  # noqa: PT011
            enqueue(session, bad, row)
        session.rollback()
    assert outbox(mail_app) == []


# --- Delivery -----------------------------------------------------------------------------------


def test_a_queued_message_is_delivered_once_with_its_stored_message_id(
    mail_app: Flask, sink: SmtpSink
) -> None:
    queue(mail_app, store_request(mail_app, status="confirmed"))
    queued = only(mail_app)

    report = send_due(mail_app, worker_id="test")
    assert (report.sent, report.failed, report.retried) == (1, 0, 0)
    [received] = sink.wait_for(1)
    assert send_due(mail_app).claimed == 0
    time.sleep(0.1)
    assert len(sink.messages) == 1

    mail = received.message
    assert received.rcpt_tos == ["jan.jansen@demo.example"]
    assert received.mail_from == "noreply@flexfleet.example"
    assert mail.get_all("Message-ID") == [queued.message_id]
    assert mail["To"] == "jan.jansen@demo.example"
    assert mail["Subject"] == "Bevestigd: uw FlexFleet-reservering FF-000001"
    assert mail["Reply-To"] == "operations@euromobil.example"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/mixed"
    found = parts(mail)
    assert "multipart/alternative" in found
    [plain] = found["text/plain"]
    [html] = found["text/html"]
    assert "Beste Jan Jansen,\n" in content(plain)
    assert "Ophalen: dinsdag 1 december 2026 om 09:00\n" in content(plain)
    assert "<p>Beste Jan Jansen,</p>" in content(html)
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    [calendar] = found["text/calendar"]
    assert calendar.get_filename() == "FF-000001.ics"
    ics = calendar.get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "UID:FF-000001@flexfleet.euromobil" in ics
    assert "DTSTART:20261201T080000Z" in ics

    sent = only(mail_app)
    assert (sent.status, sent.attempts, sent.claimed_until) == ("sent", 1, None)
    assert sent.sent_at is not None
    assert abs(sent.sent_at - utcnow()) < timedelta(minutes=1)
    assert abs(mail["Date"].datetime - sent.sent_at) < timedelta(minutes=1)


def test_texts_names_and_the_calendar_entry_arrive_exactly_as_queued(
    environ: dict[str, str], sink: SmtpSink
) -> None:
    app = make_app(
        environ,
        sink.port,
        MAIL_DEFAULT_SENDER="Euromobil FlexFleet Zürich <noreply@flexfleet.example>",
        OCIFLEX_OPS_EMAIL=OPS,
    )
    try:
        row = store_request(
            app,
            status="confirmed",
            requester_name="Zoë Ærøskøbing-Çelik",
            vehicle_name="Bestelbus (Citroën ë-Jumpy, " + "lange omschrijving " * 6 + ")",
            remarks="Graag met trekhaak — en winterbanden.",
        )
        queue(app, row)
        queue(app, row, ops_notification)
        confirmation, notification = outbox(app)
        assert len(notification.subject) > 78  # folded on the wire

        assert send_due(app).sent == 2
        received = {m.message["Message-ID"]: m.message for m in sink.wait_for(2)}
    finally:
        app.extensions["ociflex.engine"].dispose()
    for queued in (confirmation, notification):
        mail = received[queued.message_id]
        assert mail["Subject"] == queued.subject
        assert mail["From"].addresses[0].display_name == "Euromobil FlexFleet Zürich"
        assert mail["From"].addresses[0].addr_spec == "noreply@flexfleet.example"
        for name, value in mail.raw_items():  # as received: 7-bit, folded at 78
            assert value.isascii(), name
            lines = f"{name}: {value}".splitlines()
            assert max(len(line) for line in lines) <= 78, name
        found = parts(mail)
        assert content(found["text/plain"][0]) == queued.body_text
        assert content(found["text/html"][0]) == queued.body_html
        assert "Zoë Ærøskøbing-Çelik" in queued.body_text
    [calendar] = parts(received[confirmation.message_id])["text/calendar"]
    assert calendar.get_payload(decode=True) == confirmation.attachments[0]["data"].encode()
    assert "text/calendar" not in parts(received[notification.message_id])


def test_a_message_without_html_or_attachments_arrives_as_one_text_entity(
    mail_app: Flask, sink: SmtpSink
) -> None:
    row = store_request(mail_app, status="rejected", reason="Geen bussen meer beschikbaar.")
    with mail_app.app_context(), session_for(mail_app) as session:
        begin_write(session)
        enqueue(session, replace(compose.rejection(row), html=""), row)
        session.commit()
    queued = only(mail_app)
    assert send_due(mail_app).sent == 1
    [received] = sink.wait_for(1)
    mail = received.message
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail["Content-Transfer-Encoding"] == "quoted-printable"
    assert not mail.is_multipart()
    assert content(mail) == queued.body_text
    assert mail["Message-ID"] == queued.message_id
    assert mail["Reply-To"] == "operations@euromobil.example"


def test_a_stored_subject_with_a_line_break_is_never_sent_and_the_batch_goes_on(
    mail_app: Flask, sink: SmtpSink
) -> None:
    queue(mail_app, store_request(mail_app))
    queue(mail_app, store_request(mail_app, punchout_id="second"))
    tampered, fine = outbox(mail_app)
    with session_for(mail_app) as session:
        # Written past enqueue's checks (an old row, a manual fix in the database).
        begin_write(session)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == tampered.id)
            .values(subject="Bevestigd\r\nBcc: victim@evil.example")
        )
        session.commit()

    report = send_due(mail_app)
    assert (report.sent, report.failed, report.retried) == (1, 1, 0)
    [received] = sink.wait_for(1)
    assert received.message["Message-ID"] == fine.message_id
    assert received.rcpt_tos == ["jan.jansen@demo.example"]
    time.sleep(0.1)
    assert len(sink.messages) == 1
    refused, sent = outbox(mail_app)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "line breaks" in refused.last_error
    assert sent.status == "sent"


def test_with_mail_suppress_send_the_worker_marks_mail_sent_and_sends_nothing(
    environ: dict[str, str], sink: SmtpSink
) -> None:
    app = make_app(environ, sink.port, MAIL_SUPPRESS_SEND="1")
    try:
        queue(app, store_request(app))
        assert send_due(app).sent == 1
        assert only(app).status == "sent"
    finally:
        app.extensions["ociflex.engine"].dispose()
    time.sleep(0.1)
    assert sink.messages == []


def test_an_english_rejection_arrives_in_english(mail_app: Flask, sink: SmtpSink) -> None:
    row = store_request(
        mail_app,
        status="rejected",
        language="en",
        requester_email="jane.smith@acme.example",
        reason="No estate cars left.",
    )
    queue(mail_app, row, compose.rejection)
    send_due(mail_app)
    [received] = sink.wait_for(1)
    assert received.message["Subject"] == "Your FlexFleet request FF-000001 has been declined"
    found = parts(received.message)
    assert "text/calendar" not in found
    assert "Reason:\nNo estate cars left." in content(found["text/plain"][0])


def test_a_long_reason_never_makes_a_line_longer_than_smtp_allows(
    mail_app: Flask, sink: SmtpSink
) -> None:
    queue(mail_app, store_request(mail_app, reason="x" * 3000), compose.cancellation)
    send_due(mail_app)
    [received] = sink.wait_for(1)
    plain = parts(received.message)["text/plain"][0]
    assert ("x" * 3000) in content(plain)
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert max(len(line) for line in plain.get_payload().splitlines()) <= 76


def test_a_name_cannot_add_a_header_or_a_recipient(mail_app: Flask, sink: SmtpSink) -> None:
    row = store_request(
        mail_app,
        requester_name="Eve\r\nBcc: victim@evil.example\r\nX-Injected: yes",
        vehicle_name="Bus\r\nBcc: victim2@evil.example",
    )
    queue(mail_app, row)
    queue(mail_app, row, ops_notification)
    send_due(mail_app)
    received = sink.wait_for(2)
    for mail in received:
        assert len(mail.rcpt_tos) == 1
        assert "evil.example" not in mail.rcpt_tos[0]
        assert mail.message["Bcc"] is None
        assert mail.message["X-Injected"] is None
        assert mail.message.get_all("To") == [mail.rcpt_tos[0]]
    subjects = {m.message["Subject"].strip() for m in received}
    assert "Nieuwe aanvraag FF-000001: Demo Inkoop B.V., Bus Bcc: victim2@evil.example" in subjects


# --- The mail server down, silent, or refusing --------------------------------------------------


def confirm(app: Flask, request_id: int) -> None:
    """What the inbox's confirm action does: status change and e-mail in one transaction."""
    with app.app_context(), session_for(app) as session:
        begin_write(session)
        request = session.get(RentalRequest, request_id)
        assert request is not None
        request.status = "confirmed"
        queue_status_mail(session, request)
        session.commit()


def test_mail_server_down_at_confirmation_then_back_sends_exactly_one(
    mail_app: Flask, sink: SmtpSink
) -> None:
    row = store_request(mail_app)
    sink.stop()

    confirm(mail_app, row.id)
    before = utcnow()
    report = send_due(mail_app)
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)

    with session_for(mail_app) as session:
        request = session.get(RentalRequest, row.id)
        assert request is not None
        assert request.status == "confirmed"
    pending = only(mail_app)
    assert (pending.status, pending.attempts, pending.claimed_until) == ("pending", 1, None)
    assert "ConnectionRefusedError" in pending.last_error
    assert before + timedelta(seconds=55) < pending.next_attempt_at <= utcnow() + backoff(1)

    sink.start()
    assert send_due(mail_app).claimed == 0  # not due yet: the pause is kept
    report = send_due(mail_app, now=later(pending))
    assert report.sent == 1
    [received] = sink.wait_for(1)
    assert received.message["Message-ID"] == pending.message_id
    assert send_due(mail_app, now=later(pending) + timedelta(hours=2)).claimed == 0
    time.sleep(0.1)
    assert len(sink.messages) == 1
    sent = only(mail_app)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert "ConnectionRefusedError" in sent.last_error  # what happened stays visible


def test_the_pause_doubles_and_after_the_last_attempt_operations_see_it(
    mail_app: Flask, sink: SmtpSink
) -> None:
    queue(mail_app, store_request(mail_app))
    sink.stop()
    pauses = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        message = only(mail_app)
        now = later(message)
        report = send_due(mail_app, now=now)
        message = only(mail_app)
        assert message.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert report.retried == 1
            pauses.append(message.next_attempt_at - now)
        else:
            assert report.failed == 1
            assert message.status == "failed"
    assert pauses[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert pauses[-1] == timedelta(hours=1)

    with session_for(mail_app) as session:
        [failing] = failing_messages(session)
    assert failing.status == "failed"
    assert "ConnectionRefusedError" in failing.last_error

    # Operations put it back; the server is up again.
    sink.start()
    with session_for(mail_app) as session:
        begin_write(session)
        again = retry_now(session, failing.id)
        assert again is not None
        session.commit()
    assert send_due(mail_app).sent == 1
    sink.wait_for(1)
    with session_for(mail_app) as session:
        assert failing_messages(session) == []
        assert retry_now(session, failing.id) is None  # sent: nothing to retry


def test_a_refused_recipient_fails_at_once_and_the_rest_of_the_batch_goes(
    mail_app: Flask, sink: SmtpSink
) -> None:
    sink.refuse_recipients.add("gone@demo.example")
    queue(mail_app, store_request(mail_app, requester_email="gone@demo.example"))
    queue(mail_app, store_request(mail_app, punchout_id="second"))

    report = send_due(mail_app)
    assert (report.sent, report.failed, report.retried) == (1, 1, 0)
    [received] = sink.wait_for(1)
    assert received.rcpt_tos == ["jan.jansen@demo.example"]
    refused, sent = outbox(mail_app)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "SMTPRecipientsRefused" in refused.last_error
    assert "550" in refused.last_error
    assert sent.status == "sent"
    with session_for(mail_app) as session:
        assert [m.id for m in failing_messages(session)] == [refused.id]
    with session_for(mail_app) as session:
        # Retried by its Message-ID: refused again, and failed again at once.
        begin_write(session)
        assert retry_now(session, refused.message_id) is not None
        session.commit()
    assert send_due(mail_app).failed == 1


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A server on 127.0.0.1 that accepts connections and never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes the handshakes; nobody ever answers
        yield listener.getsockname()[1]


def test_a_silent_server_times_out_and_the_message_waits_for_the_next_try(
    environ: dict[str, str], silent_server: int
) -> None:
    app = make_app(environ, silent_server, MAIL_TIMEOUT="1")
    try:
        queue(app, store_request(app))
        queue(app, store_request(app, punchout_id="second"))
        started = time.monotonic()
        report = send_due(app)
        elapsed = time.monotonic() - started
        assert elapsed < 5, f"the worker hung for {elapsed:.1f}s"
        assert report.retried == 2
        for message in outbox(app):
            assert (message.status, message.attempts) == ("pending", 1)
            assert "timed out" in message.last_error
            assert message.claimed_until is None
    finally:
        app.extensions["ociflex.engine"].dispose()


# --- Claims: several workers --------------------------------------------------------------------


def test_a_claimed_message_is_left_to_its_worker_until_the_lease_ends(
    mail_app: Flask, sink: SmtpSink
) -> None:
    queue(mail_app, store_request(mail_app))
    message = only(mail_app)
    with session_for(mail_app) as session:
        begin_write(session)
        stored = session.get(OutboxMessage, message.id)
        assert stored is not None
        stored.claimed_until = utcnow() + timedelta(minutes=2)  # a worker is sending it
        session.commit()
    assert send_due(mail_app).claimed == 0
    # That worker died: once its lease ran out, another one sends the message.
    assert send_due(mail_app, now=utcnow() + timedelta(minutes=3)).sent == 1
    sink.wait_for(1)


def test_a_stopping_worker_hands_its_claimed_messages_back(mail_app: Flask, sink: SmtpSink) -> None:
    for number in range(3):
        queue(mail_app, store_request(mail_app, punchout_id=f"p{number}"))
    stop = threading.Event()
    stop.set()
    report = send_due(mail_app, stop=stop)
    assert (report.released, report.sent) == (3, 0)
    assert all(m.claimed_until is None and m.attempts == 0 for m in outbox(mail_app))
    assert run_worker(mail_app, once=True).sent == 3
    assert len(sink.wait_for(3)) == 3


def test_two_workers_draining_one_outbox_send_every_message_exactly_once(
    environ: dict[str, str], sink: SmtpSink
) -> None:
    apps = [make_app(environ, sink.port) for _ in range(2)]
    try:
        row = store_request(apps[0])
        with apps[0].app_context(), session_for(apps[0]) as session:
            begin_write(session)
            for _ in range(50):
                enqueue(session, compose.confirmation(row), row)
            session.commit()
        queued = {m.message_id for m in outbox(apps[0])}
        assert len(queued) == 50

        start = threading.Barrier(2)
        reports = {}
        errors = []

        def work(name: str, app: Flask) -> None:
            try:
                start.wait()
                reports[name] = run_worker(app, once=True, batch=5, worker_id=name)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [
            threading.Thread(target=work, args=(f"worker-{i}", app)) for i, app in enumerate(apps)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors
        assert sum(r.sent for r in reports.values()) == 50
        assert all(r.sent > 0 for r in reports.values()), reports  # both took part
        received = sink.wait_for(50)
        time.sleep(0.2)
        ids = Counter(m.message["Message-ID"] for m in sink.messages)
        assert set(ids) == queued
        assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
        assert len(received) == len(sink.messages) == 50
        assert {(m.status, m.attempts) for m in outbox(apps[0])} == {("sent", 1)}
    finally:
        for app in apps:
            app.extensions["ociflex.engine"].dispose()


# SKIP LOCKED is PostgreSQL's; on SQLite, BEGIN IMMEDIATE lets one claimer in at a time.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_claimers_pass_rows_locked_by_another_by(
    mail_app: Flask, sink: SmtpSink
) -> None:
    for number in range(4):
        queue(mail_app, store_request(mail_app, punchout_id=f"p{number}"))
    first, second, *_ = (m.id for m in outbox(mail_app))
    with session_for(mail_app) as other:
        # Another worker is in the middle of claiming the first two.
        other.execute(
            text("SELECT id FROM outbox WHERE id IN (:a, :b) FOR UPDATE"),
            {"a": first, "b": second},
        )
        started = time.monotonic()
        report = send_due(mail_app)
        assert time.monotonic() - started < 5  # passed them by, did not wait
        assert report.sent == 2
        other.rollback()
    assert [m.status for m in outbox(mail_app)] == ["pending", "pending", "sent", "sent"]
    assert send_due(mail_app).sent == 2


# --- Operations are told about a new request ----------------------------------------------------


def test_a_booking_queues_the_operations_notification_in_its_transaction(
    mail_app: Flask, sink: SmtpSink, demo_callup: dict[str, str]
) -> None:
    client = mail_app.test_client(use_cookies=False)
    sink.stop()  # nothing is sent while booking anyway; and the server is down
    token = call_up(client, "demo", demo_callup).token
    response = book(client, "demo", token, **demo_booking())
    assert response.status_code == 200
    book(client, "demo", token, **demo_booking())  # a double submit queues nothing more

    message = only(mail_app)
    with session_for(mail_app) as session:
        [request] = session.scalars(select(RentalRequest)).all()
    assert (message.kind, message.recipient, message.request_id) == ("new_request", OPS, request.id)
    assert message.subject.startswith("Nieuwe aanvraag FF-000001: Demo Inkoop B.V.")
    assert "Aanvrager: Jan Jansen" in message.body_text
    assert "Kostenplaats: 4100" in message.body_text

    assert send_due(mail_app).retried == 1  # the server is down: kept
    sink.start()
    assert send_due(mail_app, now=later(only(mail_app))).sent == 1
    [received] = sink.wait_for(1)
    assert received.rcpt_tos == [OPS]
    assert received.message["Reply-To"] is None


def test_without_an_operations_address_a_booking_queues_nothing(
    client: FlaskClient, app: Flask, demo_callup: dict[str, str]
) -> None:
    assert book_demo(client, demo_callup).status_code == 200
    assert count_stored(app) == 1
    assert outbox(app) == []


def test_a_notification_that_cannot_be_queued_leaves_no_half_booking(
    mail_app: Flask, demo_callup: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("template broken")

    monkeypatch.setattr("ociflex.booking.register.new_request_notification", broken)
    client = mail_app.test_client(use_cookies=False)
    with pytest.raises(RuntimeError, match="template broken"):
        book_demo(client, demo_callup)
    assert count_stored(mail_app) == 0
    with session_for(mail_app) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_address_that_needs_smtputf8_is_refused_but_an_international_domain_is_sent_to() -> None:
    # The messages carry no SMTPUTF8: a non-ASCII local part could never be delivered, and would
    # only be retried until it failed. A domain is written in its ASCII form (IDNA).
    with pytest.raises(ValueError, match="not a valid e-mail address"):
        check_address("jürgen@acme.example")
    assert check_address("jan@bücher.example") == "jan@bücher.example"
