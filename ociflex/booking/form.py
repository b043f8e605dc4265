"""The booking form, built per customer: its vehicles, its locations, its editable fields."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo

from babel.support import Translations
from flask_babel import format_currency, format_date, get_locale, gettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import Field as FormField
from wtforms.fields.core import UnboundField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ociflex.booking.fields import CONTROL_CHARACTERS
from ociflex.booking.form_html import options_html
from ociflex.customers.model import Customer, Field
from ociflex.i18n import wtforms_translations

#: Rental days are Euromobil's days: "today" and "in the past" are judged in Dutch time.
EUROMOBIL_TIME = ZoneInfo("Europe/Amsterdam")
REMARKS_MAX_LENGTH = 500


def today() -> date:
    return datetime.now(EUROMOBIL_TIME).date()


class BookingForm(FlaskForm):
    """Base of every customer's form (fields come from :func:`booking_form_class`). CSRF
    protection is the signed punch-out token, not Flask-WTF's session token, because framed
    punch-outs often get no cookies."""

    class Meta:
        csrf = False

        def get_translations(self, form: FlaskForm) -> Translations:
            return wtforms_translations()

        def bind_field(
            self, form: "BookingForm", unbound_field: UnboundField, options: dict[str, object]
        ) -> FormField:
            """A copy of the field as bound once for the form class. Binding builds its label,
            flags and checks of its validators, the same on every call-up: most of what making
            the form cost. Processing then gives the copy its own data and errors; what the
            copies share (label, flags, validators, choices) no form changes."""
            kept = form.bound_fields.get(unbound_field)
            if kept is None:
                kept = super().bind_field(form, unbound_field, options)
                kept._form = None
                form.bound_fields[unbound_field] = kept
            field = object.__new__(type(kept))
            field.__dict__.update(kept.__dict__)
            field._form = form
            field.meta = self
            return field

    customer: Customer
    #: Select field name -> its options as HTML, written once with the form class.
    options: ClassVar[dict[str, Markup]]
    #: Each field as bound once for the form class (see ``Meta.bind_field``).
    bound_fields: ClassVar[dict[UnboundField, FormField]]

    def validate_vehicle(self, field: SelectField) -> None:
        if self.customer.vehicle(field.data or "") is None:
            raise ValidationError(gettext("Choose one of the vehicles in the list."))

    def validate_location(self, field: SelectField) -> None:
        if field.data not in self.customer.locations:
            raise ValidationError(gettext("Choose one of the pickup locations in the list."))

    def latest_start(self) -> date:
        """The last day a rental booked today may start on: the customer's booking window."""
        return today() + timedelta(days=self.customer.max_advance_days)

    def validate_start(self, field: DateField) -> None:
        if field.data and field.data < today():
            raise ValidationError(gettext("The start date cannot be in the past."))
        if field.data and field.data > self.latest_start():
            raise ValidationError(
                gettext(
                    "A rental can start at most %(days)s days ahead: on %(date)s at the latest.",
                    days=self.customer.max_advance_days,
                    date=format_date(self.latest_start(), "long"),
                )
            )

    def validate_end(self, field: DateField) -> None:
        start, end = self.start.data, field.data
        if not (start and end):
            return
        if end < start:
            raise ValidationError(gettext("The end date cannot be before the start date."))
        if (end - start).days + 1 > self.customer.max_days:
            raise ValidationError(
                gettext("A rental can last at most %(days)s days.", days=self.customer.max_days)
            )

    def editable_fields(self) -> list[tuple[Field, StringField]]:
        return [(f, self[f"field_{f.name}"]) for f in self.customer.fields.values() if f.editable]


def _field_validators(field: Field, required: InputRequired) -> list:
    pattern = field.pattern

    def plain_and_agreed(_form: FlaskForm, form_field: StringField) -> None:
        form_field.data = (form_field.data or "").strip()
        if CONTROL_CHARACTERS.search(form_field.data):
            raise ValidationError(gettext("Use a single line of plain text."))
        if pattern is not None and form_field.data and not pattern.search(form_field.data):
            raise ValidationError(gettext("This value does not have the agreed format."))

    return [
        required if field.required else Optional(),
        Length(max=field.max_length),
        plain_and_agreed,
    ]


#: Control characters other than the line breaks and tabs that a text area may hold.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def _plain_text(_form: FlaskForm, form_field: TextAreaField) -> None:
    if form_field.data and _CONTROL_IN_TEXT.search(form_field.data):
        raise ValidationError(gettext("Use plain text: no control characters."))


def _rate(amount: Decimal, currency: str) -> str:
    """The day rate as the page's language writes money: "€ 39,50 per dag", "€39.50 per day"."""
    return gettext("%(amount)s per day", amount=format_currency(amount, currency))


#: (id of the customer, language) -> (the customer, its form class). The customer is kept
#: so that its id cannot be reused while the entry exists; a reload makes new customers, so
#: the cache is emptied when it holds more than it could need.
_FORM_CLASSES: dict[tuple[int, str], tuple[Customer, type["BookingForm"]]] = {}
_MAX_FORM_CLASSES = 4096


def booking_form_class(customer: Customer) -> type[BookingForm]:
    """The form class of ``customer`` in the page's language, built on first use and kept:
    building it (labels translated, prices formatted) gives the same class on every call-up."""
    key = (id(customer), str(get_locale()))
    cached = _FORM_CLASSES.get(key)
    if cached is not None and cached[0] is customer:
        return cached[1]
    if len(_FORM_CLASSES) >= _MAX_FORM_CLASSES:
        _FORM_CLASSES.clear()
    form_class = _build_form_class(customer)
    _FORM_CLASSES[key] = (customer, form_class)
    return form_class


def _build_form_class(customer: Customer) -> type[BookingForm]:
    """A form class for ``customer``; labels are translated, so build it inside a request."""
    language = customer.language
    currency = customer.cart.currency
    required = InputRequired(gettext("Please fill in this field."))
    vehicles = [
        SelectChoice(v.code, f"{v.name.get(language)} — {_rate(v.day_rate, currency)}")
        for v in customer.vehicles
    ]
    locations = [SelectChoice(location) for location in customer.locations]
    attributes: dict[str, object] = {
        "customer": customer,
        "options": {"vehicle": options_html(vehicles), "location": options_html(locations)},
        "bound_fields": {},
        "punchout": HiddenField(),
        "vehicle": SelectField(
            gettext("Vehicle"), choices=vehicles, validate_choice=False, validators=[required]
        ),
        "start": DateField(gettext("First day"), validators=[required]),
        "end": DateField(gettext("Last day"), validators=[required]),
    }
    if customer.locations:
        attributes["location"] = SelectField(
            gettext("Pickup location"),
            choices=locations,
            validate_choice=False,
            validators=[required],
        )
    for field in customer.fields.values():
        if field.editable:
            # The input is named after the field (an ERP tester reads the form as it is); the
            # attribute is prefixed so that no field name can shadow a form method.
            attributes[f"field_{field.name}"] = StringField(
                field.label_in(language),
                name=field.name,
                validators=_field_validators(field, required),
            )
    attributes["remarks"] = TextAreaField(
        gettext("Remarks (optional)"),
        validators=[Optional(), Length(max=REMARKS_MAX_LENGTH), _plain_text],
    )
    return type(f"BookingForm_{customer.id}", (BookingForm,), attributes)
