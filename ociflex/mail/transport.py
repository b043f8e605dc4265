"""Sending one claimed outbox message through Flask-Mail, with a socket timeout, verified TLS,
quoted-printable bodies and the message's stored Message-ID; and telling a refusal for good
from a failure worth another try (:func:`classify`).
"""

import smtplib
import ssl
from email.charset import QP, Charset
from email.mime.base import MIMEBase
from email.mime.text import MIMEText

import flask_mail
from flask import Flask, current_app

from ociflex.mail.claims import Claimed


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
    if isinstance(error, flask_mail.BadHeaderError):
        return True, False
    return False, True


# --- Flask-Mail with a socket timeout, verified TLS and quoted-printable bodies -----------------


class TimedConnection(flask_mail.Connection):
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


def build_message(message: Claimed) -> flask_mail.Message:
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


class Sender:
    """One SMTP connection for a batch, opened on first use and again after a break."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.connection: TimedConnection | None = None

    def send(self, message: Claimed) -> None:
        mail = build_message(message)
        if self.connection is None:
            connection = TimedConnection(self.app.extensions["mail"])
            try:
                connection.__enter__()
            except Exception as error:
                raise ConnectFailed(error) from error
            self.connection = connection
        self.connection.send(mail)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
