"""The test-infrastructure helpers work against real services (nothing mocked)."""

from __future__ import annotations

import os
import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.postgres import (
    create_database,
    drop_database,
    postgres_available,
    throwaway_postgres,
)
from tests.support.smtp import SmtpSink


def _require_postgres() -> None:
    """Skip without PostgreSQL binaries, except on CI where that is a broken setup."""
    if not postgres_available():
        reason = "PostgreSQL 15 binaries not found (set OCIFLEX_PG_BINDIR)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _mail(to: str, subject: str = "Ritbevestiging – FlexFleet") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "noreply@ociflex.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Uw huurauto staat klaar. Één sleutel.")
    return msg


def test_throwaway_postgres_runs_a_real_pg15_and_cleans_up() -> None:
    _require_postgres()
    with throwaway_postgres() as url:
        engine = sa.create_engine(url)
        assert engine.url.database == "ociflex_test"
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("show server_version")).scalar_one().startswith("15")
            datadir = Path(conn.execute(sa.text("show data_directory")).scalar_one())
        engine.dispose()

        worker_url = create_database(url, "ociflex_gw1")
        worker = sa.create_engine(worker_url)
        with worker.connect() as conn:
            assert conn.execute(sa.text("select current_database()")).scalar_one() == "ociflex_gw1"
        drop_database(url, "ociflex_gw1")  # FORCE: works despite the pooled connection
        worker.dispose()

        port = engine.url.port
        assert port is not None
        assert _port_open(port)
        assert datadir.parent.name.startswith("ociflex-pg-")
    assert not _port_open(port)
    assert not datadir.parent.exists()


def test_smtp_sink_receives_real_mail() -> None:
    with SmtpSink() as sink, smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        client.send_message(_mail("klant@example.com"), to_addrs=["klant@example.com", "bcc@x.nl"])
        (received,) = sink.wait_for(1)
    assert received.mail_from == "noreply@ociflex.test"
    assert received.rcpt_tos == ["klant@example.com", "bcc@x.nl"]
    assert received.message["Subject"] == "Ritbevestiging – FlexFleet"
    assert "Één sleutel" in received.message.get_content()


def test_smtp_sink_can_go_down_and_come_back_on_the_same_port() -> None:
    with SmtpSink() as sink:
        port = sink.port
        sink.stop()
        with pytest.raises(ConnectionRefusedError):
            smtplib.SMTP(sink.host, port, timeout=5)
        sink.start()
        assert sink.port == port
        with smtplib.SMTP(sink.host, port, timeout=5) as client:
            client.send_message(_mail("later@example.com"))
        assert sink.wait_for(1)[0].rcpt_tos == ["later@example.com"]


def test_smtp_sink_refuses_configured_recipients() -> None:
    with (
        SmtpSink(refuse_recipients={"Gone@example.com"}) as sink,
        smtplib.SMTP(sink.host, sink.port, timeout=5) as client,
    ):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.send_message(_mail("gone@example.com"))
        assert refused.value.recipients["gone@example.com"][0] == 550
        # with one good recipient the mail goes through, the bad one is reported
        bad = client.send_message(
            _mail("ok@example.com"), to_addrs=["ok@example.com", "gone@example.com"]
        )
        assert bad == {"gone@example.com": (550, b"5.1.1 Mailbox unavailable")}
        assert sink.wait_for(1)[0].rcpt_tos == ["ok@example.com"]


def test_wait_for_reports_what_arrived_on_timeout() -> None:
    with SmtpSink() as sink, pytest.raises(AssertionError, match=r"expected 1 mail\(s\).*got \[\]"):
        sink.wait_for(1, timeout=0.1)
