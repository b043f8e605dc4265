"""Numbers from outside are the digits 0 to 9 (ociflex/digits.py), wherever ociflex reads one:
a superscript or a circled number is no number (int() would raise), nor a digit of another
script (int() would read it as one nobody typed)."""

import pytest

from ociflex.cxml.documents import parse
from ociflex.cxml.header import read_header
from ociflex.cxml.order_request import read_order_request
from ociflex.digits import plain_digits
from ociflex.models import parse_reference
from ociflex.oci.basket_rules import posted_line
from tests.support.cxml import Line, Order, order_request

NOT_NUMBERS = ["²", "1²", "①", "⑴", "٣", "١٢", "", "1 2", "-1", "+1", "1.0"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_only_the_digits_0_to_9_make_a_number(text: str) -> None:
    assert not plain_digits(text)


def test_a_number_of_ascii_digits_is_one() -> None:
    assert plain_digits("0123456789")


@pytest.mark.parametrize("text", ["²", "٣", "①"])
def test_a_reference_in_other_digits_names_no_request(text: str) -> None:
    assert parse_reference(f"FF-{text}") is None
    assert parse_reference(text) is None


@pytest.mark.parametrize("text", ["²", "٣"])
def test_a_basket_line_index_in_other_digits_is_no_line(text: str) -> None:
    assert posted_line(f"NEW_ITEM-PRICE[{text}]") is None


@pytest.mark.parametrize("text", ["²", "٣"])
def test_an_order_line_numbered_in_other_digits_is_numbered_by_its_place(text: str) -> None:
    root = parse(order_request(Order([Line("FF-000001", line_number=text)])))

    [line] = read_order_request(root, read_header(root)).lines

    assert line.line_number == 1
