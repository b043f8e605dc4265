"""Login and logout of operators, and the guard every operations view uses.

Public interface for the other ops modules:

- :func:`login_required`: decorator for views that need a logged-in operator;
- :func:`admin_required`: the same for views only admins may use (others get 403);
- :func:`current_operator`: the operator of the request, inside such a view;
- :func:`client_address`: the address to record with a change (``request.remote_addr``).

Status codes of the login page: 200 to show it, 422 for an incomplete form, 401 for a wrong
user name or password, 429 (with ``Retry-After``) while locked out or sooner than the slow-down
allows, 400 without a valid CSRF token; a successful login or logout answers 303 See Other.
"""

import functools
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Response,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext, ngettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ociflex.db import get_session
from ociflex.models import Operator
from ociflex.ops import bp, csrf
from ociflex.ops.operators import (
    PASSWORD_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    LoginLocked,
    LoginRefused,
    authenticate,
)
from ociflex.ops.sessions import SessionLimits, end_session, resume_session, start_session

log = logging.getLogger(__name__)

#: Where a login goes when it was not sent from another page: the inbox.
OPS_HOME = "/ops/"
#: The key of the server-side session token in Flask's (signed) session cookie.
SESSION_KEY = "ops"
_ADDRESS_LENGTH = 64

View = Callable[..., ResponseReturnValue]


class LoginForm(FlaskForm):
    username = StringField(
        lazy_gettext("User name"), validators=[InputRequired(), Length(max=USERNAME_MAX_LENGTH)]
    )
    password = PasswordField(
        lazy_gettext("Password"), validators=[InputRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )


@bp.before_request
def _protect() -> None:
    """Operations pages are never framed, and unsafe requests need the session's CSRF token."""
    g.frame_ancestors = ("'none'",)
    csrf.protect()


@bp.errorhandler(CSRFError)
def _csrf_failed(_error: CSRFError) -> ResponseReturnValue:
    log.warning("ops request refused: no valid CSRF token (%s %s)", request.method, request.path)
    message = gettext(
        "This form has expired or did not come from this site. Reload the page and try again."
    )
    if request.endpoint == "ops.login":
        return _login_page(LoginForm(), error=message, status=400)
    return render_template("error.html", code=400, message=message), 400


# --- The interface of the other ops views -----------------------------------------------------


def client_address() -> str:
    """The client's address, as stored with login attempts, sessions and changes."""
    return (request.remote_addr or "")[:_ADDRESS_LENGTH]


def current_operator() -> Operator:
    """The logged-in operator of this request (set by :func:`login_required`)."""
    operator = g.get("operator")
    if operator is None:
        raise RuntimeError("current_operator() is only known in a view under @login_required")
    return operator


def login_required(view: View) -> View:
    """Let only a logged-in operator through; sets ``g.operator`` (see :func:`current_operator`).

    Without a valid session a page request (GET or HEAD, not asking for JSON only) is
    redirected (302) to the login page, which comes back here afterwards (``next``); any other
    request gets 401. The request's database session is left without an open transaction, so
    the view may call :func:`ociflex.db.begin_write` first thing.
    """

    @functools.wraps(view)
    def guarded(*args: object, **kwargs: object) -> ResponseReturnValue:
        operator = _resume_session()
        if operator is None:
            return _not_logged_in()
        g.operator = operator
        return view(*args, **kwargs)

    return guarded


def admin_required(view: View) -> View:
    """Let only a logged-in admin through (see :func:`login_required`); another operator gets
    403 with a page that says so."""

    @functools.wraps(view)
    def guarded(*args: object, **kwargs: object) -> ResponseReturnValue:
        if not current_operator().admin:
            log.warning(
                "ops request refused: operator=%s is no admin (%s %s)",
                current_operator().username,
                request.method,
                request.path,
            )
            return _not_an_admin()
        return view(*args, **kwargs)

    return login_required(guarded)


def _not_an_admin() -> ResponseReturnValue:
    page = render_template(
        "ops/refused.html",
        heading=gettext("Only for admins"),
        problem=gettext(
            "Only admins can use this page: it changes the operators' accounts or the calendar "
            "feeds. Ask an admin if you need something changed."
        ),
        back_url=url_for("ops.inbox"),
        back_text=gettext("Back to the inbox"),
    )
    return page, 403


def _resume_session() -> Operator | None:
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    return resume_session(get_session(), token, SessionLimits.of(current_app.config))


def _wants_page() -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"], "text/html")
    return best == "text/html"


def _not_logged_in() -> ResponseReturnValue:
    ended = session.pop(SESSION_KEY, None) is not None
    if not _wants_page():
        return render_template("error.html", code=401, message=gettext("Log in first.")), 401
    if ended:
        flash(gettext("Your session has ended. Please log in again."))
    here = request.full_path.rstrip("?")
    return redirect(url_for("ops.login", next=here), 302)


# --- Login and logout --------------------------------------------------------------------------


def local_next(value: str | None) -> str | None:
    """``value`` if it is a path on the operations pages, else None (no open redirect)."""
    if not value or len(value) > 2000 or "\\" in value:
        return None
    if any(ord(char) <= 32 or ord(char) == 127 for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/"):
        return None
    if parts.path != "/ops" and not parts.path.startswith("/ops/"):
        return None
    return value


def _login_page(
    form: LoginForm, *, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    next_url = local_next(request.args.get("next"))
    return render_template("ops/login.html", form=form, error=error, next_url=next_url), status


def _refused(form: LoginForm, refused: LoginRefused) -> Response:
    """429 with ``Retry-After``: a lockout is counted in minutes, a slow-down in seconds."""
    if isinstance(refused, LoginLocked):
        message = ngettext(
            "Too many failed attempts. Try again in %(num)s minute.",
            "Too many failed attempts. Try again in %(num)s minutes.",
            refused.minutes,
        )
    else:
        message = ngettext(
            "Too many attempts in quick succession. Try again in %(num)s second.",
            "Too many attempts in quick succession. Try again in %(num)s seconds.",
            refused.seconds,
        )
    response = make_response(_login_page(form, error=message, status=429))
    response.headers["Retry-After"] = str(refused.seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Log an operator in with user name and password, then go on to the page asked for."""
    next_url = local_next(request.args.get("next")) or OPS_HOME
    if request.method == "GET" and _resume_session() is not None:
        return redirect(next_url, 303)
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, status=422 if form.is_submitted() else 200)
    db = get_session()
    try:
        operator = authenticate(
            db, form.username.data or "", form.password.data or "", client_address()
        )
    except LoginRefused as refused:
        return _refused(form, refused)
    if operator is None:
        return _login_page(form, error=gettext("Unknown user name or wrong password."), status=401)
    previous = session.get(SESSION_KEY)
    if isinstance(previous, str):
        end_session(db, previous)
    # A new session cookie from scratch: nothing an attacker planted before the login survives.
    session.clear()
    session[SESSION_KEY] = start_session(db, operator, client_address())
    return redirect(next_url, 303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the operator's session and go back to the login page."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        end_session(get_session(), token)
        log.info("logout: address=%s", client_address())
    session.clear()
    return redirect(url_for("ops.login"), 303)
