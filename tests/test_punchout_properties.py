"""The punch-out over HTTP, fuzzed: call-ups and booking forms that hypothesis makes up.

Whatever the ERP or the employee's browser sends, the answer is either a 4xx page that says what
is wrong and leaves the stored requests as they were, or a 200: the booking form (nothing
stored yet), or the basket page of exactly one new stored request whose basket keeps the OCI
rules. Never a 5xx. Each test runs on SQLite and PostgreSQL (the ``database_url`` fixture);
hypothesis reuses the test's app and database, so counts are compared before and after.
"""

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from ociflex.booking.cart import Cart
from ociflex.booking.form import today
from ociflex.customers.registry import customers
from ociflex.db import session_for
from ociflex.models import RentalRequest
from ociflex.oci.basket_rules import basket_problems
from ociflex.oci.config import oci_settings
from tests.support.callups import (
    ACME_CALLUP,
    DEMO_CALLUP,
    callup_pairs,
    mutated_value,
)

HTTP_FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)

CALLUPS = {"acme": ACME_CALLUP, "demo": DEMO_CALLUP}
_ALERT = re.compile(r'role="alert">([^<]*)<', re.DOTALL)


def stored_count(app: Flask) -> int:
    with session_for(app) as session:
        return session.scalar(select(func.count()).select_from(RentalRequest)) or 0


def assert_clear_refusal(response: TestResponse) -> None:
    """A 4xx page with a message for the reader, not a bare status or a traceback."""
    page = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, page[:2000])
    alerts = [" ".join(text.split()) for text in _ALERT.findall(page)]
    assert any(alerts), page[:2000]
    assert "Traceback" not in page


def booking_token(response: TestResponse) -> str:
    match = re.search(r'<input[^>]*name="punchout"[^>]*>', response.get_data(as_text=True))
    assert match, "the booking form carries no punch-out token"
    return re.search(r'value="([^"]+)"', match[0])[1]


def booking_form(customer_id: str) -> dict[str, str]:
    """A valid booking form of ``customer_id``: from next week, three days."""
    start, end = today() + timedelta(days=7), today() + timedelta(days=9)
    form = {"start": start.isoformat(), "end": end.isoformat(), "remarks": "Winter tyres"}
    if customer_id == "acme":
        return {**form, "vehicle": "ESTATE", "project": "P-123"}
    return {**form, "vehicle": "VAN", "location": "Utrecht Papendorp", "cost_centre": "4100"}


@st.composite
def booking_pairs(draw: st.DrawFn, customer_id: str) -> list[tuple[str, str]]:
    """A valid booking form with up to three changes: a field dropped, sent twice, mutated."""
    pairs = list(booking_form(customer_id).items())
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, len(pairs) - 1))
        name, value = pairs[index]
        change = draw(st.sampled_from(["drop", "mutate", "mutate", "twice"]))
        if change == "drop":
            del pairs[index]
        elif change == "mutate":
            pairs[index] = (name, draw(mutated_value(value)))
        else:
            pairs.insert(index, (name, draw(st.one_of(st.just(value), mutated_value(value)))))
    return pairs


def is_function_call(pairs: list[tuple[str, str]]) -> bool:
    """A FUNCTION call is answered by tests/test_punchout_functions.py's rules, not these."""
    return any(name.casefold() == "function" for name, _ in pairs)


@st.composite
def journeys(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    customer_id = draw(st.sampled_from(sorted(CALLUPS)))
    callup = draw(
        callup_pairs(CALLUPS[customer_id]).filter(lambda pairs: not is_function_call(pairs))
    )
    booking = draw(booking_pairs(customer_id))
    return customer_id, callup, booking


def assert_clear_refusal_or_one_valid_request(
    app: Flask,
    client: FlaskClient,
    customer_id: str,
    callup: list[tuple[str, str]],
    booking: list[tuple[str, str]],
) -> None:
    """Call up, and when the booking form comes, send it; check the invariant at each step."""
    before = stored_count(app)
    response = client.post(f"/oci/{customer_id}", data=MultiDict(callup))
    event(f"call-up {response.status_code}")
    if response.status_code != 200:
        assert_clear_refusal(response)
        assert stored_count(app) == before
        return
    assert stored_count(app) == before
    token = booking_token(response)
    response = client.post(
        f"/oci/{customer_id}/book", data=MultiDict([("punchout", token), *booking])
    )
    event(f"booking {response.status_code}")
    if response.status_code != 200:
        assert_clear_refusal(response)
        assert stored_count(app) == before
        return
    assert stored_count(app) == before + 1
    with session_for(app) as session:
        stored = session.scalars(select(RentalRequest).order_by(RentalRequest.id.desc())).first()
        basket = Cart.from_json(stored.cart)
    page = response.get_data(as_text=True)
    assert stored.reference in page
    with app.app_context():
        customer = customers().get(customer_id)
    assert basket_problems(basket.fields, basket.charset, oci_settings(customer).limit) == []


@HTTP_FUZZ
@given(journey=journeys())
@example(journey=("acme", list(ACME_CALLUP.items()), list(booking_form("acme").items())))
@example(
    journey=(
        "demo",
        list({**DEMO_CALLUP, "oci_userfullname": "J" * 1_000_000}.items()),
        list(booking_form("demo").items()),
    )
)
@example(
    journey=(
        "demo",
        list(
            {**DEMO_CALLUP, "HTTP_CONTENT_CHARSET": "iso-8859-1", "INKOOPNUMMER": "€" * 10}.items()
        ),
        list(booking_form("demo").items()),
    )
)
@example(
    journey=(
        "acme",
        list(ACME_CALLUP.items()),
        list({**booking_form("acme"), "remarks": "a\x00b"}.items()),
    )
)
@example(
    journey=(
        "acme",
        list({**ACME_CALLUP, "~OkCode": "\x1f"}.items()),
        list(booking_form("acme").items()),
    )
)
@example(
    journey=(
        "acme",
        list({**ACME_CALLUP, "HTTP_CONTENT_CHARSET": "base64"}.items()),
        list(booking_form("acme").items()),
    )
)
def test_a_punch_out_ends_in_a_clear_refusal_or_exactly_one_valid_stored_request(
    app: Flask, client: FlaskClient, journey
) -> None:
    assert_clear_refusal_or_one_valid_request(app, client, *journey)
