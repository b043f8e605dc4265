"""Editable fields that the buyer's system sent wrong, marked in the booking form to be corrected.

A value of an editable field that breaks the field's rules (missing while required, not one
line, too long, not in the agreed format) does not refuse the punch-out
(:func:`~ociflex.booking.fields.refusing_problem`): the form opens with the field marked, saying
what was received, what is wrong with it and, from the customer file's ``example``, what is
expected. The form's own checks, the same rules, keep the booking from going out until the
employee has corrected it. The session keeps the value as received; the request and the cart
get the corrected one.
"""

from collections.abc import Collection

from flask_babel import gettext

from ociflex.booking.fields import CONTROL_CHARACTERS, FieldProblem, field_problem
from ociflex.booking.form import BookingForm
from ociflex.customers.model import Field
from ociflex.text import N_

#: How much of a received value a message quotes; the input holds it whole.
QUOTED_LENGTH = 60

#: What the form says of a received value with each problem. None says "not an e-mail address":
#: the e-mail field is never editable (a customer file that makes it so is refused).
_RECEIVED = {
    FieldProblem.MISSING: N_("Your purchasing system did not send this value. Please fill it in."),
    FieldProblem.CONTROL_CHARACTERS: N_(
        "Your purchasing system sent “%(value)s” with line breaks or control characters. "
        "Please correct it to one line of text."
    ),
    FieldProblem.TOO_LONG: N_(
        "Your purchasing system sent “%(value)s”, which is longer than %(max)s characters. "
        "Please shorten it."
    ),
    FieldProblem.PATTERN: N_(
        "Your purchasing system sent “%(value)s”, which does not have the agreed format. "
        "Please correct it."
    ),
}
_EXAMPLE = N_("For example: %(example)s")


def mark_for_correction(form: BookingForm, sent: Collection[str]) -> None:
    """Mark each editable field of ``form`` (as just opened with the values received) whose
    value breaks its rules, where the buyer's system was to send it (``sent``: field names; a
    field it does not carry is the employee's to fill in, and no mistake of the system's).

    The input gets the received value on one line (a control character as a space), so that
    what the employee sees is what the form sends back."""
    for field, form_field in form.editable_fields():
        received = form_field.data or ""
        problem = field_problem(field, received) if field.name in sent else None
        if problem is None:
            continue
        form_field.data = CONTROL_CHARACTERS.sub(" ", received)
        form_field.errors = correction_messages(field, form_field.data, problem)


def correction_messages(field: Field, received: str, problem: FieldProblem) -> list[str]:
    """What the form says next to ``field``, received as ``received`` with ``problem``: what
    was received and what is wrong, then the customer file's example, if it has one."""
    quoted = received if len(received) <= QUOTED_LENGTH else received[:QUOTED_LENGTH] + "…"
    messages = [gettext(_RECEIVED[problem], value=quoted, max=field.max_length)]
    if field.example:
        messages.append(gettext(_EXAMPLE, example=field.example))
    return messages
