"""Planning in a real Chromium: an operator plans two requests of two customers on one licence
plate for overlapping periods, is warned with the first request's reference, gives the second
another vehicle, and prints the day list for the branch desk.

The requests are seeded into the database gunicorn serves (the punch-out that books them is
the journey of test_ops_journey.py); everything after that goes through the pages.
"""

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect

from ociflex.booking.form import today
from ociflex.models import Operator
from tests.conftest import OPERATOR_PASSWORD, OPERATOR_USERNAME
from tests.support.browser import save_screenshot
from tests.support.inbox import seed
from tests.support.servers import GunicornServer

BRANCH = "Utrecht Papendorp"
PLATE = "VX-123-Z"
OTHER_PLATE = "VX-456-Z"


def log_in(page: Page, ociflex: GunicornServer) -> None:
    page.goto(ociflex.url(path="/ops/login"))
    page.get_by_label("Gebruikersnaam").fill(OPERATOR_USERNAME)
    page.get_by_label("Wachtwoord").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(ociflex.url(path="/ops/"))


def schedule(page: Page, ociflex: GunicornServer, request_id: int, plate: str) -> None:
    """Open the request's page and plan it on ``plate`` for the requested days, at the times
    the form proposes."""
    page.goto(ociflex.url(path=f"/ops/requests/{request_id}"))
    page.get_by_label("Voertuig (merk en model)").fill("VW Transporter T6.1, wit")
    page.get_by_label("Kenteken (optioneel)").fill(plate)
    page.get_by_label("Ophaallocatie").fill(BRANCH)
    page.get_by_role("button", name="Inplannen").click()


def test_an_operator_sees_a_plate_planned_twice_resolves_it_and_prints_the_day_list(
    new_page: Callable[..., Page], ociflex: GunicornServer, app: Flask, operator: Operator
) -> None:
    day = today() + timedelta(days=14)
    requested = {"status": "in_progress", "start_date": day, "end_date": day, "days": 1}
    first, second = seed(
        app,
        {**requested, "requester_name": "Jan Jansen", "location": BRANCH},
        {**requested, "requester_name": "Jane Smith", "customer_id": "acme"},
    )
    page = new_page()
    log_in(page, ociflex)

    schedule(page, ociflex, first, PLATE.lower())
    expect(page.locator("#status")).to_have_text("Ingepland")
    expect(page.locator("#planning")).to_contain_text(PLATE)

    # The second request on the same plate, the same day: a warning, nothing saved.
    schedule(page, ociflex, second, PLATE)
    warning = page.locator("#schedule-conflicts")
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link", name="FF-000001")).to_have_attribute(
        "href", f"/ops/requests/{first}"
    )
    expect(warning).to_contain_text("Demo Inkoop B.V.")
    expect(page.locator("#schedule-plan_anyway")).not_to_be_checked()
    expect(page.get_by_label("Kenteken (optioneel)")).to_have_value(PLATE)
    warning.scroll_into_view_if_needed()
    save_screenshot(page, "ops-plate-planned-twice")

    # The desk gives the second request another van.
    page.get_by_label("Kenteken (optioneel)").fill(OTHER_PLATE)
    page.get_by_role("button", name="Inplannen").click()
    expect(page).to_have_url(ociflex.url(path=f"/ops/requests/{second}"))
    expect(page.locator("#status")).to_have_text("Ingepland")
    expect(page.locator("#planning")).to_contain_text(OTHER_PLATE)
    expect(page.locator("#conflict-mark")).to_have_count(0)

    # The day list, printed for the branch desk: both requests with their plates, no
    # navigation and no buttons.
    page.goto(ociflex.url(path=f"/ops/planning/day?day={day.isoformat()}"))
    page.emulate_media(media="print")
    main = page.locator("main")
    for reference, plate in (("FF-000001", PLATE), ("FF-000002", OTHER_PLATE)):
        row = main.locator("tr", has_text=reference).first
        expect(row).to_be_visible()
        expect(row).to_contain_text(plate)
    expect(main).to_contain_text(BRANCH)
    save_screenshot(page, "ops-day-list-print")
    expect(page.locator(".ops-nav")).to_be_hidden()
    buttons = page.locator("button")
    assert buttons.count() > 0  # the header's logout, at least
    for button in buttons.all():
        expect(button).to_be_hidden()
