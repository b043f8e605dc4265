"""The punch-out round trip in a real Chromium: the stand-in ERP (127.0.0.1) opens ociflex
(localhost, under gunicorn) in an iframe or as the whole page, the employee books a vehicle, and
the browser posts the basket back to the ERP's HOOK_URL.

The browser blocks third-party cookies (proven by the first test), as Safari, private windows
and many ERP-embedded browsers do; ociflex keeps its state in the page and must work there.
The customer is the ``fleet`` customer of ``conftest.py``.
"""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, Response, expect

from ociflex.booking.form import today
from tests.support.browser import launch_chromium, save_screenshot
from tests.support.journeys import book, expect_basket_received, stored_requests
from tests.support.servers import GunicornServer, StandInErp

# --- Steps of a journey -------------------------------------------------------------------------


def ociflex_responses(page: Page, ociflex: GunicornServer) -> list[Response]:
    """Every response from ociflex to this page's context from now on, frames included."""
    responses: list[Response] = []
    prefix = ociflex.url(path="/")

    def record(response: Response) -> None:
        if response.url.startswith(prefix):
            responses.append(response)

    page.context.on("response", record)
    return responses


def assert_no_cookies(responses: list[Response]) -> None:
    """ociflex sets no cookie: a framed punch-out would lose it where third-party cookies are
    blocked, so it must not depend on one."""
    assert responses, "no response from ociflex was seen"
    setting = [r.url for r in responses if r.all_headers().get("set-cookie")]
    assert setting == []


# --- The test browser -----------------------------------------------------------------------------


@pytest.mark.browser
def test_the_test_browser_blocks_third_party_cookies(
    browser: Browser, playwright: Playwright, erp: StandInErp, tmp_path: Path
) -> None:
    """A page on 127.0.0.1 frames localhost, which sets a ``SameSite=None; Secure`` cookie;
    the next framed request to localhost shows whether the cookie was kept. A control browser
    whose profile allows third-party cookies keeps it, so the probe does detect them."""

    def probe(context_browser: Browser) -> str:
        context = context_browser.new_context()
        try:
            page = context.new_page()
            for frame in ("set", "echo"):
                page.goto(erp.url(f"/cookie-probe?frame={frame}"))
                expect(page.frame_locator("#probe").locator("body")).not_to_be_empty()
            return erp.probe_cookies[-1]
        finally:
            context.close()

    assert probe(browser) == ""

    control = launch_chromium(playwright, tmp_path / "profile", third_party_cookies="allow")
    try:
        assert control.browser is not None
        assert probe(control.browser) == "erp_probe=1"
    finally:
        control.close()
    assert erp.probe_cookies == ["", "erp_probe=1"]


# --- Journeys -----------------------------------------------------------------------------------


@pytest.mark.browser
def test_framed_punchout_posts_the_basket_to_the_erp_top_page(
    page: Page, erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    responses = ociflex_responses(page, ociflex)
    page.goto(erp.url("/launch?mode=iframe&target=_top"))
    catalogue = page.frame_locator('iframe[name="catalogue"]')
    expect(catalogue.get_by_role("heading", name="Request a vehicle")).to_be_visible()
    expect(catalogue.get_by_text("Zoë de Vries")).to_be_visible()
    expect(catalogue.get_by_label("Cost centre")).to_have_value("4100")
    save_screenshot(page, "booking-form-en")

    start = today() + timedelta(days=30)
    end = start + timedelta(days=2)
    book(catalogue, "VAN", start, end, remarks="Tow bar, please.\nPickup after 9:00.")

    basket = expect_basket_received(page, erp)
    # The HOOK_URL's own query string arrived as the ERP sent it, escapes included.
    assert basket.query == urlsplit(erp.hook_urls[0]).query
    assert basket.query.startswith("sap-client=100&sid=")
    assert basket.charset == "utf-8"
    period = f"{start:%d-%m-%Y}–{end:%d-%m-%Y}"
    # A form post turns every line break into CR LF, those of the employee's remarks too.
    longtext = "\r\n".join(
        [
            "Requester: Zoë de Vries <zoe.devries@fleet.example>",
            "Vehicle: Van (VW Transporter) (VAN)",
            f"Period: {start:%d-%m-%Y} – {end:%d-%m-%Y} (3 days)",
            "Cost centre: 4100",
            "Remarks: Tow bar, please.",
            "Pickup after 9:00.",
            "Reference: FF-000001",
        ]
    )
    assert basket.fields == [
        ("NEW_ITEM-DESCRIPTION[1]", f"VAN {period}"),
        ("NEW_ITEM-QUANTITY[1]", "3"),
        ("NEW_ITEM-UNIT[1]", "DAY"),
        ("NEW_ITEM-PRICE[1]", "79.00"),
        ("NEW_ITEM-PRICEUNIT[1]", "1"),
        ("NEW_ITEM-CURRENCY[1]", "EUR"),
        ("NEW_ITEM-CUST_FIELD1[1]", "4100"),
        ("NEW_ITEM-EXT_PRODUCT_ID[1]", "VAN"),
        ("NEW_ITEM-EXT_QUOTE_ID[1]", "FF-000001"),
        ("NEW_ITEM-LONGTEXT_1:132[]", longtext),
        ("~OkCode", "ADDI"),
        ("~CALLER", "CTLG"),
    ]

    [stored] = stored_requests(database_url)
    assert (stored.reference, stored.customer_id, stored.vehicle_code, stored.days) == (
        "FF-000001",
        "fleet",
        "VAN",
        3,
    )
    assert (stored.start_date, stored.end_date) == (start, end)
    # What ociflex logged as sent is what the ERP got, the long text's CR LFs included.
    assert stored.cart["action"] == erp.hook_urls[0]
    assert stored.cart["target"] == "_top"
    assert [(name, value) for name, value in stored.cart["fields"]] == basket.fields

    assert_no_cookies(responses)
    assert page.context.cookies() == []


@pytest.mark.browser
def test_without_javascript_the_buttons_carry_the_punchout_through(
    new_page: Callable[..., Page], erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    page = new_page(java_script_enabled=False)
    responses = ociflex_responses(page, ociflex)
    page.goto(erp.url("/launch?mode=top"))  # no ~TARGET: the basket goes to _top
    page.get_by_role("button", name="Punch out to FlexFleet").click()
    expect(page.get_by_role("heading", name="Request a vehicle")).to_be_visible()

    start = today() + timedelta(days=7)
    book(page, "COMPACT", start, start)

    expect(page.get_by_role("heading", name="Request FF-000001 registered")).to_be_visible()
    assert erp.baskets == []  # nothing posts itself without JavaScript
    save_screenshot(page, "basket-page")
    page.get_by_role("button", name="Return to purchasing system").click()

    basket = expect_basket_received(page, erp)
    assert basket.query == urlsplit(erp.hook_urls[0]).query
    assert basket["NEW_ITEM-DESCRIPTION[1]"] == f"COMPACT {start:%d-%m-%Y}–{start:%d-%m-%Y}"
    assert basket["NEW_ITEM-QUANTITY[1]"] == "1"
    assert basket["NEW_ITEM-PRICE[1]"] == "39.50"
    assert basket["NEW_ITEM-EXT_PRODUCT_ID[1]"] == "COMPACT"
    assert basket["NEW_ITEM-EXT_QUOTE_ID[1]"] == "FF-000001"
    assert basket["NEW_ITEM-CUST_FIELD1[1]"] == "4100"
    assert [r.reference for r in stored_requests(database_url)] == ["FF-000001"]

    # First-party pages this time: the browser would have kept a cookie, and there is none.
    assert_no_cookies(responses)
    assert page.context.cookies() == []


@pytest.mark.browser
def test_reloading_the_basket_page_stores_the_request_once(
    new_page: Callable[..., Page], erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    """Without JavaScript the basket page stays, and the employee may reload it: the browser
    posts the booking form again, and ociflex answers with the same request and basket."""
    page = new_page(java_script_enabled=False)
    page.goto(erp.url("/launch?mode=top&target=_top"))
    page.get_by_role("button", name="Punch out to FlexFleet").click()
    start = today() + timedelta(days=14)
    book(page, "VAN", start, start + timedelta(days=4))
    expect(page.get_by_role("heading", name="Request FF-000001 registered")).to_be_visible()
    expect(page.get_by_text("had already been registered")).to_have_count(0)

    # Playwright's Chromium re-posts on reload without asking (--disable-prompt-on-repost).
    page.reload()
    expect(page.get_by_role("heading", name="Request FF-000001 registered")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        "This request had already been registered; it is sent to your purchasing system once "
        "more, unchanged."
    )
    ociflex.wait_for_log('"POST /oci/fleet/book" 200', count=2)
    assert [r.reference for r in stored_requests(database_url)] == ["FF-000001"]

    page.get_by_role("button", name="Return to purchasing system").click()
    basket = expect_basket_received(page, erp)
    assert basket["NEW_ITEM-EXT_QUOTE_ID[1]"] == "FF-000001"
    assert basket["NEW_ITEM-QUANTITY[1]"] == "5"
    assert [r.reference for r in stored_requests(database_url)] == ["FF-000001"]
