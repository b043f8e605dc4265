"""A field whose values cannot fit the NEW_ITEM field they go into is a mistake in the customer
file, found when it is loaded (issue 18): by the field's pattern, its ``max_length`` or its
example, with the fixes that suit (a wider field agreed with the customer, another CUST_FIELD,
a narrower pattern), never "shorten the example".
"""

import re
from pathlib import Path

import pytest

from ociflex.customers import load_customer
from ociflex.customers.checks import pattern_lengths
from ociflex.protocols import CUSTOMER_SECTIONS
from tests.support.customers import line_of, load, only_problem, problems_of

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """\
name: Acme B.V.
login:
  username: acme-erp
  password_env: ACME_PASSWORD
hook_urls:
  - https://erp.acme.example/sap/oci/
fields:
  wbs_element: {param: PS_POSID, pattern: '^[A-Z]-[0-9]{4}-[0-9]{4}$'}
vehicles:
  - code: COMPACT
    name: Compact car
    day_rate: 39.50
basket:
  cust_field2: "{wbs_element}"
"""

#: What to change when a WBS element (11 characters) goes into CUST_FIELD2 (10).
WIDER_OR_ELSEWHERE = (
    "agree a wider field with the customer and set max_lengths.cust_field2: 11, put the field "
    "in another one that takes more (cust_field4 takes 20, cust_field5 takes 50)"
)


@pytest.mark.parametrize(
    ("pattern", "lengths"),
    [
        (r"^[A-Z]-[0-9]{4}-[0-9]{4}$", (11, 11)),
        (r"^[0-9]{4,10}$", (4, 10)),
        (r"\A[0-9]{3}\Z", (3, 3)),
        (r"^(?:AB|CDE)$", (2, 3)),
        (r"^AB$|^CDEF$", (2, 4)),
        (r"(?x) ^ [0-9]{3} $", (3, 3)),
        # re.search: text may surround a match that is not held at both ends.
        (r"[0-9]{4}", (4, None)),
        (r"^[0-9]{4}", (4, None)),
        (r"^AB$|CDEF", (2, None)),
        (r"^[0-9]+$", (1, None)),
    ],
)
def test_a_pattern_bounds_a_value_only_when_anchored_at_both_ends(
    pattern: str, lengths: tuple[int, int | None]
) -> None:
    assert pattern_lengths(re.compile(pattern)) == lengths


def test_a_pattern_that_never_fits_its_new_item_field_is_reported_with_the_fixes(
    tmp_path: Path,
) -> None:
    problem = only_problem(tmp_path, MINIMAL)

    assert (problem.line, problem.path) == (
        line_of(MINIMAL, "pattern:"),
        "fields.wbs_element.pattern",
    )
    assert problem.message == (
        "the pattern only matches values of exactly 11 characters, but basket.cust_field2 puts "
        "this field in NEW_ITEM-CUST_FIELD2, which takes at most 10 (SAP's default), so every "
        f"value would be refused: {WIDER_OR_ELSEWHERE}, or narrow the pattern"
    )
    assert str(problem).startswith(f"{tmp_path / 'acme.yaml'}:{problem.line}: fields.wbs_element")


def test_an_example_of_a_field_that_never_fits_is_not_the_thing_to_shorten(
    tmp_path: Path,
) -> None:
    text = MINIMAL.replace("$'}", "$', example: D-2026-0042}")

    problems = problems_of(tmp_path, text)

    assert [problem.path for problem in problems] == ["fields.wbs_element.pattern"]
    assert "shorten" not in problems[0].message


def test_a_field_agreed_wider_with_the_customer_loads(tmp_path: Path) -> None:
    customer = load(tmp_path, MINIMAL + "max_lengths:\n  cust_field2: 11\n")

    assert customer.fields["wbs_element"].max_length == 11


def test_a_pattern_with_values_longer_than_the_field_is_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace("[A-Z]-[0-9]{4}-[0-9]{4}", "[0-9]{4,12}")

    problem = only_problem(tmp_path, text)

    assert problem.path == "fields.wbs_element.pattern"
    assert problem.message == (
        "the pattern matches values of up to 12 characters, but basket.cust_field2 puts this "
        "field in NEW_ITEM-CUST_FIELD2, which takes at most 10 (SAP's default), so a longer "
        "value would be refused: agree a wider field with the customer and set "
        "max_lengths.cust_field2: 12, put the field in another one that takes more (cust_field4 "
        "takes 20, cust_field5 takes 50), or narrow the pattern to at most 10 characters"
    )


def test_a_field_already_agreed_wider_names_both_lengths(tmp_path: Path) -> None:
    text = MINIMAL.replace("[A-Z]-[0-9]{4}-[0-9]{4}", "[0-9]{13}") + (
        "max_lengths:\n  cust_field2: 12\n"
    )

    problem = only_problem(tmp_path, text)

    assert "which takes at most 12 (agreed in max_lengths.cust_field2; SAP's default is 10)" in (
        problem.message
    )
    assert "set max_lengths.cust_field2: 13" in problem.message


def test_only_unused_fields_wide_enough_are_offered_instead(tmp_path: Path) -> None:
    text = MINIMAL.replace("[A-Z]-[0-9]{4}-[0-9]{4}", "[0-9]{30}").replace(
        "basket:\n", 'basket:\n  cust_field4: "{vehicle_code}"\n'
    )

    problem = only_problem(tmp_path, text)

    assert "(cust_field5 takes 50)" in problem.message


def test_no_other_field_is_offered_when_none_is_wide_enough(tmp_path: Path) -> None:
    text = MINIMAL.replace("[A-Z]-[0-9]{4}-[0-9]{4}", "[0-9]{60}")

    problem = only_problem(tmp_path, text)

    assert problem.message.endswith(
        "every value would be refused: agree a wider field with the customer and set "
        "max_lengths.cust_field2: 60, or narrow the pattern"
    )


def test_a_max_length_longer_than_the_field_is_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace("pattern: '^[A-Z]-[0-9]{4}-[0-9]{4}$'", "max_length: 35")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (
        line_of(text, "max_length"),
        "fields.wbs_element.max_length",
    )
    assert problem.message.startswith("values of up to 35 characters are allowed, but ")
    assert problem.message.endswith(", or lower max_length to 10")


def test_an_example_longer_than_the_field_it_fills_gets_the_same_fixes(tmp_path: Path) -> None:
    text = MINIMAL.replace("pattern: '^[A-Z]-[0-9]{4}-[0-9]{4}$'", "example: D-2026-0042")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (
        line_of(text, "D-2026"),
        "fields.wbs_element.example",
    )
    assert problem.message == (
        "'D-2026-0042' is 11 characters, longer than the 10 characters NEW_ITEM-CUST_FIELD2 "
        "takes (SAP's default; basket.cust_field2 puts this field there), so the call-up would "
        "refuse values like it: agree a wider field with the customer and set "
        "max_lengths.cust_field2: 11, or put the field in another one that takes more "
        "(cust_field4 takes 20, cust_field5 takes 50)"
    )


def test_a_field_without_a_bound_still_loads_and_is_held_to_the_field(tmp_path: Path) -> None:
    # Nothing says how long the values are: the call-up refuses a longer one, as before.
    text = MINIMAL.replace("[A-Z]-[0-9]{4}-[0-9]{4}", "[0-9]+")

    customer = load(tmp_path, text)

    assert customer.fields["wbs_element"].max_length == 10


def test_a_field_in_two_new_item_fields_is_checked_against_each(tmp_path: Path) -> None:
    text = MINIMAL.replace("[A-Z]-[0-9]{4}-[0-9]{4}", "[0-9]{25}") + (
        '  cust_field4: "{wbs_element}"\n'
    )

    problems = problems_of(tmp_path, text)

    assert [problem.message.split(" (")[0] for problem in problems] == [
        "the pattern only matches values of exactly 25 characters, but basket.cust_field2 puts "
        "this field in NEW_ITEM-CUST_FIELD2, which takes at most 10",
        "the pattern only matches values of exactly 25 characters, but basket.cust_field4 puts "
        "this field in NEW_ITEM-CUST_FIELD4, which takes at most 20",
    ]


def test_a_pattern_bounds_a_field_in_a_longer_template_too(tmp_path: Path) -> None:
    # 6 + 11 + 9 = 26: fits CUST_FIELD5 (50), although max_length is 255 by default.
    text = MINIMAL.replace(
        'cust_field2: "{wbs_element}"', 'cust_field5: "PO {wbs_element} / {reference}"'
    )

    customer = load(tmp_path, text)

    assert customer.fields["wbs_element"].max_length == 255


def test_a_longer_template_that_its_pattern_overflows_names_the_pattern(tmp_path: Path) -> None:
    text = MINIMAL.replace("[A-Z]-[0-9]{4}-[0-9]{4}", "[A-Z]{45}").replace(
        'cust_field2: "{wbs_element}"', 'cust_field5: "PO {wbs_element} / {reference}"'
    )

    problem = only_problem(tmp_path, text)

    assert problem.path == "basket.cust_field5"
    assert "+ {wbs_element} 45 (its pattern) +" in problem.message
    assert "; narrow fields.wbs_element.pattern, " in problem.message


def test_the_customer_of_issue_18_loads_clean() -> None:
    file = ROOT / "tests" / "customers_checks" / "noordhaven.yaml"

    customer = load_customer(file, CUSTOMER_SECTIONS, {"OCIFLEX_NOORDHAVEN_PASSWORD": "s3cret"})

    assert customer.fields["cost_centre"].max_length == 10
    assert customer.fields["wbs_element"].max_length == 11


def test_an_example_longer_than_its_own_max_length_is_reported_once(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "pattern: '^[A-Z]-[0-9]{4}-[0-9]{4}$'", "max_length: 8, example: D-2026-0042"
    )

    problem = only_problem(tmp_path, text)

    assert problem.path == "fields.wbs_element.example"
    assert problem.message == (
        "'D-2026-0042' is 11 characters, longer than this field's max_length 8: give a typical "
        "value of at most 8 characters, or raise max_length"
    )
