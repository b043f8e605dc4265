"""No log line ever carries a company password or a query string."""

import logging

import pytest
from flask.testing import FlaskClient

from ociflex.logs import DropQueryStrings
from tests.conftest import DEMO_PASSWORD


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, message, args, None)


def test_request_lines_lose_their_query_string() -> None:
    record = _record(
        '%s - - [%s] "%s" %s %s',
        "127.0.0.1",
        "28/Nov/2026 10:00:00",
        "GET /oci/demo?USERNAME=demo-erp&PASSWORD=geheim HTTP/1.1",
        "200",
        "-",
    )
    DropQueryStrings().filter(record)
    assert "geheim" not in record.getMessage()
    assert '"GET /oci/demo?… HTTP/1.1" 200' in record.getMessage()


def test_lines_without_query_string_are_untouched() -> None:
    record = _record("serving %d customer(s)", 2)
    DropQueryStrings().filter(record)
    assert record.getMessage() == "serving 2 customer(s)"


@pytest.mark.parametrize("password", [DEMO_PASSWORD, "a-wrong-password"])
def test_call_ups_never_log_the_password(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, password: str
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get(
        "/oci/demo",
        query_string={
            "USERNAME": "demo-erp",
            "PASSWORD": password,
            "HOOK_URL": "http://127.0.0.1:5000/dev/erp/hook",
            "oci_usermail": "jan@example.nl",
            "oci_userfullname": "Jan Jansen",
            "KOSTENPLAATS": "4100",
        },
    )
    assert caplog.records, "the call-up should have been logged"
    assert all(password not in record.getMessage() for record in caplog.records)
