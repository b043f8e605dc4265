"""The punch-out as the tests drive it over HTTP: a call-up, the booking form sent, the
requests stored, and the pages read as a browser reads them."""

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ociflex.booking.form import today
from ociflex.db import session_for
from ociflex.models import RentalRequest
from tests.support.html import Form, Html

# --- What a browser sees of a page --------------------------------------------------------------


class Page(Html):
    """Forms, alerts, field errors and scripts of an HTML page, parsed as a browser would."""

    @property
    def alert(self) -> str:
        assert len(self.alerts) == 1, f"expected one alert, found {self.alerts}"
        return self.alerts[0]

    @property
    def booking_form(self) -> Form | None:
        """The form that carries a punch-out token, if the page has one."""
        return next((f for f in self.forms.values() if "punchout" in dict(f.hidden)), None)

    @property
    def token(self) -> str:
        assert self.booking_form is not None, "the page has no booking form"
        return dict(self.booking_form.hidden)["punchout"]

    @property
    def basket(self) -> Form:
        return self.forms["oci-basket"]


# --- Helpers ------------------------------------------------------------------------------------


def stored(app: Flask) -> list[RentalRequest]:
    with session_for(app) as session:
        return list(session.scalars(select(RentalRequest).order_by(RentalRequest.id)))


def count_stored(app: Flask) -> int:
    with session_for(app) as session:
        return session.scalar(select(func.count()).select_from(RentalRequest)) or 0


def call_up(client: FlaskClient, customer: str, params: dict[str, str]) -> Page:
    """POST a call-up that must be accepted; the booking form it shows."""
    response = client.post(f"/oci/{customer}", data=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return Page(response)


def book(client: FlaskClient, customer: str, token: str, **form: str) -> TestResponse:
    return client.post(f"/oci/{customer}/book", data={"punchout": token, **form})


def days_from_today(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


def acme_booking(**changes: str) -> dict[str, str]:
    """A valid booking form for acme: the estate car from next week, three days."""
    return {
        "vehicle": "ESTATE",
        "start": days_from_today(7),
        "end": days_from_today(9),
        "project": "P-123",
        "remarks": "",
        **changes,
    }


def demo_booking(**changes: str) -> dict[str, str]:
    return {
        "vehicle": "COMPACT",
        "start": days_from_today(7),
        "end": days_from_today(7),
        "location": "Utrecht Papendorp",
        "cost_centre": "4100",
        "remarks": "",
        **changes,
    }


def book_acme(client: FlaskClient, acme_callup: dict[str, str], **changes: str) -> TestResponse:
    """A whole acme punch-out: call-up, then the booking form sent."""
    token = call_up(client, "acme", acme_callup).token
    return book(client, "acme", token, **acme_booking(**changes))


def book_demo(client: FlaskClient, demo_callup: dict[str, str], **changes: str) -> TestResponse:
    token = call_up(client, "demo", demo_callup).token
    return book(client, "demo", token, **demo_booking(**changes))


def basket_of(response: TestResponse) -> Form:
    assert response.status_code == 200, response.get_data(as_text=True)
    return Page(response).basket


def csp(response: TestResponse) -> dict[str, str]:
    """The Content-Security-Policy header: directive -> its value."""
    policy = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, _, value = directive.strip().partition(" ")
        policy[name] = value
    return policy
