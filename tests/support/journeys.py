"""Steps and expectations shared by the browser journeys (tests/browser/)."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import yaml
from babel.support import Translations
from playwright.sync_api import FrameLocator, Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ociflex.devtools.verdicts import check_basket_post
from ociflex.i18n import TRANSLATIONS
from ociflex.models import RentalRequest
from tests.support.servers import ReceivedBasket, StandInErp

ROOT = Path(__file__).resolve().parents[2]

#: The ERP simulator's verdict on a basket in which SAP would find nothing wrong.
SAP_ACCEPTS = "SAP would accept every line."

#: A line break in a form value: LF, CR or CR LF.
_LINE_BREAK = re.compile(r"\r\n?|\n")


def as_a_browser_posts(value: str) -> str:
    """``value`` as a browser's form post carries it: every line break as CR LF (HTML,
    "converting an entry list to a list of name-value pairs"), whatever the page held."""
    return _LINE_BREAK.sub("\r\n", value)


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
    """The ERP's hook page is the top page, the ERP got exactly one basket, and the ERP
    simulator would accept it (:func:`assert_simulator_accepts`)."""
    expect_hook_page(page)
    expect(page).to_have_url(erp.hook_urls[-1])
    assert len(page.frames) == 1, "the hook page must replace the ERP page, not load in a frame"
    [basket] = erp.baskets
    assert_simulator_accepts(basket)
    return basket


def assert_simulator_accepts(basket: ReceivedBasket) -> None:
    """The ERP simulator's hook page would give ``basket``, as the browser posted it, the
    verdict "SAP would accept every line": its checks (:mod:`ociflex.devtools.verdicts`) find
    no problem."""
    report = check_basket_post(basket.fields, basket.charset)
    rows = [*(row for rows in report.lines.values() for row in rows), *report.others]
    problems = [*report.general, *(problem for row in rows for problem in row.problems)]
    assert report.problem_count == 0, problems


def expect_simulator_accepts(page: Page) -> None:
    """The ERP simulator's hook page is the top page, and its overall verdict is that SAP would
    accept every line (in the page's language), with no field marked."""
    expect(page).to_have_url(re.compile(r"/dev/erp/hook\?"))
    assert len(page.frames) == 1, "the hook page must replace the ERP page, not load in a frame"
    language = page.locator("html").get_attribute("lang") or "nl"
    verdict = page.locator("#verdict")
    try:
        expect(verdict).to_have_text(_translated(SAP_ACCEPTS, language))
    except AssertionError as error:
        marked = page.locator("tr:has(td.problem)").all_inner_texts()
        raise AssertionError("\n".join([str(error), "Marked fields:", *marked])) from None
    expect(verdict).not_to_have_class(re.compile(r"\bproblem\b"))
    expect(page.locator(".problem")).to_have_count(0)


@cache
def _translated(message: str, language: str) -> str:
    return Translations.load(str(TRANSLATIONS), [language]).gettext(message)


def simulator_customer(port: int, language: str) -> str:
    """The shipped demo customer (``config/customers/demo.yaml``) in ``language``, its ERP the
    ERP simulator of the ociflex on ``port``: HOOK_URLs, frames and carts of that simulator
    allowed, under either loopback name."""
    demo = yaml.safe_load((ROOT / "config" / "customers" / "demo.yaml").read_text("utf-8"))
    origins = [f"http://{host}:{port}" for host in ("127.0.0.1", "localhost")]
    demo["language"] = language
    demo["hook_urls"] = [f"{origin}/dev/erp/" for origin in origins]
    demo["frame_ancestors"] = origins
    if "cxml" in demo:
        demo["cxml"]["browser_form_posts"] = [f"{origin}/dev/cxml/" for origin in origins]
    return yaml.safe_dump(demo, allow_unicode=True, sort_keys=False)


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
        *([as_a_browser_posts(f"Remarks: {remarks}")] if remarks else []),
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
