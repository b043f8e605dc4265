"""A real SMTP server (aiosmtpd) that keeps what it receives, for mail tests.

The app talks to it over TCP with smtplib exactly as it would to the production relay,
so the whole sending path is exercised. ``stop()``/``start()`` keep the port, which lets
a test simulate "mail server down, later back".
"""

from __future__ import annotations

import email
import socket
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.service import Service


@dataclass
class ReceivedMail:
    """One delivered message with its SMTP envelope (which may differ from the headers)."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    refuse_recipients: set[str]
    messages: list[ReceivedMail] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address.lower() in self.refuse_recipients:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(
            ReceivedMail(envelope.mail_from or "", list(envelope.rcpt_tos), message)
        )
        return "250 Message accepted for delivery"


class SmtpSink(Service):
    """SMTP server on 127.0.0.1 collecting mail in ``.messages``.

    Use as a context manager. Recipients in ``refuse_recipients`` get a 550 at RCPT.
    """

    host = "127.0.0.1"

    def __init__(self, port: int = 0, refuse_recipients: set[str] | frozenset[str] = frozenset()):
        self.port = port or _free_port()
        self._handler = _Handler({r.lower() for r in refuse_recipients})
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        return self._handler.messages

    @property
    def refuse_recipients(self) -> set[str]:
        """Mutable: add/remove addresses while the server runs."""
        return self._handler.refuse_recipients

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """(Re)start on the same port. A Controller's loop is closed by stop(), so each
        start builds a new one; asyncio sets SO_REUSEADDR, so rebinding works at once."""
        if self._controller is None:
            # server_hostname avoids a socket.getfqdn() DNS lookup per connection
            controller = Controller(
                self._handler, hostname=self.host, port=self.port, server_hostname="sink.test"
            )
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        """Close the listener; connecting now fails with ConnectionRefusedError."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Wait until at least ``count`` messages arrived (delivery is asynchronous)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                got = [(m.mail_from, m.rcpt_tos, m.message["Subject"]) for m in self.messages]
                raise AssertionError(f"expected {count} mail(s) within {timeout}s, got {got}")
            time.sleep(0.02)
        return list(self.messages)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<SmtpSink {self.host}:{self.port} {state}, {len(self.messages)} mail(s)>"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


__all__ = ["ReceivedMail", "SmtpSink"]
