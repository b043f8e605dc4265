"""ociflex as it is deployed (the Procfile's gunicorn with real worker processes), when a part
fails underneath it: a worker killed in the middle of a submit, a customer file broken and
reloaded while running; and what its whole log holds after a punch-out."""

import http.client
import os
import re
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ociflex.models.requests import format_reference
from tests.conftest import DEMO_PASSWORD, make_environ
from tests.support.punchout import demo_booking
from tests.support.servers import GunicornServer

# Straight to the loopback server, whatever proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TOKEN = re.compile(r'name="punchout"[^>]*value="([^"]+)"')


class Answer:
    def __init__(self, status: int, text: str) -> None:
        self.status, self.text = status, text


def _request(url: str, data: dict[str, str] | None = None, timeout: float = 30) -> Answer:
    body = urlencode(data).encode() if data is not None else None
    try:
        with _OPENER.open(url, data=body, timeout=timeout) as response:
            return Answer(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode())


def _token(page: Answer) -> str:
    assert page.status == 200, page.text
    match = TOKEN.search(page.text)
    assert match, page.text
    return match.group(1).replace("&#34;", '"').replace("&amp;", "&")


@pytest.fixture
def served(tmp_path: Path, database_url: str, customers_dir: Path) -> Iterator[GunicornServer]:
    """ociflex under gunicorn, one worker (so "the worker" is well defined)."""
    environ = make_environ(tmp_path, database_url, customers_dir)
    with GunicornServer(environ, workers=1) as server:
        yield server


def _call_up(server: GunicornServer, callup: dict[str, str]) -> str:
    return _token(_request(server.url("127.0.0.1", "/oci/demo"), callup))


def _stored(database_url: str) -> list[str]:
    """The references stored, read with the driver itself (not through ociflex)."""
    url = make_url(database_url)
    query = "SELECT id FROM rental_requests ORDER BY id"
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database or "") as connection:
            ids = [row[0] for row in connection.execute(query)]
    else:
        conninfo = url.set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo) as connection:
            ids = [row[0] for row in connection.execute(query)]
    return [format_reference(request_id) for request_id in ids]


class _WriteLock:
    """Another writer holding the lock that a submit's insert needs, until released."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            self._connection = sqlite3.connect(url.database or "", isolation_level=None)
            self._connection.execute("BEGIN IMMEDIATE")
        else:
            conninfo = url.set(drivername="postgresql").render_as_string(False)
            self._connection = psycopg.connect(conninfo)  # type: ignore[assignment]
            self._connection.execute("LOCK TABLE rental_requests IN EXCLUSIVE MODE")

    def release(self) -> None:
        self._connection.rollback()
        self._connection.close()


def test_a_worker_killed_in_the_middle_of_a_submit_stores_nothing_and_the_retry_stores_one(
    served: GunicornServer, database_url: str, demo_callup: dict[str, str]
) -> None:
    token = _call_up(served, demo_callup)
    form = {"punchout": token, **demo_booking()}
    lock = _WriteLock(database_url)
    answers: list[Answer | BaseException] = []

    def submit() -> None:
        try:
            answers.append(_request(served.url("127.0.0.1", "/oci/demo/book"), form))
        except (OSError, http.client.HTTPException) as error:
            answers.append(error)

    employee = threading.Thread(target=submit)
    employee.start()
    time.sleep(1.0)  # the submit is inside its transaction, waiting for the lock
    [worker] = served.worker_pids()
    served_log_before = served.log_text()
    os.kill(worker, signal.SIGKILL)
    employee.join(10)
    lock.release()
    [lost] = answers
    assert not isinstance(lost, Answer), "the killed worker cannot have answered"
    assert _stored(database_url) == []
    assert "basket sent" not in served_log_before

    # The employee sends the form again (reload, or the "Send again" button): once stored.
    retry = _request(served.url("127.0.0.1", "/oci/demo/book"), form)
    assert retry.status == 200, retry.text
    [reference] = _stored(database_url)
    assert reference in retry.text
    again = _request(served.url("127.0.0.1", "/oci/demo/book"), form)
    assert reference in again.text
    assert _stored(database_url) == [reference]


def test_a_customer_file_broken_while_running_then_reloaded(
    served: GunicornServer,
    database_url: str,
    customers_dir: Path,
    demo_callup: dict[str, str],
    acme_callup: dict[str, str],
) -> None:
    open_form = {"punchout": _call_up(served, demo_callup), **demo_booking()}
    demo_file = customers_dir / "demo.yaml"
    good = demo_file.read_text(encoding="utf-8")
    demo_file.write_text(good.replace("vehicles:", "vehicle:", 1), encoding="utf-8")

    # Production reads the files at start-up only: the running worker still serves the old.
    assert _request(served.url("127.0.0.1", "/oci/demo"), demo_callup).status == 200

    served.reload()
    broken = _request(served.url("127.0.0.1", "/oci/demo/book"), open_form)
    assert broken.status == 503
    assert "Opnieuw versturen" in broken.text  # the open form can be sent again later
    assert _request(served.url("127.0.0.1", "/oci/demo"), demo_callup).status == 503
    assert _request(served.url("127.0.0.1", "/oci/acme"), acme_callup).status == 200
    log = served.wait_for_log("demo.yaml:")
    assert "customer demo is not served" in log
    assert _stored(database_url) == []

    demo_file.write_text(good, encoding="utf-8")
    served.reload()
    sent_again = _request(served.url("127.0.0.1", "/oci/demo/book"), open_form)
    assert sent_again.status == 200, sent_again.text
    assert len(_stored(database_url)) == 1


def test_the_whole_log_of_a_punch_out_holds_no_password_and_no_token(
    served: GunicornServer, demo_callup: dict[str, str]
) -> None:
    """A GET call-up carries the company password in its URL, and the token in the form is
    the punch-out's key: neither may reach the access log or ociflex's own log."""
    page = _request(served.url("127.0.0.1", f"/oci/demo?{urlencode(demo_callup)}"))
    token = _token(page)
    basket = _request(
        served.url("127.0.0.1", "/oci/demo/book"), {"punchout": token, **demo_booking()}
    )
    assert basket.status == 200
    refused = {**demo_callup, "PASSWORD": "a-wrong-password-42"}
    assert _request(served.url("127.0.0.1", f"/oci/demo?{urlencode(refused)}")).status == 403
    log = served.wait_for_log('"POST /oci/demo/book" 200')
    served.wait_for_log('"GET /oci/demo" 403')
    assert "call-up accepted: customer=demo" in log  # the log is there, and says what happened
    assert "basket sent: customer=demo" in log
    log = served.log_text()
    for secret in (DEMO_PASSWORD, "a-wrong-password-42", token, token[:40]):
        assert secret not in log
