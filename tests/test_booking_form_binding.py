"""A booking form is made from copies of fields bound once per form class (BookingForm's
``Meta.bind_field``): each form is the form WTForms' own binding makes, and no two forms share
what a call-up or a posted form gives them."""

import pytest
from flask import Flask, g
from werkzeug.datastructures import MultiDict
from wtforms import Field
from wtforms.fields.core import UnboundField

from ociflex.booking.form import BookingForm, booking_form_class
from ociflex.customers.registry import customers
from tests.support.punchout import days_from_today, demo_booking

#: WTForms' own binding, passed as a form's meta option.
WTFORMS_BINDING = {"bind_field": lambda form, unbound, options: unbound.bind(form=form, **options)}


@pytest.fixture(scope="module")
def app(module_app: Flask) -> Flask:
    return module_app


def _form_class(customer_id: str, language: str) -> type[BookingForm]:
    g.language = language
    customer = customers().get(customer_id)
    assert customer is not None
    return booking_form_class(customer)


def _seen(field: Field) -> tuple[object, ...]:
    """What a page and a booking read of a field."""
    choices = getattr(field, "choices", None)
    return (
        field.id,
        field.name,
        field.type,
        field.label.text,
        dict(vars(field.flags)),
        field.data,
        field._value() if hasattr(field, "_value") else None,
        list(field.errors),
        None if choices is None else [(c.value, c.label) for c in choices],
    )


def _posted(**changes: str) -> MultiDict[str, str]:
    return MultiDict({"punchout": "token", **demo_booking(**changes)})


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize(
    "posted",
    [
        _posted(),
        _posted(vehicle="NOPE", start="2026-02-30", end="", cost_centre="x" * 40),
        _posted(start=days_from_today(-1), location="", remarks="a\x01b"),
    ],
)
def test_a_posted_booking_form_reads_and_checks_as_with_wtforms_own_binding(
    app: Flask, language: str, posted: MultiDict[str, str]
) -> None:
    with app.test_request_context():
        form_class = _form_class("demo", language)
        kept, plain = form_class(formdata=posted), form_class(formdata=posted, meta=WTFORMS_BINDING)
        assert kept.validate() == plain.validate()
        assert [_seen(field) for field in kept] == [_seen(field) for field in plain]


@pytest.mark.parametrize("customer_id", ["demo", "acme"])
def test_an_opened_booking_form_is_the_one_wtforms_own_binding_makes(
    app: Flask, customer_id: str
) -> None:
    with app.test_request_context():
        form_class = _form_class(customer_id, "nl")
        data = {"punchout": "token", "remarks": "hello"}
        kept = form_class(formdata=None, data=data)
        plain = form_class(formdata=None, data=data, meta=WTFORMS_BINDING)
        assert [_seen(field) for field in kept] == [_seen(field) for field in plain]


def test_two_forms_of_one_customer_share_no_values_and_no_errors(app: Flask) -> None:
    with app.test_request_context():
        form_class = _form_class("demo", "nl")
        first = form_class(formdata=_posted(cost_centre="x" * 40, remarks="first"))
        first.validate()
        second = form_class(formdata=None, data={"punchout": "second"})
        second.field_cost_centre.errors = ["marked on the second form only"]

        assert first.remarks.data == "first"
        assert second.remarks.data is None
        assert first.punchout.data == "token"
        assert second.punchout.data == "second"
        assert second.field_cost_centre.errors == ["marked on the second form only"]
        assert first.field_cost_centre.errors != second.field_cost_centre.errors
        assert all(field is not other for field, other in zip(first, second, strict=True))
        assert all(field._form is first for field in first)


def test_a_customers_fields_are_bound_once_however_many_forms_are_made(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    bound: list[str] = []
    bind = UnboundField.bind

    def counted_bind(self: UnboundField, form: object, name: str, **options: object) -> Field:
        bound.append(name)
        return bind(self, form, name, **options)

    monkeypatch.setattr(UnboundField, "bind", counted_bind)
    with app.test_request_context():
        form_class = _form_class("acme", "en")
        form_class(formdata=None)  # binds the fields, unless a form of the class came before
        bound.clear()
        forms = [form_class(formdata=None, data={"punchout": str(n)}) for n in range(3)]

    assert bound == []
    assert [form.punchout.data for form in forms] == ["0", "1", "2"]
