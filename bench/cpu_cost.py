"""CPU time per request, in this process, through Flask's test client: what one request costs
a worker, whatever else the machine is doing (``time.process_time``, not the wall clock). It
shows the ceiling of a worker pool: N cores give at most N / cost requests per second."""

from __future__ import annotations

import itertools
import logging
import re
import tempfile
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask.testing import FlaskClient

from bench.hello import app as hello_app
from bench.inbox import OPERATOR, database_app
from bench.punchout import CALLUP, UNIQUE, booking_body, cxml_setup_template, sqlite_database
from ociflex.customers.registry import customers
from ociflex.db import session_for
from ociflex.devtools.seed import seed_customers, seed_requests
from ociflex.ops.operators import add_operator
from tests.support.html import input_value

#: Read with a regular expression, not an HTML parser: it runs inside the measured round trip,
#: whose CPU time is the server's alone.
_TOKEN = re.compile(r'name="punchout"[^>]*value="([^"]+)"')


def cpu_ms(call: Callable[[], Any], repeat: int) -> float:
    """CPU milliseconds per call, the mean over ``repeat`` calls after 5 warm-up calls."""
    for _ in range(5):
        call()
    began = time.process_time()
    for _ in range(repeat):
        call()
    return round((time.process_time() - began) / repeat * 1000, 2)


def _expect(client: FlaskClient, method: str, path: str, **kwargs: Any) -> str:
    response = client.open(path, method=method, **kwargs)
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path} answered {response.status_code}")
    return response.get_data(as_text=True)


def cpu_costs(inbox_sizes: list[int], repeat: int = 100) -> dict[str, Any]:
    logging.disable(logging.INFO)
    try:
        return _measure(inbox_sizes, repeat)
    finally:
        logging.disable(logging.NOTSET)


def _measure(inbox_sizes: list[int], repeat: int) -> dict[str, Any]:
    hello = hello_app.test_client()
    figures: dict[str, Any] = {"hello": cpu_ms(lambda: hello.get("/"), repeat * 5)}
    body = urlencode(CALLUP)
    with (
        sqlite_database() as url,
        tempfile.TemporaryDirectory() as instance,
        database_app(url, instance, OCIFLEX_ENV="production") as app,
    ):
        client = app.test_client(use_cookies=False)
        get = f"/oci/demo?{body}"
        figures["form_get"] = cpu_ms(lambda: _expect(client, "GET", get), repeat)
        figures["form_post"] = cpu_ms(
            lambda: _expect(client, "POST", "/oci/demo", data=CALLUP), repeat
        )
        figures["cxml_setup"] = cpu_ms(_cxml_setup(client), repeat)
        booking = booking_body()

        def book() -> None:
            token = _TOKEN.search(_expect(client, "POST", "/oci/demo", data=CALLUP))
            assert token is not None
            data = f"punchout={token.group(1)}&{booking}"
            _expect(
                client,
                "POST",
                "/oci/demo/book",
                data=data,
                content_type="application/x-www-form-urlencoded",
            )

        figures["round_trip"] = cpu_ms(book, repeat)
    for rows in inbox_sizes:
        figures[f"inbox_{rows}"] = _inbox_costs(rows, max(20, repeat // 5))
    return figures


def _cxml_setup(client: FlaskClient) -> Callable[[], None]:
    """A call that sends the demo customer's cXML setup request, with a payloadID and a
    BuyerCookie of its own each time (as bench/lua/cxml_setup.lua does)."""
    template = cxml_setup_template()
    numbers = itertools.count()

    def set_up() -> None:
        document = template.replace(UNIQUE.encode(), str(next(numbers)).encode())
        _expect(client, "POST", "/cxml/demo", data=document, content_type="text/xml; charset=UTF-8")

    return set_up


def _inbox_costs(rows: int, repeat: int) -> dict[str, float]:
    with (
        sqlite_database() as url,
        tempfile.TemporaryDirectory() as instance,
        database_app(url, instance) as app,
    ):
        chosen = seed_customers(customers().result.customers, 20)
        seed_requests(app.extensions["ociflex.engine"], rows, chosen)
        with session_for(app) as session:
            add_operator(session, *OPERATOR)
        client = app.test_client()
        page = _expect(client, "GET", "/ops/login")
        token = input_value(page, "csrf_token")
        assert token is not None
        form = {"csrf_token": token, "username": OPERATOR[0]}
        client.post("/ops/login", data={**form, "password": OPERATOR[1]})
        paths = {"list": "/ops/", "filter": "/ops/?status=scheduled"}
        return {
            name: cpu_ms(lambda path=path: _expect(client, "GET", path), repeat)
            for name, path in paths.items()
        }
