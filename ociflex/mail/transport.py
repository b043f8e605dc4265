"""Sending claimed outbox messages over SMTP: one connection per batch with a socket timeout and
verified TLS, each message written by :func:`render` with its stored Message-ID; and telling a
refusal for good from a failure worth another try (:func:`classify`).

:func:`render` writes the bytes Flask-Mail's ``Message.as_bytes()`` wrote for these messages
(same headers, MIME structure, transfer encodings and line breaks; only the random boundaries
differ), without building and re-parsing a tree of ``email`` objects: the outbox worker spent
most of its time per message on that tree (docs/performance.md). Headers still go through the
``email`` package's SMTP policy, which folds long values and writes non-ASCII as encoded words.
"""

import base64
import secrets
import smtplib
import ssl
import sys
import time
from dataclasses import dataclass
from email import policy, quoprimime
from email.utils import encode_rfc2231, formatdate, quote
from functools import cache
from typing import Any

from flask import Flask
from flask_mail import sanitize_address

from ociflex.mail.claims import Claimed
from ociflex.mail.outbox import BadHeader, single_line

#: How headers are written on the wire: CRLF, lines of at most 78 characters, non-ASCII as
#: RFC 2047 encoded words (what Flask-Mail switched its messages to before writing them).
POLICY = policy.SMTP
CRLF = b"\r\n"
#: RFC 3834: no out-of-office replies to a notification.
AUTO_SUBMITTED = b"Auto-Submitted: auto-generated\r\n"
_BOUNDARY_DIGITS = len(str(sys.maxsize))


class ConnectFailed(Exception):
    """The mail server could not be reached or would not talk: no message of the batch can go."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


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
    if isinstance(error, BadHeader):
        return True, False
    return False, True


# --- The message on the wire --------------------------------------------------------------------


def _header(name: str, value: Any) -> bytes:
    """One header as the ``email`` generator writes it: a short value as it is, a longer one
    folded, a header object (non-ASCII text) encoded."""
    return POLICY.fold_binary(name, value)


@dataclass(frozen=True)
class Letterhead:
    """What every message of a batch shares: the envelope sender and the From and Reply-To
    headers, written once."""

    envelope_from: str
    from_header: bytes
    #: To the requester only: a reply goes to operations (mails to operations have none).
    reply_to_header: bytes

    @classmethod
    def of(cls, app: Flask) -> "Letterhead":
        sender = sanitize_address(single_line("sender", app.extensions["mail"].default_sender))
        contact = app.config["OCIFLEX_CONTACT_EMAIL"]
        reply_to = _header("Reply-To", sanitize_address(contact)) if contact else b""
        return cls(sender, _header("From", sender), reply_to)


def _boundary(content: bytes) -> str:
    """A boundary as the ``email`` package makes them, one that does not occur in ``content``."""
    while True:
        boundary = f"{'=' * 15}{secrets.randbelow(sys.maxsize):0{_BOUNDARY_DIGITS}d}=="
        if boundary.encode("ascii") not in content:
            return boundary


def _multipart_type(subtype: str, boundary: str) -> bytes:
    """The Content-Type of a multipart, folded as the SMTP policy folds it: the boundary goes on
    a line of its own when the header would be longer than 78 characters (written here: the
    policy's general folding is a lot of work for this one plain ASCII value)."""
    line = f'Content-Type: multipart/{subtype}; boundary="{boundary}"'
    if len(line) > 78:
        line = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"'
    return line.encode("ascii") + CRLF


def _multipart(subtype: str, parts: list[bytes], headers: bytes = b"") -> bytes:
    """A multipart entity: its headers (Content-Type, MIME-Version, then ``headers``), a blank
    line, and ``parts`` between boundary lines."""
    boundary = _boundary(b"".join(parts))
    delimiter = b"--" + boundary.encode("ascii")
    return b"".join(
        [
            _multipart_type(subtype, boundary),
            b"MIME-Version: 1.0\r\n",
            headers,
            CRLF,
            delimiter,
            CRLF,
            (CRLF + delimiter + CRLF).join(parts),
            CRLF,
            delimiter,
            b"--\r\n",
        ]
    )


def _text(text: str, subtype: str = "plain", headers: bytes = b"") -> bytes:
    """A text part in UTF-8, quoted-printable: ASCII lines of at most 76 characters on the wire,
    so a long line (an operator's reason) never breaks SMTP's limit of 998."""
    body = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), eol="\r\n")
    return b"".join(
        [
            b"Content-Type: text/",
            subtype.encode("ascii"),
            b'; charset="utf-8"\r\nMIME-Version: 1.0\r\n',
            b"Content-Transfer-Encoding: quoted-printable\r\n",
            headers,
            CRLF,
            body.encode("ascii"),
        ]
    )


def _disposition(filename: str) -> bytes:
    """The Content-Disposition of an attachment: ``attachment`` with the file's name, quoted when
    ASCII, else RFC 2231 in UTF-8. None for a file without a name, as Flask-Mail writes an
    attachment without one (given an empty name it writes ``attachment; filename``, which is
    no valid header)."""
    if not filename:
        return b""
    if filename.isascii():
        return _header("Content-Disposition", f'attachment; filename="{quote(filename)}"')
    return _header(
        "Content-Disposition", f"attachment; filename*={encode_rfc2231(filename, 'UTF8', '')}"
    )


def _attachment(attachment: dict[str, str]) -> bytes:
    """An attachment, its text stored in UTF-8, in base64."""
    body = base64.encodebytes(attachment["data"].encode("utf-8")).replace(b"\n", CRLF)
    return b"".join(
        [
            _header("Content-Type", single_line("attachment type", attachment["content_type"])),
            b"MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n",
            _disposition(attachment["filename"]),
            CRLF,
            body,
        ]
    )


def envelope_recipient(message: Claimed) -> str:
    """The row's recipient as the envelope and the To header carry it (an international domain
    name in its ASCII form)."""
    return sanitize_address(single_line("recipient", message.recipient))


def render(
    message: Claimed, letterhead: Letterhead, recipient: str, date: float | None = None
) -> bytes:
    """The e-mail of an outbox row as it goes to the server, with its stored Message-ID, to
    ``recipient`` (:func:`envelope_recipient`).

    Text only: one text/plain entity. Otherwise multipart/mixed: the text, or text and HTML as
    multipart/alternative, then each attachment. ``date`` (seconds since the epoch) is the
    Date header, in local time; now by default.
    """
    subject = single_line("subject", message.subject)
    headers = [
        _header("Subject", POLICY.header_store_parse("Subject", subject)[1]) if subject else b"",
        letterhead.from_header,
        _header("To", recipient),
        _header("Date", formatdate(time.time() if date is None else date, localtime=True)),
        _header("Message-ID", single_line("Message-ID", message.message_id)),
        b"" if message.kind == "new_request" else letterhead.reply_to_header,
        AUTO_SUBMITTED,
    ]
    top = b"".join(headers)
    if not message.body_html and not message.attachments:
        return _text(message.body_text, headers=top)
    if message.body_html:
        alternative = [_text(message.body_text), _text(message.body_html, "html")]
        body = _multipart("alternative", alternative)
    else:
        body = _text(message.body_text)
    return _multipart("mixed", [body, *map(_attachment, message.attachments)], top)


# --- The connection -----------------------------------------------------------------------------


@cache
def _tls_context() -> ssl.SSLContext:
    """Certificate checks for STARTTLS and SMTPS (smtplib's default context checks nothing).
    Made once per process: loading the system's certificates is slow, and they do not change
    while the worker runs."""
    return ssl.create_default_context()


def connect(app: Flask) -> smtplib.SMTP:
    """A connection to the mail server, logged in, with MAIL_TIMEOUT on every socket operation
    (a server that accepts and never answers would otherwise hang the worker)."""
    mail = app.extensions["mail"]
    timeout = app.config["MAIL_TIMEOUT"]
    host: smtplib.SMTP
    if mail.use_ssl:
        host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=timeout, context=_tls_context())
    else:
        host = smtplib.SMTP(mail.server, mail.port, timeout=timeout)
    try:
        host.ehlo_or_helo_if_needed()
        if mail.use_tls:
            host.starttls(context=_tls_context())
            host.ehlo()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
    except BaseException:
        host.close()
        raise
    return host


class Sender:
    """One SMTP connection for a batch, opened on first use and again after a break. With
    MAIL_SUPPRESS_SEND nothing is sent, and every message counts as sent."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.letterhead = Letterhead.of(app)
        self.suppress = bool(app.extensions["mail"].suppress)
        self.host: smtplib.SMTP | None = None

    def send(self, message: Claimed) -> None:
        recipient = envelope_recipient(message)
        data = render(message, self.letterhead, recipient)
        if self.suppress:
            return
        if self.host is None:
            try:
                self.host = connect(self.app)
            except Exception as error:
                raise ConnectFailed(error) from error
        self.host.sendmail(self.letterhead.envelope_from, [recipient], data)

    def close(self) -> None:
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        self.host = None
