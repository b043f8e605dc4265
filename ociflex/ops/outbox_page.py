"""The e-mails that keep failing (``GET /ops/outbox``, ``POST /ops/outbox/<id>/retry``), and how
the other pages count and label the e-mails of the outbox."""

import logging

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ociflex.db import begin_write, get_session
from ociflex.mail.outbox import WARN_AFTER_ATTEMPTS, failing_messages, retry_now
from ociflex.models import OutboxMessage, format_reference
from ociflex.ops import bp
from ociflex.ops.auth import client_address, current_operator, local_next, login_required
from ociflex.ops.inbox_filters import MAX_ID
from ociflex.text import N_

log = logging.getLogger(__name__)

#: The outbox page shows this many failing e-mails, newest first.
OUTBOX_LIMIT = 100
KIND_LABELS = {
    "confirmation": N_("Confirmation"),
    "rejection": N_("Rejection"),
    "cancellation": N_("Cancellation"),
    "new_request": N_("New request (to operations)"),
    "order_notice": N_("Purchase order to check (to operations)"),
}


def failing_count(session: Session) -> int:
    """How many e-mails operations should look at: those :func:`failing_messages` lists."""
    stuck = (OutboxMessage.status == "pending") & (OutboxMessage.attempts >= WARN_AFTER_ATTEMPTS)
    statement = select(func.count()).where(or_(OutboxMessage.status == "failed", stuck))
    return int(session.scalar(statement) or 0)


def is_failing(message: OutboxMessage) -> bool:
    return message.status == "failed" or (
        message.status == "pending" and message.attempts >= WARN_AFTER_ATTEMPTS
    )


def outbox_status_label(message: OutboxMessage) -> str:
    if message.status == "sent":
        return gettext("Sent")
    if message.status == "failed":
        return gettext("Failed, no more attempts")
    if is_failing(message):
        return gettext("Failing, trying again")
    return gettext("Waiting to be sent")


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


@bp.get("/outbox")
@login_required
def outbox() -> ResponseReturnValue:
    """The e-mails given up on, or still failing after several attempts, newest first."""
    session = get_session()
    messages = failing_messages(session, limit=OUTBOX_LIMIT)
    return render_template(
        "ops/outbox.html",
        messages=messages,
        limit=OUTBOX_LIMIT,
        reference=format_reference,
        is_failing=is_failing,
        outbox_status_label=outbox_status_label,
        kind_label=kind_label,
    )


@bp.post("/outbox/<int:message_id>/retry")
@login_required
def outbox_retry(message_id: int) -> ResponseReturnValue:
    """Have a failing e-mail sent again shortly, and go back to the outbox."""
    session = get_session()
    begin_write(session)
    message = retry_now(session, message_id) if message_id <= MAX_ID else None
    if message is None:
        session.rollback()
        flash(gettext("This e-mail was sent already, or it does not exist."))
    else:
        recipient, request_id = message.recipient, message.request_id
        session.commit()
        log.info(
            "outbox: retry id=%s request_id=%s by operator=%s address=%s",
            message_id,
            request_id,
            current_operator().username,
            client_address(),
        )
        flash(
            gettext("The e-mail to %(recipient)s will be sent again shortly.", recipient=recipient)
        )
    return redirect(local_next(request.form.get("next")) or url_for("ops.outbox"), 303)
