"""A cXML punch-out in a real Chromium: the stand-in buyer (127.0.0.1) posts a setup request to
ociflex (localhost, under gunicorn) server to server, frames the StartPage cross-site, the
employee books, and the browser posts the PunchOutOrderMessage to the BrowserFormPost URL; then
the buyer opens the same booking again to edit it. The browser blocks third-party cookies
(see test_punchout_journey.py), and ociflex sets none.
"""

import base64
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from lxml import etree
from playwright.sync_api import Page, Response, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ociflex.booking.form import today
from ociflex.cxml.dtd import dtd_problems
from ociflex.models import RequestEvent
from tests.browser.conftest import BROWSER_PASSWORD, CXML_IDENTITY
from tests.support.browser import save_screenshot
from tests.support.cxml import Setup, setup_request
from tests.support.journeys import book, stored_requests
from tests.support.servers import GunicornServer, ReceivedBasket, StandInErp


def fleet_setup(
    erp: StandInErp, cookie: str, operation: str = "create", items: tuple[str, ...] = ()
) -> bytes:
    """The setup request of the browser customer's buyer: Zoë de Vries, cost centre 4100."""
    return setup_request(
        Setup(
            operation=operation,
            buyer_cookie=cookie,
            browser_form_post=erp.new_cart_url(),
            extrinsics=[("CostCenter", "4100")],
            contact=("Zoë de Vries", "zoe.devries@fleet.example"),
            items=items,
            from_credentials=[CXML_IDENTITY],
            sender=CXML_IDENTITY,
            shared_secret=BROWSER_PASSWORD,
        )
    )


def open_framed(page: Page, erp: StandInErp, document: bytes) -> None:
    """The buyer posts the setup request and shows the StartPage in its own page's frame."""
    start_page = erp.set_up(document)
    page.goto(erp.url(f"/shop?start={quote(start_page, safe='')}"))


def received_cart(page: Page, erp: StandInErp, count: int) -> etree._Element:
    """The buyer's cart page is the whole window, and got the ``count``-th cart: its
    PunchOutOrderMessage, checked against the cXML DTD."""
    expect(page.get_by_role("heading", name="Cart received")).to_be_visible()
    assert len(page.frames) == 1, "the cart page must replace the buyer's page, not a frame"
    cart: ReceivedBasket = erp.wait_for_carts(count)[-1]
    assert cart.query == urlsplit(erp.cart_urls[-1]).query
    document = base64.b64decode(cart["cxml-base64"])
    assert dtd_problems(document) == []
    return etree.fromstring(document)


def item_of(cart: etree._Element) -> etree._Element:
    [item] = cart.findall("Message/PunchOutOrderMessage/ItemIn")
    return item


def ociflex_cookies(page: Page, ociflex: GunicornServer) -> list[str]:
    """The URLs of ociflex's responses to this page that set a cookie (there must be none)."""
    setting: list[str] = []
    prefix = ociflex.url(path="/")

    def record(response: Response) -> None:
        if response.url.startswith(prefix) and response.all_headers().get("set-cookie"):
            setting.append(response.url)

    page.context.on("response", record)
    return setting


@pytest.mark.browser
def test_a_framed_cxml_punchout_books_and_edits_the_same_request_without_cookies(
    page: Page, erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    cookies = ociflex_cookies(page, ociflex)
    start = today() + timedelta(days=21)
    end = start + timedelta(days=2)

    open_framed(page, erp, fleet_setup(erp, "cookie-1"))
    catalogue = page.frame_locator('iframe[name="catalogue"]')
    expect(catalogue.get_by_role("heading", name="Request a vehicle")).to_be_visible()
    expect(catalogue.get_by_text("Zoë de Vries")).to_be_visible()
    expect(catalogue.get_by_label("Cost centre")).to_have_value("4100")
    save_screenshot(page, "cxml-booking-form")
    book(catalogue, "VAN", start, end)

    cart = received_cart(page, erp, 1)
    assert cart.findtext("Message/PunchOutOrderMessage/BuyerCookie") == "cookie-1"
    item = item_of(cart)
    reference = item.findtext("ItemID/SupplierPartAuxiliaryID")
    assert (item.get("quantity"), item.findtext("ItemID/SupplierPartID")) == ("3", "VAN")
    [stored] = stored_requests(database_url)
    assert (stored.reference, stored.protocol, stored.days) == (reference, "cxml", 3)

    later = end + timedelta(days=2)
    open_framed(page, erp, fleet_setup(erp, "cookie-2", "edit", (reference,)))
    catalogue = page.frame_locator('iframe[name="catalogue"]')
    expect(catalogue.get_by_role("heading", name=f"Change request {reference}")).to_be_visible()
    expect(catalogue.get_by_label("Last day")).to_have_value(end.isoformat())
    save_screenshot(page, "cxml-edit-form")
    catalogue.get_by_label("Last day").fill(later.isoformat())
    catalogue.get_by_role("button", name="Send the changed request to purchasing system").click()

    changed = received_cart(page, erp, 2)
    assert changed.findtext("Message/PunchOutOrderMessage/BuyerCookie") == "cookie-2"
    item = item_of(changed)
    assert item.findtext("ItemID/SupplierPartAuxiliaryID") == reference
    assert item.get("quantity") == "5"
    [stored] = stored_requests(database_url)
    assert (stored.reference, stored.end_date, stored.days) == (reference, later, 5)
    assert _actions(database_url, stored.id) == ["registered", "edited"]
    assert cookies == []


@pytest.mark.browser
def test_cancelling_a_cxml_punchout_returns_an_empty_cart(
    page: Page, erp: StandInErp, ociflex: GunicornServer, database_url: str
) -> None:
    open_framed(page, erp, fleet_setup(erp, "cookie-3"))
    catalogue = page.frame_locator('iframe[name="catalogue"]')
    catalogue.get_by_role("button", name="Cancel and return to purchasing system").click()

    cart = received_cart(page, erp, 1)
    assert cart.findall("Message/PunchOutOrderMessage/ItemIn") == []
    assert stored_requests(database_url) == []


def _actions(database_url: str, request_id: int) -> list[str]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            statement = select(RequestEvent.action).where(RequestEvent.request_id == request_id)
            return list(session.scalars(statement.order_by(RequestEvent.id)))
    finally:
        engine.dispose()
