"""The booking form's fields written in Python (ociflex.booking.form_html) are byte for byte
what the ``field_row`` macro of templates/punchout/_field.html writes (the operators' login form
still uses the macro): every kind of field, with and without values, errors and attributes, in
both languages, and hypothesis' values wherever a user's text ends up."""

from collections.abc import Callable

import pytest
from flask import Flask, g
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms import Field

from ociflex.booking.form import BookingForm, booking_form_class
from ociflex.booking.form_html import field_row
from ociflex.customers.registry import customers
from ociflex.ops.auth import LoginForm

#: A user's text at its worst: markup, quotes, ampersands, entities, line breaks, non-ASCII.
TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(['"><script>alert(1)</script>', "&amp; &lt;", "a\nb", "€ é 😀", "'", ""]),
)
#: Attribute values as form.html passes them: numbers, dates as text, true, false, none, Markup.
ATTRIBUTE = st.one_of(
    st.integers(0, 1000),
    TEXT,
    st.booleans(),
    st.none(),
    TEXT.map(Markup),
)


@pytest.fixture(scope="module")
def app(module_app: Flask) -> Flask:
    return module_app


def _macro(app: Flask) -> Callable[..., Markup]:
    return app.jinja_env.get_template("punchout/_field.html").module.field_row


def _booking_form(customer_id: str, language: str) -> BookingForm:
    g.language = language
    customer = customers().get(customer_id)
    assert customer is not None
    return booking_form_class(customer)(formdata=None)


def _fields(form: BookingForm) -> list[Field]:
    return [field for field in form if field.type != "HiddenField"]


def _assert_same(app: Flask, field: Field, **arguments: object) -> None:
    assert str(field_row(field, **arguments)) == str(_macro(app)(field, **arguments))


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("customer_id", ["demo", "acme"])
def test_every_field_of_a_customers_booking_form_is_written_as_the_macro_writes_it(
    app: Flask, customer_id: str, language: str
) -> None:
    with app.test_request_context():
        form = _booking_form(customer_id, language)
        for field in _fields(form):
            _assert_same(app, field)
            _assert_same(app, field, required=False, maxlength=10, rows=3, autofocus=True)


def test_a_select_with_its_prewritten_options_marks_the_chosen_one_as_the_macro_does(
    app: Flask,
) -> None:
    with app.test_request_context():
        form = _booking_form("demo", "nl")
        for name in ("vehicle", "location"):
            select = form[name]
            for choice in [*select.choices, None]:
                select.data = None if choice is None else choice.value
                rendered = field_row(select, options=form.options[name])
                assert str(rendered) == str(_macro(app)(select))
                assert (" selected>" in rendered) is (choice is not None)


def test_the_login_forms_fields_are_written_as_the_macro_writes_them(app: Flask) -> None:
    with app.test_request_context():
        form = LoginForm(formdata=None, data={"username": 'olga"<&'})
        form.password.errors = ["Wrong <password>."]
        _assert_same(app, form.username, autocomplete="username", autofocus=True, required=True)
        _assert_same(app, form.password, autocomplete="current-password", required=True)


@settings(max_examples=200, deadline=None)
@given(
    value=TEXT,
    errors=st.lists(TEXT, max_size=3),
    attributes=st.dictionaries(st.sampled_from(["maxlength", "min", "max", "data-x"]), ATTRIBUTE),
    required=st.sampled_from([None, True, False]),
)
def test_any_value_errors_and_attributes_are_written_as_the_macro_writes_them(
    app: Flask, value: str, errors: list[str], attributes: dict[str, object], required: bool | None
) -> None:
    with app.test_request_context():
        form = _booking_form("demo", "nl")
        for field in _fields(form):
            field.data = value if field.type != "DateField" else None
            field.raw_data = [value] if field.type == "DateField" else None
            field.errors = errors
            options = form.options.get(field.name)
            assert str(field_row(field, required=required, options=options, **attributes)) == str(
                _macro(app)(field, required=required, **attributes)
            )
