"""The OCI rules on posted basket pairs (ociflex.oci.basket_rules): what each problem says and
which posted name it concerns. tests/test_oci_basket.py covers the rules through baskets that
ociflex builds; this file the additions the ERP simulator's hook page relies on."""

import pytest

from ociflex.oci.basket_rules import Problem, basket_problems, posted_line
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

VALID_LINE = (
    ("NEW_ITEM-DESCRIPTION[1]", "VW Polo"),
    ("NEW_ITEM-QUANTITY[1]", "3"),
    ("NEW_ITEM-UNIT[1]", "DAY"),
    ("NEW_ITEM-PRICE[1]", "39.50"),
    ("NEW_ITEM-PRICEUNIT[1]", "1"),
    ("NEW_ITEM-CURRENCY[1]", "EUR"),
    ("NEW_ITEM-LONGTEXT_1:132[]", "first\r\nsecond"),
)


def problems(*changes: tuple[str, str | None], charset: str = "utf-8") -> list[Problem]:
    """The problems of :data:`VALID_LINE` with values replaced, added or (None) left out."""
    merged = dict(VALID_LINE) | dict(changes)
    pairs = [(name, value) for name, value in merged.items() if value is not None]
    return basket_problems(pairs, charset, NEW_ITEM_MAX_LENGTHS.get)


def only(*changes: tuple[str, str | None]) -> Problem:
    found = problems(*changes)
    assert len(found) == 1, found
    return found[0]


def test_valid_line_has_no_problems() -> None:
    assert problems() == []


# --- The posted name and line of each problem ----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "name", "line"),
    [
        (("NEW_ITEM-DESCRIPTION[1]", "D" * 41), "DESCRIPTION", "NEW_ITEM-DESCRIPTION[1]", 1),
        (("NEW_ITEM-PRICE[1]", "39,50"), "PRICE", "NEW_ITEM-PRICE[1]", 1),
        (("NEW_ITEM-DESCRIPTION[1]", "a\tb"), "DESCRIPTION", "NEW_ITEM-DESCRIPTION[1]", 1),
        (("NEW_ITEM-UNIT[1]", None), "UNIT", "NEW_ITEM-UNIT[1]", 1),
        (("NEW_ITEM-CURRENCY[1]", None), "CURRENCY", "NEW_ITEM-CURRENCY[1]", 1),
        (("NEW_ITEM-VENDOR[0]", "4711"), "VENDOR", "NEW_ITEM-VENDOR[0]", 0),
        (("NEW_ITEM-VENDOR[01]", "4711"), "VENDOR", "NEW_ITEM-VENDOR[01]", 1),
        (("NEW_ITEM-LONGTEXT[1]", "x"), "NEW_ITEM-LONGTEXT[1]", "NEW_ITEM-LONGTEXT[1]", 1),
        (("NEW_ITEM-FOO[1]", "x"), "NEW_ITEM-FOO[1]", "NEW_ITEM-FOO[1]", 1),
        (("NEW_ITEM-UNIT[1]", "XYZ"), "UNIT", "NEW_ITEM-UNIT[1]", 1),
        (("NEW_ITEM-CURRENCY[1]", "EURO"), "CURRENCY", "NEW_ITEM-CURRENCY[1]", 1),
        (("~OkCode", "ADDI\r"), "~OkCode", "~OkCode", None),
        (("OTHER", "x"), "OTHER", "OTHER", None),
    ],
)
def test_each_problem_names_what_was_posted(
    change: tuple[str, str | None], field: str, name: str, line: int | None
) -> None:
    problem = only(change)

    assert (problem.field, problem.name, problem.line) == (field, name, line)
    assert problem.message.startswith(name)


def test_duplicate_names_the_posted_field() -> None:
    pairs = (*VALID_LINE, ("NEW_ITEM-UNIT[1]", "HUR"))

    [problem] = basket_problems(pairs, "utf-8", NEW_ITEM_MAX_LENGTHS.get)
    assert (problem.field, problem.message, problem.name, problem.line) == (
        "UNIT",
        "NEW_ITEM-UNIT[1] is posted more than once",
        "NEW_ITEM-UNIT[1]",
        1,
    )


def test_unencodable_character_names_the_posted_field() -> None:
    assert problems(("NEW_ITEM-DESCRIPTION[1]", "Łada")) == []  # UTF-8 has it

    found = problems(("NEW_ITEM-DESCRIPTION[1]", "Łada"), charset="iso-8859-1")
    assert [(p.name, p.line) for p in found] == [("NEW_ITEM-DESCRIPTION[1]", 1)]


def test_basket_wide_problems_name_nothing() -> None:
    gap = problems(("NEW_ITEM-DESCRIPTION[3]", "x"), ("NEW_ITEM-QUANTITY[3]", "1"))
    empty = basket_problems([("~OkCode", "ADDI")], "utf-8", NEW_ITEM_MAX_LENGTHS.get)
    charset = problems(charset="klingon")

    for found in (gap, empty, charset):
        assert [(p.field, p.name, p.line) for p in found if p.name is None] == [
            (None, None, None)
        ], found
    assert "found 1, 3" in next(p for p in gap if p.name is None).message


def test_index_0_is_reported_on_its_own_name() -> None:
    problem = only(("NEW_ITEM-DESCRIPTION[0]", "Line zero"))

    assert problem.message == (
        "NEW_ITEM-DESCRIPTION[0]: OCI numbers lines from 1, without leading zeros"
    )
    assert (problem.name, problem.line) == ("NEW_ITEM-DESCRIPTION[0]", 0)


# --- Long text syntax ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("NEW_ITEM-LONGTEXT[1]", "NEW_ITEM-LONGTEXT_1:132[]"),
        ("NEW_ITEM-LONGTEXT_1[]", "NEW_ITEM-LONGTEXT_1:132[]"),
        ("NEW_ITEM-LONGTEXT_1:132[1]", "NEW_ITEM-LONGTEXT_1:132[]"),
        ("NEW_ITEM-LONGTEXT:132[]", "NEW_ITEM-LONGTEXT_n:132[]"),
        ("new_item-longtext[1]", "NEW_ITEM-LONGTEXT_1:132[]"),
    ],
)
def test_misspelt_long_text_gets_the_right_syntax(name: str, hint: str) -> None:
    problem = only(("NEW_ITEM-LONGTEXT_1:132[]", None), (name, "x"))

    assert problem.message == (
        f"{name} is not an OCI basket field name; long text is posted as {hint} (the line "
        "index in the name, empty brackets)"
    )
    assert problem.name == name


def test_long_text_of_line_0_breaks_the_index_rule() -> None:
    problem = only(("NEW_ITEM-LONGTEXT_0:132[]", "x"))

    assert problem.message.endswith("OCI numbers lines from 1, without leading zeros")
    assert (problem.field, problem.line) == ("LONGTEXT", 0)


def test_long_text_of_line_10_is_accepted() -> None:
    lines = [
        (name.replace("[1]", f"[{index}]").replace("_1:", f"_{index}:"), value)
        for index in range(1, 11)
        for name, value in VALID_LINE
    ]

    assert ("NEW_ITEM-LONGTEXT_10:132[]", "first\r\nsecond") in lines
    assert basket_problems(lines, "utf-8", NEW_ITEM_MAX_LENGTHS.get) == []


# --- Line breaks ---------------------------------------------------------------------------------
# A form post carries every line break of a value as CR LF (HTML, "converting an entry list to a
# list of name-value pairs"), so that is how long text's lines reach SAP from every catalogue.


@pytest.mark.parametrize(
    "text",
    [
        "Requester: Jan Jansen <jan@example.nl>\r\nReference: FF-000001",
        "Remarks: first\r\n\r\nafter an empty line\r\n",
        "\r\n",
    ],
)
def test_long_text_lines_separated_by_cr_lf_are_accepted(text: str) -> None:
    assert problems(("NEW_ITEM-LONGTEXT_1:132[]", text)) == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("first\rsecond", "U+000D"),
        ("first\nsecond", "U+000A"),
        ("first\r\r\nsecond", "U+000D"),
        ("first\r\n\nsecond", "U+000A"),
        ("first\n\rsecond", "U+000A"),
        ("first\r\n\tsecond", "U+0009"),
        ("first\r\nsec\x00ond", "U+0000"),
        ("first\r\nsec\x85ond", "U+0085"),
    ],
)
def test_every_other_control_character_in_long_text_is_a_problem(text: str, code: str) -> None:
    problem = only(("NEW_ITEM-LONGTEXT_1:132[]", text))

    assert problem.message.startswith(
        f"NEW_ITEM-LONGTEXT_1:132[] contains the control character {code}"
    )
    assert (problem.field, problem.name, problem.line) == (
        "LONGTEXT",
        "NEW_ITEM-LONGTEXT_1:132[]",
        1,
    )


@pytest.mark.parametrize(("code", "text"), [("U+000D", "first\rsecond"), ("U+000A", "a\nb")])
def test_a_lone_cr_or_lf_in_long_text_is_told_the_line_break(code: str, text: str) -> None:
    problem = only(("NEW_ITEM-LONGTEXT_1:132[]", text))

    assert problem.message == (
        f"NEW_ITEM-LONGTEXT_1:132[] contains the control character {code}; a line break in long "
        "text is CR LF, as a browser posts it"
    )


@pytest.mark.parametrize("name", ["NEW_ITEM-DESCRIPTION[1]", "NEW_ITEM-VENDORMAT[1]", "~OkCode"])
def test_cr_lf_is_a_control_character_in_every_other_field(name: str) -> None:
    problem = only((name, "a\r\nb"))

    assert problem.message == f"{name} contains the control character U+000D"


def test_lower_case_name_gets_the_right_spelling() -> None:
    problem = only(("new_item-vendor[1]", "4711"))

    assert problem.message == (
        "new_item-vendor[1] is not an OCI basket field name; names are case-sensitive: "
        "NEW_ITEM-VENDOR[1]"
    )


def test_unknown_field_gets_the_nearest_one() -> None:
    problem = only(("NEW_ITEM-DESCRIPTON[1]", "x"))

    assert problem.message == (
        "NEW_ITEM-DESCRIPTON[1]: DESCRIPTON is not an OCI NEW_ITEM field; did you mean DESCRIPTION?"
    )


# --- Codes: unit, currency, service --------------------------------------------------------------


@pytest.mark.parametrize("unit", ["DAY", "HUR", "WEE", "MON", "C62", "PCE", "EA", "KMT"])
def test_known_units_are_accepted(unit: str) -> None:
    assert problems(("NEW_ITEM-UNIT[1]", unit)) == []


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("XYZ", "NEW_ITEM-UNIT[1] is 'XYZ', not an ISO unit code (UN/ECE Recommendation 20) "),
        ("day", "; did you mean DAY (day)?"),
        ("ST", "not an ISO unit code"),
    ],
)
def test_unknown_unit_is_reported(unit: str, expected: str) -> None:
    problem = only(("NEW_ITEM-UNIT[1]", unit))

    assert expected in problem.message
    assert problem.field == "UNIT"


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        ("XYZ", "NEW_ITEM-CURRENCY[1] is 'XYZ', not an ISO 4217 currency code"),
        ("eur", "NEW_ITEM-CURRENCY[1] is 'eur', not an ISO 4217 currency code; write it in "),
        ("€", "NEW_ITEM-CURRENCY[1] is '€', not an ISO 4217 currency code"),
    ],
)
def test_unknown_currency_is_reported(currency: str, expected: str) -> None:
    problem = only(("NEW_ITEM-CURRENCY[1]", currency))

    assert problem.message.startswith(expected)


@pytest.mark.parametrize("currency", ["EUR", "GBP", "CHF", "USD", "PLN"])
def test_iso_currencies_are_accepted(currency: str) -> None:
    assert problems(("NEW_ITEM-CURRENCY[1]", currency)) == []


def test_service_is_x_or_empty() -> None:
    assert problems(("NEW_ITEM-SERVICE[1]", "X")) == []
    assert problems(("NEW_ITEM-SERVICE[1]", "")) == []
    assert only(("NEW_ITEM-SERVICE[1]", "J")).message == (
        "NEW_ITEM-SERVICE[1] is 'J'; it must be X (a service line) or empty"
    )


# --- Required fields -----------------------------------------------------------------------------


def test_matnr_stands_in_for_description_and_unit() -> None:
    found = problems(
        ("NEW_ITEM-MATNR[1]", "100-200"),
        ("NEW_ITEM-DESCRIPTION[1]", None),
        ("NEW_ITEM-UNIT[1]", None),
    )

    assert found == []


def test_quantity_is_required_even_with_matnr() -> None:
    problem = only(("NEW_ITEM-MATNR[1]", "100-200"), ("NEW_ITEM-QUANTITY[1]", None))

    assert (problem.field, problem.message, problem.name, problem.line) == (
        "QUANTITY",
        "NEW_ITEM-QUANTITY[1] is missing or empty; OCI requires it",
        "NEW_ITEM-QUANTITY[1]",
        1,
    )


def test_missing_description_mentions_matnr() -> None:
    problem = only(("NEW_ITEM-DESCRIPTION[1]", ""))

    assert problem.message == (
        "NEW_ITEM-DESCRIPTION[1] is missing or empty; OCI requires it (or a MATNR)"
    )


# --- posted_line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("NEW_ITEM-PRICE[1]", 1),
        ("NEW_ITEM-PRICE[12]", 12),
        ("NEW_ITEM-PRICE[0]", 0),
        ("NEW_ITEM-PRICE[01]", 1),
        ("new_item-price[2]", 2),
        ("NEW_ITEM-LONGTEXT_3:132[]", 3),
        ("NEW_ITEM-LONGTEXT[4]", 4),
        ("NEW_ITEM-LONGTEXT_5[]", 5),
        ("NEW_ITEM-LONGTEXT:132[]", None),
        ("NEW_ITEM-PRICE[]", None),
        ("NEW_ITEM-PRICE[x]", None),
        ("NEW_ITEM-PRICE", None),
        ("~OkCode", None),
        ("HOOK_URL", None),
    ],
)
def test_posted_line(name: str, line: int | None) -> None:
    assert posted_line(name) == line
