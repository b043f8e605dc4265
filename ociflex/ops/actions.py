"""The workflow actions on a request: ``POST /ops/requests/<id>/<action>`` (``ops.request_action``).

Actions: ``start``, ``schedule``, ``confirm``, ``reject``, ``cancel`` (the transitions of
:mod:`ociflex.ops.workflow`) and ``po_number`` (the ERP's purchase-order number, in any
status). Each POST carries the session's CSRF token and the request's ``version`` as the
operator saw it. In one write transaction an action

1. refuses a request that changed since the operator saw it: 409, "Another operator changed
   this request at 14:03 (now: Rejected); review and try again";
2. refuses a transition the status does not allow (confirming twice, confirming a rejected
   request): 409 with the workflow's message;
3. refuses a form with errors: 422, the form again with each error next to its field and what
   was entered kept;
4. otherwise changes the request, writes the event in its history (who, from, to, what
   changed, from where), moves the status counts and queues the e-mail to the requester
   (confirm, reject, cancel), commits, and answers 303 See Other to the request's page with a
   message.

A refused action changes nothing. The version column (SQLAlchemy's ``version_id_col``) also
settles the race between step 1 and the commit: the UPDATE of the loser matches no row, and it
gets the answer of step 1.

``templates/ops/_actions.html`` shows the forms, for the request page to include; it gets them
from the template global ``ops_actions_panel(rental, customer)``.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template_string, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_datetime, format_time, gettext
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import BuildError

from ociflex.customers.model import Customer
from ociflex.db import begin_write, get_session
from ociflex.history import move_count, record_event
from ociflex.mail import queue_status_mail
from ociflex.mail.compose import LOCAL_TIME
from ociflex.models import RentalRequest, utcnow
from ociflex.ops import bp
from ociflex.ops.auth import client_address, current_operator, login_required
from ociflex.ops.forms import FORMS, ActionForm, ScheduleForm, action_forms, submitted_form
from ociflex.ops.workflow import (
    FINAL_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    TransitionError,
    next_status,
)
from ociflex.text import N_

log = logging.getLogger(__name__)

#: The actions that tell the requester by e-mail (see ociflex.mail.queue_status_mail).
MAILING_ACTIONS = ("confirm", "reject", "cancel")
#: The request's fields each action may change.
CHANGED_FIELDS = {
    "schedule": (
        "planned_vehicle",
        "licence_plate",
        "pickup_at",
        "return_at",
        "pickup_location",
        "ops_notes",
    ),
    "reject": ("reason",),
    "cancel": ("reason",),
    "po_number": ("erp_po_number",),
}

_ACTION_RULE = "/requests/<int:request_id>/<any({}):action>".format(", ".join(FORMS))

#: The page of a refused action: what went wrong and, for a form with errors, the forms again.
_REFUSED_PAGE = """{% extends "ops/base.html" %}
{% block title %}{{ heading }}{% endblock %}
{% block ops_content %}
<h1>{{ heading }}</h1>
<p class="problem" role="alert">{{ problem }}</p>
{% if submitted_action_forms %}{% include "ops/_actions.html" %}{% endif %}
<p><a href="{{ back_url }}">{{ back_text }}</a></p>
{% endblock %}"""


# --- What the page shows ------------------------------------------------------------------------


@dataclass
class ActionsPanel:
    """What ``templates/ops/_actions.html`` needs to show the actions of one request."""

    rental: RentalRequest
    forms: dict[str, ActionForm]
    status_label: str
    final: bool
    #: Branches the customer offers, proposed for the pickup location.
    locations: tuple[str, ...] = field(default_factory=tuple)

    def url(self, action: str) -> str:
        return url_for("ops.request_action", request_id=self.rental.id, action=action)


def actions_panel(
    rental: RentalRequest,
    customer: Customer | None = None,
    submitted: dict[str, ActionForm] | None = None,
) -> ActionsPanel:
    """The forms ``rental``'s status allows (and the PO number's), with the submitted ones
    (sent with errors) in place of blank ones."""
    return ActionsPanel(
        rental=rental,
        forms=action_forms(rental, submitted),
        status_label=status_label(rental.status),
        final=rental.status in FINAL_STATUSES,
        locations=customer.locations if customer is not None else (),
    )


bp.add_app_template_global(actions_panel, "ops_actions_panel")


def status_label(status: str) -> str:
    return gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def request_page(request_id: int) -> str:
    """The address of the request's page (the inbox's ``ops.request_detail``)."""
    try:
        return url_for("ops.request_detail", request_id=request_id)
    except BuildError:
        # Only while the inbox is not part of the app: its address is fixed (see mail.compose).
        return f"{bp.url_prefix}/requests/{request_id}"


# --- The action ---------------------------------------------------------------------------------


@bp.post(_ACTION_RULE)
@login_required
def request_action(request_id: int, action: str) -> ResponseReturnValue:
    session = get_session()
    begin_write(session)
    try:
        return _act(session, request_id, action)
    finally:
        # A refused action leaves nothing behind; after a commit this does nothing.
        session.rollback()


def _act(session: Session, request_id: int, action: str) -> ResponseReturnValue:
    rental = session.get(RentalRequest, request_id)
    if rental is None:
        abort(404)
    form = submitted_form(action)
    valid = form.validate()
    seen = form.seen_version()
    #: (message, HTTP status, why in the log)
    refusal: tuple[str, int, str] | None = None
    from_status = to_status = rental.status
    if seen is None:
        message = gettext("This form is incomplete. Reload the request's page and try again.")
        refusal = (message, 400, "no version in the form")
    elif seen != rental.version:
        refusal = (_changed_meanwhile(rental), 409, "changed meanwhile")
    elif action in TRANSITIONS:
        try:
            to_status = next_status(action, from_status)
        except TransitionError as error:
            refusal = (_translated(error), 409, "not allowed in this status")
    if refusal is None and not valid:
        message = gettext("Nothing was changed: correct the fields marked below.")
        refusal = (message, 422, "errors in " + ", ".join(sorted(form.errors)))
    if refusal is not None:
        message, status, why = refusal
        log.info(
            "request %s: %s by %s refused (%s): %s; version seen %s, now %s; status %s",
            request_id,
            action,
            current_operator().username,
            status,
            why,
            seen,
            rental.version,
            rental.status,
        )
        session.rollback()
        submitted = {action: form} if status == 422 else None
        return _refused(rental, message, status, submitted=submitted)

    changes = _changes(action, form, rental)
    if to_status == from_status and not changes:
        session.rollback()
        flash(gettext("Nothing changed in request %(reference)s.", reference=rental.reference))
        return redirect(request_page(rental.id), 303)
    operator = current_operator()
    try:
        for name, (_old, new) in changes.items():
            setattr(rental, name, new)
        rental.status = to_status
        record_event(
            session,
            rental,
            actor=operator.username,
            operator_id=operator.id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            changes={name: [_json(old), _json(new)] for name, (old, new) in changes.items()},
            client_address=client_address(),
        )
        if to_status != from_status:
            move_count(session, rental.customer_id, from_status, to_status)
        if action in MAILING_ACTIONS:
            queue_status_mail(session, rental)
        session.commit()
    except StaleDataError:
        # Another operator's change was committed between our check and our UPDATE.
        session.rollback()
        log.info("request %s: %s by %s lost a race", request_id, action, operator.username)
        fresh = session.get(RentalRequest, request_id, populate_existing=True)
        if fresh is None:
            abort(404)
        return _refused(fresh, _changed_meanwhile(fresh), 409)
    log.info(
        "request %s: %s by %s (%s -> %s, changed: %s)",
        rental.reference,
        action,
        operator.username,
        from_status,
        to_status,
        ", ".join(changes) or "-",
    )
    flash(_done(action, from_status, rental))
    if isinstance(form, ScheduleForm) and ({"pickup_at", "return_at"} & changes.keys()):
        for warning in _date_warnings(rental):
            flash(warning)
    return redirect(request_page(rental.id), 303)


def _changes(action: str, form: ActionForm, rental: RentalRequest) -> dict[str, tuple[Any, Any]]:
    """What the action changes: field -> (old, new), for the fields that differ."""
    if isinstance(form, ScheduleForm):
        new_values = form.planned()
    elif action in ("reject", "cancel"):
        new_values = {"reason": form["reason"].data}
    elif action == "po_number":
        new_values = {"erp_po_number": form["erp_po_number"].data}
    else:
        new_values = {}
    changes = {}
    for name in CHANGED_FIELDS.get(action, ()):
        old, new = getattr(rental, name), new_values[name]
        if old != new:
            changes[name] = (old, new)
    return changes


def _json(value: Any) -> Any:
    """A value as the event's JSON holds it: moments and days as ISO 8601 text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _translated(error: TransitionError) -> str:
    params = {name: gettext(value) for name, value in error.params.items()}
    return gettext(error.message, **params)


# --- Answers ------------------------------------------------------------------------------------


def _done(action: str, from_status: str, rental: RentalRequest) -> str:
    reference = rental.reference
    if action == "start":
        return gettext("Request %(reference)s is now in progress.", reference=reference)
    if action == "schedule" and from_status == "scheduled":
        return gettext("The planning of request %(reference)s is updated.", reference=reference)
    if action == "schedule":
        return gettext(
            "Request %(reference)s is scheduled. Confirm it to e-mail the requester.",
            reference=reference,
        )
    if action == "confirm":
        return gettext(
            "Request %(reference)s confirmed; the confirmation e-mail is queued.",
            reference=reference,
        )
    if action == "reject":
        return gettext(
            "Request %(reference)s rejected; the rejection e-mail with the reason is queued.",
            reference=reference,
        )
    if action == "cancel":
        return gettext(
            "Request %(reference)s cancelled; the cancellation e-mail with the reason is queued.",
            reference=reference,
        )
    return gettext(
        "Purchase-order number %(number)s saved with request %(reference)s.",
        number=rental.erp_po_number,
        reference=reference,
    )


def _date_warnings(rental: RentalRequest) -> list[str]:
    """Planned days that are not the requested ones: allowed (operations may have agreed on
    it with the requester), but said, so that a slip of the finger is seen."""
    checks = (
        (
            rental.pickup_at,
            rental.start_date,
            N_(
                "Note: the pickup is planned on %(planned)s, but the requested first day "
                "is %(requested)s."
            ),
        ),
        (
            rental.return_at,
            rental.end_date,
            N_(
                "Note: the return is planned on %(planned)s, but the requested last day "
                "is %(requested)s."
            ),
        ),
    )
    warnings = []
    for planned_at, requested, message in checks:
        if planned_at is None:
            continue
        planned = planned_at.astimezone(LOCAL_TIME).date()
        if planned != requested:
            warnings.append(
                gettext(
                    message,
                    planned=format_date(planned, "full"),
                    requested=format_date(requested, "full"),
                )
            )
    return warnings


def _changed_at(moment: datetime) -> str:
    """When the request last changed: the time if that was today, else the day and time."""
    local = moment.astimezone(LOCAL_TIME)
    if local.date() == utcnow().astimezone(LOCAL_TIME).date():
        return format_time(local, "HH:mm", rebase=False)
    return format_datetime(local, "short", rebase=False)


def _changed_meanwhile(rental: RentalRequest) -> str:
    return gettext(
        "Another operator changed this request at %(time)s (now: %(status)s); "
        "review and try again.",
        time=_changed_at(rental.updated_at),
        status=status_label(rental.status),
    )


def _refused(
    rental: RentalRequest,
    problem: str,
    status: int,
    *,
    submitted: dict[str, ActionForm] | None = None,
) -> ResponseReturnValue:
    registry = current_app.extensions.get("ociflex.customers")
    customer = registry.get(rental.customer_id) if registry is not None else None
    page = render_template_string(
        _REFUSED_PAGE,
        heading=gettext("Request %(reference)s", reference=rental.reference),
        problem=problem,
        rental=rental,
        customer=customer,
        submitted_action_forms=submitted,
        back_url=request_page(rental.id),
        back_text=gettext("Back to request %(reference)s", reference=rental.reference),
    )
    return page, status
