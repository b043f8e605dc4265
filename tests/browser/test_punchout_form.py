"""The employee's side of the booking form in a real Chromium: a mistake corrected, a value the
ERP sent wrong corrected, the back button after the basket went, and two punch-outs of two
customers open side by side."""

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from ociflex.booking.form import today
from tests.support.browser import save_screenshot
from tests.support.journeys import (
    book,
    expect_basket_received,
    fill_booking,
    fleet_basket,
    send_booking,
    stored_requests,
)
from tests.support.servers import GunicornServer, StandInErp

pytestmark = [
    pytest.mark.browser,
]


def go_back_to_a_post_answer(page: Page) -> None:
    """Back to a page that answered a POST with ``Cache-Control: no-store``: Chromium does not
    show it from a cache, nor post again by itself; its error page ("Confirm Form
    Resubmission", blank without JavaScript) shows nothing of the request."""
    with pytest.raises(PlaywrightError, match="net::ERR_CACHE_MISS"):
        page.go_back()
    expect(page).to_have_url("chrome-error://chromewebdata/")
    expect(page.get_by_text("Zoë de Vries")).to_have_count(0)
    expect(page.get_by_text("FF-000001")).to_have_count(0)


def test_an_end_before_the_start_is_shown_corrected_and_then_sent(
    page: Page, erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    page.goto(erp.url("/launch?mode=iframe&target=_top"))
    catalogue = page.frame_locator('iframe[name="catalogue"]')
    start = today() + timedelta(days=20)
    fill_booking(catalogue, "VAN", start, start - timedelta(days=1), remarks="Roof rack.")
    send_booking(catalogue)

    expect(catalogue.get_by_role("alert")).to_have_text("Please correct the fields marked below.")
    last_day = catalogue.get_by_label("Last day")
    expect(last_day).to_have_attribute("aria-invalid", "true")
    expect(catalogue.locator(".error")).to_have_text(
        ["The end date cannot be before the start date."]
    )
    # What the employee entered is still there, in the frame.
    expect(catalogue.get_by_label("Vehicle")).to_have_value("VAN")
    expect(catalogue.get_by_label("First day")).to_have_value(start.isoformat())
    expect(catalogue.get_by_label("Remarks (optional)")).to_have_value("Roof rack.")
    expect(catalogue.get_by_label("Cost centre")).to_have_value("4100")
    assert stored_requests(database_url) == []
    assert erp.baskets == []

    last_day.fill((start + timedelta(days=1)).isoformat())
    send_booking(catalogue)
    basket = expect_basket_received(page, erp)
    assert basket.query == urlsplit(erp.hook_urls[0]).query
    assert basket.fields == fleet_basket(
        "FF-000001", "VAN", start, start + timedelta(days=1), remarks="Roof rack."
    )
    assert [r.reference for r in stored_requests(database_url)] == ["FF-000001"]


def test_a_cost_centre_the_erp_sent_wrong_is_marked_corrected_and_then_sent(
    page: Page, erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    """Issue 18, item 6: an editable field in the wrong format does not refuse the call-up;
    the form opens with it marked, and the employee corrects it."""
    erp.callup["COST_CENTRE"] = "41-00"
    page.goto(erp.url("/launch?mode=iframe&target=_top"))
    catalogue = page.frame_locator('iframe[name="catalogue"]')

    expect(catalogue.get_by_role("alert")).to_have_text("Please correct the fields marked below.")
    cost_centre = catalogue.get_by_label("Cost centre")
    expect(cost_centre).to_be_visible()
    expect(cost_centre).to_have_value("41-00")
    expect(cost_centre).to_have_attribute("aria-invalid", "true")
    expect(cost_centre).to_have_accessible_description(
        "Your purchasing system sent “41-00”, which does not have the agreed format. "
        "Please correct it."
    )
    save_screenshot(page, "booking-form-marked-for-correction")
    cost_centre.focus()
    expect(cost_centre).to_be_focused()
    cost_centre.fill("4100")
    start = today() + timedelta(days=15)
    book(catalogue, "COMPACT", start, start + timedelta(days=1))

    basket = expect_basket_received(page, erp)
    assert basket.fields == fleet_basket("FF-000001", "COMPACT", start, start + timedelta(days=1))
    assert [r.fields["cost_centre"] for r in stored_requests(database_url)] == ["4100"]


def test_back_after_the_basket_went_asks_before_posting_anything_again(
    page: Page, erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    """With scripts on, the basket page posts itself to the ERP's hook page. Back leads to a
    POST answer ociflex forbids to store (``no-store``): Chromium asks before posting again and
    shows nothing of it. Which answer depends on when the basket page's script ran: if it ran
    while the page was still loading, Chromium replaced the basket page in the history and
    back is the booking form (posting again is a new call-up, an empty form); otherwise back
    is the basket page (posting again re-sends the booking: the same basket, once more). In
    both cases ociflex stores the request once and the ERP only ever sees FF-000001."""
    page.goto(erp.url("/launch?mode=top&target=_top"))
    start = today() + timedelta(days=8)
    book(page, "COMPACT", start, start + timedelta(days=1))
    expect_basket_received(page, erp)

    go_back_to_a_post_answer(page)
    assert ociflex.log_text().count('"POST /oci/fleet" 200') == 1

    page.reload()  # "Continue": Chromium posts that page's form again
    expect(page.locator("h1")).to_have_text(re.compile("Request a vehicle|Basket received"))
    if page.locator("h1").inner_text() == "Request a vehicle":
        expect(page).to_have_url(ociflex.url(path="/oci/fleet"))
        expect(page.get_by_label("First day")).to_have_value("")
        assert ociflex.log_text().count('"POST /oci/fleet/book"') == 1
    assert [r.reference for r in stored_requests(database_url)] == ["FF-000001"]
    quotes = {dict(basket.fields)["NEW_ITEM-EXT_QUOTE_ID[1]"] for basket in erp.baskets}
    assert quotes == {"FF-000001"}


def test_back_to_the_basket_page_and_sending_it_again_stores_one_request(
    new_page: Callable[..., Page], erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    """Without scripts the employee sends the basket by its button, so the basket page stays
    in the history. Back, posting the booking again and sending the basket once more: the ERP
    gets the same request (same reference, same fields) a second time, ociflex stores one."""
    page = new_page(java_script_enabled=False)
    page.goto(erp.url("/launch?mode=top&target=_top"))
    page.get_by_role("button", name="Punch out to FlexFleet").click()
    start = today() + timedelta(days=12)
    book(page, "VAN", start, start + timedelta(days=3))
    page.get_by_role("button", name="Return to purchasing system").click()
    first = expect_basket_received(page, erp)

    go_back_to_a_post_answer(page)
    assert ociflex.log_text().count('"POST /oci/fleet/book"') == 1

    page.reload()  # "Continue": the booking form is posted again
    expect(page.get_by_role("heading", name="Request FF-000001 registered")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("had already been registered")
    page.get_by_role("button", name="Return to purchasing system").click()
    expect(page.get_by_role("heading", name="Basket received")).to_be_visible()
    expect(page).to_have_url(erp.hook_urls[0])
    first_again, second = erp.wait_for_baskets(2)
    assert first_again == first
    assert (
        second.fields
        == first.fields
        == fleet_basket("FF-000001", "VAN", start, start + timedelta(days=3))
    )
    assert second.query == first.query
    assert [r.reference for r in stored_requests(database_url)] == ["FF-000001"]


def test_two_customers_punch_out_side_by_side_and_finish_in_either_order(
    page: Page,
    erp: StandInErp,
    second_erp: StandInErp,
    ociflex: GunicornServer,
    database_url: str,
) -> None:
    """Two tabs of one browser (one cookie jar): the English ``fleet`` punch-out and the Dutch
    ``haven`` one, each in its own ERP's frame. Both are filled in before either is sent; the
    one opened last is sent first. Each basket reaches its own ERP with its own data."""
    fleet_tab = page
    haven_tab = page.context.new_page()
    fleet_tab.goto(erp.url("/launch?mode=iframe&target=_top"))
    haven_tab.goto(second_erp.url("/launch?mode=iframe&target=_top"))
    fleet = fleet_tab.frame_locator('iframe[name="catalogue"]')
    haven = haven_tab.frame_locator('iframe[name="catalogue"]')
    expect(haven.get_by_role("heading", name="Voertuig aanvragen")).to_be_visible()
    expect(haven.get_by_text("Pieter Bakker")).to_be_visible()
    expect(haven.get_by_label("Kostenplaats")).to_have_value("77001")
    save_screenshot(haven_tab, "booking-form-nl")
    expect(fleet.get_by_text("Zoë de Vries")).to_be_visible()

    fleet_start = today() + timedelta(days=40)
    haven_start = today() + timedelta(days=41)
    fill_booking(fleet, "COMPACT", fleet_start, fleet_start + timedelta(days=4))
    fill_booking(haven, "ESTATE", haven_start, haven_start, remarks="Trekhaak.", language="nl")
    send_booking(haven, language="nl")
    haven_basket = expect_basket_received(haven_tab, second_erp)
    send_booking(fleet)
    fleet_basket_ = expect_basket_received(fleet_tab, erp)

    assert fleet_basket_.query == urlsplit(erp.hook_urls[0]).query
    assert fleet_basket_.fields == fleet_basket(
        "FF-000002", "COMPACT", fleet_start, fleet_start + timedelta(days=4)
    )
    assert haven_basket.query == urlsplit(second_erp.hook_urls[0]).query
    haven_period = f"{haven_start:%d-%m-%Y}"
    assert haven_basket.fields == [
        ("NEW_ITEM-DESCRIPTION[1]", f"ESTATE {haven_period}–{haven_period}"),
        ("NEW_ITEM-QUANTITY[1]", "1"),
        ("NEW_ITEM-UNIT[1]", "DAY"),
        ("NEW_ITEM-PRICE[1]", "54.25"),
        ("NEW_ITEM-PRICEUNIT[1]", "1"),
        ("NEW_ITEM-CURRENCY[1]", "EUR"),
        ("NEW_ITEM-CUST_FIELD1[1]", "77001"),
        ("NEW_ITEM-EXT_PRODUCT_ID[1]", "ESTATE"),
        ("NEW_ITEM-EXT_QUOTE_ID[1]", "FF-000001"),
        (
            "NEW_ITEM-LONGTEXT_1:132[]",
            "\r\n".join(
                [
                    "Aanvrager: Pieter Bakker <pieter.bakker@haven.example>",
                    "Voertuig: Stationwagen (Skoda Octavia Combi) (ESTATE)",
                    f"Huurperiode: {haven_period} – {haven_period} (1 dag)",
                    "Kostenplaats: 77001",
                    "Opmerkingen: Trekhaak.",
                    "Referentie: FF-000001",
                ]
            ),
        ),
        ("~OkCode", "ADDI"),
        ("~CALLER", "CTLG"),
    ]
    stored = stored_requests(database_url)
    assert [(r.reference, r.customer_id) for r in stored] == [
        ("FF-000001", "haven"),
        ("FF-000002", "fleet"),
    ]
