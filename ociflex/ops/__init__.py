"""The operations pages under ``/ops/``: Euromobil's staff log in and work the inbox.

Unlike the punch-out, these pages use a normal cookie session (``ociflex_ops``, path ``/ops``)
holding a server-side session token, and every POST, PUT, PATCH or DELETE to the blueprint must
carry the CSRF token of the session: ``{{ csrf_token() }}`` in a hidden ``csrf_token`` field
(or an ``X-CSRFToken`` header). Views that need a logged-in operator use
:func:`ociflex.ops.auth.login_required`.
"""

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("ops", __name__, url_prefix="/ops")

#: Checks the CSRF token of every unsafe request to :data:`bp` (see ``auth._protect``). Not
#: app-wide: the punch-out's booking form is protected by its signed token instead.
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    # CSRFProtect checks only where ociflex.ops.auth asks it to, not on every view.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # A CSRF token is valid as long as its session cookie (at most 12 hours).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Over HTTPS Flask-WTF would also demand a same-origin Referer header, which browsers never
    # send here: every response says "Referrer-Policy: no-referrer" (see ociflex/web.py).
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    csrf.init_app(app)
    app.register_blueprint(bp)


# The route modules register their views on bp when imported: login, the operators'
# administration, the inbox and its CSV export, a request's page, the failing e-mails, the
# workflow actions, the transfer log, the purchase orders, and the planning with its feeds.
from ociflex.ops import (  # noqa: E402
    actions,
    admin,
    auth,
    export,
    inbox,
    orders,
    outbox_page,
    planning_feeds,
    planning_page,
    request_page,
    transfers,
)

__all__ = [
    "actions",
    "admin",
    "auth",
    "bp",
    "export",
    "inbox",
    "orders",
    "outbox_page",
    "planning_feeds",
    "planning_page",
    "request_page",
    "transfers",
]
