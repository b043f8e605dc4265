"""Steps and expectations shared by the browser journeys (tests/browser/)."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import FrameLocator, Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ociflex.models import RentalRequest
from tests.support.servers import ReceivedBasket, StandInErp

#: The booking form's labels by language, as the employee reads them.
LABELS = {
    "en": {
        "vehicle": "Vehicle",
        "start": "First day",
        "end": "Last day",
        "remarks": "Remarks (optional)",
        "send": "Send request to purchasing system",
    },
    "nl": {
        "vehicle": "Voertuig",
        "start": "Eerste dag",
        "end": "Laatste dag",
        "remarks": "Opmerkingen (optioneel)",
        "send": "Aanvraag naar inkoopsysteem sturen",
    },
}


def fill_booking(
    form: Page | FrameLocator,
    vehicle: str,
    start: date,
    end: date,
    remarks: str = "",
    language: str = "en",
) -> None:
    """Fill in the booking form, as the employee does (by the labels they read)."""
    labels = LABELS[language]
    form.get_by_label(labels["vehicle"]).select_option(vehicle)
    form.get_by_label(labels["start"]).fill(start.isoformat())
    form.get_by_label(labels["end"]).fill(end.isoformat())
    if remarks:
        form.get_by_label(labels["remarks"]).fill(remarks)


def send_booking(form: Page | FrameLocator, language: str = "en") -> None:
    form.get_by_role("button", name=LABELS[language]["send"]).click()


def book(
    form: Page | FrameLocator,
    vehicle: str,
    start: date,
    end: date,
    remarks: str = "",
    language: str = "en",
) -> None:
    """Fill in and send the booking form."""
    fill_booking(form, vehicle, start, end, remarks, language)
    send_booking(form, language)


def expect_hook_page(page: Page | FrameLocator) -> None:
    expect(page.get_by_role("heading", name="Basket received")).to_be_visible()


def expect_basket_received(page: Page, erp: StandInErp) -> ReceivedBasket:
    """The ERP's hook page is the top page, and the ERP got exactly one basket."""
    expect_hook_page(page)
    expect(page).to_have_url(erp.hook_urls[-1])
    assert len(page.frames) == 1, "the hook page must replace the ERP page, not load in a frame"
    [basket] = erp.baskets
    return basket


def fleet_basket(
    reference: str,
    vehicle: str,
    start: date,
    end: date,
    *,
    remarks: str = "",
) -> list[tuple[str, str]]:
    """Every field, in order, of the basket of one booking of the ``fleet`` customer (English,
    cost centre 4100, Zoë de Vries), as the ERP receives it (line breaks as CR LF)."""
    names = {"COMPACT": "Compact car (VW Polo or similar)", "VAN": "Van (VW Transporter)"}
    rates = {"COMPACT": "39.50", "VAN": "79.00"}
    days = (end - start).days + 1
    longtext = [
        "Requester: Zoë de Vries <zoe.devries@fleet.example>",
        f"Vehicle: {names[vehicle]} ({vehicle})",
        f"Period: {start:%d-%m-%Y} – {end:%d-%m-%Y} ({days} day{'s' if days != 1 else ''})",
        "Cost centre: 4100",
        *([f"Remarks: {remarks}".replace("\n", "\r\n")] if remarks else []),
        f"Reference: {reference}",
    ]
    return [
        ("NEW_ITEM-DESCRIPTION[1]", f"{vehicle} {start:%d-%m-%Y}–{end:%d-%m-%Y}"),
        ("NEW_ITEM-QUANTITY[1]", str(days)),
        ("NEW_ITEM-UNIT[1]", "DAY"),
        ("NEW_ITEM-PRICE[1]", rates[vehicle]),
        ("NEW_ITEM-PRICEUNIT[1]", "1"),
        ("NEW_ITEM-CURRENCY[1]", "EUR"),
        ("NEW_ITEM-CUST_FIELD1[1]", "4100"),
        ("NEW_ITEM-EXT_PRODUCT_ID[1]", vehicle),
        ("NEW_ITEM-EXT_QUOTE_ID[1]", reference),
        ("NEW_ITEM-LONGTEXT_1:132[]", "\r\n".join(longtext)),
        ("~OkCode", "ADDI"),
        ("~CALLER", "CTLG"),
    ]


def stored_requests(database_url: str) -> list[RentalRequest]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(RentalRequest).order_by(RentalRequest.id)))
    finally:
        engine.dispose()
