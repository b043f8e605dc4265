"""A request's money: its total as its cart stated it, and amounts as people read them (and
as Dutch Excel reads them from a CSV file).

Both protocols state a line's price the same way: the rental days as the quantity and the day
rate as the price of one (OCI's ``QUANTITY`` and ``PRICE`` with ``PRICEUNIT`` 1, cXML's
``quantity`` and ``UnitPrice``), the rate written to the cent
(:func:`ociflex.booking.details.plain_amount`). The buyer's system multiplies the two, and so
does :func:`request_total`: the figure operations see is the one the buyer's system received.
"""

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache, partial
from typing import NamedTuple, Protocol

from babel.numbers import format_currency
from flask_babel import get_locale

from ociflex.booking.details import plain_amount
from ociflex.i18n import DEFAULT_LANGUAGE


class Priced(Protocol):
    """What a total is worked out from: a stored request, or a row of a list of them."""

    @property
    def days(self) -> int: ...

    @property
    def day_rate(self) -> Decimal: ...


class Price(NamedTuple):
    """A day rate and a number of days (a :class:`Priced`): the key under which a list keeps
    the texts of a total that its rows repeat."""

    day_rate: Decimal
    days: int


def request_total(rental: Priced) -> Decimal:
    """The rental days times the day rate as the cart wrote it: the line's amount in the
    buyer's system (and cXML's ``Total``), before tax."""
    return Decimal(plain_amount(rental.day_rate)) * rental.days


def decimal_comma(amount: Decimal) -> str:
    """``amount`` as Dutch Excel reads a number in a CSV file: to the cent, with a decimal
    comma and no thousands separator (``1234,50``)."""
    return plain_amount(amount).replace(".", ",")


@lru_cache(maxsize=4096)
def format_money(amount: Decimal, currency: str, language: str) -> str:
    """``amount`` in ``currency`` as ``language`` writes it: "€ 1.234,50" in Dutch,
    "€1,234.50" in English (Babel, as Flask-Babel's ``format_currency``).

    Kept for 4,096 amounts: a list shows the same few day rates and totals over and over.
    """
    return format_currency(amount, currency, locale=language)


def _language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def money(amount: Decimal, currency: str) -> str:
    """``amount`` in ``currency`` in the language of the page or e-mail being written."""
    return format_money(amount, currency, _language())


def money_formatter() -> Callable[[Decimal, str], str]:
    """:func:`money` for a list page, with the page's language looked up once rather than for
    each of its rows."""
    return partial(format_money, language=_language())
