"""The development server on a port other than 5000, as a newcomer runs it: the shipped demo
customer, unchanged, completes the simulator's OCI and cXML round trips in Chromium, framed
cross-site (the simulator on 127.0.0.1, ociflex on localhost), because in development the
server's own simulator counts as every customer's ERP (ociflex/punchout/dev_server.py)."""

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ociflex.booking.form import today
from ociflex.models import RentalRequest
from tests.support.servers import GunicornServer

ROOT = Path(__file__).resolve().parent.parent.parent
FIRST_DAY = today() + timedelta(days=21)


@pytest.fixture
def dev_server(tmp_path: Path, migrated_sqlite: Path) -> Iterator[GunicornServer]:
    """ociflex in development on a free port (never 5000), with the customers it ships."""
    database = tmp_path / "ociflex.sqlite3"
    shutil.copyfile(migrated_sqlite, database)
    server = GunicornServer(
        {
            "OCIFLEX_ENV": "development",
            "DATABASE_URL": f"sqlite:///{database}",
            "OCIFLEX_CUSTOMERS_DIR": str(ROOT / "config" / "customers"),
            "OCIFLEX_INSTANCE_PATH": str(tmp_path / "instance"),
            "OCIFLEX_DEMO_PASSWORD": "demo",
        },
        log_path=tmp_path / "gunicorn.log",
    )
    with server:
        assert server.port != 5000
        server.database = database  # type: ignore[attr-defined]
        yield server


def book_in_frame(page: Page) -> None:
    frame = page.frame_locator("iframe").first
    frame.get_by_label("Eerste dag").fill(FIRST_DAY.isoformat())
    frame.get_by_label("Laatste dag").fill((FIRST_DAY + timedelta(days=1)).isoformat())
    frame.get_by_role("button", name="Aanvraag naar inkoopsysteem sturen").click()


def stored(server: GunicornServer) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{server.database}")  # type: ignore[attr-defined]
    try:
        with Session(engine) as session:
            rows = session.scalars(select(RentalRequest).order_by(RentalRequest.id))
            return [(row.customer_id, row.protocol) for row in rows]
    finally:
        engine.dispose()


def test_the_demo_punches_out_by_oci_on_any_port_of_the_development_server(
    dev_server: GunicornServer, page: Page
) -> None:
    page.goto(dev_server.url("127.0.0.1", "/dev/erp?customer=demo"))
    page.get_by_role("button", name=re.compile("Punch-out met POST in het frame")).click()
    book_in_frame(page)

    expect(page).to_have_url(re.compile(rf"^http://127\.0\.0\.1:{dev_server.port}/dev/erp/hook"))
    expect(page.get_by_role("heading", name="Winkelwagen ontvangen")).to_be_visible()
    assert stored(dev_server) == [("demo", "oci")]


def test_the_demo_punches_out_by_cxml_on_any_port_of_the_development_server(
    dev_server: GunicornServer, page: Page
) -> None:
    page.goto(dev_server.url("127.0.0.1", "/dev/cxml?customer=demo"))
    page.get_by_label(re.compile("StartPage van een andere origin")).check()
    page.get_by_role("button", name="Naar ociflex sturen").click()
    page.get_by_text("Openen in het frame hieronder").click()
    book_in_frame(page)

    expect(page).to_have_url(re.compile(rf"^http://127\.0\.0\.1:{dev_server.port}/dev/cxml/cart"))
    expect(page.get_by_text("Alle controles geslaagd.")).to_be_visible()
    assert stored(dev_server) == [("demo", "cxml")]
