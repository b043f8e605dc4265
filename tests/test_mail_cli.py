"""``flask --app app ociflex outbox run|status``: the worker as operations run it (and as the
Procfile's ``worker:`` line starts it), against the real SMTP sink, on SQLite and PostgreSQL."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ociflex import create_app
from ociflex.db import session_for
from ociflex.mail import compose
from ociflex.mail.delivery import run_worker
from ociflex.models import OutboxMessage
from tests.support.mail import outbox, queue, store_request
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "app"]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def mail_environ(environ: dict[str, str], sink: SmtpSink) -> dict[str, str]:
    return {
        **environ,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "MAIL_TIMEOUT": "2",
    }


@pytest.fixture
def mail_app(mail_environ: dict[str, str]) -> Iterator[Flask]:
    app = create_app(mail_environ)
    yield app
    app.extensions["ociflex.engine"].dispose()


def test_the_procfile_runs_the_worker() -> None:
    lines = (ROOT / "Procfile").read_text().splitlines()
    assert "worker: flask --app app ociflex outbox run" in lines


def test_the_outbox_commands_are_listed(mail_app: Flask) -> None:
    result = mail_app.test_cli_runner().invoke(args=["ociflex", "outbox", "--help"])
    assert result.exit_code == 0
    assert "run" in result.output
    assert "status" in result.output


def test_run_once_sends_what_is_due_and_stops(mail_app: Flask, sink: SmtpSink) -> None:
    row = store_request(mail_app, status="confirmed")
    queue(mail_app, row)
    queue(mail_app, row, compose.cancellation)

    result = mail_app.test_cli_runner().invoke(args=["ociflex", "outbox", "run", "--once"])

    assert result.exit_code == 0, result.output
    assert "sent 2, retried later 0, failed 0" in result.output
    assert len(sink.wait_for(2)) == 2
    assert {m.status for m in outbox(mail_app)} == {"sent"}


def test_run_once_with_the_server_down_keeps_the_messages(mail_app: Flask, sink: SmtpSink) -> None:
    queue(mail_app, store_request(mail_app))
    sink.stop()
    result = mail_app.test_cli_runner().invoke(args=["ociflex", "outbox", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 0, retried later 1, failed 0" in result.output
    [message] = outbox(mail_app)
    assert (message.status, message.attempts) == ("pending", 1)


def test_status_counts_messages_per_status(mail_app: Flask, sink: SmtpSink) -> None:
    runner = mail_app.test_cli_runner()
    empty = runner.invoke(args=["ociflex", "outbox", "status"])
    assert empty.exit_code == 0, empty.output
    assert "pending: 0\nsent: 0\nfailed: 0\noldest pending: -\n" in empty.output

    row = store_request(mail_app)
    for _ in range(3):
        queue(mail_app, row)
    with session_for(mail_app) as session:
        first = session.query(OutboxMessage).order_by(OutboxMessage.id).first()
        assert first is not None
        first.status = "failed"
        session.commit()
    queued_at = outbox(mail_app)[1].created_at

    result = runner.invoke(args=["ociflex", "outbox", "status"])
    assert result.exit_code == 0, result.output
    assert "pending: 2\nsent: 0\nfailed: 1\n" in result.output
    assert f"oldest pending: {queued_at.isoformat(timespec='seconds')}" in result.output
    assert "needing attention: 1" in result.output


def test_a_worker_in_a_thread_stops_when_asked(mail_app: Flask, sink: SmtpSink) -> None:
    stop = threading.Event()
    reports = []
    worker = threading.Thread(
        target=lambda: reports.append(run_worker(mail_app, interval=0.05, stop=stop))
    )
    worker.start()
    queue(mail_app, store_request(mail_app))
    sink.wait_for(1)
    stop.set()
    worker.join(5)
    assert not worker.is_alive()
    assert reports[0].sent == 1


def test_the_worker_process_sends_and_stops_cleanly_on_sigterm(
    mail_app: Flask, mail_environ: dict[str, str], sink: SmtpSink
) -> None:
    queue(mail_app, store_request(mail_app))
    process = subprocess.Popen(
        [*FLASK, "ociflex", "outbox", "run", "--interval", "0.2"],
        cwd=ROOT,
        env={**os.environ, **mail_environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        sink.wait_for(1, timeout=20)
        queue(mail_app, store_request(mail_app, punchout_id="later"))  # found on a later look
        sink.wait_for(2, timeout=10)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert time.monotonic() - started < 5
    assert "sent 2, retried later 0, failed 0" in stdout
    assert "SIGTERM received, stopping" in stderr
    assert {m.status for m in outbox(mail_app)} == {"sent"}
    assert len(sink.messages) == 2
