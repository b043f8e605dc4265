"""The booking window: a rental starts at most ``max_advance_days`` after the day it is booked
(548 days, about 18 months, unless the customer file sets another), so that a typo such as 2036
or a made-up 9999-12-30 is refused at the form instead of stored. On SQLite and PostgreSQL."""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient

from ociflex import create_app
from ociflex.booking.form import today
from tests.conftest import make_environ
from tests.support.customers import line_of, load, only_problem
from tests.support.punchout import (
    Page,
    acme_booking,
    basket_of,
    book,
    book_acme,
    call_up,
    count_stored,
    days_from_today,
)

MINIMAL = """\
name: Acme B.V.
login:
  username: acme-erp
  password_env: ACME_PASSWORD
hook_urls:
  - https://erp.acme.example/sap/oci/
vehicles:
  - code: COMPACT
    name: Compact car
    day_rate: 39.50
"""


def window_message(days: int) -> str:
    latest = format_date(today() + timedelta(days=days), "long", locale="en")
    return f"A rental can start at most {days} days ahead: on {latest} at the latest."


# --- The booking form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(days_from_today(549), id="a-day-after-the-window"),
        pytest.param("2036-01-07", id="in-2036"),
        pytest.param("9999-12-30", id="9999-12-30"),
    ],
)
def test_a_booking_that_starts_after_the_booking_window_is_refused_and_nothing_is_stored(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str], start: str
) -> None:
    token = call_up(client, "acme", acme_callup).token
    response = book(client, "acme", token, **acme_booking(start=start, end=start))
    page = Page(response)
    assert response.status_code == 422
    assert page.alert == "Please correct the fields marked below."
    assert page.errors == {"start": window_message(548)}
    assert page.invalid == {"start"}
    assert count_stored(app) == 0


def test_a_booking_may_start_on_the_last_day_of_the_booking_window(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    last = days_from_today(548)
    response = book_acme(client, acme_callup, start=last, end=last)
    assert ("NEW_ITEM-QUANTITY[1]", "1") in basket_of(response).hidden
    assert count_stored(app) == 1


def test_the_start_date_input_offers_no_day_after_the_booking_window(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    html = client.post("/oci/acme", data=acme_callup).get_data(as_text=True)
    [start] = re.findall(r'<input[^>]* name="start"[^>]*>', html)
    assert f'max="{days_from_today(548)}"' in start


@pytest.fixture
def windowed_app(tmp_path: Path, database_url: str, customers_dir: Path) -> Iterator[Flask]:
    """The app with acme's booking window set to 30 days in its file."""
    acme = customers_dir / "acme.yaml"
    acme.write_text(acme.read_text(encoding="utf-8") + "max_advance_days: 30\n", encoding="utf-8")
    app = create_app(make_environ(tmp_path, database_url, customers_dir))
    yield app
    app.extensions["ociflex.engine"].dispose()


def test_a_customer_file_sets_its_own_booking_window(
    windowed_app: Flask, acme_callup: dict[str, str]
) -> None:
    client = windowed_app.test_client()
    token = call_up(client, "acme", acme_callup).token
    late = days_from_today(31)
    refused = book(client, "acme", token, **acme_booking(start=late, end=late))
    assert refused.status_code == 422
    assert Page(refused).errors == {"start": window_message(30)}
    assert count_stored(windowed_app) == 0
    last = days_from_today(30)
    accepted = book(client, "acme", Page(refused).token, **acme_booking(start=last, end=last))
    assert ("NEW_ITEM-QUANTITY[1]", "1") in basket_of(accepted).hidden
    assert count_stored(windowed_app) == 1


# --- The customer file --------------------------------------------------------------------------


def test_a_customer_file_without_a_booking_window_gets_about_18_months(tmp_path: Path) -> None:
    assert load(tmp_path, MINIMAL).max_advance_days == 548


def test_a_customer_file_may_set_a_booking_window(tmp_path: Path) -> None:
    assert load(tmp_path, MINIMAL + "max_advance_days: 90\n").max_advance_days == 90


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "0 is out of range: it must be between 1 and 3660"),
        ("3661", "3661 is out of range: it must be between 1 and 3660"),
        ("18 months", "expected a whole number, got text ('18 months')"),
        ("true", "expected a whole number"),
    ],
)
def test_a_wrong_booking_window_is_reported_with_its_line_and_key(
    tmp_path: Path, value: str, message: str
) -> None:
    text = MINIMAL + f"max_advance_days: {value}\n"
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.path) == (line_of(text, "max_advance_days"), "max_advance_days")
    assert message in problem.message
    assert problem.file.name == "acme.yaml"
