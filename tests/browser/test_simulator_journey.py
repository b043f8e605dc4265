"""The ERP simulator's round trip in Chromium, as a developer tries the demo: ``/dev/erp``
punches out to the demo customer, framed or in the whole window, in Dutch or in English; the
employee books; the basket comes back to the simulator's hook page, whose overall verdict must
be that SAP would accept every line. The browser posts the long text's lines as CR LF, so this
is the check that ociflex's own basket passes ociflex's own rules as the ERP receives it. And a
browser posts a form for ISO-8859-1 in windows-1252: only a real one shows that an ERP that
expects ISO-8859-1 gets what it expects."""

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ociflex.booking.form import today
from tests.support.journeys import book, expect_simulator_accepts, simulator_customer
from tests.support.servers import GunicornServer

#: The demo customer in each language, as the simulator's customers (customer id -> language).
SIMULATED = {"demo-nl": "nl", "demo-en": "en"}
#: The demo customer as an ERP that sends no HTTP_CONTENT_CHARSET and reads ISO-8859-1.
LATIN_1 = "demo-latin-1"


@pytest.fixture
def environ(environ: dict[str, str]) -> dict[str, str]:
    """The shared settings, with the ERP simulator on."""
    return {**environ, "OCIFLEX_DEV_TOOLS": "1"}


@pytest.fixture
def simulator(ociflex: GunicornServer, customers_dir: Path) -> GunicornServer:
    """ociflex serving the demo customer as :data:`SIMULATED`, its ERP being ociflex's own
    simulator on the port the server got (known only once it runs: hence the reload)."""
    for customer_id, language in SIMULATED.items():
        path = customers_dir / f"{customer_id}.yaml"
        path.write_text(simulator_customer(ociflex.port, language), encoding="utf-8")
    latin_1 = simulator_customer(ociflex.port, "en") + "charset: iso-8859-1\n"
    (customers_dir / f"{LATIN_1}.yaml").write_text(latin_1, encoding="utf-8")
    ociflex.reload()
    return ociflex


@pytest.mark.parametrize("window", ["frame", "top"])
@pytest.mark.parametrize("customer_id", list(SIMULATED))
def test_the_simulators_round_trip_ends_with_sap_accepting_every_line(
    page: Page, simulator: GunicornServer, customer_id: str, window: str
) -> None:
    page.goto(simulator.url(path=f"/dev/erp?customer={customer_id}&window={window}"))
    page.locator("#callup").get_by_role("button").click()
    form = page.frame_locator('iframe[name="catalogue"]') if window == "frame" else page
    start = today() + timedelta(days=30)
    # The employee's remarks have a line break of their own.
    remarks = "Tow bar, please.\nPickup after 9:00."
    book(form, "VAN", start, start + timedelta(days=2), remarks, SIMULATED[customer_id])

    expect_simulator_accepts(page)
    expect(page.locator('tr[data-name="NEW_ITEM-LONGTEXT_1:132[]"] pre')).to_contain_text(
        "Pickup after 9:00."
    )


def test_an_erp_that_expects_iso_8859_1_gets_it_from_the_browser_with_the_replacements_named(
    page: Page, simulator: GunicornServer
) -> None:
    page.goto(simulator.url(path=f"/dev/erp?customer={LATIN_1}&window=top"))
    page.locator("#callup").get_by_role("button").click()
    start = today() + timedelta(days=30)
    book(page, "VAN", start, start + timedelta(days=2), "Zoë's budget: € 200", "en")

    expect_simulator_accepts(page)
    longtext = page.locator('tr[data-name="NEW_ITEM-LONGTEXT_1:132[]"]')
    expect(longtext.locator("pre")).to_contain_text("Zoë's budget: EUR 200")
    expect(longtext.locator(".replacement").filter(has_text="U+20AC")).to_contain_text("EUR")
    # Posted for iso-8859-1, in windows-1252: the page says why that is what the ERP expects.
    expect(page.locator("#arrived")).to_contain_text("windows-1252")
    expect(page.locator("#browser-label")).to_contain_text("iso-8859-1")
