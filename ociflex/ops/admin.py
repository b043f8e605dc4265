"""Operator administration, for admins only (``/ops/operators``): the operators with their
lockouts and the trail of changes, adding an operator, a new password, and the changes made
with one button (disable, enable, lift a lockout, grant or revoke the admin right).

The admin types a new password twice, as on the command line, rather than ociflex generating
one and showing it once: that way a password never appears in a page, the browser's cache or
history, or the session cookie (signed, but readable) that a flash message travels in, and
every successful POST answers with a redirect, so a reload repeats nothing. The admin hands the
password over as one set on the command line.

Status codes: 200 for a page, 303 after a change, 403 for an operator who is no admin, 404 for
an unknown operator, 409 for a change that would leave no active admin, 422 for a form with
errors (nothing is stored), 400 without a valid CSRF token.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ociflex.db import get_session
from ociflex.models.base import utcnow
from ociflex.ops import bp
from ociflex.ops.auth import admin_required, client_address, current_operator
from ociflex.ops.operator_trail import Actor, recent_entries
from ociflex.ops.operators import (
    DISPLAY_NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    OperatorError,
    UnknownOperator,
    add_operator,
    disable_operator,
    enable_operator,
    get_operator,
    lift_lockout,
    list_operators,
    name_lockouts,
    normalise_username,
    set_admin,
    set_password,
)
from ociflex.text import N_

log = logging.getLogger(__name__)

#: The operators page shows this many entries of the trail, newest first.
TRAIL_LIMIT = 50
ACTION_LABELS = {
    "add": N_("Added"),
    "disable": N_("Disabled"),
    "enable": N_("Enabled"),
    "set_password": N_("New password"),
    "lift_lockout": N_("Lockout lifted"),
    "grant_admin": N_("Made admin"),
    "revoke_admin": N_("Admin right revoked"),
}


class PasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"),
        validators=[InputRequired(), Length(max=PASSWORD_MAX_LENGTH)],
    )
    password_again = PasswordField(
        lazy_gettext("The same password again"),
        validators=[
            InputRequired(),
            EqualTo(
                "password",
                message=lazy_gettext("The two passwords differ: type the same password twice."),
            ),
        ],
    )


class AddOperatorForm(PasswordForm):
    username = StringField(
        lazy_gettext("User name"), validators=[InputRequired(), Length(max=USERNAME_MAX_LENGTH)]
    )
    display_name = StringField(
        lazy_gettext("Full name"), validators=[Length(max=DISPLAY_NAME_MAX_LENGTH)]
    )
    admin = BooleanField(lazy_gettext("Admin: may manage the operators"))


@dataclass(frozen=True)
class _Change:
    """A change made with one button: ``apply(session, username, by=actor)``, and what the
    admin is told afterwards (a catalogue text naming the operator as ``%(name)s``)."""

    apply: Callable[..., object]
    done: str


_CHANGES = {
    "disable": _Change(
        disable_operator, N_("%(name)s is disabled: their sessions have ended at once.")
    ),
    "enable": _Change(enable_operator, N_("%(name)s can log in again.")),
    "lift-lockout": _Change(
        lift_lockout,
        N_("The lockout of %(name)s is lifted: their failed login attempts are forgotten."),
    ),
    "grant-admin": _Change(partial(set_admin, admin=True), N_("%(name)s is now an admin.")),
    "revoke-admin": _Change(partial(set_admin, admin=False), N_("%(name)s is no longer an admin.")),
}


def action_label(action: str) -> str:
    return gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def _actor() -> Actor:
    return Actor(operator_id=current_operator().id, client_address=client_address())


def _translated(error: OperatorError) -> str:
    return gettext(error.message, **error.params)


def _refused(error: OperatorError) -> ResponseReturnValue:
    """The page of a change that was not made: 404 for an unknown operator, else 409."""
    page = render_template(
        "ops/refused.html",
        heading=gettext("Operators"),
        problem=_translated(error),
        back_url=url_for("ops.operators"),
        back_text=gettext("Back to the operators"),
    )
    return page, 404 if isinstance(error, UnknownOperator) else 409


def _form_page(
    form: PasswordForm, heading: str, submit: str, *, problem: str | None = None
) -> ResponseReturnValue:
    """The page of ``form``: 200 when it is asked for, 422 when it was sent with errors."""
    page = render_template(
        "ops/operator_form.html", form=form, heading=heading, submit=submit, problem=problem
    )
    return page, 422 if form.is_submitted() else 200


@bp.get("/operators")
@admin_required
def operators() -> ResponseReturnValue:
    """Every operator with their state and lockout, the buttons to change them, and the newest
    entries of the trail of changes."""
    session = get_session()
    accounts = list_operators(session)
    lockouts = name_lockouts(session, [account.username for account in accounts], utcnow())
    return render_template(
        "ops/operators.html",
        accounts=accounts,
        lockouts=lockouts,
        trail=recent_entries(session, TRAIL_LIMIT),
        trail_limit=TRAIL_LIMIT,
        action_label=action_label,
    )


@bp.route("/operators/add", methods=["GET", "POST"])
@admin_required
def operator_add() -> ResponseReturnValue:
    """Add an operator, with a password the admin types twice."""
    form = AddOperatorForm()
    heading, submit = gettext("Add an operator"), gettext("Add the operator")
    if not form.validate_on_submit():
        return _form_page(form, heading, submit)
    try:
        operator = add_operator(
            get_session(),
            form.username.data or "",
            form.password.data or "",
            form.display_name.data or "",
            admin=form.admin.data,
            by=_actor(),
        )
    except OperatorError as error:
        return _form_page(form, heading, submit, problem=_translated(error))
    flash(gettext("%(name)s is added and can log in now.", name=operator.username))
    return redirect(url_for("ops.operators"), 303)


@bp.route("/operators/<username>/password", methods=["GET", "POST"])
@admin_required
def operator_password(username: str) -> ResponseReturnValue:
    """Give an operator a new password, typed twice; their sessions end."""
    session = get_session()
    operator = get_operator(session, username)
    session.commit()
    if operator is None:
        return _refused(UnknownOperator(normalise_username(username)))
    form = PasswordForm()
    heading = gettext("New password for %(name)s", name=operator.username)
    submit = gettext("Set the password")
    if not form.validate_on_submit():
        return _form_page(form, heading, submit)
    try:
        set_password(session, operator.username, form.password.data or "", by=_actor())
    except OperatorError as error:
        return _form_page(form, heading, submit, problem=_translated(error))
    flash(
        gettext("%(name)s has a new password; their sessions have ended.", name=operator.username)
    )
    return redirect(url_for("ops.operators"), 303)


_CHANGE_NAMES = ", ".join(f'"{name}"' for name in _CHANGES)


@bp.post(f"/operators/<username>/<any({_CHANGE_NAMES}):change>")
@admin_required
def operator_change(username: str, change: str) -> ResponseReturnValue:
    """Make one change to an operator's account, then go back to the operators."""
    name = normalise_username(username)
    try:
        _CHANGES[change].apply(get_session(), name, by=_actor())
    except OperatorError as error:
        return _refused(error)
    flash(gettext(_CHANGES[change].done, name=name))
    return redirect(url_for("ops.operators"), 303)
