"""``/dev/mail``: the e-mails ociflex wrote, newest first, as their recipients will read them.

A developer machine has no SMTP relay, yet the e-mails are part of what is tried: the
confirmation that makes a reservation final, the notice to operations. Every e-mail is stored in
the outbox in the transaction of the change it reports (:mod:`ociflex.mail.outbox`) and waits
there until the outbox worker sends it; this page reads them there, sent or not, so nothing needs
to be running to see them.
"""

from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ociflex.db import get_session
from ociflex.devtools.common import bp
from ociflex.models import OutboxMessage
from ociflex.ops.outbox_page import outbox_status_label

#: The newest e-mails shown.
SHOWN = 50


@bp.get("/mail")
def mail() -> ResponseReturnValue:
    """The newest e-mails in the outbox, each with its text as the recipient reads it."""
    messages = get_session().scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(SHOWN)
    )
    return render_template(
        "devtools/mail.html",
        messages=list(messages),
        shown=SHOWN,
        status_label=outbox_status_label,
    )
