"""The simulator's e-mail page (ociflex/devtools/mail_viewer.py): on a machine without an SMTP
relay, the e-mails a booking and the inbox write are read where they wait, in the outbox."""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from ociflex import create_app
from ociflex.booking.form import today
from tests.conftest import make_environ
from tests.support.cxml import page_token

FIRST_DAY = today() + timedelta(days=14)


@pytest.fixture
def mail_app(tmp_path: Path, database_url: str, customers_dir: Path) -> Iterator[Flask]:
    environ = make_environ(tmp_path, database_url, customers_dir)
    app = create_app(
        {**environ, "OCIFLEX_DEV_TOOLS": "1", "OCIFLEX_OPS_EMAIL": "planning@euromobil.example"}
    )
    yield app
    app.extensions["ociflex.engine"].dispose()


def test_the_e_mail_a_booking_writes_is_shown_as_its_recipient_reads_it(
    mail_app: Flask, demo_callup: dict[str, str]
) -> None:
    client = mail_app.test_client(use_cookies=False)
    form = client.post("/oci/demo", data=demo_callup).get_data(as_text=True)
    booked = client.post(
        "/oci/demo/book",
        data={
            "punchout": page_token(form),
            "vehicle": "VAN",
            "start": FIRST_DAY.isoformat(),
            "end": (FIRST_DAY + timedelta(days=1)).isoformat(),
            "location": "Amsterdam Sloterdijk",
            "cost_centre": "4100",
        },
    )
    assert booked.status_code == 200, booked.get_data(as_text=True)

    page = client.get("/dev/mail").get_data(as_text=True)

    assert "planning@euromobil.example" in page
    assert re.search(r"<h2[^>]*>Nieuwe aanvraag FF-000001: Demo Inkoop B.V.", page)
    assert "Jan Jansen" in page
    assert "flask --app app ociflex outbox run" in page


def test_without_e_mails_the_page_says_what_writes_them(mail_app: Flask) -> None:
    response = mail_app.test_client().get("/dev/mail")

    assert response.status_code == 200
    assert 'id="no-mail"' in response.get_data(as_text=True)
