"""E-mail: composed in the requester's language, queued in the outbox in the same transaction as
the change it reports, and sent after the commit by the outbox worker.

Flask-Mail reads the standard ``MAIL_*`` settings (see :mod:`ociflex.settings`).
"""

from flask import Flask
from flask_mail import Mail
from sqlalchemy.orm import Session

from ociflex.mail import compose
from ociflex.mail.outbox import enqueue
from ociflex.models import OutboxMessage, RentalRequest

mail = Mail()

#: Which e-mail tells the requester about a request in each status.
STATUS_MAILS = {
    "confirmed": compose.confirmation,
    "rejected": compose.rejection,
    "cancelled": compose.cancellation,
}


def init_app(app: Flask) -> None:
    mail.init_app(app)


def queue_status_mail(session: Session, request: RentalRequest) -> OutboxMessage | None:
    """Queue the e-mail that tells the requester about ``request``'s (new) status, in the
    current transaction: call it before committing the status change. None: the status has
    no e-mail (new, in progress, scheduled)."""
    build = STATUS_MAILS.get(request.status)
    if build is None:
        return None
    return enqueue(session, build(request), request)


__all__ = ["STATUS_MAILS", "init_app", "mail", "queue_status_mail"]
