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
4. refuses a plan whose licence plate is planned for other requests in an overlapping period
   (:mod:`ociflex.ops.conflicts`), unless the operator ticked "plan anyway" under a warning
   that named each of them: 422, the form again with the other requests named at the plate
   and the box to tick;
5. otherwise changes the request, writes the event in its history (who, from, to, what
   changed, the conflicts confirmed, from where), moves the status counts and queues the
   e-mail to the requester (confirm, reject, cancel), commits, and answers 303 See Other to
   the request's page with a message.

A refused action changes nothing. The version column (SQLAlchemy's ``version_id_col``) also
settles the race between step 1 and the commit: the UPDATE of the loser matches no row, and it
gets the answer of step 1. The plate's lock, taken before step 4 and held until the commit,
settles the race between two plans of one plate: the second checks once the first is saved.

``templates/ops/_actions.html`` shows the forms, for the request page to include; it gets them
from the template global ``ops_actions_panel(rental, customer)``. ``templates/ops/refused.html``
is the page of a refused action.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
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
from ociflex.ops.conflicts import (
    CONFIRMED_CONFLICTS,
    PLANNED_STATUSES,
    Plan,
    conflicts_with,
    lock_plate,
)
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
#: The fields of a plan that decide which other plans it conflicts with.
PLAN_FIELDS = frozenset({"licence_plate", "pickup_at", "return_at"})

_ACTION_RULE = "/requests/<int:request_id>/<any({}):action>".format(", ".join(FORMS))


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
    """Carry out an operator's action on a request, or say why not (see the module doc)."""
    session = get_session()
    begin_write(session)
    try:
        answer = _act(session, request_id, action)
    finally:
        # The one way out of the write transaction: a refused action leaves nothing behind, and
        # after a commit this does nothing. The answer is made once the transaction has ended.
        session.rollback()
    return answer()


#: What to answer an action, made once its write transaction has ended.
_Answer = Callable[[], ResponseReturnValue]


class _Refused(Exception):
    """An action that changes nothing: what the operator is told, the HTTP status, why (for
    the log), and for a form with errors the form to show again."""

    def __init__(
        self,
        message: str,
        status: int,
        why: str,
        submitted: dict[str, ActionForm] | None = None,
    ) -> None:
        super().__init__(why)
        self.message = message
        self.status = status
        self.why = why
        self.submitted = submitted


def _act(session: Session, request_id: int, action: str) -> _Answer:
    """Steps 1 to 5 of the module doc, in the write transaction; returns what to answer."""
    rental = _load(session, request_id)
    form = submitted_form(action)
    try:
        _refuse_if_stale(rental, form)
        to_status = _refuse_if_not_allowed(rental, action)
        _refuse_if_invalid(form, action)
        changes = _changes(action, form, rental)
        confirmed = _refuse_unconfirmed_conflicts(session, rental, form, changes)
    except _Refused as refusal:
        _log_refusal(rental, action, form, refusal)
        return partial(
            _refused, rental, refusal.message, refusal.status, submitted=refusal.submitted
        )
    if to_status == rental.status and not changes:
        return partial(_unchanged, rental)
    from_status = rental.status
    try:
        _apply(session, rental, action, to_status, changes, confirmed)
    except StaleDataError:
        # Another operator's change was committed between our check and our UPDATE.
        return partial(_lost_race, session, request_id, action)
    return partial(_carried_out, rental, action, from_status, form, changes)


def _load(session: Session, request_id: int) -> RentalRequest:
    rental = session.get(RentalRequest, request_id)
    if rental is None:
        abort(404)
    return rental


def _refuse_if_stale(rental: RentalRequest, form: ActionForm) -> None:
    """Refuse a form that does not say which version the operator saw (400), or saw an older
    one (409)."""
    seen = form.seen_version()
    if seen is None:
        message = gettext("This form is incomplete. Reload the request's page and try again.")
        raise _Refused(message, 400, "no version in the form")
    if seen != rental.version:
        raise _Refused(_changed_meanwhile(rental), 409, "changed meanwhile")


def _refuse_if_not_allowed(rental: RentalRequest, action: str) -> str:
    """The status ``action`` moves the request to; refused (409) when its status does not
    allow the action. ``po_number`` leaves the status as it is."""
    if action not in TRANSITIONS:
        return rental.status
    try:
        return next_status(action, rental.status)
    except TransitionError as error:
        raise _Refused(_translated(error), 409, "not allowed in this status") from error


def _refuse_if_invalid(form: ActionForm, action: str) -> None:
    """Refuse a form with errors (422): the page shows it again, each error at its field."""
    if not form.validate():
        message = gettext("Nothing was changed: correct the fields marked below.")
        why = "errors in " + ", ".join(sorted(form.errors))
        raise _Refused(message, 422, why, submitted={action: form})


def _refuse_unconfirmed_conflicts(
    session: Session,
    rental: RentalRequest,
    form: ActionForm,
    changes: dict[str, tuple[Any, Any]],
) -> list[Plan]:
    """The other requests that the plan about to be saved takes the vehicle from, each one
    confirmed by the operator; refused (422) while one is not: the form again, naming them
    all. Checked under the plate's lock, so that another operator's plan of the plate is
    either saved before this check (and seen) or waits until this transaction ends."""
    if not isinstance(form, ScheduleForm):
        return []
    plan = _plan_to_check(rental, form, changes)
    if plan is None:
        return []
    lock_plate(session, plan.licence_plate)
    conflicts = conflicts_with(session, plan)
    if {other.request_id for other in conflicts} <= form.confirmed_conflicts():
        return conflicts
    if form.plan_anyway.data:
        message = gettext(
            "Nothing was changed: meanwhile another request was planned on licence plate "
            "%(plate)s in this period. Check the requests below and confirm again.",
            plate=plan.licence_plate,
        )
    else:
        message = gettext(
            "Nothing was changed: licence plate %(plate)s is already planned in this period. "
            'Choose another vehicle or period, or tick "Plan anyway".',
            plate=plan.licence_plate,
        )
    form.warn(conflicts)
    why = "plate planned for " + ", ".join(other.reference for other in conflicts)
    raise _Refused(message, 422, why, submitted={"schedule": form})


def _plan_to_check(
    rental: RentalRequest, form: ScheduleForm, changes: dict[str, tuple[Any, Any]]
) -> Plan | None:
    """The plan the form saves, when it could take a vehicle another plan holds: one with a
    plate that starts holding it (the request enters the planning) or holds it differently
    (another plate or period). A plan saved again with other notes is not checked again: its
    conflicts were confirmed when it was planned."""
    planned = form.planned()
    if planned["licence_plate"] is None:
        return None
    if rental.status in PLANNED_STATUSES and not PLAN_FIELDS & changes.keys():
        return None
    return Plan(
        rental.id,
        rental.customer_id,
        planned["licence_plate"],
        planned["pickup_at"],
        planned["return_at"],
    )


def _log_refusal(rental: RentalRequest, action: str, form: ActionForm, refusal: _Refused) -> None:
    log.info(
        "request %s: %s by %s refused (%s): %s; version seen %s, now %s; status %s",
        rental.id,
        action,
        current_operator().username,
        refusal.status,
        refusal.why,
        form.seen_version(),
        rental.version,
        rental.status,
    )


def _apply(
    session: Session,
    rental: RentalRequest,
    action: str,
    to_status: str,
    changes: dict[str, tuple[Any, Any]],
    confirmed: list[Plan],
) -> None:
    """Change the request, write the event in its history (with the conflicts the operator
    confirmed), move the status counts, queue the requester's e-mail and commit. Raises
    StaleDataError when another operator's change was committed after the checks."""
    operator = current_operator()
    from_status = rental.status
    for name, (_old, new) in changes.items():
        setattr(rental, name, new)
    rental.status = to_status
    recorded = {name: [_json(old), _json(new)] for name, (old, new) in changes.items()}
    if confirmed:
        recorded[CONFIRMED_CONFLICTS] = [None, [other.reference for other in confirmed]]
    record_event(
        session,
        rental,
        actor=operator.username,
        operator_id=operator.id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        changes=recorded,
        client_address=client_address(),
    )
    if to_status != from_status:
        move_count(session, rental.customer_id, from_status, to_status)
    if action in MAILING_ACTIONS:
        queue_status_mail(session, rental)
    session.commit()
    log.info(
        "request %s: %s by %s (%s -> %s, changed: %s)",
        rental.reference,
        action,
        operator.username,
        from_status,
        to_status,
        ", ".join(changes) or "-",
    )
    if confirmed:
        log.info(
            "request %s: %s by %s confirmed licence plate %s planned for %s too",
            rental.reference,
            action,
            operator.username,
            rental.licence_plate,
            ", ".join(other.reference for other in confirmed),
        )


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


def _unchanged(rental: RentalRequest) -> ResponseReturnValue:
    """An action that would change nothing: said, and back to the request."""
    flash(gettext("Nothing changed in request %(reference)s.", reference=rental.reference))
    return redirect(request_page(rental.id), 303)


def _carried_out(
    rental: RentalRequest,
    action: str,
    from_status: str,
    form: ActionForm,
    changes: dict[str, tuple[Any, Any]],
) -> ResponseReturnValue:
    """What was done, with a warning for planned days that differ from the requested ones;
    back to the request."""
    flash(_done(action, from_status, rental))
    if isinstance(form, ScheduleForm) and ({"pickup_at", "return_at"} & changes.keys()):
        for warning in _date_warnings(rental):
            flash(warning)
    return redirect(request_page(rental.id), 303)


def _lost_race(session: Session, request_id: int, action: str) -> ResponseReturnValue:
    """An action whose UPDATE found the request changed: refused as in step 1, with the
    request as it is now."""
    log.info("request %s: %s by %s lost a race", request_id, action, current_operator().username)
    fresh = session.get(RentalRequest, request_id, populate_existing=True)
    if fresh is None:
        abort(404)
    return _refused(fresh, _changed_meanwhile(fresh), 409)


def _refused(
    rental: RentalRequest,
    problem: str,
    status: int,
    *,
    submitted: dict[str, ActionForm] | None = None,
) -> ResponseReturnValue:
    registry = current_app.extensions.get("ociflex.customers")
    customer = registry.get(rental.customer_id) if registry is not None else None
    page = render_template(
        "ops/refused.html",
        heading=gettext("Request %(reference)s", reference=rental.reference),
        problem=problem,
        rental=rental,
        customer=customer,
        submitted_action_forms=submitted,
        back_url=request_page(rental.id),
        back_text=gettext("Back to request %(reference)s", reference=rental.reference),
    )
    return page, status
