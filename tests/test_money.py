"""A request's money (ociflex/money.py): its total is the amount its cart stated, whichever
protocol carried it, and amounts are written as the reader's language writes them, or as
Dutch Excel reads them from a CSV file.

The carts come from real punch-outs (OCI and cXML), so each test with a cart runs on SQLite
and on PostgreSQL with the request as it was stored."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from lxml import etree

from ociflex.booking.form import today
from ociflex.money import decimal_comma, format_money, money, request_total
from tests.support.cxml import Buyer
from tests.support.punchout import book_demo, days_from_today, stored

NBSP = "\N{NO-BREAK SPACE}"


def priced(day_rate: str, days: int) -> SimpleNamespace:
    return SimpleNamespace(day_rate=Decimal(day_rate), days=days)


# --- The total ----------------------------------------------------------------------------------


def test_the_total_is_the_days_times_the_day_rate() -> None:
    assert request_total(priced("39.50", 3)) == Decimal("118.50")
    assert request_total(priced("411.50", 3)) == Decimal("1234.50")


def test_the_total_multiplies_the_day_rate_as_the_cart_wrote_it_to_the_cent() -> None:
    # 3 x 19.995 is 59.985; the cart wrote the price 20.00, so the buyer's system has 60.00.
    assert request_total(priced("19.995", 3)) == Decimal("60.00")


def test_an_oci_requests_total_is_its_baskets_quantity_times_price(
    app: Flask, client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    booked = book_demo(client, demo_callup, start=days_from_today(7), end=days_from_today(9))
    assert booked.status_code == 200, booked.get_data(as_text=True)
    [rental] = stored(app)

    basket = dict(rental.cart["fields"])
    price = Decimal(basket["NEW_ITEM-PRICE[1]"]) / Decimal(basket["NEW_ITEM-PRICEUNIT[1]"])
    assert Decimal(basket["NEW_ITEM-QUANTITY[1]"]) * price == Decimal("118.50")
    assert request_total(rental) == Decimal("118.50")
    assert rental.currency == basket["NEW_ITEM-CURRENCY[1]"] == "EUR"


def test_a_cxml_requests_total_is_its_carts_total_and_quantity_times_unit_price(
    cxml_app: Flask, cxml_client: FlaskClient
) -> None:
    buyer = Buyer(cxml_client)
    start, end = (today() + timedelta(days=days) for days in (14, 16))
    response = buyer.book(
        buyer.start(), start=start.isoformat(), end=end.isoformat(), project="Apollo"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    [rental] = stored(cxml_app)

    cart = etree.fromstring(rental.cart["document"].encode("utf-8"))
    message = cart.find("Message/PunchOutOrderMessage")
    [item] = message.findall("ItemIn")
    unit_price = item.find("ItemDetail/UnitPrice/Money")
    total = message.find("PunchOutOrderMessageHeader/Total/Money")
    assert Decimal(item.get("quantity")) * Decimal(unit_price.text) == Decimal(total.text)
    assert request_total(rental) == Decimal(total.text) == Decimal("192.00")
    assert rental.currency == total.get("currency") == "USD"


# --- Amounts as people read them ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "language", "written"),
    [
        ("1234.5", "EUR", "nl", f"€{NBSP}1.234,50"),
        ("1234.5", "EUR", "en", "€1,234.50"),
        ("55", "GBP", "nl", f"£{NBSP}55,00"),
        ("192.00", "USD", "en", "$192.00"),
        ("1000000", "EUR", "nl", f"€{NBSP}1.000.000,00"),
    ],
)
def test_an_amount_is_written_as_its_language_writes_money(
    amount: str, currency: str, language: str, written: str
) -> None:
    assert format_money(Decimal(amount), currency, language) == written


def test_an_amount_follows_the_language_of_the_page_or_e_mail_being_written(app: Flask) -> None:
    with app.test_request_context("/ops/"):
        assert money(Decimal("1234.50"), "EUR") == f"€{NBSP}1.234,50"
        with force_locale("en"):
            assert money(Decimal("1234.50"), "EUR") == "€1,234.50"


@pytest.mark.parametrize(
    ("amount", "written"),
    [("1234.5", "1234,50"), ("39.50", "39,50"), ("1000000", "1000000,00"), ("0.005", "0,01")],
)
def test_an_amount_for_dutch_excel_has_a_decimal_comma_and_no_thousands_separator(
    amount: str, written: str
) -> None:
    assert decimal_comma(Decimal(amount)) == written
