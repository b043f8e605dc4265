"""Operations in a real Chromium: a request booked through the ERP is found in the inbox by its
reference, scheduled and confirmed; the confirmation e-mail reaches a real SMTP server; after
logging out, the back button shows nothing of the request.

ociflex runs under gunicorn with ``MAIL_SERVER``/``MAIL_PORT`` pointing at the test's
:class:`~tests.support.smtp.SmtpSink` (and the ERP simulator on, for its screenshot); the
outbox worker runs once in the test, on an app built from the same settings.
"""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from ociflex.booking.form import today
from ociflex.mail.delivery import send_due
from ociflex.models import Operator
from tests.conftest import OPERATOR_NAME, OPERATOR_PASSWORD, OPERATOR_USERNAME
from tests.support.browser import save_screenshot
from tests.support.journeys import book, expect_basket_received, stored_requests
from tests.support.servers import GunicornServer, StandInErp
from tests.support.smtp import SmtpSink

pytestmark = [
    pytest.mark.browser,
]


@pytest.fixture
def mail_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def environ(environ: dict[str, str], mail_sink: SmtpSink) -> dict[str, str]:
    """The shared settings, with the test's SMTP server and the ERP simulator: for gunicorn
    and for the ``app`` that makes the operator and runs the outbox worker."""
    return {
        **environ,
        "MAIL_SERVER": mail_sink.host,
        "MAIL_PORT": str(mail_sink.port),
        "OCIFLEX_DEV_TOOLS": "1",
    }


def test_operations_confirm_a_request_and_the_requester_gets_the_e_mail(
    new_page: Callable[..., Page],
    erp: StandInErp,
    ociflex: GunicornServer,
    app: Flask,
    operator: Operator,
    mail_sink: SmtpSink,
    database_url: str,
) -> None:
    # The employee books through the ERP.
    employee = new_page()
    employee.goto(erp.url("/launch?mode=iframe&target=_top"))
    start = today() + timedelta(days=15)
    end = start + timedelta(days=2)
    book(
        employee.frame_locator('iframe[name="catalogue"]'),
        "VAN",
        start,
        end,
        remarks="Moving day.",
    )
    expect_basket_received(employee, erp)
    [stored] = stored_requests(database_url)
    assert stored.reference == "FF-000001"

    # Operations log in (in Dutch) and find it by its reference.
    page = new_page()
    page.goto(ociflex.url(path="/ops/"))
    expect(page.get_by_role("heading", name="Inloggen bij Operations")).to_be_visible()
    page.get_by_label("Gebruikersnaam").fill(OPERATOR_USERNAME)
    page.get_by_label("Wachtwoord").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(ociflex.url(path="/ops/"))
    expect(page.get_by_text(OPERATOR_NAME)).to_be_visible()
    expect(page.get_by_role("link", name="FF-000001")).to_be_visible()
    save_screenshot(page, "ops-inbox")

    page.get_by_label("Zoeken").fill("FF-000001")
    page.get_by_label("Zoeken").press("Enter")
    expect(page).to_have_url(re.compile(r"/ops/\?q=FF-000001(&|$)"))
    rows = page.locator("tbody tr[data-id]")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Zoë de Vries")
    rows.get_by_role("link", name="FF-000001").click()

    expect(page).to_have_url(ociflex.url(path=f"/ops/requests/{stored.id}"))
    expect(page.get_by_role("heading", name="Aanvraag FF-000001")).to_be_visible()
    expect(page.locator("#requester")).to_contain_text("Zoë de Vries")
    expect(page.locator("#requester")).to_contain_text("Moving day.")

    page.get_by_role("button", name="In behandeling nemen").click()
    expect(page.locator("#status")).to_have_text("In behandeling")
    page.get_by_label("Voertuig (merk en model)").fill("VW Transporter T6.1, wit")
    page.get_by_label("Kenteken (optioneel)").fill("vx-123-z")
    expect(page.get_by_label("Ophaaldatum")).to_have_value(start.isoformat())  # as requested
    expect(page.get_by_label("Terugbrengdatum")).to_have_value(end.isoformat())
    page.get_by_label("Ophaallocatie").fill("Utrecht Papendorp")
    page.get_by_role("button", name="Inplannen").click()
    expect(page.locator("#status")).to_have_text("Ingepland")
    expect(page.locator("#planning")).to_contain_text("VX-123-Z")
    page.get_by_role("button", name="Bevestigen en de aanvrager mailen").click()
    expect(page.locator("#status")).to_have_text("Bevestigd")
    expect(page.locator("#messages")).to_contain_text("zoe.devries@fleet.example")
    save_screenshot(page, "ops-request")

    # The outbox worker, once: the e-mail reaches the SMTP server.
    assert mail_sink.messages == []
    send_due(app)
    [mail] = mail_sink.wait_for(1)
    assert mail.rcpt_tos == ["zoe.devries@fleet.example"]
    assert mail.message["To"] == "zoe.devries@fleet.example"
    assert mail.message["Subject"] == "Confirmed: your FlexFleet rental FF-000001"
    text = mail.message.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "FF-000001" in body
    assert "VX-123-Z" in body
    assert "Utrecht Papendorp" in body
    page.reload()
    expect(page.locator("#messages")).to_contain_text("Verstuurd")

    # The ERP simulator, for its screenshot.
    simulator = new_page()
    simulator.goto(ociflex.url(path="/dev/erp?customer=demo"))
    expect(simulator.get_by_role("heading", level=1)).to_be_visible()
    save_screenshot(simulator, "erp-simulator")

    # Log out; back shows nothing of the request.
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", name="Inloggen bij Operations")).to_be_visible()
    page.go_back()
    expect(page.get_by_text("Zoë de Vries")).to_have_count(0)
    expect(page.get_by_text("Moving day.")).to_have_count(0)
    expect(page.get_by_role("heading", name="Inloggen bij Operations")).to_be_visible()
