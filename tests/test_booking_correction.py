"""Which wrong values refuse a punch-out and which are corrected in the booking form, and what the
form says of a value to correct (issue 18, item 6). In English: the pages' wording in the
customer's language is checked through the web layer (tests/test_punchout.py)."""

import re

import pytest

from ociflex.booking.correction import correction_messages
from ociflex.booking.fields import FieldProblem, field_problem, refusing_problem
from ociflex.customers.model import Field

COST_CENTRE = Field("cost_centre", required=True, pattern=re.compile(r"^[0-9]{10}$"), max_length=10)
WRONG_VALUES = {
    "missing": "",
    "not the agreed format": "D-2026-0042",
    "too long": "12345678901",
    "on two lines": "12345\n67890",
}


@pytest.mark.parametrize("value", WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
def test_a_wrong_value_of_a_field_the_employee_cannot_change_refuses_the_punch_out(
    value: str,
) -> None:
    assert refusing_problem(COST_CENTRE, value) is field_problem(COST_CENTRE, value) is not None


@pytest.mark.parametrize("value", WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
def test_a_wrong_value_of_an_editable_field_is_left_for_the_form_to_correct(value: str) -> None:
    editable = Field("cost_centre", required=True, editable=True, pattern=COST_CENTRE.pattern)

    assert refusing_problem(editable, value) is None
    assert field_problem(editable, value) is not None


def test_the_form_says_what_was_sent_what_is_wrong_and_the_example() -> None:
    field = Field("cost_centre", editable=True, max_length=10, example="1234567890")

    messages = correction_messages(field, "D-2026-0042", FieldProblem.PATTERN)

    assert messages == [
        "Your purchasing system sent “D-2026-0042”, which does not have the agreed format. "
        "Please correct it.",
        "For example: 1234567890",
    ]


def test_without_an_example_the_form_says_what_was_sent_and_what_is_wrong() -> None:
    field = Field("project", editable=True, max_length=10)

    assert correction_messages(field, "P-1234567890", FieldProblem.TOO_LONG) == [
        "Your purchasing system sent “P-1234567890”, which is longer than 10 characters. "
        "Please shorten it."
    ]


def test_a_long_value_is_quoted_in_part() -> None:
    field = Field("project", editable=True, max_length=10)

    [message] = correction_messages(field, "x" * 100, FieldProblem.TOO_LONG)

    assert f"“{'x' * 60}…”" in message
    assert "x" * 61 not in message
