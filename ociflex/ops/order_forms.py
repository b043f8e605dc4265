"""The forms of an order that needs an operator (see :mod:`ociflex.ops.orders`): link a line to
a request, or dismiss the order. Like the workflow's forms (:mod:`ociflex.ops.forms`) each
carries the order's ``version`` as the operator saw it, and Flask-WTF's CSRF token."""

from flask_babel import gettext, lazy_gettext
from wtforms import StringField
from wtforms.validators import ValidationError

from ociflex.models import PurchaseOrder, parse_reference
from ociflex.ops.forms import (
    ActionForm,
    filled,
    reason_field,
    single_line,
)
from ociflex.ops.inbox_filters import MAX_ID

#: "FF-" and the twelve digits a reference may have, with room for spaces around it.
REFERENCE_MAX_LENGTH = 20


class LinkForm(ActionForm):
    """The request a line without one pays for, by its reference (``FF-000123``, ``123``)."""

    reference = StringField(
        lazy_gettext("Request (FF-000123)"),
        validators=[single_line, filled()],
        render_kw={"maxlength": REFERENCE_MAX_LENGTH},
    )

    #: Set by validation: the id of the request the reference names.
    request_id: int | None = None

    def validate_reference(self, field: StringField) -> None:
        number = parse_reference(field.data)
        if number is None or number > MAX_ID:
            raise ValidationError(gettext("Enter a request's reference, such as FF-000123."))
        self.request_id = number

    def refuse(self, message: str) -> None:
        """Show ``message`` next to the reference: the request it names cannot be linked."""
        self.reference.errors = [*self.reference.errors, message]


class DismissForm(ActionForm):
    """Why the order needs nothing more, for the operators who look at it later."""

    reason = reason_field(lazy_gettext("Reason (kept with the order)"))


def blank_link_form(order: PurchaseOrder) -> LinkForm:
    return LinkForm(formdata=None, data={"version": str(order.version)})


def blank_dismiss_form(order: PurchaseOrder) -> DismissForm:
    return DismissForm(formdata=None, data={"version": str(order.version)})
