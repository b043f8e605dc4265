"""The forms of the workflow actions on a request (see :mod:`ociflex.ops.actions`).

Every form carries the request's ``version`` as the operator saw it (a hidden field): the
action is refused when the request changed since. CSRF protection is Flask-WTF's session token
(``csrf_token``), checked for every ops POST and again by each form.

Dates and times are entered in Dutch time (Euromobil's branches are in the Netherlands) and
stored as aware UTC datetimes.
"""

import re
from datetime import UTC, date, datetime, time
from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from ociflex.booking.fields import CONTROL_CHARACTERS
from ociflex.mail.compose import LOCAL_TIME
from ociflex.models import RentalRequest
from ociflex.ops.conflicts import Plan, ShownConflict, shown_conflicts
from ociflex.ops.workflow import available_actions

#: Lengths of the columns the forms fill (see ociflex.models.requests).
TEXT_MAX_LENGTH = 255
PLATE_MAX_LENGTH = 20
PO_NUMBER_MAX_LENGTH = 100
REASON_MIN_LENGTH = 3
REASON_MAX_LENGTH = 1000
OPS_NOTES_MAX_LENGTH = 2000
#: What a licence plate may look like once normalised: Dutch plates ("AB-123-C") and foreign
#: ones alike, so no country's pattern.
PLATE_PATTERN = re.compile(r"[A-Z0-9-]{1,20}")
PO_NUMBER_PATTERN = re.compile(rf"[A-Za-z0-9/_.-]{{1,{PO_NUMBER_MAX_LENGTH}}}")
#: Proposed when operations have not planned the times yet.
DEFAULT_PICKUP_TIME = time(9, 0)
DEFAULT_RETURN_TIME = time(17, 0)
#: Browsers send "09:30", or "09:30:00" when the input has a step in seconds.
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
#: The version field holds a positive number of at most this many digits.
_VERSION = re.compile(r"[0-9]{1,9}")
#: A request's id, as the conflicts the operator saw are listed in the schedule form.
_REQUEST_ID = re.compile(r"[0-9]{1,18}")
#: Line breaks and tabs are part of a multi-line text; other control characters are not.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def local_moment(day: date, at: time) -> datetime | None:
    """``day`` at ``at`` on the Dutch clock, as an aware UTC datetime; None when that moment
    does not exist (the hour skipped when the clocks go forward). Of an hour that occurs twice
    (the clocks go back) the first one is meant."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=LOCAL_TIME)
    moment = local.astimezone(UTC)
    if moment.astimezone(LOCAL_TIME).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return moment


def local_parts(moment: datetime) -> tuple[date, time]:
    """The Dutch date and time of the aware ``moment``."""
    local = moment.astimezone(LOCAL_TIME)
    return local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None)


def single_line(_form: FlaskForm, field: StringField) -> None:
    field.data = (field.data or "").strip()
    if CONTROL_CHARACTERS.search(field.data):
        raise ValidationError(gettext("Use a single line of plain text."))


def multi_line_text(_form: FlaskForm, field: TextAreaField) -> None:
    field.data = (field.data or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL_IN_TEXT.search(field.data):
        raise ValidationError(gettext("The text contains control characters."))


def _plate(_form: FlaskForm, field: StringField) -> None:
    """Upper-case, spaces as hyphens ("ab 123 c" is "AB-123-C"); letters, digits and hyphens."""
    field.data = "-".join((field.data or "").upper().split())
    if field.data and not PLATE_PATTERN.fullmatch(field.data):
        raise ValidationError(
            gettext("Use at most %(max)s letters, digits and hyphens.", max=PLATE_MAX_LENGTH)
        )


def _stripped(_form: FlaskForm, field: StringField) -> None:
    field.data = (field.data or "").strip()


def _po_number(_form: FlaskForm, field: StringField) -> None:
    if field.data and not PO_NUMBER_PATTERN.fullmatch(field.data):
        raise ValidationError(
            gettext(
                "Use at most %(max)s letters, digits and the characters / _ . -",
                max=PO_NUMBER_MAX_LENGTH,
            )
        )


_REQUIRED = lazy_gettext("Please fill in this field.")


def _required() -> InputRequired:
    """For dates and times: something must be entered."""
    return InputRequired(_REQUIRED)


def filled() -> DataRequired:
    """For texts, after stripping them: more than spaces must be entered."""
    return DataRequired(_REQUIRED)


def _at_most(length: int) -> Length:
    return Length(max=length, message=lazy_gettext("Use at most %(max)d characters."))


class ActionForm(FlaskForm):
    """Base of every action form: the version of the request the operator acted on."""

    version = HiddenField(validators=[InputRequired(), Regexp(_VERSION)])

    def seen_version(self) -> int | None:
        """The version the operator saw; None when the form did not say (a broken form)."""
        value = (self.version.data or "").strip()
        return int(value) if _VERSION.fullmatch(value) else None


class StartForm(ActionForm):
    """Take a new request into work."""


class ConfirmForm(ActionForm):
    """Confirm a scheduled request; the requester is e-mailed the confirmation."""


class ScheduleForm(ActionForm):
    """What operations planned: the vehicle, pickup and return, where, and notes."""

    planned_vehicle = StringField(
        lazy_gettext("Vehicle (make and model)"),
        validators=[single_line, filled(), _at_most(TEXT_MAX_LENGTH)],
    )
    licence_plate = StringField(
        lazy_gettext("Licence plate (optional)"),
        validators=[_plate],
        render_kw={"maxlength": PLATE_MAX_LENGTH},
    )
    pickup_date = DateField(lazy_gettext("Pickup date"), validators=[_required()])
    pickup_time = TimeField(
        lazy_gettext("Pickup time"), validators=[_required()], format=TIME_FORMATS
    )
    return_date = DateField(lazy_gettext("Return date"), validators=[_required()])
    return_time = TimeField(
        lazy_gettext("Return time"), validators=[_required()], format=TIME_FORMATS
    )
    pickup_location = StringField(
        lazy_gettext("Pickup location"),
        validators=[single_line, filled(), _at_most(TEXT_MAX_LENGTH)],
    )
    ops_notes = TextAreaField(
        lazy_gettext("Notes for operations (optional, not sent to the requester)"),
        validators=[multi_line_text, _at_most(OPS_NOTES_MAX_LENGTH)],
    )
    #: Offered only with a warning that the plate is planned for other requests in the same
    #: period (:meth:`warn`): ticked, it confirms the requests the warning named.
    plan_anyway = BooleanField(lazy_gettext("Plan anyway"))
    #: The ids of the requests the warning named, so that ticking the box confirms those and
    #: not one that another operator planned on the plate since.
    seen_conflicts = HiddenField()

    #: Set by validation: the planned moments as aware UTC datetimes.
    pickup_at: datetime | None = None
    return_at: datetime | None = None
    #: Set by :meth:`warn`: the other requests to name next to the plate.
    conflicts: list[ShownConflict] | None = None

    def validate_pickup_time(self, field: TimeField) -> None:
        if self.pickup_date.data is None or field.data is None:
            return
        self.pickup_at = local_moment(self.pickup_date.data, field.data)
        if self.pickup_at is None:
            raise ValidationError(_skipped_hour())

    def validate_return_time(self, field: TimeField) -> None:
        if self.return_date.data is None or field.data is None:
            return
        self.return_at = local_moment(self.return_date.data, field.data)
        if self.return_at is None:
            raise ValidationError(_skipped_hour())
        if self.pickup_at is not None and self.return_at <= self.pickup_at:
            raise ValidationError(gettext("The return must be after the pickup."))

    def planned(self) -> dict[str, Any]:
        """The request's planned fields as this (valid) form sets them."""
        return {
            "planned_vehicle": self.planned_vehicle.data,
            "licence_plate": self.licence_plate.data or None,
            "pickup_at": self.pickup_at,
            "return_at": self.return_at,
            "pickup_location": self.pickup_location.data,
            "ops_notes": self.ops_notes.data or "",
        }

    def confirmed_conflicts(self) -> set[int]:
        """The ids of the requests the operator confirmed planning the plate next to: those
        the warning named, once the box is ticked."""
        if not self.plan_anyway.data:
            return set()
        seen = (self.seen_conflicts.data or "").split()
        return {int(request_id) for request_id in seen if _REQUEST_ID.fullmatch(request_id)}

    def warn(self, plans: list[Plan]) -> None:
        """Show this form again with ``plans`` named at the plate and the box to plan anyway
        unticked: a confirmation covers the requests it was given for, no others."""
        self.conflicts = shown_conflicts(plans)
        self.seen_conflicts.data = " ".join(str(plan.request_id) for plan in plans)
        self.plan_anyway.data = False


def _skipped_hour() -> str:
    return gettext("This time does not exist on that day: the clocks go forward.")


def reason_field(label: str) -> TextAreaField:
    """A reason of a few words to a few paragraphs, for people to read later."""
    return TextAreaField(
        label,
        validators=[
            multi_line_text,
            filled(),
            Length(
                min=REASON_MIN_LENGTH,
                max=REASON_MAX_LENGTH,
                message=lazy_gettext("Write between %(min)d and %(max)d characters."),
            ),
        ],
    )


class _ReasonForm(ActionForm):
    reason = reason_field(lazy_gettext("Reason (sent to the requester)"))


class RejectForm(_ReasonForm):
    """Decline the request; the requester is e-mailed the reason."""


class CancelForm(_ReasonForm):
    """Cancel the request; the requester is e-mailed the reason."""


class PoNumberForm(ActionForm):
    """The purchase-order number the customer's ERP issued, whenever it arrives."""

    erp_po_number = StringField(
        lazy_gettext("Purchase-order number from the ERP"),
        validators=[_stripped, filled(), _po_number],
        render_kw={"maxlength": PO_NUMBER_MAX_LENGTH},
    )


#: The form of each action, in the order the page shows them.
FORMS: dict[str, type[ActionForm]] = {
    "start": StartForm,
    "schedule": ScheduleForm,
    "confirm": ConfirmForm,
    "reject": RejectForm,
    "cancel": CancelForm,
    "po_number": PoNumberForm,
}


def submitted_form(action: str) -> ActionForm:
    """The form of ``action`` filled from the POSTed data only (a field left out is empty)."""
    return FORMS[action]()


def _defaults(action: str, rental: RentalRequest) -> dict[str, Any]:
    values: dict[str, Any] = {"version": str(rental.version)}
    if action == "schedule":
        pickup_date, pickup_time = rental.start_date, DEFAULT_PICKUP_TIME
        return_date, return_time = rental.end_date, DEFAULT_RETURN_TIME
        if rental.pickup_at is not None:
            pickup_date, pickup_time = local_parts(rental.pickup_at)
        if rental.return_at is not None:
            return_date, return_time = local_parts(rental.return_at)
        values.update(
            planned_vehicle=rental.planned_vehicle or rental.vehicle_name,
            licence_plate=rental.licence_plate or "",
            pickup_date=pickup_date,
            pickup_time=pickup_time,
            return_date=return_date,
            return_time=return_time,
            pickup_location=rental.pickup_location or rental.location or "",
            ops_notes=rental.ops_notes or "",
        )
    elif action == "po_number":
        values["erp_po_number"] = rental.erp_po_number or ""
    return values


def blank_form(action: str, rental: RentalRequest) -> ActionForm:
    """The form of ``action`` as the page offers it: the request's current values."""
    return FORMS[action](formdata=None, data=_defaults(action, rental))


def action_forms(
    rental: RentalRequest, submitted: dict[str, ActionForm] | None = None
) -> dict[str, ActionForm]:
    """The forms the page shows for ``rental``: one per action its status allows, and the
    purchase-order number always. A form in ``submitted`` (sent with errors) replaces the
    blank one of its action."""
    submitted = submitted or {}
    actions = [t.action for t in available_actions(rental.status)] + ["po_number"]
    return {
        action: submitted.get(action) or blank_form(action, rental)
        for action in FORMS
        if action in actions
    }
