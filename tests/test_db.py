"""The database failing under a request: gone (PostgreSQL behind a cut connection) or locked by
another writer (SQLite). The employee gets a clear page and the right status, nothing is stored
half, and the same form sent again once the database is back stores exactly one request."""

import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url
from werkzeug.datastructures import MultiDict

from ociflex import create_app
from tests.conftest import ACME_PASSWORD, log_in, make_environ
from tests.support.punchout import Page, acme_booking, book, call_up, count_stored, csp
from tests.support.tcp_proxy import TcpProxy

UNAVAILABLE = "FlexFleet cannot reach its database at the moment, so nothing was stored."
UNAVAILABLE_NL = "FlexFleet kan zijn database op dit moment niet bereiken"


def _expect_unavailable(response: object, resend: bool) -> Page:
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert response.headers["Retry-After"] == "30"  # type: ignore[attr-defined]
    page = Page(response)  # type: ignore[arg-type]
    assert page.alert.startswith(UNAVAILABLE)
    assert ("resend" in page.forms) is resend
    return page


def test_a_call_up_while_the_database_is_gone_says_so_and_a_later_one_works(
    linked_app: Flask,
    database_link: TcpProxy,
    acme_callup: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = linked_app.test_client(use_cookies=False)
    database_link.stop()
    response = client.post("/oci/acme", data=acme_callup)
    _expect_unavailable(response, resend=False)  # the call-up holds the password: not kept
    assert csp(response)["frame-ancestors"] == "https://erp.acme.example"
    assert ACME_PASSWORD not in caplog.text
    assert "database unavailable" in caplog.text
    database_link.start()
    assert Page(client.post("/oci/acme", data=acme_callup)).booking_form is not None


def test_a_booking_sent_while_the_database_is_gone_is_stored_once_when_sent_again(
    linked_app: Flask, database_link: TcpProxy, acme_callup: dict[str, str]
) -> None:
    client = linked_app.test_client(use_cookies=False)
    token = call_up(client, "acme", acme_callup).token
    form = {"punchout": token, **acme_booking(remarks="Zoë's trip")}
    database_link.stop()
    page = _expect_unavailable(client.post("/oci/acme/book", data=form), resend=True)
    assert dict(page.forms["resend"].hidden) == form
    assert page.forms["resend"].attrs["action"] == "/oci/acme/book"
    database_link.start()
    assert count_stored(linked_app) == 0
    again = client.post("/oci/acme/book", data=MultiDict(page.forms["resend"].hidden))
    assert Page(again).basket.attrs["action"].startswith("https://erp.acme.example/")
    assert client.post("/oci/acme/book", data=form).status_code == 200  # and once more
    assert count_stored(linked_app) == 1


def test_the_operations_pages_say_the_database_is_gone(
    linked_app: Flask, database_link: TcpProxy
) -> None:
    client = linked_app.test_client()
    database_link.stop()
    response = log_in(client, password="a-password-never-written-into-a-page")
    assert response.status_code == 503
    assert Page(response).alert.startswith(UNAVAILABLE_NL)  # the operations pages are Dutch
    assert "resend" not in Page(response).forms  # a login form is never written into a page
    assert "a-password-never-written-into-a-page" not in response.get_data(as_text=True)


# --- SQLite: another writer holds the lock ------------------------------------------------------


@pytest.fixture
def sqlite_app(tmp_path: Path, customers_dir: Path) -> Iterator[Flask]:
    from ociflex import migrate

    url = f"sqlite:///{tmp_path / 'ociflex.sqlite3'}"
    migrate.upgrade(url)
    app = create_app(make_environ(tmp_path, url, customers_dir))
    yield app
    app.extensions["ociflex.engine"].dispose()


def _hold_write_lock(app: Flask, seconds: float) -> threading.Event:
    """Another process's writer: BEGIN IMMEDIATE on the file, committed after ``seconds``."""
    path = make_url(app.config["DATABASE_URL"]).database
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        writer.execute("COMMIT")
        writer.close()
        released.set()

    threading.Timer(seconds, release).start()
    return released


def test_a_booking_waits_for_another_sqlite_writer_instead_of_failing(
    sqlite_app: Flask, acme_callup: dict[str, str]
) -> None:
    client = sqlite_app.test_client(use_cookies=False)
    token = call_up(client, "acme", acme_callup).token
    released = _hold_write_lock(sqlite_app, seconds=1.0)
    response = book(client, "acme", token, **acme_booking())
    assert released.is_set()  # it was answered after the other writer finished
    assert Page(response).basket
    assert count_stored(sqlite_app) == 1


def test_a_sqlite_writer_that_holds_on_too_long_gives_a_503_to_send_again(
    sqlite_app: Flask, acme_callup: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = sqlite_app.test_client(use_cookies=False)
    token = call_up(client, "acme", acme_callup).token
    released = _hold_write_lock(sqlite_app, seconds=7.0)  # past the 5 s busy_timeout
    page = _expect_unavailable(book(client, "acme", token, **acme_booking()), resend=True)
    assert "database is locked" in caplog.text  # in the log, not on the page
    released.wait(10)
    assert count_stored(sqlite_app) == 0
    assert Page(client.post("/oci/acme/book", data=MultiDict(page.forms["resend"].hidden))).basket
    assert count_stored(sqlite_app) == 1
